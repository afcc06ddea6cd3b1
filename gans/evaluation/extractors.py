"""Choosing a feature extractor by name: the names, the default for a data set, and their options.

``gans fid`` and training runs both go through these functions, so the rule for which extractor a
data set gets and the keyword arguments each extractor takes are written once. Nothing heavy is
imported at module level (the command line reads :data:`EXTRACTORS` for its choices); the networks
are built inside :func:`get_extractor`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from gans.errors import ConfigError

if TYPE_CHECKING:
    from gans.evaluation.features import FeatureExtractor

EXTRACTORS = ("inception", "lenet")
# The resize modes offered on the command line (a subset of gans.evaluation.features.RESIZE_MODES).
RESIZE_CHOICES = ("bilinear", "nearest", "bicubic", "area")
# Data sets the MNIST LeNet-5 can read (28x28 grayscale digits): they get the offline LeNet FID by
# default; every other data set gets the thesis's InceptionV3.
LENET_DATASETS = frozenset({"mnist"})


def default_extractor_name(dataset: str) -> str:
    """The extractor a data set's FID uses when none is named.

    Args:
        dataset: the data set's name, e.g. ``"mnist"`` or ``"celeba"``.

    Returns:
        ``"lenet"`` for MNIST-like grayscale digits (offline, no download), ``"inception"`` otherwise.
    """
    return "lenet" if dataset in LENET_DATASETS else "inception"


def extractor_options(name: str, *, inception_weights: str | os.PathLike | None = None,
                      lenet_data: str | os.PathLike | None = None, resize_mode: str | None = None,
                      batch_size: int | None = None, progress: bool | None = None) -> dict:
    """The keyword arguments of the named extractor's constructor, from options that may not apply.

    An option left ``None`` (or an empty path) is left out, so the constructor's default holds; an
    option the named extractor does not take (LeNet's training data for InceptionV3, say) is ignored.

    Args:
        name: ``"inception"`` or ``"lenet"``.
        inception_weights: InceptionV3 weights: ``"imagenet"`` or a local no-top .h5 file
            (:func:`gans.evaluation.inception.inception_extractor`'s ``weights``).
        lenet_data: MNIST .npz or IDX folder the LeNet-5 is trained on at first use
            (:func:`gans.evaluation.classifier.load_or_train_lenet`'s ``data_path``).
        resize_mode: interpolation to the extractor's input size.
        batch_size: images per batch.
        progress: show a progress bar while the LeNet-5 trains.

    Returns:
        A dict for ``get_extractor(name, **options)``.

    Raises:
        ConfigError: an unknown name.
    """
    check_extractor_name(name)
    if name == "inception":
        options = {"weights": inception_weights}
    else:
        options = {"data_path": lenet_data, "progress": progress}
    options.update(resize_mode=resize_mode, batch_size=batch_size)
    return {key: value for key, value in options.items() if value is not None and value != ""}


def lenet_data(*candidates) -> str | None:
    """The MNIST the LeNet-5 extractor learns from, by one rule for training runs and ``gans fid``: the
    first candidate that is MNIST (``--lenet-data``, then the data the images come from: a run's own
    training data, an MNIST source of ``gans fid``); None when none is, and the LeNet then learns from
    Keras' MNIST or the offline protocol (:func:`gans.evaluation.classifier.mnist_training_protocol`).
    The extractor's name (``lenet5:mnist-N-DIGEST``) names what it learnt from in every FID line."""
    from gans.datasets.mnist import mnist_path

    return next((found for found in map(mnist_path, candidates) if found), None)


def check_extractor_name(name: str) -> None:
    """Raise :class:`~gans.errors.ConfigError` unless ``name`` is one of :data:`EXTRACTORS`."""
    if name not in EXTRACTORS:
        raise ConfigError(f"unknown extractor {name!r}; use {' or '.join(map(repr, EXTRACTORS))}.")


def get_extractor(spec: "str | FeatureExtractor" = "inception", **kwargs) -> "FeatureExtractor":
    """An extractor from its short name.

    Args:
        spec: ``"inception"``, ``"lenet"``, or a :class:`~gans.evaluation.features.FeatureExtractor`
            (returned as is).
        **kwargs: passed to :func:`gans.evaluation.inception.inception_extractor` or
            :func:`gans.evaluation.classifier.lenet_extractor` (see :func:`extractor_options`).

    Returns:
        The :class:`~gans.evaluation.features.FeatureExtractor`.

    Raises:
        ConfigError: an unknown name.
    """
    from gans.evaluation.features import FeatureExtractor

    if isinstance(spec, FeatureExtractor):
        return spec
    check_extractor_name(spec)
    if spec == "inception":
        from gans.evaluation.inception import inception_extractor

        return inception_extractor(**kwargs)
    from gans.evaluation.classifier import lenet_extractor

    return lenet_extractor(**kwargs)
