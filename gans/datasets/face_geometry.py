"""Face boxes to square crops: clamp the detector's box, square and widen it, cut and resize.

MTCNN's boxes are ``(x, y, w, h)`` in source pixels and may reach past the image border; the square
actually cut is kept wholly inside the image, shrunk rather than padded, so crops never contain
invented border pixels.
"""

from __future__ import annotations

import numpy as np

from gans.datasets.image_files import opencv


def clamp_box(box, image_shape) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` clamped to the image, as corners ``(x0, y0, x1, y1)``.

    MTCNN's boxes may reach past the border for faces cut by the frame.
    """
    height, width = float(image_shape[0]), float(image_shape[1])
    x, y, w, h = (float(v) for v in box)
    return (min(max(x, 0.0), width), min(max(y, 0.0), height),
            min(max(x + w, 0.0), width), min(max(y + h, 0.0), height))


def square_crop_box(box, image_shape, margin: float = 0.0) -> tuple[int, int, int] | None:
    """The square region to cut for a face box: clamped, squared, widened, kept inside the image.

    Args:
        box: ``(x, y, w, h)`` in image pixels; may reach outside the image.
        image_shape: ``(H, W, ...)`` of the image.
        margin: extra border on each side as a fraction of the clamped box's longer side.

    Returns:
        ``(left, top, side)`` with the square wholly inside the image, or ``None`` when the box does
        not overlap the image.
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    x0, y0, x1, y1 = clamp_box(box, image_shape)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    center_x, center_y = (x0 + x1) / 2, (y0 + y1) / 2
    side = max(x1 - x0, y1 - y0) * (1.0 + 2.0 * margin)
    # A square larger than the image's short side cannot stay inside it: shrink rather than pad,
    # so crops never contain invented border pixels.
    side = max(1, min(int(round(side)), width, height))
    left = min(max(int(round(center_x - side / 2)), 0), width - side)
    top = min(max(int(round(center_y - side / 2)), 0), height - side)
    return left, top, side


def crop_square(image: np.ndarray, region: tuple[int, int, int], size: int) -> np.ndarray:
    """Cut ``region`` (left, top, side) out of ``image`` and resize it to ``size`` x ``size``.

    Shrinking uses INTER_AREA (it averages the source pixels, so no aliasing); enlarging uses
    INTER_CUBIC.
    """
    cv2 = opencv()
    left, top, side = region
    patch = image[top : top + side, left : left + side]
    if side == size:
        return np.ascontiguousarray(patch)
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(patch, (size, size), interpolation=interpolation)
