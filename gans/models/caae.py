"""The conditional adversarial autoencoder (CAAE) of Zhang, Song and Qi (CVPR 2017; seed 000) for UTKFace.

Four networks, with the layer counts and widths of the authors' TensorFlow reference code
(ZZUTK/Face-Aging-CAAE, ``FaceAging.py``) as defaults, every one parameterised by the image size S
(a power of two, 32, 64 or 128 in practice), so tests and CPU runs can be small:

- :func:`build_encoder`: image -> ``blocks`` convolutions (kernel 5, stride 2, ReLU; ``filters``
  doubling from 64) -> Dense(50) -> tanh. ``blocks`` defaults to log2(S) - 2, the reference's rule,
  which leaves a 4x4 map (5 blocks, 64-1024 filters at 128x128; the paper's text says 4).
- :func:`build_generator`: z (50) joined with the age label (10 groups, one-hot in -1/+1) tiled 5
  times and the gender label (2) tiled 25 times (each label as long as z, the reference's tiling);
  Dense to a 4x4x1024 seed (S / 2^blocks), ReLU; ``blocks`` transposed convolutions (kernel 5,
  stride 2, ReLU) halving the filters up to S x S; then two stride-1 transposed convolutions, the
  second to 3 channels with tanh (the reference's two extra layers).
- :func:`build_discriminator_z`: Dense 64, 32, 16, each with BatchNorm and ReLU, then one logit. It
  tells E(x) from samples of the uniform prior on [-1, 1].
- :func:`build_discriminator_img`: convolutions of 16, 32, 64, 128 filters (kernel 5, stride 2,
  BatchNorm, ReLU); the age label and the gender label (tiled 5 times) are broadcast over space and
  joined after the first convolution; Dense 1024 with LeakyReLU 0.2; one logit.

Both discriminators output logits (the reference's ``sigmoid_cross_entropy_with_logits``); the step
trains them with ``BinaryCrossentropy(from_logits=True)``. Weights start as the reference's: normal
with standard deviation 0.02, biases zero. No custom layers: the tiling is a concatenation of the
label with itself and the broadcast a ``UpSampling2D`` of a 1x1 map, so every model saves to .h5 and
loads in safe mode with plain Keras.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers

from pathlib import Path

from gans.errors import ConfigError, DataError, DataNotFoundError
from gans.layers import BatchNormalization

LATENT_DIM = 50
NUM_AGES = 10
NUM_GENDERS = 2
KERNEL = 5
IMAGE_SIZES = (32, 64, 128)  # what the tests and the CLI document; any power of two >= 8 builds
SEED_SIDE = 4  # the reference's 4x4 map at the encoder's end and the generator's start


def _init():
    return keras.initializers.RandomNormal(stddev=0.02)


def default_blocks(size: int) -> int:
    """The reference's number of stride-2 blocks for an S x S image: log2(S) - 2 (a 4x4 map)."""
    return int(math.log2(size)) - int(KERNEL / 2)


def check_image_size(image_shape, blocks: int | None = None) -> tuple[int, int, int]:
    """``image_shape`` as (S, S, C), checked against what the builders can reach.

    Args:
        image_shape: (S, S, C), or an int S (3 channels).
        blocks: the stride-2 blocks asked for (None: the reference's log2(S) - 2).

    Raises:
        ConfigError: not square, a side the stride-2 blocks cannot reach from a whole-pixel seed, or
            too few channels; the message names sizes that work.
    """
    shape = (int(image_shape), int(image_shape), 3) if isinstance(image_shape, int) else tuple(int(v) for v in image_shape)
    if len(shape) != 3 or shape[0] != shape[1] or shape[2] < 1:
        raise ConfigError(f"the CAAE builds square images (S, S, C); got {shape}. Resize with --image-size S "
                          f"(e.g. {', '.join(map(str, IMAGE_SIZES))}).")
    size = shape[0]
    if blocks is None:
        if size < 8 or size & (size - 1):
            raise ConfigError(f"image size {size} cannot be reached by the CAAE's builders: the generator doubles a "
                              f"4x4 seed with stride-2 layers, so the size must be a power of two from 8 "
                              f"(e.g. {', '.join(map(str, IMAGE_SIZES))}).")
    elif blocks < 1 or size % (2 ** blocks):
        raise ConfigError(f"image size {size} cannot be reached with {blocks} stride-2 blocks: it must be divisible "
                          f"by {2 ** max(blocks, 0)}; use a power of two (e.g. {', '.join(map(str, IMAGE_SIZES))}).")
    return shape


