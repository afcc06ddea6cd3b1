"""Image sets stored as one compressed .npz (the output of the face-cropping pipeline).

Loading never unpickles: ``np.load(..., allow_pickle=False)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gans.datasets.base import ImageDataset
from gans.errors import DataError, DataNotFoundError


def load_images(path: str | Path, key: str = "images") -> ImageDataset:
    """Load uint8 images (N, H, W, C) from an .npz, checking dtype, rank and channels.

    Args:
        path: the .npz file.
        key: the array that holds the images.

    Raises:
        DataNotFoundError: the file does not exist.
        DataError: the array is missing or is not uint8 images with 1 or 3 channels.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(
            f"image file {path} does not exist. Make one with 'gans crop-faces SRC OUT.npz', or "
            "pass any .npz holding an 'images' array of uint8 (N, H, W, C)."
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            if key not in data.files:
                raise DataError(f"{path} has no {key!r} array (it holds {sorted(data.files)}).")
            images = data[key]
    except (OSError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot read {path} as an .npz of images: {exc}") from exc
    if images.ndim == 3:  # (N, H, W): a grayscale set saved without its channel axis
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise DataError(
            f"{path}:{key} has shape {images.shape}; expected (N, H, W, C) with C = 1 or 3."
        )
    if images.dtype != np.uint8:
        raise DataError(f"{path}:{key} has dtype {images.dtype}; expected uint8 pixels (0-255).")
    if len(images) == 0:
        raise DataError(f"{path}:{key} holds no images.")
    return ImageDataset(images, source=str(path))
