"""The hyperparameters of one GAN, as the thesis lists them (section 4.4), in one serialisable object.

A :class:`GANConfig` is what the experiment registry stores for each row of Tables 4.1-4.5, what
``gans train`` builds from its options, and what a run writes to ``config.json``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import keras

from gans.errors import ConfigError
from gans.losses import check_label_options, get_loss

OPTIMIZERS = ("adam", "rmsprop")
DATASETS = ("mnist", "celeba")
DATASET_IMAGE_SHAPES = {"mnist": (28, 28, 1), "celeba": (40, 40, 3)}


@dataclass(frozen=True)
class OptimizerSpec:
    """Tables 4.2/4.3: optimizer name, learning rate and (Adam only) beta1."""

    name: str = "adam"
    learning_rate: float = 2e-4
    beta_1: float | None = 0.5

    def __post_init__(self):
        if self.name not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {OPTIMIZERS}, got {self.name!r}.")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning rate must be > 0, got {self.learning_rate}.")
        if self.name == "adam" and self.beta_1 is not None and not 0.0 <= self.beta_1 < 1.0:
            raise ConfigError(f"Adam beta1 must be in [0, 1), got {self.beta_1}.")

    def build(self) -> keras.optimizers.Optimizer:
        """A fresh optimizer (each compiled model needs its own)."""
        if self.name == "adam":
            return keras.optimizers.Adam(learning_rate=self.learning_rate,
                                         beta_1=0.9 if self.beta_1 is None else self.beta_1)
        return keras.optimizers.RMSprop(learning_rate=self.learning_rate)


@dataclass(frozen=True)
class NetworkSpec:
    """Which builder makes a network, and with which keyword arguments (Tables 4.4/4.5)."""

    builder: str
    options: dict[str, Any] = field(default_factory=dict)

    def build(self, role: str, latent_dim: int, image_shape: tuple[int, int, int]) -> keras.Model:
        """Build the generator (``role="generator"``) or discriminator of this spec."""
        from gans.models import get_variant

        module = get_variant(self.builder)
        options = dict(self.options)
        try:
            if role == "generator":
                return module.build_generator(latent_dim=latent_dim, image_shape=image_shape, **options)
            return module.build_discriminator(image_shape=image_shape, **options)
        except TypeError as exc:  # an option the builder does not take
            raise ConfigError(f"{self.builder}.build_{role}: {exc}") from None


@dataclass(frozen=True)
class GANConfig:
    """Every hyperparameter of one GAN training (thesis section 4.4).

    Attributes:
        variant: the family the experiment is derived from: gan, dcgan, lsgan or wgan.
        dataset: mnist or celeba.
        steps: training iterations (the thesis calls them epochs).
        latent_dim: size of z.
        batch_size: real images per discriminator step (and as many generated ones).
        loss / optimizer: the combined GAN's loss and optimizer (Table 4.2).
        discriminator_loss / discriminator_optimizer: the discriminator's (Table 4.3).
        generator / discriminator: structures (Tables 4.4 and 4.5).
        image_shape: (H, W, C); a run replaces it by the shape of the data it trains on.
        n_critic: discriminator steps per generator step (5 for WGAN).
        label_smoothing / label_flip: one-sided soft labels and flip probability for real samples.
        experiment: the thesis's experiment number, or None for a custom configuration.
        interval: the thesis's save interval for this family (500 GAN/LSGAN, 200 DCGAN/WGAN).
        published_fid: the FID the thesis reports for this experiment (Tables 4.6/4.7), if any.
        description: one line for ``gans list``.
    """

    variant: str
    dataset: str
    steps: int
    latent_dim: int
    batch_size: int
    loss: str
    optimizer: OptimizerSpec
    discriminator_loss: str
    discriminator_optimizer: OptimizerSpec
    generator: NetworkSpec
    discriminator: NetworkSpec
    image_shape: tuple[int, int, int] = (28, 28, 1)
    n_critic: int = 1
    label_smoothing: float = 0.0
    label_flip: float = 0.0
    experiment: int | None = None
    interval: int = 500
    published_fid: float | None = None
    description: str = ""

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ConfigError(f"dataset must be one of {DATASETS}, got {self.dataset!r}.")
        for name in ("steps", "latent_dim", "batch_size", "n_critic", "interval"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
        for name in ("loss", "discriminator_loss"):
            get_loss(getattr(self, name))
        check_label_options(get_loss(self.discriminator_loss), self.label_smoothing, self.label_flip)

    def replace(self, **changes) -> "GANConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (config.json)."""
        data = dataclasses.asdict(self)
        data["image_shape"] = list(self.image_shape)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GANConfig":
        """Rebuild from :meth:`to_dict` output; unknown keys (such as a run's "run" block) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["optimizer"] = OptimizerSpec(**values["optimizer"])
        values["discriminator_optimizer"] = OptimizerSpec(**values["discriminator_optimizer"])
        values["generator"] = NetworkSpec(**values["generator"])
        values["discriminator"] = NetworkSpec(**values["discriminator"])
        values["image_shape"] = tuple(values.get("image_shape", (28, 28, 1)))
        return cls(**values)
