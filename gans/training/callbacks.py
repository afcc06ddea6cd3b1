"""The thesis's artefacts of a training run, each a callback on its own interval: the loss log and plot,
sample grids, generator checkpoints, model summaries and the resumable state; and the TensorBoard log.

The callback contract itself (:class:`gans.callbacks.Callback`) sits below training and evaluation.
Everything here reads the family through the step contract (:class:`gans.training.steps.Step`):
loss names, sampling, the generator and the model summaries.
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

import numpy as np

from gans.callbacks import Callback, IntervalCallback, publish, step_name

log = logging.getLogger(__name__)


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

        self.names = tuple(trainer.step_obj.loss_names)
        path = trainer.run_dir / self.FILE
        kept = read_rows_until(path, trainer.step)
        missing = [k for k in self.names if kept and k not in kept[0]]
        if missing:  # a run resumed by a version that logs more losses: the earlier steps have none of them
            log.warning("%s has no column %s before step %d (an earlier version wrote it); they are left empty "
                        "(nan) for the steps up to there.", path, ", ".join(missing), trainer.step)
            kept = [{**row, **{k: "nan" for k in missing}} for row in kept]
        self.rows = [[int(r["step"])] + [float(r[k]) for k in self.names] for r in kept]
        write_rows(path, ("step",) + self.names, kept)
        self._file = open(path, "a", encoding="utf-8")

    @staticmethod
    def _format(row) -> str:
        return ",".join([str(int(row[0]))] + [f"{v:.6g}" for v in row[1:]])

    def on_step_end(self, trainer, step, logs):
        row = [step] + [logs[k] for k in self.names]
        self.rows.append(row)
        self._file.write(self._format(row) + "\n")
        self._file.flush()  # a killed run keeps every finished step
        super().on_step_end(trainer, step, logs)

    def run(self, trainer, step):
        from gans.visualize import plot_losses

        if not self.rows:
            return
        table = np.asarray(self.rows, dtype=np.float64)
        shown = trainer.step_obj.plot_losses or self.names
        plot_losses(table[:, 0], {k: table[:, 1 + self.names.index(k)] for k in shown}, trainer.run_dir / self.PLOT,
                    title=trainer.title)

    def on_train_end(self, trainer):
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.every:
            self.run(trainer, trainer.step)


class SampleGrid(IntervalCallback):
    """A grid from the same fixed inputs at every interval: ``samples/step_NNNNNN.png``.

    The inputs are drawn from ``seed`` the same way at every interval, so grids of one run (and of its
    resumption) are comparable. An unconditional family gets a ``rows x cols`` grid (5x5, as the
    thesis); a conditional one gets one class per row, ``cols`` images each (10x10 for MNIST).
    """

    def __init__(self, every: int | None, rows: int = 5, cols: int | None = None, seed: int = 1234):
        super().__init__(every)
        self.rows, self.cols, self.seed = rows, cols, seed

    def layout(self, step_obj) -> tuple[int, int, np.ndarray | None]:
        """(rows, cols, labels): one row per class for a conditional family."""
        k = step_obj.num_classes
        if k is None:
            return self.rows, self.cols or self.rows, None
        cols = self.cols or k
        return k, cols, np.repeat(np.arange(k), cols)

    def run(self, trainer, step):
        from gans.visualize import save_image_grid

        from gans.visualize import tile_images

        rows, cols, labels = self.layout(trainer.step_obj)
        images = trainer.step_obj.sample(rows * cols, np.random.default_rng(self.seed), labels)
        save_image_grid(images, trainer.run_dir / "samples" / f"{step_name(step)}.png", rows, cols)
        publish(trainer, step, images={"samples": tile_images(images, rows, cols)})


class GeneratorCheckpoint(IntervalCallback):
    """The generator as a full-model ``.h5`` at every interval: ``checkpoints/generator_step_NNNNNN.h5``.

    It loads in a fresh process with ``keras.models.load_model`` once ``gans`` is imported.
    """

    def run(self, trainer, step):
        save_h5(trainer.generator, trainer.run_dir / "checkpoints" / f"generator_{step_name(step)}.h5")


def save_h5(model, path) -> None:
    """``model`` as a full-model legacy .h5 at ``path``, written atomically, without Keras' legacy notice."""
    from gans.io import atomic_path

    with atomic_path(path) as tmp, _quiet_h5_legacy_notice():
        model.save(tmp)


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
    """The resumable state (``state/state.npz``) at every interval, written atomically; then, with
    ``keep_last``, the interval checkpoints beyond what is kept are removed (:func:`prune_checkpoints`).

    Keep it last in the callback list: when it runs, everything earlier for this step is on disk, so
    the pruning comes after the state of ``step`` is durable, and the checkpoint of that step (the
    newest) is always kept. A process killed at any moment leaves a state whose step still has its
    checkpoints.

    Args:
        every: steps between states (the checkpoint interval).
        keep_last: keep the checkpoints of the last ``keep_last`` checkpoint steps; None keeps all.
        keep_every: also keep every ``keep_every``-th checkpoint (the steps that are multiples of
            ``keep_every x every``), as milestones.
    """

    def __init__(self, every: int | None, keep_last: int | None = None, keep_every: int | None = None):
        super().__init__(every)
        self.keep_last, self.keep_every = keep_last, keep_every

    def run(self, trainer, step):
        trainer.save_state(step)
        if self.keep_last:
            prune_checkpoints(trainer.run_dir / "checkpoints", self.keep_last,
                              self.keep_every * self.every if self.keep_every else None, protect=step)