def _blocks(shape, blocks):
    return default_blocks(shape[0]) if blocks is None else int(blocks)


def build_encoder(image_shape: Sequence[int] = (128, 128, 3), latent_dim: int = LATENT_DIM, filters: int = 64,
                  blocks: int | None = None, kernel_size: int = KERNEL, name: str = "encoder") -> keras.Model:
    """x -> ``blocks`` x [Conv2D(filters * 2^i, kernel, stride 2), ReLU] -> Flatten -> Dense(z) -> tanh.

    Args:
        image_shape: (S, S, C) of the faces, in [-1, 1].
        latent_dim: size of z (50).
        filters: filters of the first convolution, doubled by each next one (64: the reference).
        blocks: stride-2 convolutions (None: log2(S) - 2, the reference's, down to 4x4).
        kernel_size: 5 in the reference.

    Returns:
        ``keras.Model`` image -> z of shape (None, latent_dim) in [-1, 1].
    """
    shape = check_image_size(image_shape, blocks)
    n = _blocks(shape, blocks)
    image = keras.Input(shape, name="image")
    x = image
    for i in range(n):
        x = layers.Conv2D(filters * 2 ** i, kernel_size, strides=2, padding="same", kernel_initializer=_init(),
                          name=f"E_conv{i}")(x)
        x = layers.ReLU(name=f"E_relu{i}")(x)
    x = layers.Flatten(name="E_flatten")(x)
    z = layers.Dense(latent_dim, kernel_initializer=_init(), name="E_fc")(x)
    z = layers.Activation("tanh", name="z")(z)
    return keras.Model(image, z, name=name)


