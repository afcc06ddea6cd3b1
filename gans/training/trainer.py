"""The one training loop. A variant's difference lives in its step object, never here."""

from __future__ import annotations

import logging
import math
import signal
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gans.errors import ConfigError, TrainingDiverged, TrainingInterrupted
from gans.callbacks import Callback
from gans.training.data import BatchSource
from gans.training.state import STATE_FILE, load_state, read_meta, restore_rng

log = logging.getLogger(__name__)


class Trainer:
    """Runs a step object for a number of steps (or epochs), calling callbacks after each step.

    Args:
        step_obj: the family's step object (:class:`~gans.training.steps.Step`).
        data: the real images (and labels) as a :class:`~gans.training.data.BatchSource`.
        run_dir: the run folder; every artefact goes there.
        config: the run's :class:`~gans.config.GANConfig` (for callbacks and reports).
        callbacks: side effects, run in order after each step.
        seed: seed of the run's random generator (latents, batches, labels).
        dataset: the :class:`~gans.datasets.base.ImageDataset` behind ``data`` (for its source).

    Attributes:
        step: the last completed step (0 before training).
        total_steps: the step the run ends at.
        rng: the run's numpy generator; saved and restored with the state.
    """

    def __init__(self, step_obj, data: BatchSource, run_dir: str | Path, config=None,
                 callbacks: Sequence[Callback] = (), seed: int = 0, dataset=None):
        self.step_obj = step_obj
        self.dataset = dataset
        self.data = data
        self.run_dir = Path(run_dir)
        self.config = config
        self.callbacks = list(callbacks)
        self.seed = int(seed)
        self.step = 0
        self.total_steps = 0
        self.rng = np.random.default_rng(self.seed)

    # ------------------------------------------------------------------ conveniences for callbacks
    @property
    def generator(self):
        return self.step_obj.generator

    @property
    def title(self) -> str:
        cfg = self.config
        if cfg is None:
            return self.run_dir.name
        name = f"experiment {cfg.experiment}" if cfg.experiment else cfg.variant
        return f"{name}: {cfg.variant.upper()} on {cfg.dataset}"

    def generate(self, n: int, seed: int = 0, batch_size: int = 256, labels=None) -> np.ndarray:
        """``n`` generated images (float32 in [-1, 1]) from a generator seeded independently of training.

        Args:
            n: how many.
            seed: seed of the latent vectors (and of the classes, for a conditional family without
                ``labels``), so successive calls differ only by training.
            batch_size: images per generator call.
            labels: one class per image for a conditional family; None draws them uniformly.
        """
        rng = np.random.default_rng(seed)
        labels = self.step_obj.check_labels(n, labels)
        return np.concatenate([
            self.step_obj.sample(min(batch_size, n - i), rng, None if labels is None else labels[i:i + batch_size])
            for i in range(0, n, batch_size)])

    def diagnostic_images(self, n: int, seed: int = 0) -> np.ndarray:
        """The ``n`` images the diversity check judges (:meth:`Step.diagnostic_samples
        <gans.training.steps.base.Step.diagnostic_samples>`), seeded independently of training."""
        return self.step_obj.diagnostic_samples(n, np.random.default_rng(seed))

    @property
    def state_path(self) -> Path:
        return self.run_dir / "state" / STATE_FILE

    # ------------------------------------------------------------------ the loop
    def fit(self, steps: int | None = None, epochs: int | None = None, resume: bool = False,
            progress: bool = True) -> int:
        """Train until ``steps`` iterations (or ``epochs`` passes over the data) are done.

        Args:
            steps: total iterations of the run (the thesis's "epochs").
            epochs: alternatively, passes over the data; one pass is ``len(data) // batch_size``
                real batches, and each iteration takes the step's ``batches_per_step`` of them.
            resume: continue from ``run_dir/state/state.npz`` if it exists.
            progress: show a progress bar with the latest losses.

        Returns:
            The last completed step.

        Raises:
            ConfigError: the run folder already holds a run and ``resume`` is False, or both or
                neither of ``steps`` and ``epochs`` are given.
            TrainingDiverged: a loss became NaN or infinite.
        """
        self.total_steps = self._resolve_total(steps, epochs)
        self._restore_or_start(resume)
        if self.step >= self.total_steps:
            log.info("%s is already at step %d of %d; nothing to do.", self.run_dir, self.step, self.total_steps)
            return self.step

        for callback in self.callbacks:
            callback.on_train_begin(self)
        bar = _progress_bar(self.total_steps, self.step, self.title, enabled=progress)
        try:
            with StopRequests() as stop:
                for step in range(self.step + 1, self.total_steps + 1):
                    logs = self.step_obj.train_step(step, self.data, self.rng)
                    if not all(math.isfinite(v) for v in logs.values()):
                        raise TrainingDiverged(self._divergence_message(step, logs))
                    self.step = step
                    for callback in self.callbacks:
                        callback.on_step_end(self, step, logs)
                    bar.update(1)
                    if step % 10 == 0 or step == self.total_steps:
                        bar.set_postfix({k: f"{logs[k]:.4g}" for k in self.step_obj.loss_names}, refresh=False)
                    if stop.requested and step < self.total_steps:
                        self.save_state(step)
                        raise TrainingInterrupted(
                            f"{stop.requested} after step {step}; its state is saved in {self.state_path}: "
                            f"--resume continues from step {step + 1}.", step)
        except BaseException:
            self._end(bar, stopping=True)
            raise
        self._end(bar, stopping=False)
        return self.step

    def save_state(self, step: int) -> None:
        """Write the resumable state of ``step`` (every variable, the rng) atomically."""
        from gans.training.state import save_state

        save_state(self.state_path, self.step_obj, step, self.rng, extra={"seed": self.seed})

    def _end(self, bar, stopping: bool) -> None:
        """Close the bar, the step and every callback. When the run is already stopping on an error, a
        callback's own failure is logged and the original error (say, the divergence message) goes on."""
        bar.close()
        self.step_obj.close()
        for callback in self.callbacks:
            try:
                callback.on_train_end(self)
            except Exception as exc:
                if not stopping:
                    raise
                log.error("while stopping, %s failed: %s", type(callback).__name__, exc)

    def _resolve_total(self, steps, epochs) -> int:
        if (steps is None) == (epochs is None):
            raise ConfigError("give either steps or epochs (not both, not neither).")
        if steps is not None:
            if int(steps) < 1:
                raise ConfigError(f"steps must be >= 1, got {steps}.")
            return int(steps)
        if int(epochs) < 1:
            raise ConfigError(f"epochs must be >= 1, got {epochs}.")
        per_epoch = max(1, self.data.steps_per_epoch // self.step_obj.batches_per_step)
        return int(epochs) * per_epoch

    def _restore_or_start(self, resume: bool) -> None:
        if self.state_path.exists():
            if not resume:
                step = read_meta(self.state_path).get("step", "?")
                raise ConfigError(
                    f"{self.run_dir} already holds a run (saved at step {step}). Pass --resume to "
                    "continue it, or choose another --out folder."
                )
            meta = load_state(self.state_path, self.step_obj)
            self.step = int(meta["step"])
            self.rng = restore_rng(meta)
            log.info("resuming %s from step %d", self.run_dir, self.step)
            return
        leftovers = [p.name for p in (self.run_dir / "losses.csv", self.run_dir / "checkpoints") if p.exists()]
        if leftovers and not resume:
            raise ConfigError(
                f"{self.run_dir} holds an earlier run ({', '.join(leftovers)}) with no saved state. "
                "Pass --resume to restart it from step 0 in place, or choose another --out folder."
            )
        if resume:
            log.info("no saved state in %s: starting from step 0", self.run_dir)
        self.step = 0
        self.rng = np.random.default_rng(self.seed)

    def _divergence_message(self, step: int, logs: dict) -> str:
        values = ", ".join(f"{k}={v:.4g}" for k, v in logs.items())
        saved = read_meta(self.state_path)["step"] if self.state_path.exists() else None
        kept = (f"the last good state is at step {saved} ({self.state_path})" if saved is not None
                else "no state had been saved yet")
        return (f"training diverged at step {step}: a loss is not finite ({values}). Stopped; {kept}. "
                "Lower the learning rates or change the architecture, then start again (or --resume).")


class StopRequests:
    """While training, SIGINT (Ctrl-C) and SIGTERM ask the loop to stop after the current iteration:
    the first one is noted in :attr:`requested` (the loop then saves the state and stops); a second one
    stops at once, as Ctrl-C always did (the last checkpoint then covers the run, as after kill -9).

    Installed only in the main thread, and not for a signal the process ignores (a background job's
    SIGINT); the previous handlers come back on exit.
    """

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self):
        self.requested: str | None = None
        self._previous: dict = {}

    def __enter__(self) -> "StopRequests":
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                number = getattr(signal, name, None)
                if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
                    self._previous[number] = signal.signal(number, self._handle)
        return self

    def _handle(self, number, frame) -> None:
        if self.requested is not None:  # the second request: stop now
            self._restore()
            raise KeyboardInterrupt
        self.requested = signal.Signals(number).name
        log.warning("%s: finishing this iteration, then saving the state and stopping (again to stop at once).",
                    self.requested)

    def _restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

    def __exit__(self, *exc) -> None:
        self._restore()


def _progress_bar(total: int, initial: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", dynamic_ncols=True,
                disable=not enabled, mininterval=0.5)
