"""The convolutional DCGAN (Radford et al. 2015) as the thesis builds it (experiments 2, 5, 6, 12,
15-18).

The tables give the structural switches (activation, batch norm and momentum, UpSampling2D + Conv2D
and its kernel, discriminator strides, dropout, last activation) but not the filter widths; the
defaults here follow the Keras DCGAN the thesis's Table 4.4/4.5 rows match (generator: Dense to
7x7x128, two UpSampling2D + Conv2D blocks of 128 and 64 filters; discriminator: 32-64-128-256 filters
with strides 2-2-2-1). Any image size whose sides are divisible by 2 ** len(filters) works, so
28x28x1 (MNIST) and 40x40x3 (CelebA crops) both build.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from gans import blocks
from gans.errors import ConfigError


def build_generator(
    latent_dim: int = 100,
    image_shape: Sequence[int] = (28, 28, 1),
    filters: Sequence[int] = (128, 64),
    base_filters: int = 128,
    activation: str = "relu",
    alpha: float = 0.2,
    use_batchnorm: bool = True,
    momentum: float = 0.8,
    upsampling: bool = True,
    kernel_size: int = 3,
    output_activation: str = "tanh",
    name: str = "generator",
) -> keras.Model:
    """z -> Dense(seed*seed*base_filters) -> Reshape -> one x2 block per ``filters`` -> Conv2D(C, tanh).

    Args:
        latent_dim: size of the Gaussian noise vector z.
        image_shape: (H, W, C); H and W must be divisible by 2 ** len(filters).
        filters: filters of each upsampling block; their number sets how many times the seed doubles.
        base_filters: channels of the seed tensor the Dense layer produces.
        activation: "relu" or "leaky_relu" (Table 4.4).
        alpha: LeakyReLU negative slope.
        use_batchnorm: BatchNormalization in each block (Table 4.4 "Batch Normalization").
        momentum: BatchNormalization momentum.
        upsampling: True for UpSampling2D + Conv2D, False for stride-2 Conv2DTranspose.
        kernel_size: convolution kernel (3 or 4 in the thesis).
        output_activation: "tanh" so images land in [-1, 1].
        name: model name.

    Returns:
        A functional model mapping (batch, latent_dim) to (batch, H, W, C).

    Reference:
        Radford, Metz and Chintala (2015), Unsupervised Representation Learning with DCGANs.
    """
    if not filters:
        raise ConfigError("filters must list at least one upsampling block, e.g. (128, 64).")
    height, width, channels = blocks.validate_image_shape(image_shape, upsampling_blocks=len(filters))
    _check_kernel(kernel_size)
    if int(latent_dim) < 1:
        raise ConfigError(f"latent_dim must be a positive integer, got {latent_dim}.")
    seed_h, seed_w = height // 2 ** len(filters), width // 2 ** len(filters)
    z = keras.Input(shape=(int(latent_dim),), name="z")
    x = layers.Dense(seed_h * seed_w * int(base_filters))(z)
    x = blocks.apply_activation(x, activation, alpha)
    x = layers.Reshape((seed_h, seed_w, int(base_filters)))(x)
    for f in filters:
        x = blocks.apply_upsample_block(x, int(f), kernel_size, upsampling, activation, alpha, use_batchnorm, momentum)
    image = layers.Conv2D(channels, kernel_size, padding="same",
                          activation=blocks.normalize_output_activation(output_activation))(x)
    return keras.Model(z, image, name=name)


def build_discriminator(
    image_shape: Sequence[int] = (28, 28, 1),
    filters: Sequence[int] = (32, 64, 128, 256),
    kernel_size: int = 3,
    strides: int | Sequence[int] = (2, 2, 2, 1),
    activation: str = "leaky_relu",
    alpha: float = 0.2,
    use_batchnorm: bool = True,
    momentum: float = 0.8,
    dropout: float = 0.25,
    output_activation: str = "sigmoid",
    clip_value: float | None = None,
    name: str = "discriminator",
) -> keras.Model:
    """image -> [Conv2D(strides) -> (BatchNorm) -> activation -> (Dropout)] per ``filters`` -> Dense(1).

    Batch normalization is applied from the second block on, as in the DCGAN paper (normalising the
    first layer's input-level statistics destabilises training).

    Args:
        image_shape: (H, W, C) of the input images.
        filters: filters of each convolution block.
        kernel_size: convolution kernel (3 or 5 in the thesis).
        strides: one stride for every block, or one per block (Table 4.5 "Strides").
        activation: "relu" or "leaky_relu".
        alpha: LeakyReLU negative slope.
        use_batchnorm: BatchNormalization in blocks 2 onwards.
        momentum: BatchNormalization momentum.
        dropout: dropout rate after each block (0.25 or 0.4 in the thesis; 0 disables).
        output_activation: "sigmoid" (minimax) or "linear" (least squares, Wasserstein critic).
        clip_value: if set, every weight is clipped to [-clip_value, clip_value] after each update.
        name: model name.

    Returns:
        A functional model mapping (batch, H, W, C) to (batch, 1).
    """
    shape = blocks.validate_image_shape(image_shape)
    _check_kernel(kernel_size)
    if not filters:
        raise ConfigError("filters must list at least one convolution block, e.g. (32, 64, 128, 256).")
    per_block = [int(strides)] * len(filters) if isinstance(strides, int) else [int(s) for s in strides]
    if len(per_block) != len(filters) or min(per_block) < 1:
        raise ConfigError(f"strides must be one positive int or one per block ({len(filters)}), got {strides!r}.")
    blocks.check_rate("dropout", dropout)
    image = keras.Input(shape=shape, name="image")
    x = image
    for i, (f, s) in enumerate(zip(filters, per_block)):
        x = blocks.apply_downsample_block(x, int(f), kernel_size, s, activation, alpha,
                                          use_batchnorm and i > 0, momentum, dropout, clip_value)
    x = layers.Flatten()(x)
    score = blocks.apply_score(x, output_activation, clip_value)
    return keras.Model(image, score, name=name)


def _check_kernel(kernel_size: int) -> None:
    if int(kernel_size) < 1:
        raise ConfigError(f"kernel_size must be a positive integer, got {kernel_size}.")
