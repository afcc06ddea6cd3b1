"""The fully connected GAN (Goodfellow et al. 2014) as the thesis builds it (Figures 4.4-4.6).

With the defaults, the discriminator has 533,505 parameters, the generator 1,493,520 and the combined
model 2,027,025, as in the thesis's model summaries for experiment 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from gans import blocks
from gans.errors import ConfigError


def build_generator(
    latent_dim: int = 100,
    image_shape: Sequence[int] = (28, 28, 1),
    units: Sequence[int] = (256, 512, 1024),
    activation: str = "leaky_relu",
    alpha: float = 0.2,
    use_batchnorm: bool = True,
    momentum: float = 0.8,
    dropout: float = 0.0,
    output_activation: str = "tanh",
    name: str = "generator",
) -> keras.Model:
    """z -> [Dense -> activation -> BatchNorm] per entry of ``units`` -> Dense(H*W*C, tanh) -> image.

    Args:
        latent_dim: size of the Gaussian noise vector z.
        image_shape: (H, W, C) of the generated images; any size works.
        units: widths of the hidden Dense layers.
        activation: "relu" or "leaky_relu" (Table 4.4, "Layers Activation Function").
        alpha: LeakyReLU negative slope.
        use_batchnorm: BatchNormalization after each hidden activation.
        momentum: BatchNormalization momentum (0.8 throughout the thesis).
        dropout: dropout rate after each hidden block (0 disables).
        output_activation: "tanh" (the thesis's generators) so images land in [-1, 1].
        name: model name.

    Returns:
        A functional model mapping (batch, latent_dim) to (batch, H, W, C).

    Reference:
        Goodfellow et al. (2014), Generative Adversarial Networks; thesis section 4.3.
    """
    shape = blocks.validate_image_shape(image_shape)
    _check_common(latent_dim, units, dropout)
    z = keras.Input(shape=(int(latent_dim),), name="z")
    x = z
    for width in units:
        x = blocks.apply_dense_block(x, int(width), activation, alpha, use_batchnorm, momentum, dropout)
    x = layers.Dense(int(np.prod(shape)), activation=blocks.normalize_output_activation(output_activation))(x)
    image = layers.Reshape(shape)(x)
    return keras.Model(z, image, name=name)


def build_discriminator(
    image_shape: Sequence[int] = (28, 28, 1),
    units: Sequence[int] = (512, 256),
    activation: str = "leaky_relu",
    alpha: float = 0.2,
    use_batchnorm: bool = False,
    momentum: float = 0.8,
    dropout: float = 0.0,
    output_activation: str = "sigmoid",
    clip_value: float | None = None,
    name: str = "discriminator",
) -> keras.Model:
    """image -> Flatten -> [Dense -> activation -> (BatchNorm) -> (Dropout)] per ``units`` -> Dense(1).

    Args:
        image_shape: (H, W, C) of the input images.
        units: widths of the hidden Dense layers.
        activation: "relu" or "leaky_relu" (Table 4.5).
        alpha: LeakyReLU negative slope.
        use_batchnorm: BatchNormalization after each hidden activation.
        momentum: BatchNormalization momentum.
        dropout: dropout rate after each hidden block (0 disables).
        output_activation: "sigmoid" for the minimax loss, "linear" for least squares or Wasserstein.
        clip_value: if set, every weight is clipped to [-clip_value, clip_value] after each update.
        name: model name.

    Returns:
        A functional model mapping (batch, H, W, C) to (batch, 1).
    """
    shape = blocks.validate_image_shape(image_shape)
    _check_common(1, units, dropout)
    image = keras.Input(shape=shape, name="image")
    x = layers.Flatten()(image)
    for width in units:
        x = blocks.apply_dense_block(x, int(width), activation, alpha, use_batchnorm, momentum, dropout, clip_value)
    score = blocks.apply_score(x, output_activation, clip_value)
    return keras.Model(image, score, name=name)


def _check_common(latent_dim: int, units: Sequence[int], dropout: float) -> None:
    if int(latent_dim) < 1:
        raise ConfigError(f"latent_dim must be a positive integer, got {latent_dim}.")
    if not units or any(int(u) < 1 for u in units):
        raise ConfigError(f"units must be a non-empty list of positive widths, got {units!r}.")
    blocks.check_rate("dropout", dropout)
