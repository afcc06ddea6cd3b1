"""The one place where pixel values change range, and where images from outside are checked.

Loaders return uint8 images; models see float32 in [-1, 1] (the generators end in tanh). Every
conversion in the library goes through these functions so the convention cannot drift:

- :func:`as_uint8_images` takes whatever an image file or array holds (uint8, 16-bit, other
  integers, floats in [0, 1], [-1, 1] or [0, 255]), checks its shape and values, and returns uint8
  (N, H, W, C), or refuses with :data:`PIXEL_RULE`. Every loader calls it where images enter.
- :func:`scale_images` maps uint8 (or [-1, 1] floats) to float32 in [-1, 1];
  :func:`unscale_images` goes back.
"""

from __future__ import annotations

import logging

import numpy as np

from gans.errors import DataError

log = logging.getLogger(__name__)

PIXEL_RULE = ("pixels must be uint8 (0-255), uint16 (0-65535, divided by 257), other integers within 0-255, "
              "or finite floats in [0, 1] (times 255), [-1, 1] (the generators' range) or [0, 255]")
SHAPE_RULE = "(N, H, W, C) with C = 1 or 3, or (N, H, W) for grayscale"
_EPS = 1e-6


def as_uint8_images(images, source: str = "images", strict_uint16: bool = True) -> np.ndarray:
    """Check images from outside the library and return them as uint8 (N, H, W, C).

    Conversions are made on purpose and only where the value range says what the pixels mean;
    anything else is refused, so a wrong dtype can never turn into black images or wrapped values:

    - uint8: as they are;
    - uint16 (16-bit PNG, TIFF): divided by 257 and rounded, so 65535 becomes 255;
    - other integers: kept when every value is within 0-255, else refused;
    - floats: refused when any is NaN or infinite; [0, 1] is multiplied by 255, [-1, 1] (a
      generator's tanh range) mapped by (x + 1) * 127.5, [0, 255] rounded; anything else refused.
      When values fit more than one range, [0, 1] wins over [-1, 1] and [0, 255].

    Shapes: (N, H, W, C) with C = 1 or 3; (N, H, W) is read as grayscale unless its last axis has 1, 3
    or 4 entries, which is refused as ambiguous (one (H, W, C) image, or N images only C pixels wide?).

    Args:
        images: the array.
        source: where it came from (a file, ``file:key``), for the messages.
        strict_uint16: refuse uint16 arrays whose values stay within 0-255 (8-bit pixels saved as
            16-bit would turn black). An image file that declares 16 bits passes False.

    Returns:
        uint8 (N, H, W, C), N >= 1.

    Raises:
        DataError: a shape, dtype or value range that is not an image set, saying the rule.
    """
    images = np.asarray(images)
    images = _as_nhwc(images, source)
    dtype = images.dtype
    if dtype == np.uint8:
        return images
    if dtype == np.bool_ or not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise DataError(f"{source} has dtype {dtype}, which is not pixels: {PIXEL_RULE}.")
    if np.issubdtype(dtype, np.floating):
        return _floats_to_uint8(images, source)
    low, high = int(images.min()), int(images.max())
    if dtype == np.uint16:
        if strict_uint16 and 0 < high <= 255:
            raise DataError(
                f"{source} is uint16 but its values only reach {high}: 8-bit pixels stored as 16-bit? Read as "
                "16-bit they would be nearly black. Save them as uint8 (x.astype(np.uint8)), or as full-range "
                "16-bit pixels (0-65535).")
        log.info("%s: 16-bit pixels, divided by 257 to 0-255", source)
        return np.rint(images / 257.0).astype(np.uint8)
    if low < 0 or high > 255:
        raise DataError(f"{source} holds {dtype} values from {low} to {high}, outside 0-255: {PIXEL_RULE}.")
    return images.astype(np.uint8)


def _as_nhwc(images: np.ndarray, source: str) -> np.ndarray:
    if images.ndim == 3:
        if images.shape[-1] in (1, 3, 4):
            raise DataError(
                f"{source} has shape {images.shape}: one {images.shape[0]}x{images.shape[1]} image with "
                f"{images.shape[-1]} channels, or {images.shape[0]} grayscale images {images.shape[-1]} pixels "
                f"wide? Save image sets as {SHAPE_RULE} (one image: x[None])."
            )
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise DataError(f"{source} has shape {images.shape}; expected {SHAPE_RULE}.")
    if len(images) == 0 or images.size == 0:
        raise DataError(f"{source} holds no images (shape {images.shape}).")
    return images


def _floats_to_uint8(images: np.ndarray, source: str) -> np.ndarray:
    finite = np.isfinite(images)
    if not finite.all():
        bad = int(images.size - np.count_nonzero(finite))
        raise DataError(f"{source} has {bad} NaN or infinite pixel values; {PIXEL_RULE}.")
    low, high = float(images.min()), float(images.max())
    if low >= -_EPS and high <= 1 + _EPS:
        log.info("%s: float pixels in [0, 1], multiplied by 255", source)
        scaled = images.astype(np.float64) * 255.0
    elif low >= -1 - _EPS and high <= 1 + _EPS:
        log.info("%s: float pixels in [-1, 1], mapped to 0-255", source)
        scaled = (images.astype(np.float64) + 1.0) * 127.5
    elif low >= -_EPS and high <= 255 + _EPS:
        scaled = images.astype(np.float64)
    else:
        raise DataError(f"{source} holds floats from {low:.4g} to {high:.4g}: {PIXEL_RULE}.")
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def scale_images(images: np.ndarray) -> np.ndarray:
    """Map images to float32 in [-1, 1].

    Args:
        images: uint8 array in [0, 255], or a float array that is already in [-1, 1] (returned as
            float32 unchanged, so calling this twice is harmless).

    Returns:
        float32 array of the same shape with values in [-1, 1].

    Raises:
        DataError: NaN or infinite values (a diverged generator?), a float array outside [-1, 1], or
            an integer dtype other than uint8 (:func:`as_uint8_images` converts those on purpose).
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    if np.issubdtype(images.dtype, np.floating):
        if images.size and not np.isfinite(images).all():
            raise DataError("images contain NaN or infinite values (a diverged generator?); they have no "
                            "features to compare.")
        if images.size and (images.min() < -1.0 - _EPS or images.max() > 1.0 + _EPS):
            raise DataError(
                f"float images must already be in [-1, 1]; got [{images.min():.3g}, {images.max():.3g}]. "
                "Pass uint8 pixels (0-255) to have them scaled."
            )
        return images.astype(np.float32, copy=False)
    raise DataError(f"images must be uint8 (0-255) or float in [-1, 1]; got dtype {images.dtype}.")


def unscale_images(images: np.ndarray) -> np.ndarray:
    """Map float images in [-1, 1] back to uint8 in [0, 255] (values outside are clipped)."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
