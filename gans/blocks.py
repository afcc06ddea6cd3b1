"""Small ``apply_*`` helpers that the builders share.

Each takes a Keras tensor and returns one, so every builder stays a short functional graph, and a
structural option (activation, batch norm, dropout, clipping) is spelled out in exactly one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import layers

from gans.errors import ConfigError
from gans.layers import BatchNormalization, ClipConstraint, VirtualBatchNormalization

ACTIVATIONS = {"relu": "relu", "leaky_relu": "leaky_relu", "leakyrelu": "leaky_relu", "lrelu": "leaky_relu",
               "elu": "elu"}
OUTPUT_ACTIVATIONS = {"sigmoid": "sigmoid", "tanh": "tanh", "linear": None, "none": None, "-": None}


def normalize_activation(name: str) -> str:
    """Accept the thesis's spellings (``leakyReLU``, ``Relu``) and return ``relu``, ``leaky_relu`` or ``elu``
    (the MNIST DCGAN/CCGAN paper's discriminator)."""
    key = str(name).replace("-", "_").lower()
    if key not in ACTIVATIONS:
        raise ConfigError(f"activation must be 'relu' or 'leaky_relu' (or 'elu'), got {name!r}.")
    return ACTIVATIONS[key]


def normalize_output_activation(name: str | None) -> str | None:
    """Return 'sigmoid', 'tanh' or None (linear) for the thesis's last-layer column."""
    key = "linear" if name is None else str(name).lower()
    if key not in OUTPUT_ACTIVATIONS:
        raise ConfigError(f"output_activation must be 'sigmoid', 'tanh' or 'linear', got {name!r}.")
    return OUTPUT_ACTIVATIONS[key]


def validate_image_shape(image_shape: Sequence[int], upsampling_blocks: int = 0) -> tuple[int, int, int]:
    """Check an (H, W, C) image shape, and that a generator with ``upsampling_blocks`` x2 stages can
    reach it from an integer seed size.

    Raises:
        ConfigError: naming the expected value.
    """
    try:
        shape = tuple(int(d) for d in image_shape)
    except (TypeError, ValueError):
        raise ConfigError(f"image_shape must be (height, width, channels), got {image_shape!r}.") from None
    if len(shape) != 3 or min(shape) < 1:
        raise ConfigError(f"image_shape must be (height, width, channels) of positive ints, got {image_shape!r}.")
    if shape[2] not in (1, 3):
        raise ConfigError(f"image_shape {shape}: channels must be 1 (grayscale) or 3 (RGB), got {shape[2]}.")
    factor = 2**upsampling_blocks
    if shape[0] % factor or shape[1] % factor:
        raise ConfigError(
            f"image_shape {shape}: height and width must be divisible by {factor} (2 ** {upsampling_blocks} "
            f"upsampling blocks), e.g. 28x28 or 40x40; pass fewer generator filters or another size."
        )
    return shape


def check_rate(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{name} must be in [0, 1), got {value}.")
    return value


def clip_constraint(clip_value: float | None) -> ClipConstraint | None:
    return ClipConstraint(clip_value) if clip_value else None


def apply_activation(x, activation: str, alpha: float = 0.2):
    """ReLU, LeakyReLU with slope ``alpha`` (the thesis's two hidden activations), or ELU (its own
    default scale 1; ``alpha`` is the leaky slope only)."""
    key = normalize_activation(activation)
    if key == "relu":
        return layers.ReLU()(x)
    if key == "elu":
        return layers.ELU()(x)
    return layers.LeakyReLU(negative_slope=alpha)(x)


def apply_batchnorm(x, momentum: float, clip_value: float | None = None, virtual: bool = False):
    """BatchNormalization with the Keras-2 style momentum the thesis quotes (0.8), or with ``virtual``
    :class:`~gans.layers.VirtualBatchNormalization` (statistics from half of the batch)."""
    constraint = clip_constraint(clip_value)
    norm = VirtualBatchNormalization if virtual else BatchNormalization
    return norm(momentum=momentum, beta_constraint=constraint, gamma_constraint=constraint)(x)


def apply_dense_block(x, units: int, activation: str, alpha: float, use_batchnorm: bool, momentum: float,
                      dropout: float = 0.0, clip_value: float | None = None):
    """Dense -> activation -> [BatchNorm] -> [Dropout]: the order of the thesis's Figure 4.5."""
    constraint = clip_constraint(clip_value)
    x = layers.Dense(units, kernel_constraint=constraint, bias_constraint=constraint)(x)
    x = apply_activation(x, activation, alpha)
    if use_batchnorm:
        x = apply_batchnorm(x, momentum, clip_value)
    if dropout:
        x = layers.Dropout(dropout)(x)
    return x


def apply_upsample_block(x, filters: int, kernel_size: int, upsampling: bool, activation: str, alpha: float,
                         use_batchnorm: bool, momentum: float, virtual_batchnorm: bool = False):
    """Double the resolution: UpSampling2D + Conv2D (the thesis's "Up Sampling 2D +" rows) or a
    stride-2 Conv2DTranspose (the DCGAN paper's fractionally-strided convolution), then
    [BatchNorm] -> activation."""
    if upsampling:
        x = layers.UpSampling2D()(x)
        x = layers.Conv2D(filters, kernel_size, padding="same")(x)
    else:
        x = layers.Conv2DTranspose(filters, kernel_size, strides=2, padding="same")(x)
    if use_batchnorm:
        x = apply_batchnorm(x, momentum, virtual=virtual_batchnorm)
    return apply_activation(x, activation, alpha)


def apply_downsample_block(x, filters: int, kernel_size: int, strides: int, activation: str, alpha: float,
                           use_batchnorm: bool, momentum: float, dropout: float, clip_value: float | None = None,
                           virtual_batchnorm: bool = False):
    """Strided Conv2D (thesis 3.2.1: strides instead of pooling) -> [BatchNorm] -> activation ->
    [Dropout]."""
    constraint = clip_constraint(clip_value)
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                      kernel_constraint=constraint, bias_constraint=constraint)(x)
    if use_batchnorm:
        x = apply_batchnorm(x, momentum, clip_value, virtual_batchnorm)
    x = apply_activation(x, activation, alpha)
    if dropout:
        x = layers.Dropout(dropout)(x)
    return x


def apply_score(x, output_activation: str | None, clip_value: float | None = None):
    """The discriminator's single output unit: a probability (sigmoid) or a raw score (linear)."""
    constraint = clip_constraint(clip_value)
    return layers.Dense(1, activation=normalize_output_activation(output_activation),
                        kernel_constraint=constraint, bias_constraint=constraint)(x)

