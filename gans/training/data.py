"""Batches of real images (and their labels, where the data has them) for the training loop."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gans.datasets.scaling import scale_images
from gans.errors import DataError

BATCH_MODES = ("random", "epoch")


class Batch(NamedTuple):
    """One batch: images float32 in [-1, 1], and the labels of the same rows (None for unlabelled data)."""

    images: np.ndarray
    labels: np.ndarray | None = None


class BatchSource:
    """Draws real batches from uint8 images and scales each batch to [-1, 1] on the fly.

    Two modes:

    - ``"random"``: each batch is ``batch_size`` indices drawn uniformly with replacement, as the
      thesis's loop does (``np.random.randint(0, N, batch_size)``);
    - ``"epoch"``: a fresh permutation per epoch, batches without replacement, the remainder dropped so
      every batch has the same shape (a new shape would retrace the compiled step).

    The permutation of epoch ``e`` is derived from ``(seed, e)``, so a resumed run at any step draws
    exactly the batches an uninterrupted run would.

    Args:
        images: uint8 (N, H, W, C).
        batch_size: images per batch; must not exceed N.
        mode: "random" or "epoch".
        seed: seed of the epoch permutations.
        labels: N labels (class ids, attribute rows, ...) that travel with their images, or None.
    """

    def __init__(self, images: np.ndarray, batch_size: int, mode: str = "random", seed: int = 0,
                 labels: np.ndarray | None = None):
        if mode not in BATCH_MODES:
            raise DataError(f"batch mode must be one of {BATCH_MODES}, got {mode!r}.")
        if images.ndim != 4:
            raise DataError(f"training images must be (N, H, W, C), got shape {images.shape}.")
        if batch_size > len(images):
            raise DataError(
                f"batch size {batch_size} is larger than the dataset ({len(images)} images); "
                f"use --batch-size {len(images)} or fewer, or more data."
            )
        if labels is not None and len(labels) != len(images):
            raise DataError(f"{len(labels)} labels for {len(images)} images; give one label per image.")
        self.images = images
        self.labels = labels
        self.batch_size = int(batch_size)
        self.mode = mode
        self.seed = int(seed)
        self._epoch = -1
        self._order: np.ndarray | None = None

    @property
    def steps_per_epoch(self) -> int:
        return len(self.images) // self.batch_size

    def batch(self, draw: int, rng: np.random.Generator) -> Batch:
        """The ``draw``-th real batch of the run (0-based): images float32 in [-1, 1] and their labels.

        In "random" mode the indices come from ``rng`` (the run's generator, saved with each
        checkpoint); in "epoch" mode they come from ``draw`` alone.
        """
        if self.mode == "random":
            idx = rng.integers(0, len(self.images), self.batch_size)
        else:
            epoch, position = divmod(draw, self.steps_per_epoch)
            if epoch != self._epoch:
                self._order = np.random.default_rng([self.seed, epoch]).permutation(len(self.images))
                self._epoch = epoch
            idx = self._order[position * self.batch_size:(position + 1) * self.batch_size]
        return Batch(scale_images(self.images[idx]), None if self.labels is None else self.labels[idx])
