"""Feature vectors to the Gaussian FID compares: the second layer of FID.

:func:`activation_statistics` gives the mean and the unbiased covariance of features in float64, as
:class:`ActivationStatistics`, which carry the name of the extractor that made the features and
save to and load from .npz. :func:`compute_statistics` runs an extractor and summarises its features.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gans.errors import DataError, DataNotFoundError
from gans.evaluation.features import FeatureExtractor
from gans.io import save_npz

log = logging.getLogger(__name__)


@dataclass
class ActivationStatistics:
    """Mean and covariance of features: the Gaussian FID compares.

    Attributes:
        mu: float64 (d,).
        sigma: float64 (d, d), unbiased (divides by n - 1).
        n: how many feature vectors they summarise.
        extractor: the name of the extractor that made the features.
    """

    mu: np.ndarray
    sigma: np.ndarray
    n: int
    extractor: str

    def save(self, path: str | Path) -> Path:
        """Write the statistics as .npz (arrays ``mu``, ``sigma``, ``n``, ``extractor``)."""
        # Atomic: a killed process never leaves a half-written cache entry.
        return save_npz(Path(path).expanduser(), mu=self.mu, sigma=self.sigma, n=np.int64(self.n),
                        extractor=np.str_(self.extractor))

    @classmethod
    def load(cls, path: str | Path) -> "ActivationStatistics":
        """Read statistics written by :meth:`save` (or any .npz with ``mu`` and ``sigma``).

        Raises:
            DataNotFoundError: the file does not exist.
            DataError: it lacks ``mu``/``sigma`` or their shapes do not match.
        """
        path = Path(path).expanduser()
        if not path.is_file():
            raise DataNotFoundError(f"statistics file {path} does not exist; make one with "
                                    "'gans fid A B --save-stats OUT.npz'.")
        with np.load(path, allow_pickle=False) as data:
            if "mu" not in data.files or "sigma" not in data.files:
                raise DataError(f"{path} is not a statistics file: it holds {sorted(data.files)}, "
                                "expected mu and sigma.")
            mu, sigma = data["mu"].astype(np.float64), data["sigma"].astype(np.float64)
            n = int(data["n"]) if "n" in data.files else 0
            extractor = str(data["extractor"]) if "extractor" in data.files else "unknown"
        if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
            raise DataError(f"{path}: mu {mu.shape} and sigma {sigma.shape} do not describe one Gaussian.")
        return cls(mu, sigma, n, extractor)


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
