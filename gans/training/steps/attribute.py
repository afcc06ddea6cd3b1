"""The attribute-biased GAN's step (seed 002, Kim, Ha and Kim 2018, sections 4.2 and 5.2).

The adversarial iteration of :class:`~gans.training.steps.adversarial.AdversarialStep` (D on 16 real
faces, D on 16 generated ones, G through the combined model with D frozen; one-sided label flipping
at gamma 0.05) with one difference: the noise. Every generated face's 160-d input is equation 1
(:func:`gans.models.attribute.attribute_noise`) applied to fresh standard normal draws and the
attribute classifier's outputs on a real training face drawn at random. The classifier reads every
training face once, before training (:meth:`AttributeStep.prepare_data`).

Two additions that are not in the paper tie the overlaid attributes to the image, each alone or both:
the attribute-consistency term (``attribute_weight``: the frozen classifier reads G's faces in the
generator's update) and a projection discriminator (Miyato and Koyama 2018; a discriminator built with
``num_attributes``), which reads a real face beside the classifier's reading of that same face and a
generated face beside the attributes overlaid on its noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError
from gans.models.attribute import (ALPHA, BETA, LATENT_DIM, N_ATTRIBUTES, attribute_noise, build_attribute_gan,
                                   check_attribute_discriminator, check_attribute_weight, check_classifier)
from gans.training.steps.adversarial import AdversarialStep


class AttributeStep(AdversarialStep):
    """One iteration of the attribute-biased GAN. See :class:`AdversarialStep` for the rest.

    Args:
        generator: maps the 160-d noise of equation 1 to faces (:func:`gans.models.attribute.build_generator`).
        discriminator: faces -> probability of real (the paper's), or ``[faces, attributes]`` -> probability
            of real (a projection discriminator, :func:`gans.models.attribute.build_discriminator` with
            ``num_attributes=40``): real faces come with the classifier's reading of each, fakes with the
            attributes overlaid on their noise.
        classifier: the CelebA attribute classifier, a ``keras.Model`` or the path of its .h5.
        alpha: equation 1's first noise weight (the paper's 0.6).
        beta: equation 1's second noise weight (the paper's 0.8).
        *args: as for :class:`AdversarialStep`.
        **kwargs: as for :class:`AdversarialStep`.

        attribute_weight: weight of the attribute-consistency term (not in the paper; 0, the default,
            is the paper's method): in the generator's update the frozen classifier reads G's faces and
            a binary cross-entropy pulls its outputs toward the attributes overlaid on their noise.

    Attributes:
        attribute_outputs: float32 (N, 40), the classifier's outputs on every training face, set by
            :meth:`prepare_data`; the noise of each generated face overlays one of its rows.
        attribute_base_rates: (40,) each attribute's share of the training faces (their CelebA labels,
            or the classifier's reading without labels), set by :meth:`prepare_data`.
        projection: whether the discriminator is a projection discriminator (reads the attributes).
    """

    def __init__(self, generator, discriminator, *args, classifier, alpha: float = ALPHA, beta: float = BETA,
                 attribute_weight: float = 0.0, **kwargs):
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
        self.attribute_weight = check_attribute_weight(attribute_weight)
        self.projection = bool(check_attribute_discriminator(discriminator))
        self.attribute_outputs: np.ndarray | None = None
        self.attribute_base_rates: np.ndarray | None = None
        if self.attribute_weight:
            classifier.trainable = False  # never trained here: frozen before any model that holds it is traced
            self.loss_names = (*self.loss_names, "attribute_loss")
        super().__init__(generator, discriminator, *args, **kwargs)

    def build_combined_model(self):
        """The paper's noise -> G -> D (:func:`gans.models.attribute.build_attribute_gan`); a projection
        discriminator also reads the overlaid attributes, the model's second input; with an
        ``attribute_weight`` the classifier reads the same faces as a second output, its binary
        cross-entropy against the attributes overlaid on their noise weighted by ``attribute_weight``."""
        import keras

        classifier = self.attribute_classifier if self.attribute_weight else None
        model = build_attribute_gan(self._generator, self.discriminator, classifier)
        if not self.attribute_weight:
            return model, self.loss.make(), None
        return model, [self.loss.make(), keras.losses.BinaryCrossentropy()], [1.0, self.attribute_weight]

    def build_optimizers(self) -> None:
        """As every step's, and with the consistency term also the combined model's per-output loss
        trackers (variables Keras makes on the first update; made inside the fused iteration's trace
        they would make it trace twice), from one eager loss on zeros; their values are reset."""
        super().build_optimizers()
        if self.attribute_weight:
            attributes = np.zeros((1, N_ATTRIBUTES), np.float32)
            noise = self.combined_inputs(np.zeros((1, LATENT_DIM), np.float32), attributes)
            targets = (self.loss.labels(1, real=True), attributes)
            self.combined.compute_loss(x=noise, y=targets, y_pred=self.combined(noise, training=False))
            for metric in self.combined.metrics:
                metric.reset_state()

    def combined_inputs(self, noise: np.ndarray, attributes: np.ndarray):
        """The combined model's inputs: the noise, and with a projection discriminator the attributes
        overlaid on it."""
        return [noise, attributes] if self.projection else noise

    def draw_fakes(self, n: int, rng: np.random.Generator):
        """Equation 1's noise for the fakes of a discriminator step (as :meth:`sample_latents` draws it)
        and, for a projection discriminator, the attribute vector overlaid on each fake's noise."""
        noise, attributes = self.draw_noise(n, rng)
        return noise, (attributes if self.projection else None)

    def discriminator_inputs(self, images: np.ndarray, labels: np.ndarray | None):
        """Real faces; for a projection discriminator beside the classifier's reading of each
        (``labels``: the rows of :meth:`batch_labels` that came with the batch)."""
        if not self.projection:
            return images
        if labels is None or len(labels) != len(images):
            raise DataError("the projection discriminator reads each real face beside the classifier's reading of "
                            "it: give the batch source labels=step.batch_labels(labels) after prepare_data.")
        return [images, np.asarray(labels, np.float32)]

    def batch_labels(self, labels: np.ndarray | None) -> np.ndarray | None:
        """For a projection discriminator the classifier's outputs on each training face
        (:attr:`attribute_outputs`), which the real batches carry beside their faces; None otherwise
        (the CelebA labels are not read in training)."""
        if not self.projection:
            return None
        if self.attribute_outputs is None:
            raise ConfigError("the projection discriminator pairs each real face with the classifier's reading of "
                              "it: call prepare_data(images, labels) first.")
        return self.attribute_outputs

    def generator_draws(self, n: int, rng: np.random.Generator):
        """Equation 1's noise (as :meth:`sample_latents` draws it) and, for a projection discriminator, the
        attributes overlaid on it; the fakes labelled real and, with an ``attribute_weight``, the
        attribute vector overlaid on each face's noise as the classifier's target."""
        noise, attributes = self.draw_noise(n, rng)
        targets = self.loss.labels(n, real=True)
        return self.combined_inputs(noise, attributes), ((targets, attributes) if self.attribute_weight else targets)

    def generator_update(self, draws, run) -> dict:
        """The paper's update; with an ``attribute_weight`` its adversarial part is ``g_loss`` and the
        classifier's cross-entropy (unweighted) ``attribute_loss``."""
        if not self.attribute_weight:
            return super().generator_update(draws, run)
        losses = run.train_losses(self.combined, draws.g_inputs, draws.g_targets)
        adversarial, attributes = (f"{name}_loss" for name in self.combined.output_names)
        return {"g_loss": losses[adversarial], "attribute_loss": losses[attributes]}

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
        from gans.evaluation.attributes import base_rates, predict_attributes

        channels = check_classifier(self.attribute_classifier)[-1]
        if images.ndim != 4 or images.shape[-1] != channels or not len(images):
            raise DataError(f"the attribute classifier reads faces with {channels} channels; the training images "
                            f"are {images.shape}. Train on colour CelebA faces.")
        self.attribute_outputs = predict_attributes(self.attribute_classifier, images)
        self.attribute_base_rates = base_rates(labels, self.attribute_outputs)

    def sample_latents(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Equation 1 on fresh normal draws and the attribute outputs of ``n`` training faces drawn at
        random (faces first, then the draws, both from ``rng``); float32 (n, 160)."""
        return self.draw_noise(n, rng)[0]

    def draw_noise(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`sample_latents`' noise and the (n, 40) attribute vectors overlaid on it."""
        if self.attribute_outputs is None:
            raise ConfigError("the attribute GAN's noise needs the classifier's outputs on the training faces: "
                              "call prepare_data(images, labels) first.")
        faces = rng.integers(0, len(self.attribute_outputs), n)
        r = rng.standard_normal((n, self.latent_dim), dtype=np.float32)
        attributes = self.attribute_outputs[faces]
        return attribute_noise(attributes, r, self.alpha, self.beta), attributes
