"""The one place where pixel values change range.

Loaders return uint8 images; models see float32 in [-1, 1] (the generators end in tanh). Every
conversion in the library goes through these two functions so the convention cannot drift.
"""

from __future__ import annotations

import numpy as np


def scale_images(images: np.ndarray) -> np.ndarray:
    """Map images to float32 in [-1, 1].

    Args:
        images: uint8 array in [0, 255], or a float array that is already in [-1, 1] (returned as
            float32 unchanged, so calling this twice is harmless).

    Returns:
        float32 array of the same shape with values in [-1, 1].

    Raises:
        ValueError: for a float array outside [-1, 1] or an integer dtype other than uint8.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    if np.issubdtype(images.dtype, np.floating):
        if images.size and (np.nanmin(images) < -1.0 - 1e-6 or np.nanmax(images) > 1.0 + 1e-6):
            raise ValueError(
                f"float images must already be in [-1, 1]; got [{np.nanmin(images):.3g}, "
                f"{np.nanmax(images):.3g}]. Pass uint8 pixels (0-255) to have them scaled."
            )
        return images.astype(np.float32, copy=False)
    raise ValueError(f"images must be uint8 (0-255) or float in [-1, 1]; got dtype {images.dtype}.")


def unscale_images(images: np.ndarray) -> np.ndarray:
    """Map float images in [-1, 1] back to uint8 in [0, 255] (values outside are clipped)."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
