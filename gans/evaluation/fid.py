"""Frechet Inception Distance: the entry points that put its four small layers together.

1. Features (:mod:`gans.evaluation.features`): a :class:`FeatureExtractor` maps images to feature
   vectors inside one compiled Keras function. :func:`~gans.evaluation.inception.inception_extractor`
   gives the 2048-d pool features of InceptionV3 (the thesis's FID, section 4.5.1);
   :func:`~gans.evaluation.classifier.lenet_extractor` an offline extractor that needs no download;
   :func:`~gans.evaluation.extractors.get_extractor` picks one by name.
2. Statistics (:mod:`gans.evaluation.statistics`): :func:`activation_statistics` turns features into
   :class:`ActivationStatistics`, mean and unbiased covariance in float64.
3. Distance (:mod:`gans.evaluation.frechet`): :func:`frechet_distance` compares two Gaussians, by the
   reference algorithm (``method="sqrtm"``) or an exact, faster route (``method="eigh"``, the default),
   faster still against statistics that keep the square root of their covariance (references do).
4. Entry points (here): :func:`fid_from_arrays`, :func:`fid_from_generator` and
   :func:`fid_from_statistics` return a :class:`FIDResult`, which always carries the name of its
   extractor: FIDs from different extractors are different quantities and are never compared.

Reference statistics of a data set are cached by :mod:`gans.evaluation.reference`. KID, the unbiased
kernel distance computed from the same features and extractor names, lives in :mod:`gans.evaluation.kid`.

The names of the four layers are importable from this module too, for existing callers; inside the
library each is imported from the module that defines it.

Reference:
    Heusel, M., Ramsauer, H., Unterthiner, T., Nessler, B., Hochreiter, S. (2017). GANs trained by a
    two time-scale update rule converge to a local Nash equilibrium. NeurIPS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import keras
import numpy as np

from gans.errors import ConfigError
from gans.evaluation.extractors import get_extractor
from gans.evaluation.features import RESIZE_MODES, FeatureExtractor, MatchChannels
from gans.evaluation.frechet import (FRECHET_METHODS, covariance_root, frechet_distance, trace_sqrt_product_eigh,
                                     trace_sqrt_product_root, trace_sqrt_product_sqrtm)
from gans.evaluation.inception import (INCEPTION_NOTOP_FILE, INCEPTION_NOTOP_MD5, INCEPTION_NOTOP_URL,
                                       INCEPTION_SIZE, OFFLINE_MESSAGE, WEIGHTS_ENV_VAR, inception_extractor,
                                       resolve_inception_weights)
from gans.evaluation.kid import KIDResult, kernel_inception_distance, kid_from_arrays
from gans.evaluation.reference import reference_features, reference_statistics, stats_cache_key
from gans.evaluation.statistics import (ActivationStatistics, activation_statistics, compute_statistics,
                                        warn_if_rank_deficient)

__all__ = [
    # defined here
    "FIDResult",
    "fid_from_arrays",
    "fid_from_generator",
    "fid_from_statistics",
    "generate_images",
    # re-exported from the modules that define them
    "ActivationStatistics",
    "FRECHET_METHODS",
    "FeatureExtractor",
    "INCEPTION_NOTOP_FILE",
    "INCEPTION_NOTOP_MD5",
    "INCEPTION_NOTOP_URL",
    "INCEPTION_SIZE",
    "KIDResult",
    "MatchChannels",
    "OFFLINE_MESSAGE",
    "RESIZE_MODES",
    "WEIGHTS_ENV_VAR",
    "activation_statistics",
    "compute_statistics",
    "covariance_root",
    "frechet_distance",
    "get_extractor",
    "inception_extractor",
    "kernel_inception_distance",
    "kid_from_arrays",
    "reference_features",
    "reference_statistics",
    "resolve_inception_weights",
    "stats_cache_key",
    "trace_sqrt_product_eigh",
    "trace_sqrt_product_root",
    "trace_sqrt_product_sqrtm",
    "warn_if_rank_deficient",
]


@dataclass(frozen=True)
class FIDResult:
    """One FID figure and what it was computed from.

    Attributes:
        fid: the value.
        extractor: the extractor's name; FIDs with different names are not comparable.
        n_a: number of images (or feature vectors) on the first side.
        n_b: the same on the second side.
    """

    fid: float
    extractor: str
    n_a: int
    n_b: int

    def __float__(self) -> float:
        return float(self.fid)

    def __str__(self) -> str:
        return f"FID {self.fid:.4f} [{self.extractor}, n={self.n_a} vs {self.n_b}]"


def fid_from_statistics(a: ActivationStatistics, b: ActivationStatistics, method: str = "eigh") -> FIDResult:
    """FID between two sets of statistics made by the same extractor.

    With the default method the distance uses the square root of one side's covariance
    (:meth:`ActivationStatistics.sigma_root`): the side that already keeps one (a reference loaded from
    its cache or a saved statistics file holds it), else ``b``, which then keeps it. Comparing many sets
    with one reference ``b`` (FID over training steps) therefore solves one eigenvalue problem per
    distance, eigenvalues only, instead of a full eigendecomposition and a second eigenvalue problem.

    Raises:
        ConfigError: the statistics come from different extractors.
    """
    if a.extractor != b.extractor:
        raise ConfigError(f"cannot compare statistics of different extractors ({a.extractor!r} vs "
                          f"{b.extractor!r}); compute both with the same --extractor.")
    if method != "eigh":
        return FIDResult(frechet_distance(a.mu, a.sigma, b.mu, b.sigma, method=method), a.extractor, a.n, b.n)
    other, rooted = (b, a) if a.holds_root and not b.holds_root else (a, b)  # the distance is symmetric
    value = frechet_distance(other.mu, other.sigma, rooted.mu, rooted.sigma, sigma2_root=rooted.sigma_root())
    return FIDResult(value, a.extractor, a.n, b.n)


def fid_from_arrays(images_a: np.ndarray, images_b: np.ndarray,
                    extractor: "str | FeatureExtractor" = "inception", batch_size: int | None = None,
                    method: str = "eigh", progress: bool = True) -> FIDResult:
    """FID between two arrays of images.

    Args:
        images_a: (N, H, W, C) uint8 or [-1, 1] float images (sizes and channel counts may differ
            from ``images_b``'s; each is resized to the extractor's input).
        images_b: the same for the other set.
        extractor: ``"inception"``, ``"lenet"`` or a :class:`FeatureExtractor`.
        batch_size: images per batch (the extractor's default when None).
        method: see :func:`frechet_distance`.
        progress: show progress bars.

    Returns:
        :class:`FIDResult`.
    """
    extractor = get_extractor(extractor)
    a = compute_statistics(images_a, extractor, batch_size, progress)
    b = compute_statistics(images_b, extractor, batch_size, progress)
    return fid_from_statistics(a, b, method)


def _as_generator(generator: "keras.Model | str | os.PathLike") -> keras.Model:
    """A generator model as is, or loaded safely from a checkpoint path (:func:`gans.models.load_generator`)."""
    if isinstance(generator, keras.Model):
        return generator
    from gans.models import load_generator

    return load_generator(generator)


def generate_images(generator: "keras.Model | str | os.PathLike", n: int, batch_size: int = 256,
                    seed: int = 0, labels: np.ndarray | None = None) -> np.ndarray:
    """Draw ``n`` images from a generator with standard-normal latent vectors.

    Args:
        generator: a model or a path to a saved one. Its first input is the latent vector; a
            conditional generator (:mod:`gans.models.cgan`) also takes the class label.
        n: number of images.
        batch_size: images per forward pass.
        seed: seed of the latent vectors (and of nothing else).
        labels: class ids for a conditional generator; default ``arange(n) % K``, an equal number of
            every one of its K classes. They are fed as its label input takes them
            (:func:`gans.models.conditioning.label_inputs`: one-hot rows or integer ids).

    Returns:
        float32 (n, H, W, C) in the generator's output range ([-1, 1] for tanh generators).

    Raises:
        ConfigError: an unknown latent size, labels for an unconditional generator, or labels that are
            not ``n`` class ids in range.
    """
    model = _as_generator(generator)
    latent_shape = tuple(model.inputs[0].shape[1:])
    if any(d is None for d in latent_shape):
        raise ConfigError(f"the generator's latent input has an unknown size {latent_shape}.")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n,) + latent_shape).astype(np.float32)
    inputs = [z]
    if len(model.inputs) > 1:
        from gans.models.conditioning import label_inputs, num_classes_of

        labels = np.arange(n) % num_classes_of(model) if labels is None else np.asarray(labels)
        if len(labels) != n:
            raise ConfigError(f"{len(labels)} labels for {n} images.")
        inputs.append(label_inputs(model, labels))
    elif labels is not None:
        raise ConfigError("labels were given, but this generator is not conditional (it has one input).")
    out = [np.asarray(model.predict_on_batch([x[i:i + batch_size] for x in inputs] if len(inputs) > 1
                                             else inputs[0][i:i + batch_size]), dtype=np.float32)
           for i in range(0, n, batch_size)]
    return np.concatenate(out)


def fid_from_generator(generator: "keras.Model | str | os.PathLike",
                       reference: "np.ndarray | ActivationStatistics | str | os.PathLike",
                       n: int = 5000, extractor: "str | FeatureExtractor" = "inception",
                       batch_size: int = 256, seed: int = 0, method: str = "eigh",
                       progress: bool = True) -> FIDResult:
    """FID of ``n`` generated images against reference images or statistics (the thesis: 5,000 each).

    Args:
        generator: a Keras generator or the path to a saved one (.h5 or .keras).
        reference: real images (N, H, W, C), :class:`ActivationStatistics`, or a statistics .npz path.
        n: number of generated images.
        extractor: ``"inception"``, ``"lenet"`` or a :class:`FeatureExtractor`.
        batch_size: images per generator and extractor batch.
        seed: seed of the latent vectors.
        method: see :func:`frechet_distance`.
        progress: show progress bars.

    Returns:
        :class:`FIDResult`.
    """
    extractor = get_extractor(extractor)
    if isinstance(reference, (str, os.PathLike)):
        reference = ActivationStatistics.load(reference)
    if not isinstance(reference, ActivationStatistics):
        reference = compute_statistics(reference, extractor, batch_size, progress)
    fake = compute_statistics(generate_images(generator, n, batch_size, seed), extractor, batch_size, progress)
    return fid_from_statistics(fake, reference, method)
