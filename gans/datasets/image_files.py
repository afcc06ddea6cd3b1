"""Listing and decoding image files with OpenCV: what the face crop step and the photo loaders share.

:func:`list_image_files` lists a folder in a fixed order, :func:`read_rgb` decodes one file to RGB
uint8 (or says why it cannot), :func:`read_images` decodes many into one preallocated array.
:data:`IMAGE_SUFFIXES` is the one list of the suffixes the library reads as images.

OpenCV is part of the optional ``faces`` extra; it is imported only when a file is decoded.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError, DataNotFoundError

IMAGE_SUFFIXES = frozenset({".bmp", ".gif", ".jp2", ".jpeg", ".jpg", ".pgm", ".png", ".ppm", ".tif", ".tiff",
                            ".webp"})
FACES_EXTRA_HINT = "Install the face extra: pip install 'gans[faces]' (mtcnn and opencv-python-headless)."


def opencv():
    """The ``cv2`` module, or a :class:`~gans.errors.ConfigError` that says how to install it."""
    try:
        import cv2
    except ImportError as exc:
        raise ConfigError(f"face cropping needs OpenCV, which is not installed. {FACES_EXTRA_HINT}") from exc
    return cv2


def list_image_files(src: str | Path, limit: int | None = None) -> list[str]:
    """List the files under ``src`` (recursively), as sorted POSIX paths relative to ``src``.

    Hidden files and folders (names starting with ".") are left out. Files without an image suffix
    stay in the list so that the run reports them as ``not_image`` instead of silently ignoring them.

    Args:
        src: folder of photos.
        limit: keep only the first ``limit`` files of the sorted list.

    Returns:
        Relative file names in a deterministic order.

    Raises:
        DataNotFoundError: ``src`` does not exist or is not a folder.
        DataError: ``src`` holds no image files.
    """
    root = Path(src).expanduser()
    if not root.exists():
        raise DataNotFoundError(f"source folder {root} does not exist. Pass the folder that holds the photos.")
    if not root.is_dir():
        raise DataNotFoundError(f"{root} is a file; pass the folder that holds the photos, not one photo.")
    names = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and not d.endswith(".parts")]
        rel = Path(dirpath).relative_to(root)
        names.extend((rel / f).as_posix() for f in filenames if not f.startswith("."))
    names.sort()
    if not any(Path(n).suffix.lower() in IMAGE_SUFFIXES for n in names):
        what = "is empty" if not names else f"holds {len(names)} files but none with an image suffix"
        raise DataError(
            f"source folder {root} {what}. Pass a folder of photos "
            f"({', '.join(sorted(IMAGE_SUFFIXES))})."
        )
    if limit is not None:
        if int(limit) < 1:
            raise ConfigError(f"limit must be a positive number of images, got {limit}.")
        names = names[: int(limit)]
    return names


def header_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) from an image file's header, without decoding its pixels; None when the header
    cannot be read here (the decoder then has its say).

    A file larger than Pillow's decompression-bomb limit (about 179 megapixels) is reported with the
    size Pillow read.
    """
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return tuple(int(v) for v in image.size)
    except Image.DecompressionBombError as exc:
        pixels = [int(w) for w in str(exc).replace("(", " ").split() if w.isdigit()]
        return (pixels[0], 1) if pixels else (1 << 31, 1)
    except (OSError, ValueError, SyntaxError):
        return None


