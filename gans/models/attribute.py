"""The CelebA attribute classifier and the attribute-biased GAN of Kim, Ha and Kim ("Your Faivorite
Face", Stanford CS230, seed 002).

Three pieces, used together:

- :func:`build_classifier`: a CNN that reads CelebA's 40 binary attributes from a face (three
  convolutions of 32, 64 and 128 filters, kernel, pool and stride 3, a dense layer of 1024 ReLU units,
  dropout 0.3, 40 sigmoid outputs; binary cross-entropy, Adam 1e-3). The paper reports 89.4% mean
  dev accuracy on full CelebA at 218x178.
- :func:`attribute_noise`: the paper's equation 1, the one rule that turns a 160-d standard normal
  vector and a 40-d attribute vector into the generator's input. Training (the step's latents) and
  ``gans generate-from-faces`` both call it.
- :func:`build_generator` / :func:`build_discriminator`: the GAN, with batch normalisation after
  every layer and dropout 0.3, for any output size (the paper's 218x178x3, or small sizes for a CPU):
  the generator upsamples a seed to the next size a multiple of ``2 ** len(filters)`` and crops the
  centre, so non-square and odd sizes work.

Reference:
    Kim, Ha and Kim (2018), Your Faivorite Face, CS230 Stanford, sections 4.1, 4.2 and 5.2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from gans import blocks
from gans.errors import ConfigError

N_ATTRIBUTES = 40  # CelebA's binary attributes (gans.datasets.celeba.N_ATTRIBUTES)
NOISE_BLOCKS = 4  # equation 1 has four blocks of N_ATTRIBUTES
LATENT_DIM = NOISE_BLOCKS * N_ATTRIBUTES  # the paper's 160-d generator input
ALPHA, BETA = 0.6, 0.8  # the paper's best values (section 5.2)


def attribute_noise(attributes, r, alpha: float = ALPHA, beta: float = BETA) -> np.ndarray:
    """The generator's input from a standard normal vector and an attribute vector (equation 1).

    With ``o`` the k-dimensional attribute vector (the classifier's sigmoid outputs, averaged over
    the given faces) and ``r`` the 4k-dimensional normal vector, split into four blocks of k:

        noise = [alpha r_1 + (1 - alpha) o,  alpha r_2 - (1 - alpha) o,
                 beta  r_3 + (1 - beta)  o,  beta  r_4 - (1 - beta)  o]

    so entry i is overlaid with ``o[i % k]``. ``alpha = beta = 1`` gives plain noise (no overlay);
    smaller values pull the input toward the attributes.

    Args:
        attributes: (k,) or (n, k) attribute vectors in [0, 1] (one per row of ``r``, or one for all).
        r: (n, 4k) or (4k,) standard normal draws.
        alpha: weight of the noise in the first two blocks, in [0, 1] (paper: 0.6).
        beta: weight of the noise in the last two blocks, in [0, 1] (paper: 0.8).

    Returns:
        float32 of ``r``'s shape.

    Raises:
        ConfigError: alpha or beta outside [0, 1], shapes that do not fit, or non-finite values.

    Reference:
        Kim, Ha and Kim (2018), equation 1.
    """
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not (isinstance(value, (int, float, np.floating, np.integer)) and 0.0 <= float(value) <= 1.0):
            raise ConfigError(f"{name} must be a number in [0, 1] (the paper's best: alpha 0.6, beta 0.8), "
                              f"got {value!r}.")
    o = np.asarray(attributes, dtype=np.float32)
    r = np.asarray(r, dtype=np.float32)
    single = r.ndim == 1
    r2 = r[None] if single else r
    o2 = o[None] if o.ndim == 1 else o
    if r2.ndim != 2 or o2.ndim != 2 or r2.shape[1] != NOISE_BLOCKS * o2.shape[1]:
        raise ConfigError(f"equation 1 overlays k attributes on 4k noise values: got attributes of shape "
                          f"{o.shape} and noise of shape {r.shape}.")
    if len(o2) not in (1, len(r2)):
        raise ConfigError(f"give one attribute vector, or one per noise vector: {len(o2)} attribute vectors "
                          f"for {len(r2)} noise vectors.")
    if not (np.isfinite(o2).all() and np.isfinite(r2).all()):
        raise ConfigError("the attribute vector or the noise holds NaN or infinite values.")
    k = o2.shape[1]
    weights = np.repeat(np.float32([alpha, alpha, beta, beta]), k)  # the noise weight of each entry
    signs = np.repeat(np.float32([1, -1, 1, -1]), k)
    noise = weights * r2 + signs * (1.0 - weights) * np.tile(o2, NOISE_BLOCKS)
    return noise[0] if single else noise.astype(np.float32, copy=False)


def build_classifier(
    image_shape: Sequence[int] = (218, 178, 3),
    num_attributes: int = N_ATTRIBUTES,
    filters: Sequence[int] = (32, 64, 128),
    kernel_size: int = 3,
    pool_size: int = 3,
    pool_strides: int = 3,
    dense_units: int = 1024,
    dropout: float = 0.3,
    learning_rate: float = 1e-3,
    name: str = "attribute_classifier",
) -> keras.Model:
    """Images in [-1, 1] -> [Conv2D(ReLU) -> MaxPool] per ``filters`` -> Dense(1024, ReLU) -> Dropout ->
    Dense(40, sigmoid), compiled with binary cross-entropy and Adam.

    Pooling pads ("same"), so any image size down to a few pixels builds (218x178 leaves an 9x7 map,
    64x52 a 3x2 one).

    Args:
        image_shape: (H, W, C) of the input faces.
        num_attributes: sigmoid outputs (CelebA: 40).
        filters: filters of each convolution (the paper's 32, 64, 128).
        kernel_size: convolution kernel (paper: 3).
        pool_size: max-pooling window (paper: 3).
        pool_strides: max-pooling stride (paper: 3).
        dense_units: units of the hidden dense layer (paper: 1024).
        dropout: rate after the dense layer (paper: 0.3).
        learning_rate: Adam's learning rate (paper: 1e-3).
        name: model name.

    Returns:
        A compiled functional model (batch, H, W, C) -> (batch, num_attributes); its metric
        ``binary_accuracy`` is the mean accuracy over all attributes.

    Reference:
        Kim, Ha and Kim (2018), sections 4.1 and 5.1.
    """
    shape = blocks.validate_image_shape(image_shape)
    if int(num_attributes) < 1:
        raise ConfigError(f"num_attributes must be a positive integer, got {num_attributes}.")
    if not filters:
        raise ConfigError("filters must list at least one convolution, e.g. (32, 64, 128).")
    for label, value in (("kernel_size", kernel_size), ("pool_size", pool_size), ("pool_strides", pool_strides),
                         ("dense_units", dense_units)):
        if int(value) < 1:
            raise ConfigError(f"{label} must be a positive integer, got {value}.")
    blocks.check_rate("dropout", dropout)
    images = keras.Input(shape=shape, name="image")
    x = images
    for i, f in enumerate(filters):
        x = layers.Conv2D(int(f), int(kernel_size), padding="same", activation="relu", name=f"conv_{i + 1}")(x)
        x = layers.MaxPooling2D(int(pool_size), strides=int(pool_strides), padding="same", name=f"pool_{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(int(dense_units), activation="relu", name="dense")(x)
    if dropout:
        x = layers.Dropout(float(dropout), name="dropout")(x)
    outputs = layers.Dense(int(num_attributes), activation="sigmoid", name="attributes")(x)
    model = keras.Model(images, outputs, name=name)
    # Loss and metric objects, not strings: a legacy .h5 cannot deserialize string losses.
    model.compile(optimizer=keras.optimizers.Adam(float(learning_rate)), loss=keras.losses.BinaryCrossentropy(),
                  metrics=[keras.metrics.BinaryAccuracy(name="binary_accuracy")])
    return model


def build_generator(
    latent_dim: int = LATENT_DIM,
    image_shape: Sequence[int] = (218, 178, 3),
    filters: Sequence[int] = (128, 64, 32, 16),
    base_filters: int = 128,
    kernel_size: int = 4,
    momentum: float = 0.8,
    dropout: float = 0.3,
    activation: str = "relu",
    alpha: float = 0.2,
    name: str = "generator",
) -> keras.Model:
    """noise -> Dense(seed) -> BN -> ReLU -> Dropout -> Reshape -> one x2 Conv2DTranspose block (BN, ReLU)
    per ``filters`` -> Conv2D(C, tanh) -> centre crop to (H, W).

    The seed is ``ceil(H / 2**k) x ceil(W / 2**k)`` for ``k = len(filters)`` blocks; the upsampled
    image is cropped to the asked size, so 218x178 (seed 14x12 at k = 4, cropped from 224x192),
    64x52 or 24x20 all build. The paper gives no widths; the defaults (128-64-32-16, about 0.77 million
    parameters at 64x52) train at about 0.17 s per step of 16 on two CPU cores.

    Args:
        latent_dim: the noise size (equation 1: 160 = 4 x 40 attributes).
        image_shape: (H, W, C) of the generated faces.
        filters: filters of each upsampling block.
        base_filters: channels of the seed tensor.
        kernel_size: kernel of the transposed convolutions.
        momentum: BatchNormalization momentum.
        dropout: rate after the dense seed layer (the paper's 0.3; 0 disables).
        activation: hidden activation ("relu" or "leaky_relu").
        alpha: LeakyReLU slope.
        name: model name.

    Returns:
        A functional model (batch, latent_dim) -> (batch, H, W, C) in [-1, 1].
    """
    if not filters:
        raise ConfigError("filters must list at least one upsampling block, e.g. (128, 64, 32, 16).")
    height, width, channels = blocks.validate_image_shape(image_shape)
    if int(latent_dim) < 1 or int(base_filters) < 1 or int(kernel_size) < 1:
        raise ConfigError(f"latent_dim, base_filters and kernel_size must be positive, got {latent_dim}, "
                          f"{base_filters}, {kernel_size}.")
    blocks.check_rate("dropout", dropout)
    factor = 2 ** len(filters)
    seed_h, seed_w = math.ceil(height / factor), math.ceil(width / factor)
    z = keras.Input(shape=(int(latent_dim),), name="z")
    x = layers.Dense(seed_h * seed_w * int(base_filters))(z)
    x = blocks.apply_batchnorm(x, momentum)
    x = blocks.apply_activation(x, activation, alpha)
    if dropout:
        x = layers.Dropout(float(dropout))(x)
    x = layers.Reshape((seed_h, seed_w, int(base_filters)))(x)
    for f in filters:
        x = blocks.apply_upsample_block(x, int(f), int(kernel_size), False, activation, alpha, True, momentum)
    x = layers.Conv2D(channels, 3, padding="same", activation="tanh")(x)
    extra_h, extra_w = seed_h * factor - height, seed_w * factor - width
    if extra_h or extra_w:
        x = layers.Cropping2D(((extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2)))(x)
    return keras.Model(z, x, name=name)


def build_discriminator(
    image_shape: Sequence[int] = (218, 178, 3),
    filters: Sequence[int] = (32, 64, 128, 256),
    kernel_size: int = 4,
    use_batchnorm: bool = True,
    momentum: float = 0.8,
    dropout: float = 0.3,
    activation: str = "leaky_relu",
    alpha: float = 0.2,
    num_attributes: int = 0,
    name: str = "discriminator",
) -> keras.Model:
    """image -> [Conv2D(stride 2) -> (BN) -> LeakyReLU -> Dropout] per ``filters`` -> Dense(1, sigmoid); with
    ``num_attributes`` a projection discriminator of (image, attributes).

    With ``use_batchnorm``, batch normalisation follows every convolution but the first (normalising
    the raw input's statistics destabilises a DCGAN), as the paper has it; "same" padding takes any
    size. With the thesis's separate real and generated batches, train it with the frozen
    discriminator normalizing by the batch's statistics in the generator's step (``frozen_batchnorm``
    "batch", the family's default): on its moving statistics, G learns against another function than
    the one D trains (measured: d_loss_fake 2e-4 while g_loss 0.02, samples noise).

    The paper's D is unconditional (``num_attributes`` 0). With ``num_attributes`` k it also reads a
    k-vector of attributes ``o`` and scores ``sigmoid(psi(phi(x)) + <V o, phi(x)>)`` (Miyato and Koyama's
    projection discriminator; not in the paper): ``phi(x)`` the flattened features the paper's score
    reads, ``psi`` that score's dense unit, ``V`` a (k, features) matrix without bias. The attribute GAN
    pairs a real face with the classifier's reading of it and a fake with the attributes overlaid on its
    noise, so D can tell a face that does not carry its attributes from one that does.

    Args:
        image_shape: (H, W, C) of the faces.
        filters: filters of each stride-2 convolution.
        kernel_size: convolution kernel.
        use_batchnorm: BatchNormalization after the second and later convolutions.
        momentum: BatchNormalization momentum.
        dropout: rate after each block (paper: 0.3).
        activation: hidden activation.
        alpha: LeakyReLU slope.
        num_attributes: 0 (the paper's unconditional D), or the size of the attribute vector a
            projection discriminator reads beside the image (the CelebA classifier's 40).
        name: model name.

    Returns:
        A functional model (batch, H, W, C) -> (batch, 1) probability of "real"; with ``num_attributes``
        k, ``[(batch, H, W, C) image, (batch, k) attributes]`` -> (batch, 1).

    Reference:
        Kim, Ha and Kim (2018), section 4.2; the projection: Miyato and Koyama (2018), cGANs with
        Projection Discriminator, equation 3.
    """
    shape = blocks.validate_image_shape(image_shape)
    if not filters or int(kernel_size) < 1:
        raise ConfigError("filters must list at least one convolution and kernel_size must be positive.")
    if isinstance(num_attributes, bool) or not isinstance(num_attributes, (int, np.integer)) or num_attributes < 0:
        raise ConfigError(f"num_attributes must be 0 (the paper's discriminator) or the size of the attribute "
                          f"vector a projection discriminator reads (40), got {num_attributes!r}.")
    blocks.check_rate("dropout", dropout)
    image = keras.Input(shape=shape, name="image")
    x = image
    for i, f in enumerate(filters):
        x = blocks.apply_downsample_block(x, int(f), int(kernel_size), 2, activation, alpha,
                                          bool(use_batchnorm) and i > 0, momentum, float(dropout))
    x = layers.Flatten()(x)
    if not num_attributes:
        return keras.Model(image, blocks.apply_score(x, "sigmoid"), name=name)
    attributes = keras.Input(shape=(int(num_attributes),), name="attributes")
    unconditional = blocks.apply_score(x, "linear")  # psi(phi(x))
    embedded = layers.Dense(int(x.shape[-1]), use_bias=False, name="attribute_projection")(attributes)  # V o
    projection = layers.Dot(axes=1, name="projection")([embedded, x])  # <V o, phi(x)>
    score = layers.Activation("sigmoid", name="score")(layers.Add()([unconditional, projection]))
    return keras.Model([image, attributes], score, name=name)


def check_classifier(model: keras.Model, source: str = "the classifier") -> tuple[int, int, int]:
    """The (H, W, C) a CelebA attribute classifier reads, after checking it outputs 40 attributes.

    Raises:
        ConfigError: one image input and 40 outputs are not what ``model`` has.
    """
    in_shape = model.inputs[0].shape[1:] if len(model.inputs) == 1 else None
    out_shape = tuple(model.outputs[0].shape[1:]) if len(model.outputs) == 1 else None
    if in_shape is None or len(in_shape) != 3 or None in tuple(in_shape) or in_shape[-1] not in (1, 3):
        raise ConfigError(f"{source} takes {[tuple(t.shape) for t in model.inputs]}, not one image (H, W, C); "
                          "pass a classifier saved by 'gans train-classifier celeba'.")
    if out_shape != (N_ATTRIBUTES,):
        raise ConfigError(f"{source} outputs {out_shape}, not the {N_ATTRIBUTES} CelebA attributes; pass a "
                          "classifier saved by 'gans train-classifier celeba'.")
    return tuple(int(d) for d in in_shape)


def check_attribute_weight(weight) -> float:
    """The attribute-consistency weight as a float, or a ConfigError naming a bad one."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float, np.floating, np.integer)) \
            or not math.isfinite(float(weight)) or float(weight) < 0:
        raise ConfigError(f"the attribute weight must be a number >= 0 (0: the paper's method), got {weight!r}.")
    return float(weight)


def build_attribute_gan(generator: keras.Model, discriminator: keras.Model, classifier: keras.Model | None = None,
                        name: str = "gan") -> keras.Model:
    """The model the attribute GAN's generator trains through: noise -> G -> D's score, where D is the
    paper's or a projection discriminator and a classifier may read the same faces.

    - A projection discriminator (two inputs, :func:`build_discriminator` with ``num_attributes``) reads
      each generated face beside the attribute vector overlaid on its noise, the model's second input:
      ``[noise, attributes] -> D(G(noise), attributes)``.
    - With a ``classifier`` (the attribute-consistency term, ``attribute_weight``; not in the paper) the
      classifier's 40 outputs on the same faces are a second output, read resized to its input
      (bilinear with antialiasing, which has a gradient) where the sizes differ, always in inference
      mode (its dropout off).

    Without either this is the paper's noise -> G -> D. Freezing D and the classifier is the training
    step's job.

    Raises:
        ConfigError: a discriminator of more than two inputs or whose attribute input is not 40-d, or a
            classifier that does not read the generator's faces.
    """
    check_attribute_generator(generator)
    noise = keras.Input(shape=(LATENT_DIM,), name="noise")
    image = generator(noise)
    k = check_attribute_discriminator(discriminator)
    if k:
        attributes = keras.Input(shape=(k,), name="attributes")
        inputs, score = [noise, attributes], discriminator([image, attributes])
    else:
        inputs, score = noise, discriminator(image)
    if classifier is None:
        return keras.Model(inputs, score, name=name)
    height, width, channels = check_classifier(classifier)
    if tuple(image.shape[1:]) != (height, width, channels):
        if image.shape[-1] != channels:
            raise ConfigError(f"the classifier reads {channels}-channel faces and the generator makes "
                              f"{image.shape[-1]}-channel ones.")
        image = layers.Resizing(height, width, interpolation="bilinear", antialias=True, name="to_classifier")(image)
    return keras.Model(inputs, [score, classifier(image, training=False)], name=name)


def check_attribute_discriminator(model: keras.Model, source: str = "the discriminator") -> int:
    """How many attributes an attribute GAN's discriminator reads beside the image: 0 for the paper's,
    40 for a projection discriminator.

    Raises:
        ConfigError: more than two inputs, or an attribute input that is not the classifier's 40.
    """
    if len(model.inputs) == 1:
        return 0
    if len(model.inputs) != 2:
        raise ConfigError(f"{source} takes {len(model.inputs)} inputs; the attribute GAN's takes an image (the "
                          "paper's) or an image and an attribute vector (a projection discriminator).")
    shape = tuple(model.inputs[1].shape[1:])
    if shape != (N_ATTRIBUTES,):
        raise ConfigError(f"{source} is a projection discriminator of {shape[0] if len(shape) == 1 else shape} "
                          f"attributes, but the classifier gives {N_ATTRIBUTES}; build it with "
                          f"num_attributes={N_ATTRIBUTES}.")
    return N_ATTRIBUTES


def check_attribute_generator(model: keras.Model, source: str = "the generator") -> tuple[int, int, int]:
    """The (H, W, C) an attribute generator makes, after checking it takes the 160-d noise of equation 1.

    Raises:
        ConfigError: the generator's input is not (LATENT_DIM,) or its output is not an image.
    """
    if len(model.inputs) != 1 or tuple(model.inputs[0].shape[1:]) != (LATENT_DIM,):
        raise ConfigError(f"{source} takes {[tuple(t.shape[1:]) for t in model.inputs]}, but equation 1 makes "
                          f"{LATENT_DIM}-d noise (4 x {N_ATTRIBUTES} attributes); pass a generator trained by "
                          "'gans train attribute' (RUN/checkpoints/generator_step_N.h5).")
    out = tuple(model.outputs[0].shape[1:])
    if len(out) != 3 or None in out or out[-1] not in (1, 3):
        raise ConfigError(f"{source} outputs {out}, not images (H, W, C).")
    return tuple(int(d) for d in out)
