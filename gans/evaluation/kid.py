"""Kernel Inception Distance: an unbiased squared MMD between feature sets, beside FID.

KID compares two sets of features (the same features FID summarises, from the same extractor) by the
squared maximum mean discrepancy with the cubic polynomial kernel

    k(x, y) = (x . y / d + 1) ** 3            (d: the feature dimension)

estimated without bias (the diagonal terms of the within-set kernel matrices are left out):

    MMD^2 = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
            - 2 sum_{i, j} k(x_i, y_j) / (m n)

Unlike FID, whose plug-in estimate is biased upwards by an amount that depends on the sample count,
its expectation does not depend on how many images it sees, so runs measured with few images (a
sweep on a CPU) can be compared with each other and with runs measured with many. It can be slightly
negative when the two sets come from the same distribution. As in Binkowski et al. (and
torch-fidelity, clean-fid), the estimate is averaged over random subsets (100 subsets of 1,000
features, drawn without replacement, capped by the sample counts); the spread over the subsets is
reported as its standard deviation.

Reference:
    Binkowski, M., Sutherland, D. J., Arbel, M., Gretton, A. (2018). Demystifying MMD GANs. ICLR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gans.errors import ConfigError, DataError

if TYPE_CHECKING:
    from gans.evaluation.features import FeatureExtractor

SUBSETS = 100
SUBSET_SIZE = 1000


@dataclass(frozen=True)
class KIDResult:
    """One KID figure and what it was computed from.

    Attributes:
        kid: mean of the unbiased MMD^2 over the subsets.
        std: standard deviation over the subsets (NaN when a single subset covers both sets: no spread).
        extractor: the extractor's name; KIDs with different names are not comparable.
        n_a: feature vectors on the first side.
        n_b: the same on the second side.
        subsets: how many subsets were averaged.
        subset_size: feature vectors per side in each subset.
    """

    kid: float
    std: float
    extractor: str
    n_a: int
    n_b: int
    subsets: int
    subset_size: int

    def __float__(self) -> float:
        return float(self.kid)

    def __str__(self) -> str:
        spread = f" +- {self.std:.5f}" if math.isfinite(self.std) else ""
        return (f"KID {self.kid:.5f}{spread} [{self.extractor}, n={self.n_a} vs {self.n_b}, "
                f"{self.subsets} subset{'s' if self.subsets != 1 else ''} of {self.subset_size}]")


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> np.ndarray:
    """The kernel matrix ``(x . y / d + coef0) ** degree`` between the rows of ``x`` and ``y`` (float64)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased estimate of the squared MMD between two samples, with the cubic polynomial kernel.

    Args:
        x: (m, d) features, m >= 2.
        y: (n, d) features, n >= 2.

    Returns:
        The estimate (may be slightly negative when both come from one distribution).
    """
    m, n = len(x), len(y)
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


def _checked(features: np.ndarray, side: str) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise DataError(f"KID needs at least 2 feature vectors (n, d) on side {side}; got shape {features.shape}.")
    if not np.isfinite(features).all():
        raise DataError(f"features of side {side} contain NaN or infinity; check the images (a diverged generator?).")
    return features


def kernel_inception_distance(features_a: np.ndarray, features_b: np.ndarray, extractor: str = "unknown",
                              subsets: int = SUBSETS, subset_size: int = SUBSET_SIZE, seed: int = 0) -> KIDResult:
    """KID between two feature sets: the unbiased MMD^2, averaged over random subsets.

    Args:
        features_a: (m, d) features of one image set.
        features_b: (n, d) features of the other, from the same extractor.
        extractor: the extractor's name, carried along so KIDs are never mixed.
        subsets: number of subsets (Binkowski et al.: 100).
        subset_size: features per side in each subset (1,000), capped by ``m`` and ``n``. When the cap
            makes every subset the whole of both sets, the estimate is computed once and its spread is
            NaN: repeating the same subset would only report a spread of 0.
        seed: seed of the subset draws.

    Returns:
        :class:`KIDResult`.

    Reference:
        Binkowski et al. (2018), section 3 and appendix; their polynomial_mmd_averages.
    """
    a, b = _checked(features_a, "A"), _checked(features_b, "B")
    if a.shape[1] != b.shape[1]:
        raise DataError(f"cannot compare {a.shape[1]}-d features with {b.shape[1]}-d ones; compute both with "
                        "the same extractor.")
    if subsets < 1 or subset_size < 2:
        raise ConfigError(f"KID needs subsets >= 1 and subset_size >= 2; got {subsets} and {subset_size}.")
    size = min(int(subset_size), len(a), len(b))
    if size == len(a) == len(b):
        return KIDResult(mmd2_unbiased(a, b), float("nan"), extractor, len(a), len(b), 1, size)
    rng = np.random.default_rng(seed)
    values = np.array([mmd2_unbiased(a[rng.choice(len(a), size, replace=False)],
                                     b[rng.choice(len(b), size, replace=False)]) for _ in range(int(subsets))])
    return KIDResult(float(values.mean()), float(values.std()), extractor, len(a), len(b), int(subsets), size)


def kid_from_arrays(images_a: np.ndarray, images_b: np.ndarray,
                    extractor: "str | FeatureExtractor" = "inception", batch_size: int | None = None,
                    subsets: int = SUBSETS, subset_size: int = SUBSET_SIZE, seed: int = 0,
                    progress: bool = True) -> KIDResult:
    """KID between two arrays of images, through an extractor (``"inception"``, ``"lenet"`` or one built).

    Args:
        images_a: (N, H, W, C) uint8 or [-1, 1] float images.
        images_b: the same for the other set.
        extractor: see :func:`gans.evaluation.extractors.get_extractor`.
        batch_size: images per batch (the extractor's default when None).
        subsets: see :func:`kernel_inception_distance`.
        subset_size: see :func:`kernel_inception_distance`.
        seed: see :func:`kernel_inception_distance`.
        progress: show progress bars.

    Returns:
        :class:`KIDResult`.
    """
    from gans.evaluation.extractors import get_extractor

    extractor = get_extractor(extractor)
    a = extractor(images_a, batch_size=batch_size, progress=progress)
    b = extractor(images_b, batch_size=batch_size, progress=progress)
    return kernel_inception_distance(a, b, extractor.name, subsets, subset_size, seed)
