"""The progressive GAN's step: phases of fade-in and stabilisation on networks that grow (seed 001).

The run is a sequence of phases, counted in images shown: 4x4 stable, then for every doubling a
fade-in phase (alpha rising linearly from 0 to 1) and a stable phase. Each resolution has its own
batch size. At a phase boundary :meth:`PGGANStep.draw` swaps in that phase's generator and
discriminator (they share their layers with every other phase, so the learned weights carry over),
compiles them with fresh optimizers (the PGGAN paper resets Adam's moments when the networks change)
and asks the execution to retrace. Within a fade-in, alpha is assigned to the
:class:`~gans.layers.FadeIn` layers' variables before every iteration, so nothing is traced again.

The iteration itself is the thesis's adversarial one (:class:`AdversarialStep`): D on a real batch,
D on a separate generated batch, G through the combined model with D frozen. Real batches are drawn
from the training images resized to the phase's resolution (:func:`gans.datasets.npz.resize_images`,
exact pixel averaging for the power-of-two factors of a ``gans crop-faces`` .npz).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gans.datasets.scaling import scale_images
from gans.errors import ConfigError, DataError
from gans.losses import AdversarialLoss, check_label_options, get_loss, real_labels_for_discriminator
from gans.models import build_combined
from gans.models.growth import DEFAULT_IMAGES_PER_PHASE, Phase, Schedule
from gans.models.pggan import Stage, all_stages_model, stages_of
from gans.training.steps.adversarial import AdversarialDraws, AdversarialStep

def center_square(images: np.ndarray) -> np.ndarray:
    """The central square of each image (CelebA's aligned faces are 218x178, a crop .npz is square)."""
    h, w = images.shape[1:3]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return images[:, top:top + side, left:left + side]


class PGGANStep(AdversarialStep):
    """The progressive GAN on the step contract: phases, fade-in alpha and networks that grow.

    Models ``generator`` and ``discriminator`` are the current phase's (fade-in or stable); optimizers
    ``discriminator`` and ``gan``, fresh in each phase; losses as :class:`AdversarialStep`; extra
    state ``{"phase", "alpha", "images_shown"}``. :attr:`schedule` tells callbacks where the phases
    end (:meth:`phase_ending`), so per-phase samples and checkpoints need nothing else.

    Args:
        generator_stages: resolution -> :class:`~gans.models.pggan.Stage` of the generator.
        discriminator_stages: the same for the discriminator.
        loss: the combined model's loss; ``discriminator_loss`` the discriminator's (default: the same).
        optimizer: a factory of the combined model's optimizer (called once per phase), e.g.
            ``OptimizerSpec.build``.
        discriminator_optimizer: a factory of the discriminator's optimizer.
        images_per_phase: real images shown per phase.
        batch_sizes: batch size per resolution (see :class:`Schedule`).
        label_smoothing, label_flip, n_critic: as :class:`AdversarialStep`.
    """

    def __init__(self, generator_stages: dict[int, Stage], discriminator_stages: dict[int, Stage],
                 loss: str | AdversarialLoss, optimizer, discriminator_optimizer,
                 discriminator_loss: str | AdversarialLoss | None = None,
                 images_per_phase: int = DEFAULT_IMAGES_PER_PHASE, batch_sizes=None,
                 label_smoothing: float = 0.0, label_flip: float = 0.0, n_critic: int | None = None):
        if sorted(generator_stages) != sorted(discriminator_stages):
            raise ConfigError(f"the generator grows to {max(generator_stages)} and the discriminator to "
                              f"{max(discriminator_stages)}; build both with the same target_resolution.")
        if not callable(optimizer) or not callable(discriminator_optimizer):
            raise ConfigError("PGGANStep takes optimizer factories (a fresh optimizer per phase), e.g. "
                              "OptimizerSpec('adam', 1e-3, 0.0).build.")
        self.g_stages, self.d_stages = generator_stages, discriminator_stages
        self.loss = get_loss(loss) if isinstance(loss, str) else loss
        d_loss = loss if discriminator_loss is None else discriminator_loss
        self.discriminator_loss = get_loss(d_loss) if isinstance(d_loss, str) else d_loss
        check_label_options(self.discriminator_loss, label_smoothing, label_flip)
        self.label_smoothing, self.label_flip = float(label_smoothing), float(label_flip)
        self.n_critic = int(n_critic or self.default_n_critic)
        if self.n_critic < 1:
            raise ConfigError(f"n_critic must be >= 1, got {n_critic}.")
        self.batches_per_step = self.n_critic
        self.make_optimizer, self.make_d_optimizer = optimizer, discriminator_optimizer
        self.schedule = Schedule(max(generator_stages), images_per_phase, batch_sizes)
        self.latent_dim = int(generator_stages[4].stable.inputs[0].shape[-1])
        self.channels = int(generator_stages[4].stable.outputs[0].shape[-1])
        self.grown = {"grown_generator": all_stages_model(generator_stages, "grown_generator"),
                      "grown_discriminator": all_stages_model(discriminator_stages, "grown_discriminator")}
        self._pyramid: dict[int, np.ndarray] = {}
        self._source = None
        self.phase = None
        self.alpha = 1.0
        self.images_shown = 0
        self.enter_phase(0)

    @classmethod
    def from_config(cls, config, networks):
        stages = {role: stages_of(networks[role]) for role in ("generator", "discriminator")}
        if any(s is None for s in stages.values()):
            raise ConfigError("the pggan step needs networks from gans.models.pggan.build_generator and "
                              "build_discriminator (their grown stages), not other models.")
        return cls(stages["generator"], stages["discriminator"], loss=config.loss,
                   optimizer=config.optimizer.build, discriminator_optimizer=config.discriminator_optimizer.build,
                   discriminator_loss=config.discriminator_loss, label_smoothing=config.label_smoothing,
                   label_flip=config.label_flip, n_critic=config.n_critic, **config.step_options)

    # ------------------------------------------------------------------ phases
    def enter_phase(self, index: int) -> None:
        """Make phase ``index``'s networks the current ones, compiled with fresh optimizers."""
        phase = self.schedule.phases[index]
        g_stage, d_stage = self.g_stages[phase.resolution], self.d_stages[phase.resolution]
        fade = phase.kind == "fade"
        self._generator = g_stage.fade if fade else g_stage.stable
        self.discriminator = d_stage.fade if fade else d_stage.stable
        self.fade_layers = [g_stage.fade_layer, d_stage.fade_layer] if fade else []
        # The layers are shared with the previous phase's networks, whose generator update left the
        # discriminator's layers frozen while a new model still reads trainable=True. Assigning True
        # to a flag that reads True is skipped (Keras' tracking short-circuits `x.a = x.a`), so the
        # flag goes through False to reach every layer.
        for model in (self._generator, self.discriminator):
            model.trainable = False
            model.trainable = True
        with self.variable_scope():
            self.discriminator.compile(loss=self.discriminator_loss.make(), optimizer=self.make_d_optimizer())
            self.combined = build_combined(self._generator, self.discriminator,
                                           name=f"gan_{phase.resolution}x{phase.resolution}{'_fade' if fade else ''}")
            self.combined.compile(loss=self.loss.make(), optimizer=self.make_optimizer())
        self.phase = phase
        self.networks_changed()

    def set_alpha(self, alpha: float) -> None:
        """Assign the fade-in weight of the current phase's networks (a variable: no retracing)."""
        self.alpha = float(alpha)
        for layer in self.fade_layers:
            layer.set_alpha(self.alpha)

    def phase_ending(self, step: int) -> Phase | None:
        """The phase that ends with ``step`` (for per-phase samples and checkpoints), or None."""
        return self.schedule.ending(step)

    # ------------------------------------------------------------------ data
    def prepare_data(self, images: np.ndarray, labels: np.ndarray | None) -> None:
        """Refuse images smaller than the target resolution, or fewer than a phase's batch."""
        side = min(images.shape[1:3])
        if side < self.schedule.target_resolution:
            raise DataError(f"the training images are {images.shape[1]}x{images.shape[2]}, smaller than the target "
                            f"resolution {self.schedule.target_resolution}x{self.schedule.target_resolution}; "
                            "use larger images (gans crop-faces --size) or a lower --target-resolution.")
        if images.shape[-1] != self.channels:
            raise DataError(f"the training images have {images.shape[-1]} channels, the networks {self.channels}.")
        largest = max(self.schedule.batch_sizes.values())
        if largest > len(images):
            raise DataError(f"a phase's batch of {largest} is larger than the data ({len(images)} images); "
                            "give smaller batch sizes or more images.")

    def real_images(self, images: np.ndarray, resolution: int) -> np.ndarray:
        """The training set (uint8) at ``resolution``: the central square, resized once per resolution."""
        from gans.datasets.npz import resize_images

        if self._source is not images:
            self._source, self._pyramid = images, {}
        if resolution not in self._pyramid:
            self.prepare_data(images, None)
            self._pyramid[resolution] = resize_images(center_square(images), resolution)
        return self._pyramid[resolution]

    # ------------------------------------------------------------------ the iteration
    def draw(self, step: int, data, rng: np.random.Generator) -> AdversarialDraws:
        """Grow to the phase of ``step`` if it begins here, set alpha, then draw as the adversarial
        step does, with the phase's batch size and real images at the phase's resolution (indices
        drawn uniformly with replacement from ``rng``, as the thesis's loop)."""
        phase = self.schedule.phase_at(step)
        if phase.index != self.phase.index:
            self.enter_phase(phase.index)
        self.set_alpha(phase.alpha(step))
        self.images_shown = self.schedule.images_shown(step)
        pool = self.real_images(data.images, phase.resolution)
        n = phase.batch_size
        real, real_targets, fake_inputs = [], [], []
        for _ in range(self.n_critic):
            idx = rng.integers(0, len(pool), n)
            fake_inputs.append(self.sample_latents(n, rng))
            real_targets.append(real_labels_for_discriminator(self.discriminator_loss, n, rng,
                                                              self.label_smoothing, self.label_flip))
            real.append(scale_images(pool[idx]))
        return AdversarialDraws(real=tuple(real), real_targets=tuple(real_targets), fake_inputs=tuple(fake_inputs),
                                fake_labels=(None,) * self.n_critic,
                                fake_targets=self.discriminator_loss.labels(n, real=False),
                                g_inputs=self.sample_latents(n, rng), g_targets=self.loss.labels(n, real=True))

    # ------------------------------------------------------------------ state
    @property
    def models(self) -> dict:
        """The current phase's ``generator`` and ``discriminator``, and ``grown_generator`` and
        ``grown_discriminator``: every stage at once, so the state also holds the weights the current
        phase does not use (a lower resolution's toRGB, which its checkpoints and samples need)."""
        return {"generator": self.generator, "discriminator": self.discriminator, **self.grown}

    def get_extra_state(self) -> dict[str, Any]:
        return {"phase": int(self.phase.index), "alpha": float(self.alpha), "images_shown": int(self.images_shown)}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Grow to the saved phase (before the saved variables are restored) and set its alpha."""
        if set(state) != {"phase", "alpha", "images_shown"}:
            raise ConfigError(f"the saved state is not a progressive GAN's (extra state {sorted(state)}); resume it "
                              "with the variant it was trained with.")
        index = int(state["phase"])
        if not 0 <= index < len(self.schedule.phases):
            raise ConfigError(f"the saved state is in phase {index}, but this schedule has "
                              f"{len(self.schedule.phases)} phases; resume with the original options.")
        if index != self.phase.index:
            self.enter_phase(index)
        self.set_alpha(state["alpha"])
        self.images_shown = int(state["images_shown"])

    def summaries(self):
        """The networks of the target resolution (stable), then the current phase's combined model.
        Every resolution's summaries are written by :class:`gans.training.progressive.PhaseArtefacts`."""
        target = self.schedule.target_resolution
        yield "generator", self.g_stages[target].stable
        yield "discriminator", self.d_stages[target].stable
        yield from (("gan", m) for name, m in super().summaries() if name == "gan")


def phase_boundaries(schedule: Schedule) -> list[tuple[int, str]]:
    """(first step, label) of each phase, for plots that mark where the networks grew."""
    return [(p.first_step, p.label) for p in schedule.phases]


__all__ = ["PGGANStep", "Phase", "Schedule", "center_square", "phase_boundaries"]