def tile_counts(latent_dim: int, num_classes: int, tile: bool = True) -> tuple[int, int]:
    """How often the age and gender labels are repeated before joining z (the reference's tiling:
    each label as long as z; 1 and 1 without tiling)."""
    if not tile:
        return 1, 1
    return max(1, latent_dim // num_classes), max(1, latent_dim // NUM_GENDERS)


def build_generator(latent_dim: int = LATENT_DIM, image_shape: Sequence[int] = (128, 128, 3),
                    num_classes: int = NUM_AGES, filters: int = 1024, blocks: int | None = None,
                    kernel_size: int = KERNEL, tile_labels: bool = True, name: str = "generator") -> keras.Model:
    """(z, age, gender) -> tiled concatenation -> Dense(seed) -> ReLU -> transposed convolutions -> tanh.

    Args:
        latent_dim: size of z (50).
        image_shape: (S, S, C) of the output.
        num_classes: age groups (10); the age input is their -1/+1 one-hot.
        filters: channels of the seed map (1024: the reference); each stride-2 layer halves them.
        blocks: stride-2 transposed convolutions (None: log2(S) - 2, from a 4x4 seed).
        kernel_size: 5 in the reference.
        tile_labels: repeat each label to the length of z (the reference's ``enable_tile_label``).

    Returns:
        ``keras.Model`` with inputs ``[z, age, gender]`` and output (None, S, S, C) in [-1, 1].
    """
    shape = check_image_size(image_shape, blocks)
    n = _blocks(shape, blocks)
    if num_classes < 2:
        raise ConfigError(f"the CAAE needs at least 2 age groups, got {num_classes}.")
    seed_side = shape[0] // 2 ** n
    z = keras.Input((latent_dim,), name="z")
    age = keras.Input((num_classes,), name="age")
    gender = keras.Input((NUM_GENDERS,), name="gender")
    age_copies, gender_copies = tile_counts(latent_dim, num_classes, tile_labels)
    x = layers.Concatenate(name="G_tiled_labels")([z] + [age] * age_copies + [gender] * gender_copies)
    x = layers.Dense(filters * seed_side * seed_side, kernel_initializer=_init(), name="G_fc")(x)
    x = layers.Reshape((seed_side, seed_side, filters), name="G_seed")(x)
    x = layers.ReLU(name="G_relu_fc")(x)
    for i in range(n):
        x = layers.Conv2DTranspose(max(1, filters // 2 ** (i + 1)), kernel_size, strides=2, padding="same",
                                   kernel_initializer=_init(), name=f"G_deconv{i}")(x)
        x = layers.ReLU(name=f"G_relu{i}")(x)
    x = layers.Conv2DTranspose(max(1, filters // 2 ** (n + 1)), kernel_size, strides=1, padding="same",
                               kernel_initializer=_init(), name=f"G_deconv{n}")(x)
    x = layers.ReLU(name=f"G_relu{n}")(x)
    x = layers.Conv2DTranspose(shape[2], kernel_size, strides=1, padding="same", kernel_initializer=_init(),
                               name=f"G_deconv{n + 1}")(x)
    image = layers.Activation("tanh", name="image")(x)
    return keras.Model([z, age, gender], image, name=name)


def build_discriminator_z(latent_dim: int = LATENT_DIM, units: Sequence[int] = (64, 32, 16),
                          use_batchnorm: bool = True, name: str = "discriminator_z") -> keras.Model:
    """z -> [Dense, BatchNorm (no scale, as the reference), ReLU] per width -> Dense(1) logit."""
    if not units:
        raise ConfigError("discriminator_z needs at least one hidden layer width.")
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i, width in enumerate(units):
        x = layers.Dense(int(width), kernel_initializer=_init(), name=f"D_z_fc{i}")(x)
        if use_batchnorm:
            x = BatchNormalization(scale=False, name=f"D_z_bn{i}")(x)
        x = layers.ReLU(name=f"D_z_relu{i}")(x)
    logit = layers.Dense(1, kernel_initializer=_init(), name="D_z_logit")(x)
    return keras.Model(z, logit, name=name)


def build_discriminator_img(image_shape: Sequence[int] = (128, 128, 3), num_classes: int = NUM_AGES,
                            filters: Sequence[int] = (16, 32, 64, 128), dense_units: int = 1024,
                            use_batchnorm: bool = True, kernel_size: int = KERNEL,
                            name: str = "discriminator_img") -> keras.Model:
    """(image, age, gender) -> convolutions (labels joined after the first) -> Dense 1024 -> logit.

    The age one-hot (10 channels) and the gender one-hot repeated ``num_classes // 2`` times (10
    channels, the reference's ``concat_label(current, gender, num_categories / 2)``) are broadcast to
    the first convolution's map and concatenated to it.
    """
    shape = check_image_size(image_shape, blocks=len(filters))
    if not filters:
        raise ConfigError("discriminator_img needs at least one convolution.")
    image = keras.Input(shape, name="image")
    age = keras.Input((num_classes,), name="age")
    gender = keras.Input((NUM_GENDERS,), name="gender")
    labels = layers.Concatenate(name="D_img_labels")([age] + [gender] * max(1, num_classes // 2))
    side = shape[0] // 2
    labels = layers.Reshape((1, 1, -1), name="D_img_labels_1x1")(labels)
    labels = layers.UpSampling2D(size=side, name="D_img_labels_tiled")(labels)
    x = image
    for i, width in enumerate(filters):
        x = layers.Conv2D(int(width), kernel_size, strides=2, padding="same", kernel_initializer=_init(),
                          name=f"D_img_conv{i}")(x)
        if use_batchnorm:
            x = BatchNormalization(scale=False, name=f"D_img_bn{i}")(x)
        x = layers.ReLU(name=f"D_img_relu{i}")(x)
        if i == 0:
            x = layers.Concatenate(name="D_img_with_labels")([x, labels])
    x = layers.Flatten(name="D_img_flatten")(x)
    x = layers.Dense(dense_units, kernel_initializer=_init(), name="D_img_fc1")(x)
    x = layers.LeakyReLU(0.2, name="D_img_lrelu")(x)
    logit = layers.Dense(1, kernel_initializer=_init(), name="D_img_logit")(x)
    return keras.Model([image, age, gender], logit, name=name)


def build_autoencoder(encoder: keras.Model, generator: keras.Model, name: str = "autoencoder") -> keras.Model:
    """(x, age, gender) -> G(E(x), age, gender): the reconstruction (and, with other labels, the re-aging)."""
    shape = tuple(encoder.inputs[0].shape[1:])
    image = keras.Input(shape, name="image")
    age = keras.Input(tuple(generator.inputs[1].shape[1:]), name="age")
    gender = keras.Input(tuple(generator.inputs[2].shape[1:]), name="gender")
    return keras.Model([image, age, gender], generator([encoder(image), age, gender]), name=name)


def check_pair(encoder: keras.Model, generator: keras.Model) -> tuple[int, int, int]:
    """The image shape an encoder and a generator share, or a ConfigError saying how they differ."""
    if len(generator.inputs) != 3:
        raise ConfigError(f"{generator.name} is not a CAAE generator: it takes {len(generator.inputs)} inputs, the "
                          "CAAE's takes [z, age, gender].")
    e_shape, g_shape = tuple(encoder.inputs[0].shape[1:]), tuple(generator.outputs[0].shape[1:])
    if e_shape != g_shape:
        raise ConfigError(f"the encoder reads {e_shape} images and the generator makes {g_shape}; use a pair from "
                          "the same run.")
    if tuple(encoder.outputs[0].shape[1:]) != tuple(generator.inputs[0].shape[1:]):
        raise ConfigError("the encoder's z and the generator's z differ in size; use a pair from the same run.")
    return e_shape


def render(encoder: keras.Model, generator: keras.Model, images, age_onehot, gender_onehot,
           batch_size: int = 64):
    """G(E(x), age, gender) in inference mode, in batches: reconstructions (with the faces' own labels)
    or re-aged faces (with other age one-hots).

    Args:
        images: float32 (N, S, S, C) in [-1, 1].
        age_onehot: (N, num_ages) one-hots in -1/+1.
        gender_onehot: (N, 2) one-hots in -1/+1.

    Returns:
        float32 numpy (N, S, S, C) in [-1, 1].
    """
    import numpy as np

    from gans.models import inference_function

    check_pair(encoder, generator)
    encode, decode = inference_function(encoder), inference_function(generator)
    out = []
    for i in range(0, len(images), batch_size):
        z = encode(np.asarray(images[i:i + batch_size], np.float32))
        out.append(decode([z, np.asarray(age_onehot[i:i + batch_size], np.float32),
                           np.asarray(gender_onehot[i:i + batch_size], np.float32)]).numpy())
    return np.concatenate(out) if out else np.zeros((0, *tuple(generator.outputs[0].shape[1:])), np.float32)


def find_checkpoints(path) -> tuple[Path, Path]:
    """(encoder .h5, generator .h5) of a CAAE run folder (its latest pair) or of one of the pair's files.

    Raises:
        DataNotFoundError: nothing there, or no matching partner file.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        folder = path / "checkpoints"
        encoders = {p.name[len("encoder_"):]: p for p in folder.glob("encoder_step_*.h5")}
        pairs = sorted(tag for tag in encoders if (folder / f"generator_{tag}").is_file())
        if not pairs:
            raise DataNotFoundError(f"{path} holds no CAAE checkpoints (checkpoints/encoder_step_N.h5 with "
                                    "generator_step_N.h5); train one with 'gans train caae --data DIR --out RUN'.")
        return encoders[pairs[-1]], folder / f"generator_{pairs[-1]}"
    if not path.is_file():
        raise DataNotFoundError(f"{path} does not exist; pass a CAAE run folder or its "
                                "checkpoints/encoder_step_N.h5 (or generator_step_N.h5).")
    for mine, other in (("encoder_", "generator_"), ("generator_", "encoder_")):
        if path.name.startswith(mine):
            partner = path.with_name(other + path.name[len(mine):])
            if not partner.is_file():
                raise DataNotFoundError(f"{path} has no partner {partner.name} beside it; the CAAE needs the encoder "
                                        "and the generator of the same step.")
            return (path, partner) if mine == "encoder_" else (partner, path)
    raise DataError(f"{path.name} is not a CAAE checkpoint (encoder_step_N.h5 or generator_step_N.h5).")


def load_pair(path):
    """The encoder and generator of a CAAE run folder or checkpoint, loaded in safe mode."""
    from gans.models import load_generator

    encoder_path, generator_path = find_checkpoints(path)
    encoder, generator = load_generator(encoder_path), load_generator(generator_path)
    check_pair(encoder, generator)
    return encoder, generator
