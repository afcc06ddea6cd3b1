"""The attribute-biased GAN's step (seed 002, Kim, Ha and Kim 2018, sections 4.2 and 5.2).

The adversarial iteration of :class:`~gans.training.steps.adversarial.AdversarialStep` (D on 16 real
faces, D on 16 generated ones, G through the combined model with D frozen; one-sided label flipping
at gamma 0.05) with one difference: the noise. Every generated face's 160-d input is equation 1
(:func:`gans.models.attribute.attribute_noise`) applied to fresh standard normal draws and the
attribute classifier's outputs on a real training face drawn at random. The classifier reads every
training face once, before training (:meth:`AttributeStep.prepare_data`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError
from gans.models.attribute import ALPHA, BETA, LATENT_DIM, N_ATTRIBUTES, attribute_noise, check_classifier
from gans.training.steps.adversarial import AdversarialStep


class AttributeStep(AdversarialStep):
    """One iteration of the attribute-biased GAN. See :class:`AdversarialStep` for the rest.

    Args:
        generator: maps the 160-d noise of equation 1 to faces (:func:`gans.models.attribute.build_generator`).
        discriminator: faces -> probability of real.
        classifier: the CelebA attribute classifier, a ``keras.Model`` or the path of its .h5.
        alpha: equation 1's first noise weight (the paper's 0.6).
        beta: equation 1's second noise weight (the paper's 0.8).
        *args: as for :class:`AdversarialStep`.
        **kwargs: as for :class:`AdversarialStep`.

    Attributes:
        attribute_outputs: float32 (N, 40), the classifier's outputs on every training face, set by
            :meth:`prepare_data`; the noise of each generated face overlays one of its rows.
    """

    def __init__(self, generator, discriminator, *args, classifier, alpha: float = ALPHA, beta: float = BETA,
                 **kwargs):
        from gans.evaluation.attributes import load_attribute_classifier

        if isinstance(classifier, (str, Path)):
            self.classifier_path = str(classifier)
            classifier = load_attribute_classifier(classifier)
        else:
            self.classifier_path = None
            check_classifier(classifier)
        attribute_noise(np.zeros(N_ATTRIBUTES), np.zeros(LATENT_DIM), alpha, beta)  # checks alpha and beta
        if tuple(generator.inputs[0].shape[1:]) != (LATENT_DIM,):
            raise ConfigError(f"the attribute GAN's generator takes the {LATENT_DIM}-d noise of equation 1 "
                              f"(4 x {N_ATTRIBUTES} attributes), this one {tuple(generator.inputs[0].shape[1:])}; "
                              f"build it with latent_dim={LATENT_DIM}.")
        self.attribute_classifier = classifier
        self.alpha, self.beta = float(alpha), float(beta)
        self.attribute_outputs: np.ndarray | None = None
        super().__init__(generator, discriminator, *args, **kwargs)

    @classmethod
    def family_options(cls, config) -> dict:
        if not config.step_options.get("classifier"):
            raise ConfigError("the attribute GAN builds its noise from a CelebA attribute classifier: pass "
                              "--classifier CLASSIFIER.h5 (train one with 'gans train-classifier celeba --data "
                              "CELEBA_DIR --out DIR').")
        return {}

    def check_data(self, labels: np.ndarray | None) -> None:
        """Any faces will do (the classifier, not the labels, gives the attributes)."""

    def metric_callbacks(self, every: int) -> list:
        """The attribute agreement (with and without the overlay) over training."""
        from gans.evaluation.attributes import AttributeAgreement

        return [AttributeAgreement(every, self.attribute_classifier)]

    def prepare_data(self, images: np.ndarray, labels: np.ndarray | None) -> None:
        """Read every training face with the classifier once (in batches, resized to its input)."""
        from gans.evaluation.attributes import predict_attributes

        channels = check_classifier(self.attribute_classifier)[-1]
        if images.ndim != 4 or images.shape[-1] != channels or not len(images):
            raise DataError(f"the attribute classifier reads faces with {channels} channels; the training images "
                            f"are {images.shape}. Train on colour CelebA faces.")
        self.attribute_outputs = predict_attributes(self.attribute_classifier, images)

    def sample_latents(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Equation 1 on fresh normal draws and the attribute outputs of ``n`` training faces drawn at
        random (faces first, then the draws, both from ``rng``); float32 (n, 160)."""
        if self.attribute_outputs is None:
            raise ConfigError("the attribute GAN's noise needs the classifier's outputs on the training faces: "
                              "call prepare_data(images, labels) first.")
        faces = rng.integers(0, len(self.attribute_outputs), n)
        r = rng.standard_normal((n, self.latent_dim), dtype=np.float32)
        return attribute_noise(self.attribute_outputs[faces], r, self.alpha, self.beta)
