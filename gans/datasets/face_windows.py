"""Decoding photos ahead of the detector, in windows bounded by a file count and a pixel budget.

Each photo is decoded once at full resolution (crops are cut from it) and, when its longest side
exceeds ``max_side``, shrunk for detection only. :func:`read_ahead_windows` decodes the next window in
a background thread while the detector works on the current one; memory holds at most two windows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gans.datasets.face_detection import MTCNN_MIN_INPUT
from gans.datasets.image_files import opencv, read_rgb


@dataclass
class DecodedPhoto:
    """One file of a window: the full-resolution image, the image the detector sees, or why neither.

    Attributes:
        name: the file, relative to the source folder.
        image: RGB uint8 at full resolution (crops are cut from it), or None.
        detect: the image the detector sees (shrunk to ``max_side``), or None.
        scale: detection pixels per source pixel.
        reason: why the file gives no image (a skip reason), or "".
        detail: a human-readable detail of the reason.
    """

    name: str
    image: np.ndarray | None = None
    detect: np.ndarray | None = None
    scale: float = 1.0
    reason: str = ""
    detail: str = ""


def _load_one(root: Path, name: str, max_side: int, max_pixels: int | None = None) -> DecodedPhoto:
    image, reason, detail = read_rgb(root / name, max_pixels)
    if image is None:
        return DecodedPhoto(name, reason=reason, detail=detail)
    height, width = image.shape[:2]
    if min(height, width) < MTCNN_MIN_INPUT:
        return DecodedPhoto(name, reason="no_face", detail=f"image {width}x{height} is too small to hold a face")
    scale = min(1.0, max_side / max(height, width))
    detect = image
    if scale < 1.0:
        cv2 = opencv()
        size = (max(MTCNN_MIN_INPUT, round(width * scale)), max(MTCNN_MIN_INPUT, round(height * scale)))
        detect = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        scale = size[0] / width
    return DecodedPhoto(name, image=image, detect=detect, scale=scale)


def _read_window(root: Path, names: list[str], start: int, batch_size: int, pixel_budget: int, max_side: int,
                 max_pixels: int | None = None):
    """Decode files from ``start`` until ``batch_size`` files or ``pixel_budget`` source pixels."""
    window, pixels, index = [], 0, start
    while index < len(names) and len(window) < batch_size and pixels < pixel_budget:
        item = _load_one(root, names[index], max_side, max_pixels)
        window.append(item)
        if item.image is not None:
            pixels += item.image.shape[0] * item.image.shape[1]
        index += 1
    return window, index


def read_ahead_windows(root: Path, names: list[str], batch_size: int, pixel_budget: int, max_side: int,
                       max_pixels: int | None = None):
    """Yield windows of decoded photos; the next window decodes in a thread while this one is used.

    Args:
        root: the source folder.
        names: files to decode, relative to ``root``, in order.
        batch_size: files per window at most.
        pixel_budget: a window stops growing once its photos hold this many source pixels.
        max_side: photos whose longest side is larger are shrunk to it for detection.
        max_pixels: photos with more pixels (from their header) are skipped undecoded as "too_large".

    Yields:
        Lists of :class:`DecodedPhoto`, covering ``names`` in order.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crop-faces-read") as pool:
        future = pool.submit(_read_window, root, names, 0, batch_size, pixel_budget, max_side, max_pixels)
        while future is not None:
            window, next_index = future.result()
            future = None
            if next_index < len(names):
                future = pool.submit(_read_window, root, names, next_index, batch_size, pixel_budget, max_side,
                                     max_pixels)
            yield window
