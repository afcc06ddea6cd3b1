"""Side effects of a training run, each on its own interval.

A callback sees the :class:`~gans.training.trainer.Trainer` and acts at the start, after steps, and at
the end of a run. The trainer owns the step counter, the run folder and the loss history; a callback
reads them and writes its artefact into ``trainer.run_dir``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

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
