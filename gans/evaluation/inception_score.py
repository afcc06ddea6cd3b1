"""Classifier inception score and conditional-agreement accuracy.

The MNIST paper (seed 004, section 3.3) scores generated digits with a LeNet classifier instead of
InceptionV3: an ImageNet network says little about digits. Two figures come from the same
probabilities p(y|x):

* the inception score, IS = exp(E_x[KL(p(y|x) || p(y))]): high when each image is classified
  confidently (sharp p(y|x)) and the classes are used evenly (flat p(y)); it lies between 1 and the
  number of classes;
* for a conditional generator, the agreement accuracy: how often the classifier reads the label the
  generator was asked for (the paper's "inception score of 97.6%" is this accuracy).

Reference:
    Salimans, T., Goodfellow, I., Zaremba, W., Cheung, V., Radford, A., Chen, X. (2016). Improved
    techniques for training GANs. NeurIPS.
"""

from __future__ import annotations

import numpy as np

from gans.errors import DataError


def inception_score_from_probs(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Inception score from class probabilities, as mean and standard deviation over splits.

    Args:
        probs: (N, classes) rows of p(y|x), each summing to 1.
        splits: the images are cut into this many equal parts and the score computed on each (the
            protocol of Salimans et al., who used 10); 1 scores all images at once.

    Returns:
        (mean, std) of exp(E[KL(p(y|x) || p(y))]) over the splits.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) < splits or splits < 1:
        raise DataError(f"need (N, classes) probabilities with N >= splits >= 1; got {probs.shape}, "
                        f"splits={splits}.")
    if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3) or (probs < 0).any():
        raise DataError("rows of probs must be probability distributions (non-negative, summing to 1); "
                        "pass the classifier's softmax output.")
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(axis=0, keepdims=True)
        # 0 * log(0) is 0: where p(y|x) is 0 the term vanishes, so mask it rather than add an epsilon.
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0)
        scores.append(float(np.exp(terms.sum(axis=1).mean())))
    return float(np.mean(scores)), float(np.std(scores))


def classifier_inception_score(images: np.ndarray, classifier=None, splits: int = 10,
                               batch_size: int = 512) -> tuple[float, float]:
    """Inception score of images under a classifier (the MNIST LeNet-5 by default).

    Args:
        images: uint8 or [-1, 1] images the classifier accepts.
        classifier: a Keras classifier with softmax output; None loads the cached MNIST LeNet-5.
        splits: see :func:`inception_score_from_probs`.
        batch_size: images per batch.

    Returns:
        (mean, std) over splits.
    """
    from gans.evaluation.classifier import load_or_train_lenet, predict_probabilities

    if classifier is None:
        classifier, _ = load_or_train_lenet()
    return inception_score_from_probs(predict_probabilities(classifier, images, batch_size), splits)


def conditional_accuracy(images: np.ndarray, requested_labels: np.ndarray, classifier=None,
                         batch_size: int = 512) -> float:
    """How often the classifier reads the label a conditional generator was asked for.

    Args:
        images: generated images.
        requested_labels: the label each image was generated for.
        classifier: a Keras classifier; None loads the cached MNIST LeNet-5.
        batch_size: images per batch.

    Returns:
        Accuracy in [0, 1].
    """
    from gans.evaluation.classifier import evaluate_accuracy, load_or_train_lenet

    requested_labels = np.asarray(requested_labels)
    if len(requested_labels) != len(images):
        raise DataError(f"{len(requested_labels)} labels for {len(images)} images.")
    if classifier is None:
        classifier, _ = load_or_train_lenet()
    return evaluate_accuracy(classifier, images, requested_labels, batch_size)
