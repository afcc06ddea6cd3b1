"""What ``gans fid`` can compare: image .npz files, image folders, statistics .npz files, generators.

:func:`statistics_of` turns any of them into
:class:`~gans.evaluation.statistics.ActivationStatistics`. The extractor is built only when a source
needs it, so comparing two saved statistics files never loads (or downloads) a network.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from gans.datasets.image_files import IMAGE_SUFFIXES
from gans.errors import DataError, DataNotFoundError
from gans.evaluation.features import FeatureExtractor
from gans.evaluation.fid import generate_images
from gans.evaluation.statistics import ActivationStatistics, compute_statistics

GENERATOR_SUFFIXES = {".h5", ".keras"}


def source_kind(path: str | Path) -> str:
    """"generator", "stats", "images" (an .npz of images), "mnist" (a folder of MNIST IDX files) or "folder".

    Raises:
        DataNotFoundError: the path does not exist.
        DataError: a file of a kind that is none of these.
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
        with np.load(path, allow_pickle=False) as data:
            return "stats" if {"mu", "sigma"} <= set(data.files) else "images"
    raise DataError(f"{path}: cannot compute an FID from a {path.suffix or 'suffix-less'} file. Pass an "
                    ".npz, a folder of images, or a generator .h5/.keras.")


def _subsample(count: int, n: int | None, seed: int) -> np.ndarray:
    if n is None or count <= n:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, n, replace=False))


def load_npz_images(path: str | Path, n: int | None = None, seed: int = 0) -> np.ndarray:
    """Images from an .npz: the ``images`` array, else MNIST's ``x_train``/``x_test``, else its only array.

    uint8 pixels or floats in [-1, 1]; (N, H, W) is read as grayscale. At most ``n`` images, drawn
    with ``seed``.
    """
    path = Path(path).expanduser()
    with np.load(path, allow_pickle=False) as data:
        keys = data.files
        if "images" in keys:
            images = data["images"]
        elif "x_train" in keys or "x_test" in keys:
            images = np.concatenate([data[k] for k in ("x_train", "x_test") if k in keys])
        elif len(keys) == 1:
            images = data[keys[0]]
        else:
            raise DataError(f"{path} holds {sorted(keys)}; name the image array 'images'.")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) == 0:
        raise DataError(f"{path}: expected images (N, H, W, C) with C = 1 or 3; got {images.shape}.")
    return images[_subsample(len(images), n, seed)]


def load_image_folder(folder: str | Path, n: int | None = None, seed: int = 0) -> np.ndarray:
    """uint8 images (N, H, W, C) from the image files of a folder (not recursive).

    Grayscale files give one channel when every file is grayscale, else all are read as RGB. All
    images must have the same size. At most ``n`` files, drawn with ``seed``.
    """
    from PIL import Image

    folder = Path(folder).expanduser()
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataNotFoundError(f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}.")
    files = [files[i] for i in _subsample(len(files), n, seed)]
    opened = [Image.open(p) for p in files]
    mode = "L" if all(im.mode in ("L", "1", "I;16") for im in opened) else "RGB"
    images = [np.asarray(im.convert(mode)) for im in opened]
    sizes = {im.shape[:2] for im in images}
    if len(sizes) > 1:
        raise DataError(f"images in {folder} have different sizes {sorted(sizes)[:4]}; resize them to one size.")
    images = np.stack(images)
    return images[..., None] if mode == "L" else images


def statistics_of(path: str | Path, extractor: Callable[[], FeatureExtractor], n: int = 5000,
                  batch_size: int = 64, seed: int = 0, progress: bool = True) -> ActivationStatistics:
    """Statistics of one ``gans fid`` argument.

    Args:
        path: an .npz of images, a folder of images or of MNIST IDX files, a statistics .npz or a
            generator .h5/.keras.
        extractor: a function returning the extractor (called only when features are needed).
        n: images to use (drawn from image sources, generated from generators).
        batch_size: images per batch.
        seed: seed of the draw and of the latent vectors.
        progress: show progress bars.

    Returns:
        :class:`ActivationStatistics`.
    """
    kind = source_kind(path)
    if kind == "stats":
        return ActivationStatistics.load(path)
    if kind == "generator":
        images = generate_images(path, n, batch_size=max(batch_size, 64), seed=seed)
    elif kind == "images":
        images = load_npz_images(path, n, seed)
    elif kind == "mnist":
        from gans.datasets.mnist import load_mnist

        images = load_mnist(path, split="all").images
        images = images[_subsample(len(images), n, seed)]
    else:
        images = load_image_folder(path, n, seed)
    return compute_statistics(images, extractor(), batch_size, progress)
