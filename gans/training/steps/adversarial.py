"""The adversarial step of the thesis's families (GAN, DCGAN, LSGAN) and of the conditional GAN.

The iteration follows the thesis (sections 2.5 and 3.2.7): the discriminator is trained on a batch of
real images, then separately on a batch of generated ones, then the generator is trained through the
combined model with the discriminator frozen, its fakes labelled real. Each update is one Keras train
step of the model concerned: a ``train_on_batch`` in the recipe execution, the same ``train_step``
traced into one function in the fused one (:mod:`gans.training.execution`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import keras
import numpy as np

from gans.errors import ConfigError
from gans.losses import AdversarialLoss, check_label_options, get_loss, real_labels_for_discriminator
from gans.models import build_combined, inference_function
from gans.training.data import BatchSource
from gans.training.freeze import set_trainable
from gans.training.steps.base import Step


class AdversarialDraws(NamedTuple):
    """The numpy inputs of one adversarial iteration; per critic iteration where a tuple.

    Every array has the batch as its first axis, so a distributed execution splits them evenly.
    """

    real: tuple  # the discriminator's inputs for each real batch
    real_targets: tuple  # their targets (smoothed and flipped as configured)
    fake_inputs: tuple  # the generator's inputs for each generated batch
    fake_labels: tuple  # the discriminator's label input for each generated batch (None: unconditional)
    fake_targets: np.ndarray
    g_inputs: Any  # the combined model's inputs for the generator update
    g_targets: np.ndarray


def _with_labels(x, label_input):
    return x if label_input is None else [x, label_input]


class AdversarialStep(Step):
    """One iteration for the minimax and least-squares families (GAN, DCGAN, LSGAN).

    See :class:`~gans.training.steps.base.Step` for the contract. Models ``generator`` and
    ``discriminator``; optimizers ``discriminator`` and ``gan``; losses ``d_loss_real``,
    ``d_loss_fake``, ``d_loss`` (their mean) and ``g_loss``.

    Args:
        generator: maps (batch, latent_dim) noise to images in [-1, 1].
        discriminator: maps images to (batch, 1) scores.
        loss: the combined model's adversarial loss (name or :class:`AdversarialLoss`).
        optimizer: the combined model's optimizer (it updates the generator only).
        discriminator_optimizer: the discriminator's optimizer.
        discriminator_loss: the discriminator's loss; defaults to ``loss``.
        label_smoothing: one-sided soft real labels in [1 - s, 1] (thesis 3.2.8).
        label_flip: probability that a real label is flipped to fake (CelebA attributes paper).
        n_critic: discriminator iterations per generator iteration.
    """

    default_n_critic = 1
    loss_names = ("d_loss_real", "d_loss_fake", "d_loss", "g_loss")
    plot_losses = ("d_loss", "g_loss")  # the thesis's Figure 4.8: D in blue, G in orange
    adversarial_pair = ("d_loss", "g_loss")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        loss: str | AdversarialLoss,
        optimizer: keras.optimizers.Optimizer,
        discriminator_optimizer: keras.optimizers.Optimizer,
        discriminator_loss: str | AdversarialLoss | None = None,
        label_smoothing: float = 0.0,
        label_flip: float = 0.0,
        n_critic: int | None = None,
    ):
        if optimizer is discriminator_optimizer:
            raise ConfigError("the generator and discriminator need separate optimizer objects.")
        self._generator = generator
        self.discriminator = discriminator
        self.loss = get_loss(loss) if isinstance(loss, str) else loss
        d_loss = loss if discriminator_loss is None else discriminator_loss
        self.discriminator_loss = get_loss(d_loss) if isinstance(d_loss, str) else d_loss
        check_label_options(self.discriminator_loss, label_smoothing, label_flip)
        self.label_smoothing = float(label_smoothing)
        self.label_flip = float(label_flip)
        self.n_critic = int(n_critic or self.default_n_critic)
        if self.n_critic < 1:
            raise ConfigError(f"n_critic must be >= 1, got {n_critic}.")
        self.batches_per_step = self.n_critic
        self.latent_dim = int(generator.inputs[0].shape[-1])  # by convention the first input is z
        image_in = discriminator.inputs[0].shape[1:]
        if tuple(generator.outputs[0].shape[1:]) != tuple(image_in):
            raise ConfigError(
                f"generator output {tuple(generator.outputs[0].shape[1:])} does not match discriminator input "
                f"{tuple(image_in)}; build both with the same image_shape."
            )

        self.discriminator.compile(loss=self.discriminator_loss.make(), optimizer=discriminator_optimizer)
        self.combined, combined_loss, loss_weights = self.build_combined_model()
        self.combined.compile(loss=combined_loss, optimizer=optimizer, loss_weights=loss_weights)

    @classmethod
    def from_config(cls, config, networks):
        return cls(
            networks["generator"], networks["discriminator"],
            loss=config.loss,
            optimizer=config.optimizer.build(config.precision),
            discriminator_optimizer=config.discriminator_optimizer.build(config.precision),
            discriminator_loss=config.discriminator_loss,
            label_smoothing=config.label_smoothing,
            label_flip=config.label_flip,
            n_critic=config.n_critic,
            **cls.family_options(config),
            **config.step_options,
        )

    @classmethod
    def family_options(cls, config) -> dict:
        """Constructor arguments a subclass takes from the config beyond the adversarial ones."""
        return {}

    def build_combined_model(self):
        """The model the generator trains through, its compile loss and loss weights: z -> G -> D (D
        frozen in the generator update) with the adversarial loss. A family that adds a term to the
        generator's loss returns a model with more outputs, and a loss and a weight for each."""
        return build_combined(self._generator, self.discriminator), self.loss.make(), None

    # ------------------------------------------------------------------ conditioning
    # An unconditional family ignores labels; the conditional step overrides these two.
    def encode_labels(self, model: keras.Model, labels: np.ndarray | None):
        """``model``'s label input for class ``labels`` (None: the family takes no labels)."""
        return None

    def draw_fake_labels(self, n: int, rng: np.random.Generator) -> np.ndarray | None:
        """Classes for ``n`` generated images (None for an unconditional family)."""
        return None

    def generator_inputs(self, z: np.ndarray, labels: np.ndarray | None):
        """What the generator (and the combined model) takes for noise ``z`` and class ``labels``."""
        return _with_labels(z, self.encode_labels(self.generator, labels))

    def discriminator_inputs(self, images: np.ndarray, labels: np.ndarray | None):
        """What the discriminator takes for ``images`` and their class ``labels``."""
        return _with_labels(images, self.encode_labels(self.discriminator, labels))

    # ------------------------------------------------------------------ sampling
    @property
    def generator(self) -> keras.Model:
        return self._generator

    def sample_latents(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Standard Gaussian z (thesis 3.2.6), float32 (n, latent_dim)."""
        return rng.standard_normal((n, self.latent_dim), dtype=np.float32)

    def sample(self, n: int, rng: np.random.Generator, labels: np.ndarray | None = None) -> np.ndarray:
        """``n`` images from fresh z (drawn first) and the given classes (drawn next when None)."""
        labels = self.check_labels(n, labels)
        z = self.sample_latents(n, rng)
        if labels is None:
            labels = self.draw_fake_labels(n, rng)
        return self.generate(self.generator_inputs(z, labels))

    def generate(self, inputs) -> np.ndarray:
        """Generator output for ``inputs`` in inference mode, as numpy float32 in [-1, 1]."""
        return inference_function(self.generator)(inputs).numpy()

    # ------------------------------------------------------------------ training
    def draw(self, step: int, data: BatchSource, rng: np.random.Generator) -> AdversarialDraws:
        """Every random input of iteration ``step``, in the recipe's order: for each critic iteration
        the real batch, the fakes' z, their classes and the real targets (smoothed, flipped); then the
        generator update's z and classes."""
        n = data.batch_size
        parts = {"real": [], "real_targets": [], "fake_inputs": [], "fake_labels": []}
        for i in range(self.n_critic):
            batch = data.batch((step - 1) * self.n_critic + i, rng)
            fake_inputs, fake_labels = self.draw_fakes(len(batch.images), rng)
            parts["real_targets"].append(real_labels_for_discriminator(
                self.discriminator_loss, len(batch.images), rng, self.label_smoothing, self.label_flip))
            parts["real"].append(self.discriminator_inputs(batch.images, batch.labels))
            parts["fake_inputs"].append(fake_inputs)
            parts["fake_labels"].append(fake_labels)
        g_inputs, g_targets = self.generator_draws(n, rng)
        return AdversarialDraws(**{k: tuple(v) for k, v in parts.items()},
                                fake_targets=self.discriminator_loss.labels(n, real=False), g_inputs=g_inputs,
                                g_targets=g_targets)

    def draw_fakes(self, n: int, rng: np.random.Generator):
        """The generator's inputs for ``n`` fakes of a discriminator step and the discriminator's label
        input for them (None: unconditional): fresh z, then their classes."""
        z = self.sample_latents(n, rng)
        labels = self.draw_fake_labels(n, rng)
        return self.generator_inputs(z, labels), self.encode_labels(self.discriminator, labels)

    def generator_draws(self, n: int, rng: np.random.Generator):
        """The combined model's inputs and targets for the generator update: fresh z and classes, the
        fakes labelled real."""
        return (self.generator_inputs(self.sample_latents(n, rng), self.draw_fake_labels(n, rng)),
                self.loss.labels(n, real=True))

    def iterate(self, draws: AdversarialDraws, run) -> dict:
        """``n_critic`` discriminator updates (real batch, then a separate generated batch, 3.2.7), then
        one generator update through the combined model with D frozen, its fakes labelled real.

        Returns:
            ``d_loss_real``, ``d_loss_fake`` (means over the critic iterations), ``d_loss`` (their
            mean) and ``g_loss``.
        """
        reals, fakes = [], []
        for k in range(self.n_critic):
            generated = run.generate(self.generator, draws.fake_inputs[k])
            set_trainable(self.discriminator, True)
            reals.append(run.train(self.discriminator, draws.real[k], draws.real_targets[k]))
            fakes.append(run.train(self.discriminator, _with_labels(generated, draws.fake_labels[k]),
                                   draws.fake_targets))
        set_trainable(self.discriminator, False)
        generator = self.generator_update(draws, run)
        d_real, d_fake = sum(reals) / self.n_critic, sum(fakes) / self.n_critic
        return {"d_loss_real": d_real, "d_loss_fake": d_fake, "d_loss": 0.5 * (d_real + d_fake), **generator}

    def generator_update(self, draws: AdversarialDraws, run) -> dict:
        """The generator's update through the combined model, D frozen: ``{"g_loss": ...}``."""
        return {"g_loss": run.train(self.combined, draws.g_inputs, draws.g_targets)}

    # ------------------------------------------------------------------ state
    @property
    def models(self) -> dict[str, keras.Model]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    @property
    def optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        return {"discriminator": self.discriminator.optimizer, "gan": self.combined.optimizer}

    def build_optimizers(self) -> None:
        """Create the optimizers' slot variables exactly as the first steps would, so a saved
        optimizer state can be restored before training resumes."""
        set_trainable(self.discriminator, True)
        if not self.discriminator.optimizer.built:
            self.discriminator.optimizer.build(self.discriminator.trainable_variables)
        set_trainable(self.discriminator, False)
        if not self.combined.optimizer.built:
            self.combined.optimizer.build(self.combined.trainable_variables)

    # ------------------------------------------------------------------ artefacts
    def summaries(self):
        """generator and discriminator as D's own steps see them, then the combined model with D frozen
        (thesis Figures 4.4-4.6)."""
        set_trainable(self.discriminator, True)
        yield "generator", self.generator
        yield "discriminator", self.discriminator
        set_trainable(self.discriminator, False)
        yield "gan", self.combined
