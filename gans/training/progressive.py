"""Running the progressive GAN: its configuration, its per-phase artefacts and ``gans train pggan``.

The step (:class:`gans.training.steps.pggan.PGGANStep`) trains; this module adds what a progressive
run keeps beyond the shared artefacts:

- ``checkpoints/generator_RxR_faded.h5`` at the end of each fade-in and
  ``checkpoints/generator_RxR_stable.h5`` at the end of each stable phase (full models that load in
  a fresh process once ``gans`` is imported), and a sample grid of each, ``samples/phase_RxR_KIND.png``,
  from the same fixed z. With the generator's moving average (``--ema``) these are the averaged
  generator's, and the trained one is written beside them as ``raw_generator_RxR_KIND.h5`` and
  ``samples/phase_RxR_KIND_raw.png``;
- ``phases.csv``: each phase's first and last step, resolution, kind, batch size and the seconds per
  1,000 images it took;
- ``growth_modelsummary.txt``: the stable generator and discriminator of every resolution, with
  their parameter counts.

:func:`phase_checkpoint` picks a run's generator for a resolution (``gans sample RUN --resolution``,
``gans export``, ``gans demo``).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from gans.callbacks import Callback
from gans.config import OptimizerSpec
from gans.experiments.pggan import pggan_config
from gans.errors import ConfigError, DataNotFoundError

PHASES_FILE = "phases.csv"
KIND_NAMES = {"fade": "faded", "stable": "stable"}


class PhaseArtefacts(Callback):
    """Per-phase generator checkpoints and sample grids, ``phases.csv`` with each phase's speed, and
    every resolution's model summaries. Works with any step that has a ``schedule`` and
    ``phase_ending(step)``; the progressive GAN's step adds it to every run of the family
    (:meth:`~gans.training.steps.pggan.PGGANStep.metric_callbacks`)."""

    def __init__(self, rows: int = 4, seed: int = 1234):
        self.rows, self.seed = rows, seed
        self._started = None

    def on_train_begin(self, trainer):
        from gans.io import write_text
        from gans.training.callbacks import _summary

        step_obj = trainer.step_obj
        lines = []
        for r in step_obj.g_stages:
            for role, stages in (("generator", step_obj.g_stages), ("discriminator", step_obj.d_stages)):
                model = stages[r].stable
                lines.append(f"# {role} {r}x{r}: {model.count_params():,} parameters\n")
                lines.append(_summary(model))
        write_text(trainer.run_dir / "growth_modelsummary.txt", "\n".join(lines))
        self._started, self._first_step = time.perf_counter(), trainer.step + 1

    def on_step_end(self, trainer, step, logs):
        from gans.training.callbacks import save_h5
        from gans.visualize import save_image_grid

        phase = trainer.step_obj.phase_ending(step)
        if phase is None:
            return
        step_obj, n = trainer.step_obj, self.rows * self.rows
        tag = f"{phase.resolution}x{phase.resolution}_{KIND_NAMES[phase.kind]}"
        sampler = getattr(step_obj, "sampling_generator", trainer.generator)
        save_h5(sampler, trainer.run_dir / "checkpoints" / f"generator_{tag}.h5")
        images = step_obj.sample(n, np.random.default_rng(self.seed))
        save_image_grid(images, trainer.run_dir / "samples" / f"phase_{tag}.png", self.rows, self.rows)
        if sampler is not trainer.generator:  # the moving average above; the trained generator beside it
            from gans.models import inference_function

            save_h5(trainer.generator, trainer.run_dir / "checkpoints" / f"raw_generator_{tag}.h5")
            z = step_obj.sample_latents(n, np.random.default_rng(self.seed))  # the same z as the grid above
            raw = inference_function(trainer.generator)(z).numpy()
            save_image_grid(raw, trainer.run_dir / "samples" / f"phase_{tag}_raw.png", self.rows, self.rows)
        elapsed = time.perf_counter() - self._started
        steps_timed = step - max(phase.first_step, self._first_step) + 1
        per_1000 = 1000.0 * elapsed / (steps_timed * phase.batch_size) if steps_timed > 0 else float("nan")
        self._write_row(trainer.run_dir / PHASES_FILE, phase, per_1000, steps_timed)
        self._started, self._first_step = time.perf_counter(), step + 1

    @staticmethod
    def _write_row(path: Path, phase, per_1000: float, steps_timed: int) -> None:
        columns = ["phase", "resolution", "kind", "first_step", "last_step", "batch_size", "images",
                   "seconds_per_1000_images", "steps_timed"]
        rows = []
        if path.exists():
            with open(path, newline="", encoding="utf-8") as f:
                rows = [r for r in csv.DictReader(f) if int(r["phase"]) != phase.index]
        rows.append({"phase": phase.index, "resolution": phase.resolution, "kind": phase.kind,
                     "first_step": phase.first_step, "last_step": phase.last_step, "batch_size": phase.batch_size,
                     "images": phase.steps * phase.batch_size, "seconds_per_1000_images": f"{per_1000:.3f}",
                     "steps_timed": steps_timed})
        rows.sort(key=lambda r: int(r["phase"]))
        from gans.io import write_rows

        write_rows(path, columns, rows)


def phase_checkpoint(run_dir: str | Path, resolution: int | None = None) -> Path:
    """The generator of ``run_dir`` at ``resolution``: its stable checkpoint, else its faded one
    (None: the highest resolution the run reached).

    Raises:
        DataNotFoundError: not a folder, or no checkpoint of that resolution (the message lists the
            resolutions it has).
    """
    run_dir = Path(run_dir).expanduser()
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        raise DataNotFoundError(f"{run_dir} is not a progressive run folder (no checkpoints/); train one with "
                                "'gans train pggan --data FACES.npz --target-resolution R --out RUN'.")
    found = _phase_generators(folder)
    if not found:
        raise DataNotFoundError(f"{folder} holds no per-phase generators (generator_RxR_stable.h5); it is not a "
                                "progressive run, or its first phase has not ended yet.")
    if resolution is None:
        resolution = max(found)
    if int(resolution) not in found:
        raise DataNotFoundError(f"{run_dir} has no generator at {resolution}x{resolution}; it has "
                                f"{', '.join(f'{r}x{r}' for r in sorted(found))}.")
    kinds = found[int(resolution)]
    return kinds.get("stable") or kinds["faded"]


def available_resolutions(run_dir: str | Path) -> list[int]:
    """The resolutions a progressive run has per-phase generators for, lowest first."""
    return sorted(_phase_generators(Path(run_dir).expanduser() / "checkpoints"))


def _phase_generators(folder: Path) -> dict[int, dict[str, Path]]:
    """resolution -> {"faded"/"stable": path} of the per-phase generators in ``folder``."""
    found: dict[int, dict[str, Path]] = {}
    for path in folder.glob("generator_*x*_*.h5"):
        size, kind = path.stem[len("generator_"):].rsplit("_", 1)
        side = size.split("x")[0]
        if side.isdigit():
            found.setdefault(int(side), {})[kind] = path
    return found


def cmd_train_pggan(args) -> int:
    """``gans train pggan --data FACES.npz --target-resolution R [--images-per-phase N] [--recipe ..]``."""
    from gans.training.commands import data_from_args, settings_from_args
    from gans.training.run import train

    if args.data is None:
        raise ConfigError("gans train pggan needs --data FACES.npz (from 'gans crop-faces') or a CelebA image folder.")
    if args.steps is not None and args.epochs is not None:
        raise ConfigError("give --steps or --epochs, not both.")
    for option in ("experiment", "n_critic", "label_smoothing", "label_flip", "classifier", "batch_size"):
        if getattr(args, option, None) not in (None, False):
            flag = "--" + option.replace("_", "-")
            hint = " (use --batch-sizes, one per resolution)" if option == "batch_size" else ""
            raise ConfigError(f"{flag} does not go with 'gans train pggan'{hint}.")
    target = args.target_resolution if args.target_resolution is not None else 32
    optimizer = OptimizerSpec("adam", args.lr or 1e-3, 0.0 if args.beta1 is None else args.beta1)
    d_optimizer = OptimizerSpec("adam", args.d_lr or optimizer.learning_rate, optimizer.beta_1)
    config = pggan_config(target, args.images_per_phase or 20_000, args.recipe or "mse",
                          batch_sizes=args.batch_sizes, filters=args.filters, latent_dim=args.latent_dim or 128,
                          pixel_norm=args.pixel_norm is not False, equalized=args.equalized is not False,
                          minibatch_stddev=args.minibatch_stddev is not False, optimizer=optimizer,
                          discriminator_optimizer=d_optimizer, dataset=args.dataset or "celeba",
                          ema=getattr(args, "ema", None) or 0.0,
                          optimizer_reset=getattr(args, "optimizer_reset", None) or "phase")
    if getattr(args, "frozen_batchnorm", None) is not None:
        config = config.replace(frozen_batchnorm=args.frozen_batchnorm)
    if getattr(args, "precision", None) is not None:
        config = config.replace(precision=args.precision)
    out = Path(args.out or Path("runs") / f"pggan-{target}")
    settings = settings_from_args(args)
    steps = args.steps if args.steps is not None else (None if args.resume else config.steps)
    trainer = train(config, out, data=data_from_args(config, args), steps=steps, epochs=args.epochs,
                    settings=settings, resume=args.resume)
    print(f"run folder: {out.resolve()}  (step {trainer.step} of {trainer.total_steps}, "
          f"phase {trainer.step_obj.phase.label})")
    return 0
