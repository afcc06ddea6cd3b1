"""The callback contract of the training loop, below both training and evaluation.

A callback sees the trainer and acts at the start, after steps, and at the end of a run. The trainer
owns the step counter, the run folder and the step object; a callback reads them and writes its
artefact into ``trainer.run_dir``. What a callback may read from the trainer:

- ``run_dir``, ``step``, ``total_steps``, ``seed``, ``config`` (a :class:`gans.config.GANConfig`),
  ``title``, ``dataset`` (the :class:`gans.datasets.base.ImageDataset` trained on);
- ``data.images`` (uint8 real images) and ``data.labels`` (None for unlabelled data);
- ``step_obj``: the family's step object (:class:`gans.training.steps.Step`): ``loss_names``,
  ``num_classes``, ``generator``, ``sample(n, rng, labels=None)``;
- ``generate(n, seed=0, batch_size=256, labels=None)``: generated images in [-1, 1].

A callback that measures something (FID, diversity, agreement) or draws something (a sample grid)
also hands it to :func:`publish`, so that the callbacks that record measurements (TensorBoard) get
every one without knowing who made it.

Training callbacks (artefacts) live in :mod:`gans.training.callbacks`, measuring ones in
:mod:`gans.evaluation.callbacks`; both build on the classes here, so evaluation never imports training.
"""

from __future__ import annotations

from typing import Any


class Callback:
    """Base class. Override what you need; every hook gets the trainer."""

    def on_train_begin(self, trainer: Any) -> None:
        """Called once before the first step (also on resume)."""

    def on_step_end(self, trainer: Any, step: int, logs: dict[str, float]) -> None:
        """Called after every step with that step's losses (step counts from 1)."""

    def on_train_end(self, trainer: Any) -> None:
        """Called once after the last step, and when a run stops early."""

    def on_measure(self, trainer: Any, step: int, scalars: dict[str, float], images: dict[str, Any]) -> None:
        """Called with what another callback measured (``scalars``: name -> value) or drew (``images``:
        name -> uint8 (H, W, C) array) at ``step``; see :func:`publish`."""


def publish(trainer: Any, step: int, scalars: dict[str, float] | None = None,
            images: dict[str, Any] | None = None) -> None:
    """Hand a measurement or a picture of ``step`` to every callback of ``trainer`` (its
    :meth:`Callback.on_measure`). Names are slash-separated tags, e.g. ``"fid/inception"``."""
    for callback in getattr(trainer, "callbacks", ()):
        callback.on_measure(trainer, step, dict(scalars or {}), dict(images or {}))


class IntervalCallback(Callback):
    """A callback that acts every ``every`` steps and once more at the last step.

    Args:
        every: interval in steps, >= 1. ``None`` or 0 disables the callback.
    """

    def __init__(self, every: int | None):
        if every is not None and every < 0:
            raise ValueError(f"interval must be >= 0 steps, got {every}.")
        self.every = every or 0

    def due(self, trainer: Any, step: int) -> bool:
        if not self.every:
            return False
        return step % self.every == 0 or step == trainer.total_steps

    def on_step_end(self, trainer: Any, step: int, logs: dict[str, float]) -> None:
        if self.due(trainer, step):
            self.run(trainer, step)

    def run(self, trainer: Any, step: int) -> None:
        """The interval's work. Subclasses implement it."""
        raise NotImplementedError


def step_name(step: int) -> str:
    """``step_NNNNNN``: how artefacts of one step are named (samples, checkpoints)."""
    return f"step_{step:06d}"
