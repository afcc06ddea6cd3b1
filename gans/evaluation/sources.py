"""What ``gans fid`` can compare: image .npz files, image folders, statistics .npz files, generators.

:func:`load_source` reads one of them, checked, into images (uint8, through
:func:`gans.datasets.scaling.as_uint8_images`) or :class:`~gans.evaluation.statistics.ActivationStatistics`;
:func:`statistics_of` turns the result into statistics. ``gans fid`` loads every source before it
builds an extractor, so a bad second source is reported before minutes of feature extraction, and
nothing here loads Keras unless a generator or an extractor is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gans.datasets.image_files import IMAGE_SUFFIXES
from gans.datasets.npz import image_keys
from gans.datasets.scaling import as_uint8_images
from gans.errors import DataError, DataNotFoundError
from gans.evaluation.statistics import ActivationStatistics
from gans.io import read_npz

if TYPE_CHECKING:
    from gans.evaluation.features import FeatureExtractor

GENERATOR_SUFFIXES = {".h5", ".keras"}
ARRAY_SUFFIXES = {".npz", ".npy"}
_NPZ_FIX = "Recreate it, e.g. with np.savez_compressed(path, images=uint8_array)."


def source_kind(path: str | Path) -> str:
    """"generator", "stats", "images" (an .npz/.npy of images), "mnist" (a folder of MNIST IDX files) or "folder".

    Raises:
        DataNotFoundError: the path does not exist.
        DataError: a file of a kind that is none of these, or a damaged .npz.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataNotFoundError(f"{path} does not exist. Pass an .npz of images, a folder of images, a "
                                "statistics .npz (from --save-stats) or a generator .h5.")
    if path.is_dir():
        return "mnist" if any(path.glob("*-idx3-ubyte*")) else "folder"
    if path.suffix in GENERATOR_SUFFIXES:
        return "generator"
    if path.suffix == ".npz":
        _, names = read_npz(path, (), what="an .npz of images or statistics", fix=_NPZ_FIX)
        return "stats" if {"mu", "sigma"} <= set(names) else "images"
    if path.suffix == ".npy":
        return "images"
    raise DataError(f"{path}: cannot compute an FID from a {path.suffix or 'suffix-less'} file. Pass an "
                    ".npz or .npy of images, a folder of images, or a generator .h5/.keras.")


def _subsample(count: int, n: int | None, seed: int) -> np.ndarray:
    if n is None or count <= n:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, n, replace=False))


def load_npz_images(path: str | Path, n: int | None = None, seed: int = 0) -> np.ndarray:
    """uint8 images from an .npz: its image arrays by :func:`gans.datasets.npz.image_keys` (the rule of
    ``gans train``): ``images``, else MNIST's ``x_train``/``x_test``, else an .npy's array.

    The pixels are checked and converted by :func:`gans.datasets.scaling.as_uint8_images` (uint8,
    16-bit, floats in [0, 1], [-1, 1] or [0, 255]; NaN, infinity and ambiguous shapes are refused).
    At most ``n`` images, drawn with ``seed``.
    """
    path = Path(path).expanduser()
    arrays, names = read_npz(path, image_keys, what="an .npz of images", fix=_NPZ_FIX)
    if not arrays:
        raise DataError(f"{path} holds {sorted(names)}; name the image array 'images'.")
    parts = [as_uint8_images(array, str(path) if path.suffix == ".npy" else f"{path}:{key}")
             for key, array in arrays.items()]
    if len({p.shape[1:] for p in parts}) > 1:
        raise DataError(f"{path}: {' and '.join(arrays)} have different image shapes "
                        f"{[p.shape[1:] for p in parts]}.")
    images = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return images[_subsample(len(images), n, seed)]


_GRAY_MODES = {"1", "L", "LA", "La", "I;16", "I;16B", "I;16L", "I;16N", "I", "F"}


