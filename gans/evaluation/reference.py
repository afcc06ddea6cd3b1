"""Reference statistics of real images, cached in the user cache folder.

:func:`stats_cache_key` is the one place the name of a cached statistics file is built;
:func:`reference_statistics` draws the real images, reads the cache or computes and writes it;
:func:`reference_features` keeps the features of the same images (for KID) in a cache of their own.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gans.errors import DataError
from gans.evaluation.cache import array_fingerprint, cache_dir, slug
from gans.evaluation.extractors import get_extractor
from gans.evaluation.statistics import ActivationStatistics, compute_statistics
from gans.io import read_npz, save_npz

if TYPE_CHECKING:
    from gans.evaluation.features import FeatureExtractor

log = logging.getLogger(__name__)


def stats_cache_key(dataset: str, split: str, n: int, image_size: tuple[int, ...], extractor: str,
                    resize_mode: str) -> str:
    """The one place the name of a cached statistics file is built.

    Args:
        dataset: the data set's name plus anything that tells its versions apart (a content hash).
        split: "train", "test", ...
        n: number of images summarised.
        image_size: (H, W, C) of the images before resizing.
        extractor: the extractor's base name (with its weights tag).
        resize_mode: the interpolation used to reach the extractor's input size.

    Returns:
        A file name ending in ``.npz``.
    """
    size = "x".join(str(int(s)) for s in image_size)
    return "_".join(slug(part) for part in (dataset, split, f"n{int(n)}", size, extractor, resize_mode)) + ".npz"


def _reference_draw(images: np.ndarray, dataset: str, split: str, extractor: "FeatureExtractor", n: int,
                    seed: int) -> tuple[np.ndarray, str]:
    """The ``n`` real images a reference is made of (drawn with ``seed``) and their cache file name."""
    images = np.asarray(images)
    if len(images) < n:
        warnings.warn(f"{dataset}/{split} has {len(images)} images, fewer than the {n} requested; using all.",
                      RuntimeWarning, stacklevel=3)
        n = len(images)
    chosen = images[np.sort(np.random.default_rng(seed).choice(len(images), n, replace=False))]
    key = stats_cache_key(f"{dataset}-{array_fingerprint(chosen)}", split, n, chosen.shape[1:],
                          extractor.base_name, extractor.resize_mode)
    return chosen, key


def reference_statistics(images: np.ndarray, dataset: str, split: str = "train",
                         extractor: "str | FeatureExtractor" = "inception", n: int = 5000, seed: int = 0,
                         batch_size: int | None = None, cache: bool = True,
                         cache_root: str | Path | None = None, progress: bool = True) -> ActivationStatistics:
    """Statistics of ``n`` randomly chosen real images, cached in the user cache folder.

    The key (:func:`stats_cache_key`) includes a hash of the chosen images, so two different data
    sets under one name (e.g. the full MNIST and the offline subset) never share an entry.

    Args:
        images: the real images, uint8 (N, H, W, C).
        dataset: the data set's name, for the cache key.
        split: the split's name, for the cache key.
        extractor: ``"inception"``, ``"lenet"`` or a :class:`FeatureExtractor`.
        n: images to draw (all of them, with a warning, when fewer exist).
        seed: seed of the draw.
        batch_size: extractor batch size.
        cache: read and write the cache (never for random-weight extractors).
        cache_root: cache root instead of the user cache folder.
        progress: show a progress bar.

    Returns:
        :class:`ActivationStatistics`, keeping the square root of their covariance when cached
        (:meth:`ActivationStatistics.sigma_root`), so every FID against them solves one eigenvalue problem.
    """
    extractor = get_extractor(extractor)
    chosen, key = _reference_draw(images, dataset, split, extractor, n, seed)
    path = cache_dir("fid_stats", cache_root) / key
    use_cache = cache and extractor.cacheable
    if use_cache and path.is_file():
        log.info("reference statistics from cache %s", path)
        stats = ActivationStatistics.load(path)
        if not stats.holds_root:  # an entry written before roots were kept: keep its root from now on
            stats.save(path)
        return stats
    stats = compute_statistics(chosen, extractor, batch_size, progress)
    if use_cache:
        stats.save(path)  # with the square root of its covariance, which every FID against it reuses
    return stats


def reference_features(images: np.ndarray, dataset: str, split: str = "train",
                       extractor: "str | FeatureExtractor" = "inception", n: int = 5000, seed: int = 0,
                       batch_size: int | None = None, cache: bool = True,
                       cache_root: str | Path | None = None, progress: bool = True) -> np.ndarray:
    """Features of the same ``n`` real images :func:`reference_statistics` summarises, cached.

    KID (:mod:`gans.evaluation.kid`) needs the features themselves, not only their mean and covariance.
    They are drawn with the same seed and cached under the same key (:func:`stats_cache_key`) in a
    folder of their own (``fid_features``), so the statistics cache is untouched. Arguments as
    :func:`reference_statistics`.

    Returns:
        float32 (n, d) features, in the order of the chosen images.
    """
    extractor = get_extractor(extractor)
    chosen, key = _reference_draw(images, dataset, split, extractor, n, seed)
    path = cache_dir("fid_features", cache_root) / key
    use_cache = cache and extractor.cacheable
    if use_cache and path.is_file():
        try:
            features = read_npz(path, ("features",), what="cached reference features")[0].get("features")
        except DataError as exc:  # a damaged cache entry is computed again, not fatal
            log.warning("ignoring the cached reference features: %s", exc)
            features = None
        if features is not None and features.shape == (len(chosen), extractor.dim):
            log.info("reference features from cache %s", path)
            return features
    features = extractor(chosen, batch_size=batch_size, progress=progress)
    if use_cache:
        save_npz(path, features=features)
    return features
