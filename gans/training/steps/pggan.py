"""The progressive GAN's step: phases of fade-in and stabilisation on networks that grow (seed 001).

The run is a sequence of phases, counted in images shown: 4x4 stable, then for every doubling a
fade-in phase (alpha rising linearly from 0 to 1) and a stable phase. Each resolution has its own
batch size. At a phase boundary :meth:`PGGANStep.draw` swaps in that phase's generator and
discriminator (they share their layers with every other phase, so the learned weights carry over),
compiles them with fresh optimizers (by default at every phase, as the PGGAN code's
``reset_opt_for_new_lod`` resets Adam's moments; with ``optimizer_reset="resolution"`` only when a
resolution's fade-in starts, the state carried into its stable phase) and asks the execution to
retrace. Within a fade-in, alpha is assigned to the
:class:`~gans.layers.FadeIn` layers' variables before every iteration, so nothing is traced again.

The iteration itself is the thesis's adversarial one (:class:`AdversarialStep`): D on a real batch,
D on a separate generated batch, G through the combined model with D frozen. Real batches are drawn
from the training images resized to the phase's resolution (:func:`gans.datasets.npz.resize_images`,
exact pixel averaging for the power-of-two factors of a ``gans crop-faces`` .npz).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import numpy as np

from gans.datasets.scaling import scale_images
from gans.errors import ConfigError, DataError
from gans.losses import AdversarialLoss, check_label_options, get_loss, real_labels_for_discriminator
from gans.models import build_combined, inference_function
from gans.models.growth import DEFAULT_IMAGES_PER_PHASE, Phase, Schedule
from gans.models.pggan import Stage, all_stages_model, build_critic_trainer, stages_of, twin_stages
from gans.training.freeze import set_trainable
from gans.training.steps.adversarial import AdversarialDraws, AdversarialStep

OPTIMIZER_RESETS = ("phase", "resolution")


class PenaltyDraws(NamedTuple):
    """The numpy inputs of one WGAN-GP iteration (per critic iteration where a tuple)."""

    real: tuple
    fake_inputs: tuple
    mix: tuple  # the gradient penalty's mixing factors, (batch, 1, 1, 1)
    ones: np.ndarray  # the critic trainer's targets: its output is the per-sample loss
    g_inputs: np.ndarray
    g_targets: np.ndarray


def center_square(images: np.ndarray) -> np.ndarray:
    """The central square of each image (CelebA's aligned faces are 218x178, a crop .npz is square)."""
    h, w = images.shape[1:3]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return images[:, top:top + side, left:left + side]


class PGGANStep(AdversarialStep):
    """The progressive GAN on the step contract: phases, fade-in alpha and networks that grow.

    Models ``generator`` and ``discriminator`` are the current phase's (fade-in or stable), plus every
    grown stage (``grown_generator``, ``grown_discriminator``) and, with ``ema``, ``ema_generator``;
    optimizers ``discriminator`` and ``gan``, fresh per phase or per resolution (``optimizer_reset``);
    losses as :class:`AdversarialStep` (``d_loss`` and ``g_loss`` with the gradient penalty); extra
    state ``{"phase", "alpha", "images_shown"}``. :attr:`schedule` tells callbacks where the phases
    end (:meth:`phase_ending`); :meth:`metric_callbacks` adds the per-phase samples and checkpoints.

    Args:
        generator_stages: resolution -> :class:`~gans.models.pggan.Stage` of the generator.
        discriminator_stages: the same for the discriminator.
        loss: the combined model's loss; ``discriminator_loss`` the discriminator's (default: the same).
        optimizer: a factory of the combined model's optimizer (called at each reset), e.g.
            ``OptimizerSpec.build``.
        discriminator_optimizer: a factory of the discriminator's optimizer.
        images_per_phase: real images shown per phase.
        batch_sizes: batch size per resolution (see :class:`Schedule`).
        label_smoothing: as :class:`AdversarialStep`.
        label_flip: as :class:`AdversarialStep`.
        n_critic: as :class:`AdversarialStep`.
        optimizer_reset: when Adam's state starts afresh: ``"phase"`` (every fade-in and every stable
            phase, as the PGGAN code's ``reset_opt_for_new_lod`` does) or ``"resolution"`` (when a
            resolution's fade-in starts; kept into its stable phase).
        ema: beta of an exponential moving average of the generator's weights (the PGGAN paper's
            0.999), updated after every iteration; 0 for none. With it, :meth:`sample` (grids, FID,
            diagnostics) and the per-phase checkpoints use the averaged generator; its weights are
            part of the state (model ``ema_generator``).
        gradient_penalty: with the Wasserstein loss, the weight (lambda, 10) of the PGGAN paper's
            gradient penalty in the critic's loss (:class:`~gans.layers.WassersteinGPCriticLoss`);
            losses are then ``d_loss`` (the critic's whole loss) and ``g_loss``. Ignored by the other
            losses.
        drift: with the Wasserstein loss, the weight (epsilon, 0.001) of the PGGAN paper's drift
            term. Ignored by the other losses.
    """

    def __init__(self, generator_stages: dict[int, Stage], discriminator_stages: dict[int, Stage],
                 loss: str | AdversarialLoss, optimizer, discriminator_optimizer,
                 discriminator_loss: str | AdversarialLoss | None = None,
                 images_per_phase: int = DEFAULT_IMAGES_PER_PHASE, batch_sizes=None,
                 label_smoothing: float = 0.0, label_flip: float = 0.0, n_critic: int | None = None,
                 optimizer_reset: str = "phase", ema: float = 0.0, gradient_penalty: float = 10.0,
                 drift: float = 0.001):
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
        self.gradient_penalty, self.drift = None, float(drift)
        if self.discriminator_loss.name == "wasserstein":
            if not float(gradient_penalty) > 0 or not self.drift >= 0:
                raise ConfigError("the Wasserstein recipe needs a gradient penalty weight > 0 and a drift >= 0 (the "
                                  f"PGGAN paper's 10 and 0.001), got {gradient_penalty} and {drift}.")
            self.gradient_penalty = float(gradient_penalty)
            self.loss_names = ("d_loss", "g_loss")
        self.critic_trainer = None
        if optimizer_reset not in OPTIMIZER_RESETS:
            raise ConfigError(f"optimizer_reset must be one of {', '.join(OPTIMIZER_RESETS)}, got {optimizer_reset!r}.")
        self.optimizer_reset = optimizer_reset
        self.schedule = Schedule(max(generator_stages), images_per_phase, batch_sizes)
        self.latent_dim = int(generator_stages[4].stable.inputs[0].shape[-1])
        self.channels = int(generator_stages[4].stable.outputs[0].shape[-1])
        self.grown = {"grown_generator": all_stages_model(generator_stages, "grown_generator"),
                      "grown_discriminator": all_stages_model(discriminator_stages, "grown_discriminator")}
        if isinstance(ema, bool) or not isinstance(ema, (int, float)) or not 0.0 <= float(ema) < 1.0:
            raise ConfigError(f"the generator EMA's beta must be in [0, 1) (0 = off; the PGGAN paper's 0.999), "
                              f"got {ema!r}.")
        self.ema = float(ema)
        self.ema_stages = None
        if self.ema:
            self.ema_stages = twin_stages(generator_stages)
            self.grown["ema_generator"] = all_stages_model(self.ema_stages, "ema_generator")
            self._ema_of = _pair_variables(self.grown["grown_generator"], self.grown["ema_generator"])
            for raw, averaged in self._ema_of.values():  # the average starts at the raw weights
                averaged.assign(raw)
        self._ema_update = None
        self._grown_from: int | None = None  # the saved run's target, when this run grows it
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
                   optimizer=functools.partial(config.optimizer.build, config.precision),
                   discriminator_optimizer=functools.partial(config.discriminator_optimizer.build, config.precision),
                   discriminator_loss=config.discriminator_loss, label_smoothing=config.label_smoothing,
                   label_flip=config.label_flip, n_critic=config.n_critic, **config.step_options)

    # ------------------------------------------------------------------ phases
    def enter_phase(self, index: int) -> None:
        """Make phase ``index``'s networks the current ones, compiled with fresh optimizers, or with the
        fade-in's when ``optimizer_reset`` is "resolution" and the resolution stays."""
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
        # "phase" (the PGGAN code's reset_opt_for_new_lod: it resets Adam whenever the level of detail
        # turns fractional or whole, i.e. at every fade-in and every stable phase) or "resolution"
        # (one optimizer per resolution: its stable networks' variables are a subset of its fade-in
        # ones, less the lower resolution's toRGB / fromRGB, which the optimizers were built for in
        # :meth:`build_optimizers`; Keras finds a variable's slots by the variable, not by position).
        keep = (self.optimizer_reset == "resolution" and self.phase is not None
                and self.phase.resolution == phase.resolution)
        if keep:
            d_optimizer, g_optimizer = self.discriminator_optimizer, self.generator_optimizer
        else:
            with self.variable_scope():
                d_optimizer, g_optimizer = self.make_d_optimizer(), self.make_optimizer()
        self.discriminator_optimizer, self.generator_optimizer = d_optimizer, g_optimizer
        with self.variable_scope():
            self.discriminator.compile(loss=self.discriminator_loss.make(), optimizer=d_optimizer)
            self.combined = build_combined(self._generator, self.discriminator,
                                           name=f"gan_{phase.resolution}x{phase.resolution}{'_fade' if fade else ''}")
            self.combined.compile(loss=self.loss.make(), optimizer=g_optimizer)
            if self.gradient_penalty:
                self.critic_trainer = build_critic_trainer(self.discriminator, self.gradient_penalty, self.drift)
                self.critic_trainer.compile(loss=self.discriminator_loss.make(), optimizer=d_optimizer)
        if self.ema:
            self._ema_enter(phase)
        self.phase = phase
        if not keep:  # here, not lazily in the first update: every execution and a resume build them alike
            self.build_optimizers()
        self.networks_changed()

    def set_alpha(self, alpha: float) -> None:
        """Assign the fade-in weight of the current phase's networks (a variable: no retracing)."""
        self.alpha = float(alpha)
        for layer in self.fade_layers:
            layer.set_alpha(self.alpha)
        if self.ema and self.phase.kind == "fade":
            self.ema_stages[self.phase.resolution].fade_layer.set_alpha(self.alpha)

    # ------------------------------------------------------------------ the generator's moving average
    def _ema_enter(self, phase: Phase) -> None:
        """Point the average at ``phase``'s generator. When a resolution starts, its new layers (the
        new block and its toRGB, never trained yet) take the raw generator's weights, so the average
        of a new layer starts where the raw layer starts, as the PGGAN code's ``Gs`` does."""
        import tensorflow as tf

        if self.phase is None or self.phase.resolution != phase.resolution:
            lower = {id(v) for r, st in self.g_stages.items() if r < phase.resolution
                     for m in (st.stable, st.fade) if m is not None for v in m.variables}
            stage = self.g_stages[phase.resolution]
            for v in (stage.fade or stage.stable).variables:
                if id(v) not in lower:
                    self._ema_of[id(v)][1].assign(v)
        model = self.g_stages[phase.resolution].fade if phase.kind == "fade" else self.g_stages[phase.resolution].stable
        trainable = {id(v) for v in _trainable_variables(model)}
        pairs = [self._ema_of[id(v)] for v in model.variables]
        averaged = [(r, a) for r, a in pairs if id(r) in trainable]
        copied = [(r, a) for r, a in pairs if id(r) not in trainable]  # batch-norm statistics, alpha: copied
        beta = self.ema

        @tf.function
        def update():
            for raw, avg in averaged:
                avg.assign(beta * avg + (1.0 - beta) * raw)
            for raw, avg in copied:
                avg.assign(raw)

        self._ema_update = update

    def train_step(self, step: int, data, rng: np.random.Generator) -> dict[str, float]:
        """The iteration, then (with ``ema``) the moving average's update."""
        losses = super().train_step(step, data, rng)
        if self.ema:
            self._ema_update()
        return losses

    @property
    def sampling_generator(self):
        """The current phase's generator that samples and per-phase checkpoints come from: the moving
        average's with ``ema``, else the trained one."""
        if not self.ema:
            return self._generator
        stage = self.ema_stages[self.phase.resolution]
        return stage.fade if self.phase.kind == "fade" else stage.stable

    def generate(self, inputs) -> np.ndarray:
        """:attr:`sampling_generator`'s output in inference mode (grids, FID, diagnostics)."""
        return inference_function(self.sampling_generator)(inputs).numpy()

    def metric_callbacks(self, every: int) -> list:
        """Per-phase samples and generator checkpoints, ``phases.csv`` with each phase's speed, every
        resolution's model summaries (:class:`~gans.training.progressive.PhaseArtefacts`)."""
        from gans.training.progressive import PhaseArtefacts

        return [PhaseArtefacts()]

    def run_summary(self, run_dir, step):
        return [f"phase {self.phase.label}"]

    @classmethod
    def generator_checkpoint(cls, run_dir, resolution=None):
        """The run's generator at ``resolution``: its stable checkpoint, else its faded one (None: the
        highest resolution it reached; :func:`~gans.training.progressive.phase_checkpoint`)."""
        from gans.training.progressive import phase_checkpoint

        return phase_checkpoint(run_dir, resolution)

    @classmethod
    def checkpoint_origin(cls, path):
        from gans.training.progressive import checkpoint_origin

        return checkpoint_origin(path)

    @classmethod
    def resolutions(cls, run_dir):
        from gans.training.progressive import available_resolutions

        return available_resolutions(run_dir)

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
        if self.gradient_penalty:
            return self._draw_with_penalty(pool, n, rng)
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

    def _draw_with_penalty(self, pool: np.ndarray, n: int, rng: np.random.Generator) -> "PenaltyDraws":
        """Per critic iteration a real batch, the fakes' z and the mixing factors of the gradient
        penalty (uniform in [0, 1), one per sample); then the generator update's z."""
        real, fake_inputs, mix = [], [], []
        for _ in range(self.n_critic):
            idx = rng.integers(0, len(pool), n)
            fake_inputs.append(self.sample_latents(n, rng))
            mix.append(rng.uniform(0.0, 1.0, (n, 1, 1, 1)).astype(np.float32))
            real.append(scale_images(pool[idx]))
        return PenaltyDraws(real=tuple(real), fake_inputs=tuple(fake_inputs), mix=tuple(mix),
                            ones=np.ones((n, 1), np.float32), g_inputs=self.sample_latents(n, rng),
                            g_targets=self.loss.labels(n, real=True))

    def iterate(self, draws, run) -> dict:
        """The adversarial iteration; with the gradient penalty (the ``wasserstein`` recipe), each
        critic update is one step of :attr:`critic_trainer` on the real batch, a generated batch and
        their mixing factors (the penalty needs both batches in one update), then G's update."""
        if not self.gradient_penalty:
            return super().iterate(draws, run)
        losses = []
        for k in range(self.n_critic):
            generated = run.generate(self.generator, draws.fake_inputs[k])
            set_trainable(self.discriminator, True)
            losses.append(run.train(self.critic_trainer, [draws.real[k], generated, draws.mix[k]], draws.ones))
        set_trainable(self.discriminator, False)
        g_loss = run.train(self.combined, draws.g_inputs, draws.g_targets)
        return {"d_loss": sum(losses) / self.n_critic, "g_loss": g_loss}

    # ------------------------------------------------------------------ state
    @property
    def models(self) -> dict:
        """The current phase's ``generator`` and ``discriminator``, and ``grown_generator`` and
        ``grown_discriminator``: every stage at once, so the state also holds the weights the current
        phase does not use (a lower resolution's toRGB, which its checkpoints and samples need)."""
        return {"generator": self.generator, "discriminator": self.discriminator, **self.grown}

    @property
    def optimizers(self) -> dict:
        return {"discriminator": self.discriminator_optimizer, "gan": self.generator_optimizer}

    # ------------------------------------------------------------------ growing a finished run
    def continue_run(self, saved: dict, current: dict, saved_step: int | None) -> tuple[dict, dict | None]:
        """Continue the saved run, growing it when this step's target resolution is higher.

        The schedule's phases up to the saved target are the saved run's (the resume check holds
        images per phase, batch sizes and filters there to their saved values), so the run goes on
        from its saved step into new fade-in and stable phases up to the new target; the networks'
        new blocks start from their initialization, their lower resolutions from the saved weights
        (:attr:`restored_models`).

        Returns:
            ``(saved record as grown, {"from", "to", "at_step"})``, or ``(saved, None)`` when the
            target is the saved one.

        Raises:
            ConfigError: the target is below the saved run's (a run only grows).
        """
        from gans.experiments.pggan import grown_record, target_of

        old, new = target_of(saved), self.schedule.target_resolution
        if old is None or old == new:
            return saved, None
        if new < old:
            raise ConfigError(f"cannot resume with --target-resolution {new}: this run trains to {old}x{old}, and a "
                              f"run can only grow. Leave --target-resolution out (or pass {old}) to continue it, or "
                              "pass a higher one to grow it.")
        self._grown_from = old
        return grown_record(saved, current), {"from": old, "to": new, "at_step": int(saved_step or 0)}

    @property
    def restored_models(self) -> dict:
        """:attr:`models`; when this run grows a saved one (:meth:`continue_run`), the every-stage
        models hold only the stages up to the saved target, as the saved state does: the same layers
        in the same order, so each saved value lands in the layer it came from."""
        if self._grown_from is None:
            return self.models
        models = {"generator": self.generator, "discriminator": self.discriminator}
        for name, stages in (("grown_generator", self.g_stages), ("grown_discriminator", self.d_stages),
                             ("ema_generator", self.ema_stages)):
            if stages is not None:
                models[name] = all_stages_model({r: s for r, s in stages.items() if r <= self._grown_from}, name)
        return models

    def build_optimizers(self) -> None:
        """Build both optimizers' slots as the first update would. With ``optimizer_reset="resolution"``
        they cover every trainable variable of the resolution's fade-in networks (its stable ones at
        4x4), so one optimizer serves the fade-in and then the stable phase, and a run resumed in
        either phase builds the same slots in the same order."""
        if self.optimizer_reset != "resolution":
            super().build_optimizers()
            return
        r = self.phase.resolution
        with self.variable_scope():
            for optimizer, stage in ((self.discriminator_optimizer, self.d_stages[r]),
                                     (self.generator_optimizer, self.g_stages[r])):
                if not optimizer.built:
                    optimizer.build(_trainable_variables(stage.fade or stage.stable))

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


def _pair_variables(raw_model, twin_model) -> dict:
    """id(raw variable) -> (raw variable, twin variable) over two models built alike."""
    raw, twin = raw_model.variables, twin_model.variables
    if len(raw) != len(twin) or any(a.path != b.path or a.shape != b.shape for a, b in zip(raw, twin)):
        raise ConfigError("the generator's moving average was not built like the generator; build both with "
                          "gans.models.pggan.twin_stages.")
    return {id(a): (a, b) for a, b in zip(raw, twin)}


def _trainable_variables(model) -> list:
    """The variables of ``model`` that training may change, in ``model.weights`` order, whatever its
    layers' freeze flags are now (Keras 3 turns a variable's ``trainable`` off while its layer is
    frozen; a layer's own list of trainable variables keeps them)."""
    trainable = {id(v) for layer in model._flatten_layers() for v in layer._trainable_variables}
    return [v for v in model.weights if id(v) in trainable]


def phase_boundaries(schedule: Schedule) -> list[tuple[int, str]]:
    """(first step, label) of each phase, for plots that mark where the networks grew."""
    return [(p.first_step, p.label) for p in schedule.phases]


__all__ = ["PGGANStep", "Phase", "Schedule", "center_square", "phase_boundaries"]
