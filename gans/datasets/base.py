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

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.images.shape[1:])