def _read_picture(path: Path, gray: bool) -> np.ndarray:
    """One image file as (H, W) or (H, W, 3) pixels, opened and closed here (a folder may hold more
    files than the process may keep open)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            if gray:
                if im.mode in ("1", "LA", "La"):
                    im = im.convert("L")
            elif im.mode != "RGB":
                if im.mode.startswith("I;16"):  # PIL's RGB conversion clips 16-bit values to 255
                    return np.repeat(as_uint8_images(np.asarray(im)[None], str(path), strict_uint16=False)[0], 3, -1)
                im = im.convert("RGB")
            pixels = np.asarray(im)
    except (OSError, ValueError, SyntaxError) as exc:  # PIL: truncated or unreadable files
        raise DataError(f"cannot read image {path}: {exc}. Replace the file or remove it from the folder.") from exc
    if pixels.dtype.byteorder not in ("=", "|"):
        pixels = pixels.astype(pixels.dtype.newbyteorder("="))
    return pixels


def load_image_folder(folder: str | Path, n: int | None = None, seed: int = 0) -> np.ndarray:
    """uint8 images (N, H, W, C) from the image files of a folder (not recursive).

    Grayscale files give one channel when every file is grayscale, else all are read as RGB. 16-bit
    files are scaled to 8 bits (divided by 257), not clipped. All images must have the same size. At
    most ``n`` files, drawn with ``seed``; each is opened, decoded and closed in turn.
    """
    from PIL import Image

    folder = Path(folder).expanduser()
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DataNotFoundError(f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}.")
    files = [files[i] for i in _subsample(len(files), n, seed)]
    modes = []
    for p in files:  # the header only: the mode decides how every file is read
        try:
            with Image.open(p) as im:
                modes.append(im.mode)
        except (OSError, ValueError, SyntaxError) as exc:
            raise DataError(f"cannot read image {p}: {exc}. Replace the file or remove it from the folder.") from exc
    gray = all(m in _GRAY_MODES for m in modes)
    images, first = None, None
    for i, path in enumerate(files):
        pixels = as_uint8_images(_read_picture(path, gray)[None], str(path), strict_uint16=False)[0]
        if images is None:
            first = path
            images = np.empty((len(files), *pixels.shape), np.uint8)
        if pixels.shape != images.shape[1:]:
            raise DataError(f"images in {folder} have different sizes: {first.name} is {images.shape[1:]}, "
                            f"{path.name} is {pixels.shape}; resize them to one size.")
        images[i] = pixels
    return images


def load_source(path: str | Path, n: int = 5000, batch_size: int = 64, seed: int = 0
                ) -> "np.ndarray | ActivationStatistics":
    """What one ``gans fid`` argument holds: uint8 images, generated [-1, 1] images, or statistics.

    Args:
        path: an .npz/.npy of images, a folder of images or of MNIST IDX files, a statistics .npz or a
            generator .h5/.keras.
        n: images to use (drawn from image sources, generated from generators).
        batch_size: images per generator batch.
        seed: seed of the draw and of the latent vectors.
    """
    kind = source_kind(path)
    if kind == "stats":
        return ActivationStatistics.load(path)
    if kind == "generator":
        from gans.evaluation.fid import generate_images

        images = generate_images(path, n, batch_size=max(batch_size, 64), seed=seed)
        if not np.isfinite(images).all():
            raise DataError(f"{path} generates NaN or infinite pixel values (a diverged generator?); its images "
                            "have no features to compare.")
        return images
    if kind == "images":
        return load_npz_images(path, n, seed)
    if kind == "mnist":
        from gans.datasets.mnist import load_mnist

        images = load_mnist(path, split="all").images
        return images[_subsample(len(images), n, seed)]
    return load_image_folder(path, n, seed)


def statistics_of(path: "str | Path | np.ndarray | ActivationStatistics", extractor: Callable[[], FeatureExtractor],
                  n: int = 5000, batch_size: int = 64, seed: int = 0, progress: bool = True) -> ActivationStatistics:
    """Statistics of one ``gans fid`` argument (a path, or what :func:`load_source` read from one).

    Args:
        path: a source (see :func:`load_source`), or images or statistics already loaded.
        extractor: a function returning the extractor (called only when features are needed).
        n: images to use (drawn from image sources, generated from generators).
        batch_size: images per batch.
        seed: seed of the draw and of the latent vectors.
        progress: show progress bars.

    Returns:
        :class:`ActivationStatistics`.
    """
    from gans.evaluation.statistics import compute_statistics

    loaded = path if isinstance(path, (np.ndarray, ActivationStatistics)) else load_source(path, n, batch_size, seed)
    if isinstance(loaded, ActivationStatistics):
        return loaded
    return compute_statistics(loaded, extractor(), batch_size, progress)
