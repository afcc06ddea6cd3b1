"""The container every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ImageDataset:
    """Images as uint8 NHWC plus optional labels.

    Attributes:
        images: uint8 array (N, H, W, C), pixel values 0-255.
        labels: optional array of N labels (class ids, attribute rows, ...).
        source: where the images came from, for logs and config.json.
        meta: anything else the loader wants to report (counts, skipped files, ...).
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"ImageDataset.images must be uint8 with shape (N, H, W, C); got {self.images.dtype} "
                f"{self.images.shape}."
            )
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError(f"{len(self.labels)} labels for {len(self.images)} images.")

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, rows, source: str | None = None, **meta) -> "ImageDataset":
        """The images (and labels) at ``rows``; each ``meta`` array or list with one entry per image is cut
        to the same rows, other entries are kept; ``meta`` keywords are added."""
        rows = np.asarray(rows, dtype=np.int64)
        n = len(self)

        def cut(value):
            if isinstance(value, np.ndarray) and value.ndim and len(value) == n:
                return value[rows]
            if isinstance(value, (list, tuple)) and len(value) == n:
                return [value[i] for i in rows]
            return value

        return ImageDataset(self.images[rows], None if self.labels is None else self.labels[rows],
                            source=self.source if source is None else source,
                            meta={**{k: cut(v) for k, v in self.meta.items()}, **meta})

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.images.shape[1:])
