"""The progressive growing GAN (Karras et al. 2018) as the CelebA-HQ paper (seed 001) trained it.

Training starts at 4x4 and doubles the resolution up to a target (256x256 in the seed). At 4x4 the
generator maps z through a dense layer and two 3x3 convolutions to a feature map, and a 1x1 "toRGB"
convolution to an image; every doubling adds an upsampling and two 3x3 convolutions to the generator
and two 3x3 convolutions and an average pooling to the discriminator, behind a 1x1 "fromRGB". A new
block is faded in: its output is mixed with the upsampled (G) or downsampled (D) path of the lower
resolution, ``(1 - alpha) * old + alpha * new``, alpha rising from 0 to 1 (Figure 2 of the paper).

:func:`grow_generator` and :func:`grow_discriminator` are the grow API: each builds every layer up to
the target resolution once and returns, for every resolution, a *stable* model and (above 4x4) a
*fade-in* model. The models of all resolutions share their layers, so a grown model carries the
weights its lower resolutions learned. :func:`build_generator` and :func:`build_discriminator` are
the registry's builders; the stages behind the model they return are found with :func:`stages_of`.

Three recipes (``recipe``): ``"mse"`` (the seed's stable choice: least squares, no batch norm,
linear discriminator output), ``"bce"`` (the seed's first try: binary cross-entropy, batch
normalization with momentum 0.8 after every generator convolution, sigmoid output) and
``"wasserstein"`` (linear output, labels -1/+1). Pixel normalization, minibatch standard deviation
and the equalized learning rate are options; the seed lists them as its next steps.

Reference:
    Karras, Aila, Laine and Lehtinen (2018), Progressive Growing of GANs for Improved Quality,
    Stability, and Variation (ICLR).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import keras
from keras import layers

from gans.errors import ConfigError
from gans.precision import current as current_precision
from gans.precision import policy_scope
from gans.layers import (BatchNormalization, EqualizedConv2D, EqualizedDense, FadeIn, MinibatchStdDev, PixelNormalization,
                         WassersteinGPCriticLoss)
from gans.models.growth import (MAX_RESOLUTION, RECIPES, check_recipe, per_resolution,  # noqa: F401
                                recipe_loss, resolutions)

# Filters per resolution when none are given: wide at low resolution, narrower above 32x32, so a CPU
# trains the low resolutions in minutes and a 256x256 pair stays within a GPU's memory.
DEFAULT_FILTERS = {4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 32, 256: 16, 512: 16, 1024: 16}


def filters_for(target_resolution: int, filters: int | Sequence[int] | dict | None) -> dict[int, int]:
    """Filters of each resolution: one int for all, one per resolution (4x4 first), a dict, or None
    for :data:`DEFAULT_FILTERS`."""
    return per_resolution(resolutions(target_resolution), filters, DEFAULT_FILTERS, "filter count")


@dataclass
class Stage:
    """The networks of one resolution: ``stable`` (the new block alone) and ``fade`` (the new block
    mixed with the lower resolution's path by ``fade_layer``; None at 4x4)."""

    resolution: int
    stable: keras.Model
    fade: keras.Model | None = None
    fade_layer: FadeIn | None = None


_STAGES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_TWINS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # top stable model -> rebuild()


def stages_of(model: keras.Model) -> dict[int, Stage] | None:
    """The stages (resolution -> :class:`Stage`) behind a model :func:`build_generator` or
    :func:`build_discriminator` returned, or None for any other model (a loaded one, say)."""
    return _STAGES.get(model)


# Without the equalized learning rate, weights start from He's initialization, which keeps each
# layer's signal at unit scale whatever the filter counts (N(0, 0.02), DCGAN's, shrank it to 1e-4 in
# four layers of 16 filters, and the generator's gradients vanished).
_INIT = "he_normal"


class _Layers:
    """Makes the layers of one network with the chosen options; each layer is made once and named."""

    def __init__(self, prefix: str, equalized: bool, alpha: float):
        self.prefix, self.equalized, self.alpha = prefix, bool(equalized), float(alpha)

    def conv(self, filters: int, kernel: int, name: str, gain: float = 2.0 ** 0.5):
        name = f"{self.prefix}_{name}"
        if self.equalized:
            return EqualizedConv2D(filters, kernel, gain=gain, name=name)
        return layers.Conv2D(filters, kernel, padding="same", kernel_initializer=_INIT, name=name)

    def dense(self, units: int, name: str, gain: float = 2.0 ** 0.5):
        name = f"{self.prefix}_{name}"
        if self.equalized:
            return EqualizedDense(units, gain=gain, name=name)
        return layers.Dense(units, kernel_initializer=_INIT, name=name)

    def act(self, name: str):
        return layers.LeakyReLU(negative_slope=self.alpha, name=f"{self.prefix}_{name}")


def _apply(x, chain):
    for layer in chain:
        x = layer(x)
    return x


def _common_checks(latent_dim, channels, alpha, momentum):
    if int(latent_dim) < 1:
        raise ConfigError(f"latent_dim must be a positive integer, got {latent_dim}.")
    if int(channels) not in (1, 3):
        raise ConfigError(f"images must have 1 or 3 channels, got {channels}.")
    if not 0.0 <= float(alpha) < 1.0:
        raise ConfigError(f"LeakyReLU alpha must be in [0, 1), got {alpha}.")
    if not 0.0 <= float(momentum) < 1.0:
        raise ConfigError(f"batch-norm momentum must be in [0, 1), got {momentum}.")


def grow_generator(
    latent_dim: int = 128,
    target_resolution: int = 32,
    channels: int = 3,
    filters: int | Sequence[int] | dict | None = None,
    recipe: str = "mse",
    use_batchnorm: bool | None = None,
    momentum: float = 0.8,
    pixel_norm: bool = True,
    equalized: bool = False,
    alpha: float = 0.2,
    name: str = "generator",
) -> dict[int, Stage]:
    """Every generator of a progressive run: resolution -> :class:`Stage`.

    Args:
        latent_dim: size of z.
        target_resolution: the last resolution, a power of two from 4.
        channels: image channels (3 for faces).
        filters: filters per resolution (see :func:`filters_for`).
        recipe: "mse", "bce" or "wasserstein"; "bce" turns batch normalization on.
        use_batchnorm: override the recipe's batch normalization.
        momentum: batch-norm momentum (the seed: 0.8).
        pixel_norm: pixel normalization of z and after every convolution (the paper's section 4.2).
        equalized: equalized-learning-rate convolutions and dense layer (section 4.1).
        alpha: LeakyReLU negative slope.
        name: prefix of the model names (``generator_32x32``, ``generator_32x32_fade``).

    Returns:
        {4: Stage(stable), 8: Stage(stable, fade, fade_layer), ...}; every model maps
        (batch, latent_dim) to (batch, r, r, channels) in [-1, 1] (tanh).
    """
    recipe = check_recipe(recipe)
    _common_checks(latent_dim, channels, alpha, momentum)
    widths = filters_for(target_resolution, filters)
    res = list(widths)
    batchnorm = RECIPES[recipe][1] if use_batchnorm is None else bool(use_batchnorm)
    make = _Layers("g", equalized, alpha)

    def norm(tag):
        chain = []
        if batchnorm:
            chain.append(BatchNormalization(momentum=float(momentum), name=f"g_{tag}_bn"))
        if pixel_norm:
            chain.append(PixelNormalization(name=f"g_{tag}_pn"))
        return chain

    f4 = widths[4]
    base = [PixelNormalization(name="g_z_pn")] if pixel_norm else []
    base += [make.dense(4 * 4 * f4, "4x4_dense", gain=2.0 ** 0.5 / 4), layers.Reshape((4, 4, f4), name="g_4x4_reshape"),
             make.act("4x4_act0"), *norm("4x4_0")]
    for i in (1, 2):
        base += [make.conv(f4, 3, f"4x4_conv{i}"), make.act(f"4x4_act{i}"), *norm(f"4x4_{i}")]
    blocks = {}
    for r in res[1:]:
        tag = f"{r}x{r}"
        chain = [layers.UpSampling2D(2, interpolation="nearest", name=f"g_{tag}_up")]
        for i in (1, 2):
            chain += [make.conv(widths[r], 3, f"{tag}_conv{i}"), make.act(f"{tag}_act{i}"), *norm(f"{tag}_{i}")]
        blocks[r] = chain
    to_rgb = {r: [make.conv(int(channels), 1, f"{r}x{r}_to_rgb", gain=1.0),
                  layers.Activation("tanh", name=f"g_{r}x{r}_tanh")] for r in res}

    z = keras.Input(shape=(int(latent_dim),), name="z")
    stages, features = {}, _apply(z, base)
    for r in res:
        if r == 4:
            stages[r] = Stage(r, keras.Model(z, _apply(features, to_rgb[4]), name=f"{name}_4x4"))
            continue
        previous = features
        features = _apply(previous, blocks[r])
        new = _apply(features, to_rgb[r])
        old = layers.UpSampling2D(2, interpolation="nearest", name=f"g_{r}x{r}_skip_up")(_apply(previous, to_rgb[r // 2]))
        fade_layer = FadeIn(name=f"g_{r}x{r}_fade_in")
        stages[r] = Stage(r, keras.Model(z, new, name=f"{name}_{r}x{r}"),
                          keras.Model(z, fade_layer([old, new]), name=f"{name}_{r}x{r}_fade"), fade_layer)
    policy = current_precision()  # a twin computes in the dtype policy its original was built in

    def rebuild():
        with policy_scope(policy):
            return grow_generator(
                latent_dim=latent_dim, target_resolution=target_resolution, channels=channels, filters=filters,
                recipe=recipe, use_batchnorm=use_batchnorm, momentum=momentum, pixel_norm=pixel_norm,
                equalized=equalized, alpha=alpha, name=name)

    _TWINS[stages[res[-1]].stable] = rebuild
    return stages


def twin_stages(stages: dict[int, Stage]) -> dict[int, Stage]:
    """A second, separate set of networks built with the same arguments as ``stages`` (from
    :func:`grow_generator`), e.g. the exponential moving average of a generator. Its variables are in
    the same order and have the same paths as the original's; their values are fresh.

    Raises:
        ConfigError: ``stages`` did not come from :func:`grow_generator` in this process.
    """
    rebuild = _TWINS.get(stages[max(stages)].stable)
    if rebuild is None:
        raise ConfigError("only networks from gans.models.pggan.grow_generator (or build_generator) can be twinned.")
    return rebuild()


def grow_discriminator(
    target_resolution: int = 32,
    channels: int = 3,
    filters: int | Sequence[int] | dict | None = None,
    recipe: str = "mse",
    minibatch_stddev: bool = False,
    group_size: int | None = 4,
    equalized: bool = False,
    alpha: float = 0.2,
    output_activation: str | None = "recipe",
    name: str = "discriminator",
) -> dict[int, Stage]:
    """Every discriminator of a progressive run: resolution -> :class:`Stage`.

    Args:
        target_resolution: the last resolution, a power of two from 4.
        channels: image channels.
        filters: filters per resolution (see :func:`filters_for`); the block of resolution r maps
            r's filters to those of r / 2.
        recipe: "mse" and "wasserstein" give a linear output, "bce" a sigmoid.
        minibatch_stddev: a :class:`~gans.layers.MinibatchStdDev` map before the 4x4 convolutions.
        group_size: its group size.
        equalized: equalized-learning-rate layers.
        alpha: LeakyReLU negative slope.
        output_activation: "sigmoid", "linear"/None, or "recipe" for the recipe's.
        name: prefix of the model names.

    Returns:
        {4: Stage(stable), 8: Stage(stable, fade, fade_layer), ...}; every model maps
        (batch, r, r, channels) to (batch, 1).
    """
    recipe = check_recipe(recipe)
    _common_checks(1, channels, alpha, 0.0)
    widths = filters_for(target_resolution, filters)
    res = list(widths)
    out_act = RECIPES[recipe][2] if output_activation == "recipe" else output_activation
    if out_act not in (None, "linear", "sigmoid"):
        raise ConfigError(f"output_activation must be 'sigmoid' or 'linear', got {output_activation!r}.")
    make = _Layers("d", equalized, alpha)
    from_rgb = {r: [make.conv(widths[r], 1, f"{r}x{r}_from_rgb"), make.act(f"{r}x{r}_from_rgb_act")] for r in res}
    blocks = {r: [make.conv(widths[r], 3, f"{r}x{r}_conv1"), make.act(f"{r}x{r}_act1"),
                  make.conv(widths[r // 2], 3, f"{r}x{r}_conv2"), make.act(f"{r}x{r}_act2"),
                  layers.AveragePooling2D(2, name=f"d_{r}x{r}_pool")] for r in res[1:]}
    base = [MinibatchStdDev(group_size, name="d_4x4_stddev")] if minibatch_stddev else []
    base += [make.conv(widths[4], 3, "4x4_conv1"), make.act("4x4_act1"),
             make.conv(widths[4], 3, "4x4_conv2"), make.act("4x4_act2"),
             layers.Flatten(name="d_4x4_flatten"), make.dense(1, "4x4_score", gain=1.0)]
    if out_act == "sigmoid":
        base.append(layers.Activation("sigmoid", name="d_score_sigmoid"))

    def down_from(r, x):  # blocks r, r/2, ..., 8, then the 4x4 base
        while r > 4:
            x = _apply(x, blocks[r])
            r //= 2
        return _apply(x, base)

    stages = {}
    for r in res:
        image = keras.Input(shape=(r, r, int(channels)), name=f"image_{r}x{r}")
        stable = keras.Model(image, down_from(r, _apply(image, from_rgb[r])), name=f"{name}_{r}x{r}")
        if r == 4:
            stages[r] = Stage(r, stable)
            continue
        new = _apply(_apply(image, from_rgb[r]), blocks[r])
        old = _apply(layers.AveragePooling2D(2, name=f"d_{r}x{r}_skip_pool")(image), from_rgb[r // 2])
        fade_layer = FadeIn(name=f"d_{r}x{r}_fade_in")
        fade = keras.Model(image, down_from(r // 2, fade_layer([old, new])), name=f"{name}_{r}x{r}_fade")
        stages[r] = Stage(r, stable, fade, fade_layer)
    return stages


def build_generator(latent_dim: int = 128, image_shape: Sequence[int] = (32, 32, 3), target_resolution: int | None = None,
                    **options) -> keras.Model:
    """The stable generator at ``target_resolution`` (default: the image side); its grown stages are
    :func:`stages_of` it. Options as :func:`grow_generator`."""
    target = int(target_resolution or image_shape[0])
    stages = grow_generator(latent_dim=latent_dim, target_resolution=target, channels=int(image_shape[-1]), **options)
    model = stages[target].stable
    _STAGES[model] = stages
    return model


def build_discriminator(image_shape: Sequence[int] = (32, 32, 3), target_resolution: int | None = None,
                        **options) -> keras.Model:
    """The stable discriminator at ``target_resolution`` (default: the image side); see
    :func:`build_generator`. Options as :func:`grow_discriminator`."""
    target = int(target_resolution or image_shape[0])
    stages = grow_discriminator(target_resolution=target, channels=int(image_shape[-1]), **options)
    model = stages[target].stable
    _STAGES[model] = stages
    return model


def build_critic_trainer(critic: keras.Model, penalty_weight: float = 10.0, drift: float = 0.001,
                         name: str | None = None) -> keras.Model:
    """The model that trains a Wasserstein critic with the gradient penalty and drift of the PGGAN paper.

    Inputs ``[real, fake, mix]`` (images of the critic's input shape, mixing factors (batch, 1, 1, 1));
    output the per-sample critic loss of :class:`~gans.layers.WassersteinGPCriticLoss`. Compile it with
    the Wasserstein loss and train it on targets of 1 (the loss is then the batch mean), with the
    critic's own optimizer: its trainable weights are the critic's.
    """
    shape = tuple(critic.inputs[0].shape[1:])
    real = keras.Input(shape=shape, name="real")
    fake = keras.Input(shape=shape, name="fake")
    mix = keras.Input(shape=(1, 1, 1), name="mix")
    loss = WassersteinGPCriticLoss(critic, penalty_weight, drift, name="critic_loss")([real, fake, mix])
    return keras.Model([real, fake, mix], loss, name=name or f"{critic.name}_gp")


def all_stages_model(stages: dict[int, Stage], name: str) -> keras.Model:
    """One model over every stage's stable and fade-in networks: its ``variables`` are every weight a
    progressive run has grown (each lower resolution's toRGB / fromRGB and every fade-in alpha too),
    which a resumable state must hold although the current phase's networks do not use them all."""
    models = [m for s in stages.values() for m in (s.stable, s.fade) if m is not None]
    inputs = [m.inputs[0] for m in models]
    unique = list({id(t): t for t in inputs}.values())
    return keras.Model(unique if len(unique) > 1 else unique[0], [m.outputs[0] for m in models], name=name)


def parameter_counts(stages: dict[int, Stage]) -> dict[int, int]:
    """Parameters of the stable model of each resolution."""
    return {r: int(s.stable.count_params()) for r, s in stages.items()}