CHECKPOINT_NAME = re.compile(r"^(?P<role>\w+?)_step_(?P<step>\d+)\.h5$")


def prune_checkpoints(folder: str | Path, keep_last: int, milestone: int | None = None,
                      protect: int | None = None) -> list[Path]:
    """Remove interval checkpoints (``ROLE_step_N.h5``: the generator's, the CAAE's encoder's) of every
    step but the last ``keep_last`` steps, the multiples of ``milestone`` and ``protect`` (the step
    of the saved state); return what was removed.

    Only files named ``ROLE_step_N.h5`` are touched: a progressive run's phase checkpoints
    (``generator_RxR_stable.h5``, which its growth and ``gans export`` read) and anything else in
    the folder stay. The files of one step go together.
    """
    folder = Path(folder)
    if keep_last < 1:
        raise ValueError(f"keep_last must be >= 1, got {keep_last}.")
    by_step: dict[int, list[Path]] = {}
    for path in folder.glob("*_step_*.h5") if folder.is_dir() else ():
        match = CHECKPOINT_NAME.match(path.name)
        if match:
            by_step.setdefault(int(match["step"]), []).append(path)
    steps = sorted(by_step)
    kept = set(steps[-keep_last:]) | {protect} | {s for s in steps if milestone and s % milestone == 0}
    removed = [path for s in steps if s not in kept for path in sorted(by_step[s])]
    for path in removed:
        path.unlink(missing_ok=True)
    if removed:
        log.debug("removed %d checkpoint file(s) in %s: %s", len(removed), folder, ", ".join(p.name for p in removed))
    return removed


class ModelSummaries(Callback):
    """``NAME_modelsummary.txt`` for each model the step names (the thesis's ``generator``,
    ``discriminator`` and ``gan``) and, when pydot and graphviz are installed, ``model_plot.png`` of the
    last one (thesis Figures 4.4-4.7)."""

    def on_train_begin(self, trainer):
        from gans.io import write_text

        last = None
        for name, model in trainer.step_obj.summaries():  # each in the trainable state of its own steps
            write_text(trainer.run_dir / f"{name}_modelsummary.txt", model_summary(model))
            last = model
        if last is not None:
            self._plot(last, trainer.run_dir / "model_plot.png")

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


def model_summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), line_length=100)
    return "\n".join(lines) + "\n"


