"""Side effects of a training run, each on its own interval.

A callback sees the :class:`~gans.training.trainer.Trainer` and acts at the start, after steps, and at
the end of a run. The trainer owns the step counter, the run folder and the loss history; a callback
reads them and writes its artefact into ``trainer.run_dir``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from gans.training.trainer import Trainer

log = logging.getLogger(__name__)


class Callback:
    """Base class. Override what you need; every hook gets the trainer."""

    def on_train_begin(self, trainer: "Trainer") -> None:
        """Called once before the first step (also on resume)."""

    def on_step_end(self, trainer: "Trainer", step: int, logs: dict[str, float]) -> None:
        """Called after every step with that step's losses (step counts from 1)."""

    def on_train_end(self, trainer: "Trainer") -> None:
        """Called once after the last step, and when a run stops early."""


class IntervalCallback(Callback):
    """A callback that acts every ``every`` steps and once more at the last step.

    Args:
        every: interval in steps, >= 1. ``None`` or 0 disables the callback.
    """

    def __init__(self, every: int | None):
        if every is not None and every < 0:
            raise ValueError(f"interval must be >= 0 steps, got {every}.")
        self.every = every or 0

    def due(self, trainer: "Trainer", step: int) -> bool:
        if not self.every:
            return False
        return step % self.every == 0 or step == trainer.total_steps

    def on_step_end(self, trainer: "Trainer", step: int, logs: dict[str, float]) -> None:
        if self.due(trainer, step):
            self.run(trainer, step)

    def run(self, trainer: "Trainer", step: int) -> None:
        """The interval's work. Subclasses implement it."""
        raise NotImplementedError


def _step_name(step: int) -> str:
    return f"step_{step:06d}"


class LossLog(IntervalCallback):
    """``losses.csv`` (one row per step, flushed every step) and ``loss_plot.png`` every ``every`` steps.

    On resume, rows after the restored step are dropped first, so the log has neither duplicates nor
    gaps: it continues exactly where the saved state does.
    """

    FILE, PLOT = "losses.csv", "loss_plot.png"

    def __init__(self, every: int | None):
        super().__init__(every)
        self.rows: list[list[float]] = []
        self._file = None

    def on_train_begin(self, trainer):
        from gans.io import read_rows_until, write_rows
        from gans.training.steps import LOSS_KEYS

        path = trainer.run_dir / self.FILE
        kept = read_rows_until(path, trainer.step)
        self.rows = [[int(r["step"])] + [float(r[k]) for k in LOSS_KEYS] for r in kept]
        write_rows(path, ("step",) + LOSS_KEYS, kept)
        self._file = open(path, "a", encoding="utf-8")

    @staticmethod
    def _format(row) -> str:
        return ",".join([str(int(row[0]))] + [f"{v:.6g}" for v in row[1:]])

    def on_step_end(self, trainer, step, logs):
        from gans.training.steps import LOSS_KEYS

        row = [step] + [logs[k] for k in LOSS_KEYS]
        self.rows.append(row)
        self._file.write(self._format(row) + "\n")
        self._file.flush()  # a killed run keeps every finished step
        super().on_step_end(trainer, step, logs)

    def run(self, trainer, step):
        from gans.visualize import plot_losses

        if not self.rows:
            return
        table = np.asarray(self.rows, dtype=np.float64)
        title = trainer.title
        plot_losses(table[:, 0], table[:, 3], table[:, 4], trainer.run_dir / self.PLOT, title=title)

    def on_train_end(self, trainer):
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.every:
            self.run(trainer, trainer.step)


class SampleGrid(IntervalCallback):
    """A ``rows x cols`` grid from the same fixed z at every interval: ``samples/step_NNNNNN.png``.

    z is drawn once from ``seed``, so grids of one run (and of its resumption) are comparable.
    """

    def __init__(self, every: int | None, rows: int = 5, cols: int = 5, seed: int = 1234):
        super().__init__(every)
        self.rows, self.cols, self.seed = rows, cols, seed
        self.z = None

    def on_train_begin(self, trainer):
        self.z = trainer.step_obj.sample_latents(self.rows * self.cols, np.random.default_rng(self.seed))

    def run(self, trainer, step):
        from gans.visualize import save_image_grid

        images = trainer.step_obj.generate(self.z)
        save_image_grid(images, trainer.run_dir / "samples" / f"{_step_name(step)}.png", self.rows, self.cols)


class GeneratorCheckpoint(IntervalCallback):
    """The generator as a full-model ``.h5`` at every interval: ``checkpoints/generator_step_NNNNNN.h5``.

    It loads in a fresh process with ``keras.models.load_model`` once ``gans`` is imported.
    """

    def run(self, trainer, step):
        from gans.io import atomic_path

        path = trainer.run_dir / "checkpoints" / f"generator_{_step_name(step)}.h5"
        with atomic_path(path) as tmp, _quiet_h5_legacy_notice():
            trainer.generator.save(tmp)


class _LegacyH5Notice(logging.Filter):
    def filter(self, record):
        return "HDF5 file" not in record.getMessage()


@contextlib.contextmanager
def _quiet_h5_legacy_notice():
    """Keras logs "this file format is considered legacy" on every .h5 save; the thesis's checkpoint
    format is .h5 on purpose, so the notice would only repeat at every interval."""
    absl = logging.getLogger("absl")
    notice = _LegacyH5Notice()
    absl.addFilter(notice)
    try:
        yield
    finally:
        absl.removeFilter(notice)


class StateCheckpoint(IntervalCallback):
    """The resumable state (``state/state.npz``) at every interval, written atomically.

    Keep it last in the callback list: when it runs, everything earlier for this step is on disk.
    """

    def run(self, trainer, step):
        from gans.training.state import STATE_FILE, save_state

        save_state(trainer.run_dir / "state" / STATE_FILE, trainer.step_obj, step, trainer.rng,
                   extra={"seed": trainer.seed})


class ModelSummaries(Callback):
    """``generator_modelsummary.txt``, ``discriminator_modelsummary.txt``, ``gan_modelsummary.txt``
    and, when pydot and graphviz are installed, ``model_plot.png`` (thesis Figures 4.4-4.7)."""

    def on_train_begin(self, trainer):
        from gans.io import write_text
        from gans.training.freeze import set_trainable

        step_obj = trainer.step_obj
        summaries = {"generator": step_obj.generator, "discriminator": step_obj.discriminator}
        set_trainable(step_obj.discriminator, True)
        for name, model in summaries.items():
            write_text(trainer.run_dir / f"{name}_modelsummary.txt", _summary(model))
        # The combined model as the G step sees it: the discriminator's weights frozen.
        set_trainable(step_obj.discriminator, False)
        write_text(trainer.run_dir / "gan_modelsummary.txt", _summary(step_obj.combined))
        self._plot(step_obj.combined, trainer.run_dir / "model_plot.png")

    @staticmethod
    def _plot(model, path):
        import importlib.util
        import shutil

        missing = [name for name, ok in (("pydot", importlib.util.find_spec("pydot") is not None),
                                         ("graphviz 'dot'", shutil.which("dot") is not None)) if not ok]
        if missing:
            log.info("model_plot.png not written: keras.utils.plot_model needs %s (pip install pydot; "
                     "apt-get install graphviz).", " and ".join(missing))
            return
        import keras

        keras.utils.plot_model(model, to_file=str(path), show_shapes=True, expand_nested=True, dpi=80)


def _summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=100)
    return "\n".join(lines) + "\n"
