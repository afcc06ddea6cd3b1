"""Feature vectors to the Gaussian FID compares: the second layer of FID.

:func:`activation_statistics` gives the mean and the unbiased covariance of features in float64, as
:class:`ActivationStatistics`, which carry the name of the extractor that made the features and
save to and load from .npz, together with the square root of the covariance that every Frechet
distance against them needs (:meth:`ActivationStatistics.sigma_root`, computed once).
:func:`compute_statistics` runs an extractor and summarises its features.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gans.errors import DataError, DataNotFoundError
from gans.evaluation.cache import array_fingerprint
from gans.io import read_npz, save_npz

if TYPE_CHECKING:
    from gans.evaluation.features import FeatureExtractor

log = logging.getLogger(__name__)


@dataclass
class ActivationStatistics:
    """Mean and covariance of features: the Gaussian FID compares.

    Attributes:
        mu: float64 (d,).
        sigma: float64 (d, d), unbiased (divides by n - 1).
        n: how many feature vectors they summarise.
        extractor: the name of the extractor that made the features.

    The square root of ``sigma`` is kept with them once computed (:meth:`sigma_root`) and saved
    with them, so a reference compared again and again pays its eigendecomposition once.
    """

    mu: np.ndarray
    sigma: np.ndarray
    n: int
    extractor: str
    _root: np.ndarray | None = field(default=None, repr=False, compare=False)
    _root_key: str | None = field(default=None, repr=False, compare=False)

    def sigma_root(self) -> np.ndarray:
        """The symmetric square root of :attr:`sigma` (:func:`~gans.evaluation.frechet.covariance_root`),
        computed once and kept.

        The one place the root's cache key is built and checked: a content hash of ``sigma`` as it is
        now. A ``sigma`` replaced or changed in place since the root was computed (or a statistics file
        whose ``sigma`` was edited after its root was saved) no longer matches it, and the root is
        computed again; the hash costs a few percent of the eigenvalue problem it saves at d = 2048.

        Raises:
            DataError: ``sigma`` is not a finite square matrix.
        """
        from gans.evaluation.frechet import covariance_root

        key = array_fingerprint(self.sigma, length=40)
        if self._root is None or self._root_key != key:
            sigma = np.asarray(self.sigma, np.float64)
            if sigma.ndim != 2 or sigma.shape[0] != sigma.shape[1] or not np.isfinite(sigma).all():
                what = "NaN or infinity" if sigma.size and not np.isfinite(sigma).all() else f"shape {sigma.shape}"
                raise DataError(f"sigma must be a finite d x d covariance, got {what}; recompute the statistics.")
            self._root, self._root_key = covariance_root(sigma), key
        return self._root

    @property
    def holds_root(self) -> bool:
        """Whether a square root of ``sigma`` is kept (checked against ``sigma`` when :meth:`sigma_root` is called)."""
        return self._root is not None

    def save(self, path: str | Path) -> Path:
        """Write the statistics as .npz (arrays ``mu``, ``sigma``, ``n``, ``extractor``, and ``sigma_root``
        with its key ``sigma_root_key``, computed now if it was not yet: statistics are saved to be
        compared again)."""
        root = self.sigma_root()
        # Atomic: a killed process never leaves a half-written cache entry.
        return save_npz(Path(path).expanduser(), mu=self.mu, sigma=self.sigma, n=np.int64(self.n),
                        extractor=np.str_(self.extractor), sigma_root=root, sigma_root_key=np.str_(self._root_key))

    @classmethod
    def load(cls, path: str | Path) -> "ActivationStatistics":
        """Read statistics written by :meth:`save` (or any .npz with ``mu`` and ``sigma``).

        A saved ``sigma_root`` is kept (checked against ``sigma`` when it is used); one that is not a
        finite d x d matrix is ignored, so the root is computed again.

        Raises:
            DataNotFoundError: the file does not exist.
            DataError: it lacks ``mu``/``sigma`` or their shapes do not match.
        """
        path = Path(path).expanduser()
        if not path.is_file():
            raise DataNotFoundError(f"statistics file {path} does not exist; make one with "
                                    "'gans fid A B --save-stats OUT.npz'.")
        fix = "Make it again with 'gans fid A --save-stats DIR'."
        data, names = read_npz(path, ("mu", "sigma", "n", "extractor", "sigma_root", "sigma_root_key"),
                               what="a statistics file", fix=fix)
        if "mu" not in data or "sigma" not in data:
            raise DataError(f"{path} is not a statistics file: it holds {sorted(names)}, expected mu and sigma.")
        mu, sigma = data["mu"], data["sigma"]
        n, extractor = data.get("n", np.int64(0)), data.get("extractor", np.str_("unknown"))
        numeric = all(np.issubdtype(a.dtype, np.number) and not np.issubdtype(a.dtype, np.complexfloating)
                      for a in (mu, sigma))
        if not numeric or mu.ndim != 1 or mu.size == 0 or sigma.shape != (mu.size, mu.size):
            raise DataError(f"{path}: mu ({mu.dtype} {mu.shape}) and sigma ({sigma.dtype} {sigma.shape}) do not "
                            f"describe one Gaussian: mu must be a vector of d numbers, sigma d x d. {fix}")
        mu, sigma = mu.astype(np.float64), sigma.astype(np.float64)
        if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
            raise DataError(f"{path}: mu or sigma holds NaN or infinite values. {fix}")
        if n.shape != () or not np.issubdtype(n.dtype, np.integer) or int(n) < 0:
            raise DataError(f"{path}: n must be one whole number of samples, got {n.dtype} {n.shape}. {fix}")
        if extractor.shape != () or extractor.dtype.kind != "U":
            raise DataError(f"{path}: extractor must be the extractor's name, got {extractor.dtype} "
                            f"{extractor.shape}. {fix}")
        stats = cls(mu, sigma, int(n), str(extractor))
        root, key = data.get("sigma_root"), data.get("sigma_root_key")
        if (root is not None and key is not None and key.shape == () and key.dtype.kind == "U"
                and root.dtype == np.float64 and root.shape == sigma.shape and np.isfinite(root).all()):
            stats._root, stats._root_key = root, str(key)
        elif root is not None:
            log.warning("%s: its sigma_root is not a finite %d x %d matrix with its key; computing the root again.",
                        path, *sigma.shape)
        return stats


def warn_if_rank_deficient(n: int, dim: int) -> None:
    """Warn when ``n`` samples cannot give a full-rank ``dim``-d covariance (rank <= n - 1)."""
    if n <= dim:
        message = (f"FID from {n} samples of {dim}-d features: the covariance has rank at most {n - 1} "
                   f"< {dim}, so the FID is biased and not comparable with FIDs from more samples. Use "
                   f"n > {dim} (the thesis uses 5,000).")
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        log.warning(message)


def activation_statistics(features: np.ndarray, extractor: str = "unknown") -> ActivationStatistics:
    """Mean and unbiased covariance of features, in float64.

    Args:
        features: (n, d) array, n >= 2.
        extractor: the extractor's name, carried along so FIDs are never mixed.

    Returns:
        :class:`ActivationStatistics`. Warns when n <= d (rank-deficient covariance).
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise DataError(f"need at least 2 feature vectors (n, d); got shape {features.shape}.")
    if not np.isfinite(features).all():
        raise DataError("features contain NaN or infinity; check the images (a diverged generator?).")
    warn_if_rank_deficient(len(features), features.shape[1])
    return ActivationStatistics(features.mean(axis=0), np.cov(features, rowvar=False, ddof=1),
                                len(features), extractor)


def compute_statistics(images: np.ndarray, extractor: FeatureExtractor, batch_size: int | None = None,
                       progress: bool = True) -> ActivationStatistics:
    """Extract features of ``images`` and summarise them (layers 1 and 2)."""
    features = extractor(images, batch_size=batch_size, progress=progress)
    return activation_statistics(features, extractor.name)