def cut_event_files(folder: Path, step: int) -> int:
    """Drop every event after ``step`` from the TensorBoard event files in ``folder``; return how many.

    A resume's cut-back for TensorBoard, as :func:`gans.io.read_rows_until` is for the CSV logs: the
    resumed run redoes those steps, and without the cut TensorBoard would draw each of them twice. A
    record left incomplete by a killed process ends its file's reading (it is dropped too). A file is
    rewritten beside itself, under a name TensorBoard does not read, then moved over the original.
    """
    import os

    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    dropped = 0
    for path in sorted(Path(folder).glob("events.out.tfevents.*")):
        kept, total = [], 0
        try:
            for record in tf.data.TFRecordDataset(str(path)):
                total += 1
                raw = record.numpy()
                if event_pb2.Event.FromString(raw).step <= step:
                    kept.append(raw)
        except tf.errors.DataLossError:  # a record cut short by a kill
            total += 1
        if len(kept) == total:
            continue
        partial = path.with_name(f".cut-{path.name.replace('tfevents', 'events')}.partial")
        with tf.io.TFRecordWriter(str(partial)) as writer:
            for raw in kept:
                writer.write(raw)
        os.replace(partial, path)
        dropped += total - len(kept)
    return dropped


class TensorBoardLog(Callback):
    """``RUN_DIR/tensorboard/``: the losses of every step, everything other callbacks measure (FID,
    diversity, conditional agreement; see :func:`gans.callbacks.publish`), the sample grids as images
    and the run's configuration as text, so ``tensorboard --logdir runs/`` compares runs side by side.

    The losses are buffered and written every ``flush_every`` steps (and at the end), so the log costs
    the loop one Python append per step. A resumed run first cuts the events after its saved state out
    of the event files already there (:func:`cut_event_files`), as every CSV log is cut back, then
    writes a new event file: TensorBoard shows each step once, as the resumed run computed it.
    """

    FOLDER = "tensorboard"

    def __init__(self, flush_every: int = 100):
        self.flush_every = max(1, int(flush_every))
        self._writer = None
        self._pending: list[tuple[int, dict]] = []

    def on_train_begin(self, trainer):
        import json

        import tensorflow as tf

        if trainer.step:  # a resume: the killed run's steps after the saved state are redone
            dropped = cut_event_files(trainer.run_dir / self.FOLDER, trainer.step)
            if dropped:
                log.info("tensorboard: %d events after step %d cut out (the resumed run redoes them)", dropped,
                         trainer.step)
        self._writer = tf.summary.create_file_writer(str(trainer.run_dir / self.FOLDER))
        config = (trainer.run_dir / "config.json")
        text = config.read_text(encoding="utf-8") if config.exists() else json.dumps(
            trainer.config.to_dict() if trainer.config is not None else {}, indent=2)
        with self._writer.as_default():
            tf.summary.text("config", "```\n" + text + "\n```", step=trainer.step)

    def on_step_end(self, trainer, step, logs):
        self._pending.append((step, logs))
        if len(self._pending) >= self.flush_every:
            self._write_losses()

    def _write_losses(self):
        import tensorflow as tf

        if self._writer is None or not self._pending:
            return
        with self._writer.as_default():
            for step, logs in self._pending:
                for name, value in logs.items():
                    tf.summary.scalar(f"loss/{name}", value, step=step)
        self._pending = []

    def on_measure(self, trainer, step, scalars, images):
        import tensorflow as tf

        if self._writer is None:
            return
        self._write_losses()  # keep the event files in step order
        with self._writer.as_default():
            for name, value in scalars.items():
                tf.summary.scalar(name, float(value), step=step)
            for name, image in images.items():
                image = np.asarray(image)
                if image.ndim == 3:
                    image = image[None]
                tf.summary.image(name, image, step=step)
        self._writer.flush()

    def on_train_end(self, trainer):
        if self._writer is not None:
            self._write_losses()
            self._writer.flush()
            self._writer.close()
            self._writer = None
