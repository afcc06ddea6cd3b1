"""What is trained: the hyperparameters of one GAN (thesis section 4.4) in one serialisable object.

A :class:`GANConfig` is what the experiment registry stores for each row of Tables 4.1-4.5 (and for
the companion papers' named configurations), what ``gans train`` builds from its options, and what a
run writes to ``config.json``. How a run goes (intervals, seed, FID) is kept apart, in
:class:`gans.training.run.RunSettings`.

This module sits low in the library: the experiments (plain data) import it, and it imports only
:mod:`gans.losses`, the plain-data :mod:`gans.batchnorm` and :mod:`gans.precision` and, to build a
network, :mod:`gans.models`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gans.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import keras

OPTIMIZERS = ("adam", "rmsprop", "sgd")
DATASETS = ("mnist", "celeba", "utkface")
DATASET_IMAGE_SHAPES = {"mnist": (28, 28, 1), "celeba": (40, 40, 3), "utkface": (128, 128, 3)}


@dataclass(frozen=True)
class OptimizerSpec:
    """Tables 4.2/4.3: optimizer name, learning rate and (Adam only) beta1. Plain SGD is there for
    studies whose updates must be proportional to the gradients."""

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

    def build(self, precision: str = "float32") -> "keras.optimizers.Optimizer":
        """A fresh optimizer (each compiled model needs its own), wrapped in a dynamic loss scale when
        ``precision`` computes gradients in float16 (:func:`gans.precision.loss_scaled`)."""
        import keras

        from gans.precision import loss_scaled

        if self.name == "adam":
            optimizer = keras.optimizers.Adam(learning_rate=self.learning_rate,
                                              beta_1=0.9 if self.beta_1 is None else self.beta_1)
        elif self.name == "sgd":
            optimizer = keras.optimizers.SGD(learning_rate=self.learning_rate)
        else:
            optimizer = keras.optimizers.RMSprop(learning_rate=self.learning_rate)
        return loss_scaled(optimizer, precision)


@dataclass(frozen=True)
class NetworkSpec:
    """Which builder module makes a network, and with which keyword arguments (Tables 4.4/4.5).

    Attributes:
        builder: a variant name of :mod:`gans.models` ("gan", "dcgan", "cgan", ...) whose module
            has a ``build_<role>`` function for the role this spec fills.
        options: keyword arguments for that function.
    """

    builder: str
    options: dict[str, Any] = field(default_factory=dict)

    def build(self, role: str, **context) -> "keras.Model":
        """Build the network for ``role`` ("generator", "discriminator", "encoder", ...).

        Args:
            role: the network's role; ``build_<role>`` of the builder module is called.
            **context: values the run decides (``latent_dim``, ``image_shape``, ``num_classes``);
                each is passed only if the builder takes it, and ``options`` may not repeat them.
        """
        import inspect

        from gans.models import get_builder

        builder = get_builder(self.builder, role)
        accepted = inspect.signature(builder).parameters
        clash = sorted(set(self.options) & set(context))
        if clash:
            raise ConfigError(f"{self.builder}.build_{role}: {clash} are set by the run, not the network options.")
        kwargs = {k: v for k, v in context.items() if k in accepted and v is not None}
        try:
            return builder(**kwargs, **self.options)
        except TypeError as exc:  # an option the builder does not take
            raise ConfigError(f"{self.builder}.build_{role}: {exc}") from None


@dataclass(frozen=True)
class GANConfig:
    """Every hyperparameter of one GAN training (thesis section 4.4), for any family.

    Attributes:
        variant: the family, a key of :data:`gans.training.steps.FAMILIES` (gan, dcgan, lsgan, wgan,
            cgan, ...); it picks the step object.
        dataset: mnist, celeba or utkface.
        steps: training iterations (the thesis calls them epochs).
        latent_dim: size of z.
        batch_size: real images per discriminator step (and as many generated ones).
        loss / optimizer: the combined GAN's loss and optimizer (Table 4.2).
        discriminator_loss / discriminator_optimizer: the discriminator's (Table 4.3).
        networks: role -> :class:`NetworkSpec`, in build order ("generator" and "discriminator" for
            the thesis's families; a family with more networks names more roles).
        image_shape: (H, W, C); a run replaces it by the shape of the data it trains on.
        num_classes: classes of a conditional family (None for unconditional ones).
        n_critic: discriminator steps per generator step (5 for WGAN).
        label_smoothing / label_flip: one-sided soft labels and flip probability for real samples.
        frozen_batchnorm: what a frozen discriminator's batch normalization does in the generator
            update: "batch" (the batch's statistics, Keras 2 / TensorFlow 1) or "moving" (its moving
            statistics, Keras 3); None takes the family's reference default
            (the family's ``frozen_batchnorm`` in :mod:`gans.families`), which the config then holds.
        precision: the Keras dtype policy the networks compute in: "float32" (the papers'),
            "mixed_float16" (with a dynamic loss scale) or "mixed_bfloat16"; outputs and losses are
            float32 in every policy (:mod:`gans.precision`).
        step_options: keyword arguments of the family's step object beyond the ones above.
        experiment: the thesis's experiment number, a companion paper's configuration name, or None.
        interval: the save interval for this family (thesis: 500 GAN/LSGAN, 200 DCGAN/WGAN).
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
    networks: dict[str, NetworkSpec]
    image_shape: tuple[int, int, int] = (28, 28, 1)
    num_classes: int | None = None
    n_critic: int = 1
    label_smoothing: float = 0.0
    label_flip: float = 0.0
    frozen_batchnorm: str | None = None
    precision: str = "float32"
    step_options: dict[str, Any] = field(default_factory=dict)
    experiment: int | str | None = None
    interval: int = 500
    published_fid: float | None = None
    description: str = ""

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ConfigError(f"dataset must be one of {DATASETS}, got {self.dataset!r}.")
        for name in ("steps", "latent_dim", "batch_size", "n_critic", "interval"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
        if self.num_classes is not None and (not isinstance(self.num_classes, int) or self.num_classes < 2):
            raise ConfigError(f"num_classes must be an integer >= 2 for a conditional GAN, got {self.num_classes!r}.")
        if not self.networks or not all(isinstance(s, NetworkSpec) for s in self.networks.values()):
            raise ConfigError("networks must map each role (generator, discriminator, ...) to a NetworkSpec.")
        from gans import batchnorm

        if self.frozen_batchnorm is None:
            object.__setattr__(self, "frozen_batchnorm", batchnorm.default_for(self.variant))
        batchnorm.check(self.frozen_batchnorm, "frozen_batchnorm")
        from gans import precision

        precision.check(self.precision, "precision")
        from gans.losses import check_label_options, get_loss  # here, so reading DATASETS needs no Keras

        for name in ("loss", "discriminator_loss"):
            get_loss(getattr(self, name))
        check_label_options(get_loss(self.discriminator_loss), self.label_smoothing, self.label_flip)

    @property
    def generator(self) -> NetworkSpec:
        return self.networks["generator"]

    @property
    def discriminator(self) -> NetworkSpec:
        return self.networks["discriminator"]

    def replace(self, **changes) -> "GANConfig":
        """A copy with some fields changed (validated again).

        A network role may be given as a keyword (``replace(generator=NetworkSpec(...))``) to replace
        that one network and keep the others.
        """
        roles = {k: changes.pop(k) for k in list(changes) if k in self.networks}
        if roles:
            changes["networks"] = {**changes.get("networks", self.networks), **roles}
        if "variant" in changes and "frozen_batchnorm" not in changes:
            changes["frozen_batchnorm"] = None  # another family: its own reference default
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (config.json)."""
        data = dataclasses.asdict(self)
        data["image_shape"] = list(self.image_shape)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GANConfig":
        """Rebuild from :meth:`to_dict` output; unknown keys (such as a run's "run" block) are ignored.

        config.json files written before ``networks`` existed (top-level "generator" and
        "discriminator") are read too, those written before ``frozen_batchnorm`` existed as
        "moving", what the library then did, and those written before ``precision`` existed as "float32".
        """
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values.setdefault("frozen_batchnorm", "moving")
        values.setdefault("precision", "float32")
        values["optimizer"] = OptimizerSpec(**values["optimizer"])
        values["discriminator_optimizer"] = OptimizerSpec(**values["discriminator_optimizer"])
        networks = values.get("networks") or {role: data[role] for role in ("generator", "discriminator") if role in data}
        values["networks"] = {role: NetworkSpec(**spec) for role, spec in networks.items()}
        values["image_shape"] = tuple(values.get("image_shape", (28, 28, 1)))
        return cls(**values)


def scaled_learning_rate(batch_size: int, base_lr: float = 2e-4, base_batch: int = 64) -> float:
    """The UTKFace paper's (seed 000) conclusion as a rule: the learning rate grows with the batch size
    by the same factor (4e-4 at batch 128 from 2e-4 at 64); the defaults are its baseline, Adam 2e-4 at
    batch 64."""
    if batch_size < 1 or base_batch < 1 or not base_lr > 0:
        raise ConfigError(f"batch sizes must be >= 1 and the base learning rate > 0; got batch {batch_size}, base "
                          f"({base_lr}, {base_batch}).")
    return float(base_lr) * batch_size / base_batch
