"""The MNIST DCGAN and class-conditional GAN ("CCGAN") of Rzayev and Weldegebriel (KAIST CS492(A)),
with their capacity F, discriminator depth D and virtual batch normalization.

The report's Figure 1 is a Keras DCGAN; its text gives the layer sequence:

- generator: z -> Dense -> BN -> ReLU -> Dense -> BN -> ReLU -> Reshape -> UpSampling2D -> Conv2D ->
  BN -> ReLU -> UpSampling2D -> Conv2D (tanh);
- discriminator: Conv2D -> BN -> ELU -> Conv2D -> BN -> ELU -> pooling -> Flatten -> Dense (sigmoid);
- CCGAN: the label is concatenated to z at the generator's Dense input, and goes through a Dense
  layer of H*W (28*28 = 784) units, reshaped to one image channel and concatenated to the
  discriminator's input image (the conditioning of Mirza and Osindero 2014).

The report gives no widths, only the sizes: "approximately 310,000 parameters" for the discriminator
and "around 7 million" for the generator at F = 1, D = 1. The defaults here are the widths of the
Keras DCGAN for MNIST that the layer sequence describes, and land there: at the defaults
:func:`build_dcgan_discriminator` has 310,529 parameters and :func:`build_dcgan_generator`
6,768,129 (the conditional ones 320,305 and 6,778,369: the label's Dense layer and inputs).

Capacity F multiplies every convolution width (the report: "capabilities (number of channels)");
depth D repeats the discriminator's convolution pair. The report sweeps F, D in 1..3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from gans import blocks
from gans.errors import ConfigError
from gans.models.conditioning import EMBEDDING_LAYER, label_inputs, num_classes_of  # noqa: F401 (API)

LABEL_INPUTS = ("onehot", "embedding")


def build_generator(
    latent_dim: int = 100,
    num_classes: int = 10,
    image_shape: Sequence[int] = (28, 28, 1),
    capacity: int = 1,
    dense_units: int = 1024,
    base_filters: int = 128,
    filters: Sequence[int] = (64,),
    label_input: str = "onehot",
    embedding_dim: int = 50,
    activation: str = "relu",
    alpha: float = 0.2,
    use_batchnorm: bool = True,
    momentum: float = 0.99,
    virtual_batchnorm: bool = False,
    kernel_size: int = 5,
    output_activation: str = "tanh",
    name: str = "generator",
) -> keras.Model:
    """(z, label) -> Concatenate -> Dense -> Dense(seed) -> Reshape -> x2 blocks -> x2 Conv2D(C, tanh).

    Args:
        latent_dim: size of the Gaussian noise vector z (100 in the report).
        num_classes: number of classes (10 digits), >= 2.
        image_shape: (H, W, C); H and W must be divisible by 2 ** (len(filters) + 1).
        capacity: the report's F, an integer >= 1 multiplying ``base_filters`` and ``filters``.
        dense_units: width of the first Dense layer; not scaled by F, which the report ties to channels.
        base_filters: channels of the seed tensor (H / 2 ** (len(filters) + 1) square) before F.
        filters: filters of each UpSampling2D + Conv2D block before F; one more x2 upsampling precedes
            the output convolution.
        label_input: "onehot" (a float (num_classes,) input) or "embedding" (an int32 (1,) class id
            through an Embedding of ``embedding_dim``).
        embedding_dim: width of the label embedding (``label_input="embedding"`` only).
        activation: "relu" (the report), "leaky_relu" or "elu".
        alpha: LeakyReLU negative slope.
        use_batchnorm: normalization after every Dense and hidden convolution (the report).
        momentum: momentum of the normalization's moving statistics (the report states none; Keras's
            default).
        virtual_batchnorm: use :class:`~gans.layers.VirtualBatchNormalization` (statistics from half
            of the batch, the report's section 2.3) instead of BatchNormalization.
        kernel_size: convolution kernel; 5 gives the report's ~7 million parameters.
        output_activation: "tanh" so images land in [-1, 1].
        name: model name.

    Returns:
        A functional model with inputs ``[z (batch, latent_dim), label]`` and output (batch, H, W, C).

    Reference:
        Mirza and Osindero (2014), Conditional Generative Adversarial Nets; Rzayev and Weldegebriel,
        MNIST DCGAN/CCGAN report, sections 2.1.1 and 3.1.
    """
    _check_conditional(num_classes, label_input, embedding_dim)
    z = keras.Input(shape=(_positive("latent_dim", latent_dim),), name="z")
    label, label_vector = _label_input(num_classes, label_input, embedding_dim)
    x = layers.Concatenate()([z, label_vector])
    image = _generator_body(x, image_shape, capacity, dense_units, base_filters, filters, activation, alpha,
                            use_batchnorm, momentum, virtual_batchnorm, kernel_size, output_activation)
    return keras.Model([z, label], image, name=name)


def build_discriminator(
    image_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    capacity: int = 1,
    depth: int = 1,
    filters: Sequence[int] = (128, 256),
    kernel_size: int = 3,
    strides: int = 2,
    label_input: str = "onehot",
    embedding_dim: int = 50,
    activation: str = "elu",
    alpha: float = 0.2,
    use_batchnorm: bool = True,
    momentum: float = 0.99,
    virtual_batchnorm: bool = False,
    dropout: float = 0.0,
    pooling: bool = True,
    output_activation: str = "sigmoid",
    name: str = "discriminator",
) -> keras.Model:
    """(image, label) -> Concatenate(image, Reshape(Dense(H*W)(label))) -> D conv blocks -> MaxPool
    -> Flatten -> Dense(1).

    One block is the report's pair "convolution -> BN -> ELU, refined once again by convolution ->
    BN -> ELU": one Conv2D per entry of ``filters``. Only the first convolution of the first block
    is strided, so every extra block of a deeper discriminator adds convolutions at the same
    resolution.

    Args:
        image_shape: (H, W, C) of the input images.
        num_classes: number of classes (10 digits), >= 2.
        capacity: the report's F, an integer >= 1 multiplying every entry of ``filters``.
        depth: the report's D, the number of convolution blocks, >= 1.
        filters: the convolutions of one block, before F.
        kernel_size: convolution kernel.
        strides: stride of the first convolution (the others keep the resolution).
        label_input: "onehot" or "embedding", as in :func:`build_generator`.
        embedding_dim: width of the label embedding (``label_input="embedding"`` only).
        activation: "elu" (the report), "relu" or "leaky_relu".
        alpha: LeakyReLU negative slope.
        use_batchnorm: normalization after every convolution (the report, first one included).
        momentum: momentum of the normalization's moving statistics.
        virtual_batchnorm: use :class:`~gans.layers.VirtualBatchNormalization` instead of
            BatchNormalization.
        dropout: dropout after every convolution (0, the default, disables; the report uses none).
        pooling: a 2x2 MaxPooling2D before Flatten (the report's "pooling layer").
        output_activation: "sigmoid" (the report's minimax loss) or "linear".
        name: model name.

    Returns:
        A functional model with inputs ``[image (batch, H, W, C), label]`` and output (batch, 1).

    Reference:
        Mirza and Osindero (2014), Conditional Generative Adversarial Nets; Rzayev and Weldegebriel,
        MNIST DCGAN/CCGAN report, sections 2.1.2 and 3.1.
    """
    _check_conditional(num_classes, label_input, embedding_dim)
    shape = blocks.validate_image_shape(image_shape)
    image = keras.Input(shape=shape, name="image")
    label, label_vector = _label_input(num_classes, label_input, embedding_dim)
    label_map = layers.Dense(shape[0] * shape[1])(label_vector)
    label_map = layers.Reshape((shape[0], shape[1], 1))(label_map)
    x = layers.Concatenate()([image, label_map])
    score = _discriminator_body(x, shape, capacity, depth, filters, kernel_size, strides, activation, alpha,
                                use_batchnorm, momentum, virtual_batchnorm, dropout, pooling, output_activation)
    return keras.Model([image, label], score, name=name)


def build_dcgan_generator(
    latent_dim: int = 100,
    image_shape: Sequence[int] = (28, 28, 1),
    capacity: int = 1,
    dense_units: int = 1024,
    base_filters: int = 128,
    filters: Sequence[int] = (64,),
    activation: str = "relu",
    alpha: float = 0.2,
    use_batchnorm: bool = True,
    momentum: float = 0.99,
    virtual_batchnorm: bool = False,
    kernel_size: int = 5,
    output_activation: str = "tanh",
    name: str = "generator",
) -> keras.Model:
    """The report's unconditional generator: :func:`build_generator` without the label.

    z -> Dense -> Dense(seed) -> Reshape -> x2 blocks -> x2 Conv2D(C, tanh); 6,768,129 parameters at
    the defaults (the report: "around 7 million").

    It takes the arguments of :func:`build_generator` other than ``num_classes``, ``label_input`` and
    ``embedding_dim``, with the same meaning and defaults.

    Returns:
        A functional model mapping z (batch, latent_dim) to (batch, H, W, C).

    Reference:
        Radford, Metz and Chintala (2015), Unsupervised Representation Learning with DCGANs; Rzayev and
        Weldegebriel, MNIST DCGAN/CCGAN report, section 2.1.1.
    """
    z = keras.Input(shape=(_positive("latent_dim", latent_dim),), name="z")
    image = _generator_body(z, image_shape, capacity, dense_units, base_filters, filters, activation, alpha,
                            use_batchnorm, momentum, virtual_batchnorm, kernel_size, output_activation)
    return keras.Model(z, image, name=name)


def build_dcgan_discriminator(
    image_shape: Sequence[int] = (28, 28, 1),
    capacity: int = 1,
    depth: int = 1,
    filters: Sequence[int] = (128, 256),
    kernel_size: int = 3,
    strides: int = 2,
    activation: str = "elu",
    alpha: float = 0.2,
    use_batchnorm: bool = True,
    momentum: float = 0.99,
    virtual_batchnorm: bool = False,
    dropout: float = 0.0,
    pooling: bool = True,
    output_activation: str = "sigmoid",
    name: str = "discriminator",
) -> keras.Model:
    """The report's unconditional discriminator: :func:`build_discriminator` without the label.

    image -> D conv blocks -> MaxPool -> Flatten -> Dense(1); 310,529 parameters at the defaults
    (the report: "approximately 310,000").

    It takes the arguments of :func:`build_discriminator` other than ``num_classes``, ``label_input`` and
    ``embedding_dim``, with the same meaning and defaults.

    Returns:
        A functional model mapping (batch, H, W, C) to (batch, 1).

    Reference:
        Radford, Metz and Chintala (2015); Rzayev and Weldegebriel, MNIST DCGAN/CCGAN report, 2.1.2.
    """
    shape = blocks.validate_image_shape(image_shape)
    image = keras.Input(shape=shape, name="image")
    score = _discriminator_body(image, shape, capacity, depth, filters, kernel_size, strides, activation, alpha,
                                use_batchnorm, momentum, virtual_batchnorm, dropout, pooling, output_activation)
    return keras.Model(image, score, name=name)


def _generator_body(x, image_shape, capacity, dense_units, base_filters, filters, activation, alpha,
                    use_batchnorm, momentum, virtual_batchnorm, kernel_size, output_activation):
    """Dense -> [BN] -> act -> Dense(seed) -> [BN] -> act -> Reshape -> blocks -> UpSampling2D + Conv2D."""
    if not filters:
        raise ConfigError("filters must list at least one upsampling block, e.g. (64,).")
    height, width, channels = blocks.validate_image_shape(image_shape, upsampling_blocks=len(filters) + 1)
    capacity = _capacity(capacity)
    kernel_size = _positive("kernel_size", kernel_size)
    seed_h, seed_w = height // 2 ** (len(filters) + 1), width // 2 ** (len(filters) + 1)
    seed_channels = _positive("base_filters", base_filters) * capacity
    # The report's order is Dense -> BN -> ReLU (the thesis's dense block puts BN after the activation).
    for units in (_positive("dense_units", dense_units), seed_h * seed_w * seed_channels):
        x = layers.Dense(units)(x)
        if use_batchnorm:
            x = blocks.apply_batchnorm(x, momentum, virtual=virtual_batchnorm)
        x = blocks.apply_activation(x, activation, alpha)
    x = layers.Reshape((seed_h, seed_w, seed_channels))(x)
    for f in filters:
        x = blocks.apply_upsample_block(x, _positive("filters", f) * capacity, kernel_size, True, activation,
                                        alpha, use_batchnorm, momentum, virtual_batchnorm)
    x = layers.UpSampling2D()(x)
    return layers.Conv2D(channels, kernel_size, padding="same",
                         activation=blocks.normalize_output_activation(output_activation))(x)


def _discriminator_body(x, shape, capacity, depth, filters, kernel_size, strides, activation, alpha,
                        use_batchnorm, momentum, virtual_batchnorm, dropout, pooling, output_activation):
    """``depth`` blocks of [Conv2D -> [BN] -> act -> [Dropout]] per filter -> [MaxPool] -> Flatten -> Dense(1)."""
    capacity = _capacity(capacity)
    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ConfigError(f"depth must be an integer >= 1 (the report's D = 1, 2, 3), got {depth!r}.")
    if not filters:
        raise ConfigError("filters must list the convolutions of one block, e.g. (128, 256).")
    kernel_size, strides = _positive("kernel_size", kernel_size), _positive("strides", strides)
    blocks.check_rate("dropout", dropout)
    if pooling and min(math.ceil(shape[0] / strides), math.ceil(shape[1] / strides)) < 2:
        raise ConfigError(f"image_shape {shape} is too small for stride {strides} and 2x2 pooling; "
                          "pass strides=1 or pooling=False.")
    for block in range(int(depth)):
        for i, f in enumerate(filters):
            x = blocks.apply_downsample_block(
                x, _positive("filters", f) * capacity, kernel_size, strides if block == i == 0 else 1, activation,
                alpha, use_batchnorm, momentum, dropout, virtual_batchnorm=virtual_batchnorm)
    if pooling:
        x = layers.MaxPooling2D()(x)
    return blocks.apply_score(layers.Flatten()(x), output_activation)


def _label_input(num_classes: int, label_input: str, embedding_dim: int):
    """The "label" Input and the vector it becomes: itself (one-hot) or a flattened Embedding."""
    if label_input == "onehot":
        label = keras.Input(shape=(int(num_classes),), name="label")
        return label, label
    label = keras.Input(shape=(1,), dtype="int32", name="label")
    vector = layers.Embedding(int(num_classes), int(embedding_dim), name=EMBEDDING_LAYER)(label)
    return label, layers.Flatten()(vector)


def _check_conditional(num_classes, label_input, embedding_dim) -> None:
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ConfigError(f"num_classes must be an integer >= 2 (10 for MNIST digits), got {num_classes!r}; "
                          "for an unconditional model use build_dcgan_generator / build_dcgan_discriminator.")
    if label_input not in LABEL_INPUTS:
        raise ConfigError(f"unknown label_input {label_input!r}; pass 'onehot' (float one-hot rows) or "
                          "'embedding' (int32 class ids through an Embedding).")
    if label_input == "embedding":
        _positive("embedding_dim", embedding_dim)


def _capacity(capacity) -> int:
    if not isinstance(capacity, (int, np.integer)) or capacity < 1:
        raise ConfigError(f"capacity must be an integer >= 1 (the report's F = 1, 2, 3), got {capacity!r}.")
    return int(capacity)


def _positive(name: str, value) -> int:
    if int(value) < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)