def read_rgb(path: str | Path, max_pixels: int | None = None) -> tuple[np.ndarray | None, str, str]:
    """Decode an image file to RGB uint8 (H, W, 3).

    OpenCV's ``IMREAD_COLOR`` already does the conversions a face set needs: grayscale becomes three
    equal channels, an alpha channel is dropped, 16-bit images become 8-bit, and the EXIF orientation
    of phone photos is applied (``IMREAD_UNCHANGED`` would ignore it and leave faces sideways).

    Args:
        path: the image file.
        max_pixels: skip files whose header declares more pixels, before decoding them.

    Returns:
        ``(image, "", "")`` on success, or ``(None, reason, detail)`` with reason ``not_image``,
        ``too_large`` or ``unreadable``.
    """
    cv2 = opencv()
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return None, "not_image", f"suffix {path.suffix or '(none)'} is not an image type"
    size = header_size(path) if max_pixels is not None else None
    if size is not None and size[0] * size[1] > max_pixels:
        shown = f"{size[0]}x{size[1]} = " if size[1] > 1 else ""
        return None, "too_large", (f"{shown}{size[0] * size[1] / 1e6:.1f} megapixels, above the limit of "
                                   f"{max_pixels / 1e6:g} (--max-pixels); not decoded")
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        return None, "unreadable", f"cannot read file: {exc.strerror or exc}"
    if raw.size == 0:
        return None, "unreadable", "empty file"
    image = cv2.imdecode(raw, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        return None, "unreadable", "OpenCV cannot decode it (truncated, corrupt, or not an image)"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), "", ""


def read_images(
    paths,
    size: int | tuple[int, int] | None = None,
    center_crop: int | tuple[int, int] | None = None,
    workers: int = 2,
) -> np.ndarray:
    """Decode image files into one preallocated uint8 (N, H, W, 3) array (what the loaders share).

    Args:
        paths: image files, in the order the rows should have.
        size: output side (or (height, width)); ``None`` keeps the (cropped) size, which must
            then be the same for every file.
        center_crop: cut a centred square of this side (or a (height, width) box) before resizing,
            e.g. 178 on CelebA's 178x218 aligned faces.
        workers: decoding threads (OpenCV releases the GIL while decoding).

    Returns:
        uint8 RGB array, one row per path.

    Raises:
        DataError: a file cannot be decoded, a crop is larger than an image, or images differ in
            size while ``size`` is None.
    """
    paths = [Path(p) for p in paths]
    cv2 = opencv()
    crop_hw = None if center_crop is None else _pair(center_crop, "center_crop")
    out_hw = None if size is None else _pair(size, "size")

    def load(path: Path) -> np.ndarray:
        image, reason, detail = read_rgb(path)
        if image is None:
            raise DataError(f"{path}: {reason} ({detail}). Replace the file or remove it from the folder.")
        if crop_hw is not None:
            height, width = image.shape[:2]
            if crop_hw[0] > height or crop_hw[1] > width:
                raise DataError(f"{path} is {width}x{height}, smaller than center_crop {crop_hw}; pass a smaller crop.")
            top, left = (height - crop_hw[0]) // 2, (width - crop_hw[1]) // 2
            image = image[top : top + crop_hw[0], left : left + crop_hw[1]]
        if out_hw is not None and image.shape[:2] != out_hw:
            shrinking = out_hw[0] * out_hw[1] < image.shape[0] * image.shape[1]
            image = cv2.resize(image, (out_hw[1], out_hw[0]),
                               interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
        return image

    if not paths:
        return np.zeros((0, *(out_hw or (0, 0)), 3), np.uint8)
    first = load(paths[0])
    images = np.empty((len(paths), *first.shape), np.uint8)  # filled in place: one copy of the set
    images[0] = first

    def fill(index: int) -> None:
        image = load(paths[index])
        if image.shape != first.shape:
            raise DataError(
                f"{paths[index]} is {image.shape[1]}x{image.shape[0]} but {paths[0]} is "
                f"{first.shape[1]}x{first.shape[0]}; pass size= to resize them all to one size."
            )
        images[index] = image

    with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
        for _ in pool.map(fill, range(1, len(paths))):
            pass
    return images


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or min(int(v) for v in pair) < 1:
        raise ConfigError(f"{name} must be a positive side or a (height, width) pair, got {value!r}.")
    return int(pair[0]), int(pair[1])
