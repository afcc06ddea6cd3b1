"""Image sets stored as one compressed .npz (the output of the face-cropping pipeline).

Loading never unpickles: ``np.load(..., allow_pickle=False)``. The progressive GAN (seed 001)
loads its 256x256 crops once, scales them to [-1, 1] and, before each growth phase, resizes the
set to the phase's resolution: :func:`load_scaled` and :func:`resize_images` are those two steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gans.datasets.base import ImageDataset
from gans.datasets.scaling import as_uint8_images, scale_images
from gans.errors import ConfigError, DataError, DataNotFoundError
from gans.io import read_npz, save_npz

# Per-image arrays the crop pipeline writes next to ``images``; loaded into ``meta`` when present.
COMPANION_KEYS = ("filenames", "boxes", "crop_boxes", "confidences")


def image_keys(names) -> list[str]:
    """The arrays of an .npz that hold images, by the one rule ``gans train`` and ``gans fid`` share:
    ``images``; else MNIST's ``x_train``/``x_test``; else an .npy's one array; else none (an .npz whose
    one array has another name is refused, not guessed at)."""
    names = list(names)
    if "images" in names:
        return ["images"]
    if "x_train" in names or "x_test" in names:
        return [k for k in ("x_train", "x_test") if k in names]
    return ["arr_0"] if names == ["arr_0"] else []


def load_images(path: str | Path, key: str = "images") -> ImageDataset:
    """Load images (N, H, W, C) from an .npz (or an .npy), checked and converted to uint8.

    Args:
        path: the .npz file (a bare .npy array is accepted too).
        key: the array that holds the images.

    Returns:
        An :class:`ImageDataset` of uint8 NHWC images. Arrays of the crop pipeline that have one
        row per image (``filenames``, ``boxes``, ``crop_boxes``, ``confidences``) are in ``meta``.

    Raises:
        DataNotFoundError: the file does not exist.
        DataError: the file is damaged, the array is missing, or it is not images by the rule of
            :func:`gans.datasets.scaling.as_uint8_images` (shape, dtype, value range).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(
            f"image file {path} does not exist. Make one with 'gans crop-faces SRC OUT.npz', or "
            "pass any .npz holding an 'images' array of uint8 (N, H, W, C)."
        )
    arrays, names = read_npz(path, (key, *COMPANION_KEYS), what="an .npz of images",
                             fix="Recreate it (np.savez_compressed, or 'gans crop-faces').")
    if names == ["arr_0"] and "arr_0" in arrays and key not in arrays:  # a .npy file: the array itself
        arrays[key] = arrays.pop("arr_0")
    if key not in arrays:
        raise DataError(f"{path} has no {key!r} array (it holds {sorted(names)}).")
    images = as_uint8_images(arrays.pop(key), str(path) if path.suffix == ".npy" else f"{path}:{key}")
    meta = {name: value for name, value in arrays.items()
            if name != key and value.ndim >= 1 and len(value) == len(images)}
    return ImageDataset(images, source=str(path), meta=meta)


def load_scaled(path: str | Path, key: str = "images", size: int | None = None) -> np.ndarray:
    """Load images from an .npz as float32 in [-1, 1], optionally resized first.

    Args:
        path: the .npz file.
        key: the array that holds the images.
        size: resize to ``size`` x ``size`` before scaling (see :func:`resize_images`).

    Returns:
        float32 (N, H, W, C) in [-1, 1], through the library's one scaling function.
    """
    images = load_images(path, key).images
    if size is not None:
        images = resize_images(images, size)
    return scale_images(images)


def resize_images(images: np.ndarray, size: int | tuple[int, int], batch_size: int = 1024) -> np.ndarray:
    """Resize a whole set to another resolution (the progressive GAN's per-phase data).

    Shrinking by a whole factor (256 -> 128, 64, ..., 4) averages each block of pixels, which is
    exact area resampling and needs no image library. Other sizes go through TensorFlow's "area"
    filter when shrinking and "bicubic" when enlarging, a batch at a time so memory holds the output
    and one batch.

    Args:
        images: uint8 in [0, 255] or float in [-1, 1], shape (N, H, W, C).
        size: output side, or (height, width).
        batch_size: images resized at once on the TensorFlow path.

    Returns:
        The resized set, uint8 for uint8 input (rounded), float32 otherwise.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ConfigError(f"images must be (N, H, W, C); got shape {images.shape}.")
    height, width = (size, size) if np.isscalar(size) else tuple(size)
    height, width = int(height), int(width)
    if height < 1 or width < 1:
        raise ConfigError(f"size must be positive, got {size!r}.")
    n, src_h, src_w, channels = images.shape
    is_uint8 = images.dtype == np.uint8
    out_dtype = np.uint8 if is_uint8 else np.float32
    if (src_h, src_w) == (height, width):
        return images.astype(out_dtype, copy=False)
    out = np.empty((n, height, width, channels), out_dtype)
    if src_h % height == 0 and src_w % width == 0:
        fy, fx = src_h // height, src_w // width
        for start in range(0, n, batch_size):
            block = images[start : start + batch_size].astype(np.float32)
            block = block.reshape(-1, height, fy, width, fx, channels).mean(axis=(2, 4))
            out[start : start + batch_size] = _to_dtype(block, out_dtype)
        return out
    import tensorflow as tf

    method = "area" if height * width < src_h * src_w else "bicubic"
    for start in range(0, n, batch_size):
        block = tf.image.resize(images[start : start + batch_size].astype(np.float32), (height, width), method=method)
        out[start : start + batch_size] = _to_dtype(block.numpy(), out_dtype)
    return out


def _to_dtype(block: np.ndarray, dtype) -> np.ndarray:
    if dtype == np.uint8:
        return np.clip(np.rint(block), 0, 255).astype(np.uint8)
    return np.clip(block, -1.0, 1.0).astype(np.float32)  # bicubic overshoots the tanh range slightly


def save_images(path: str | Path, images: np.ndarray, **arrays) -> Path:
    """Write uint8 images (and any per-image arrays) to a compressed .npz, atomically.

    Args:
        path: the .npz to write (its folder is created).
        images: uint8 (N, H, W, C).
        **arrays: more arrays to store, e.g. ``filenames=...``; object arrays are refused.

    Returns:
        The path written.
    """
    path = Path(path).expanduser()
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise DataError(f"images must be uint8 (N, H, W, C); got {images.dtype} {images.shape}.")
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise DataError(f"array {name!r} has dtype object, which cannot be loaded without pickle.")
    return save_npz(path, compressed=True, images=images, **arrays)
