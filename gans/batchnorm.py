"""Which statistics a frozen network's batch normalization uses in a generator update.

Every family trains its generator (the CAAE: its encoder and generator) through a model in which the
discriminators are frozen (:func:`gans.training.freeze.set_trainable`). A frozen network still runs in
training mode there, and its batch-normalization layers can normalize in one of two ways:

- ``"batch"``: with the current batch's mean and variance, as the discriminator's own update just
  did; neither the layer's weights nor its moving statistics change. This is what Keras 2 (standalone,
  up to 2.3) and TensorFlow 1 did: ``trainable = False`` only stopped the weight updates.
- ``"moving"``: with the layer's moving mean and variance (inference mode). This is what tf.keras has
  done since TensorFlow 2.0, and what Keras 3 does.

The two are different functions: with the thesis's separate real and fake batches, the moving
statistics average batches that batch mode normalizes apart, so under ``"moving"`` the generator
learns against another function than the discriminator that was just trained (the measurements are
in the README, "Frozen batch norm in the generator update").

Each family's default follows its reference, in :data:`REFERENCE_DEFAULTS`, with the source.

This module is plain data: it imports only :mod:`gans.errors`, so the configuration and ``gans list``
read it without loading Keras.
"""

from __future__ import annotations

from gans.errors import check_choice

CHOICES = ("batch", "moving")

# variant -> (default, why). A variant whose discriminator has no batch normalization gets "batch",
# which then changes nothing (noted as such).
REFERENCE_DEFAULTS: dict[str, tuple[str, str]] = {
    # The thesis (January 2022): its model summaries name the combined model's parts "Functional",
    # a class name tf.keras has used since TensorFlow 2.3, whose frozen BatchNormalization runs in
    # inference mode.
    "gan": ("moving", "thesis: tf.keras on TensorFlow 2 (model summaries show 'Functional' models)"),
    "dcgan": ("moving", "thesis: tf.keras on TensorFlow 2 (model summaries show 'Functional' models)"),
    "lsgan": ("moving", "thesis: tf.keras on TensorFlow 2 (model summaries show 'Functional' models)"),
    "wgan": ("moving", "thesis: tf.keras on TensorFlow 2 (model summaries show 'Functional' models)"),
    # Seed 004's public code (martinferianc/GANs-EIE4, 2019): standalone Keras 2 on TensorFlow 1,
    # D compiled, then D.trainable = False and the combined model compiled; its D has batch norm.
    "cgan": ("batch", "seed 004's code: standalone Keras 2 on TensorFlow 1 (frozen BN uses batch statistics)"),
    "mnist_dcgan": ("batch", "seed 004's code: standalone Keras 2 on TensorFlow 1 (frozen BN uses batch statistics)"),
    # Seed 002 (Stanford CS230, winter 2018) names no framework and its code is not public; measured
    # here (README, 'Frozen batch norm'; 64x52 faces, 1,000 steps): with batch norm in D, "batch" gave
    # faces with a diversity ratio of 0.96, "moving" collapsed to noise (0.17).
    "attribute": ("batch", "seed 002 names no framework; measured: with BN in D 'batch' trains, 'moving' collapses"),
    # The PGGAN's discriminator has no batch normalization (Karras et al.; seed 001's MSE recipe).
    "pggan": ("batch", "no batch norm in the progressive discriminator: the choice changes nothing"),
    # Both CAAE codes: the TensorFlow reference builds the E/G loss with batch_norm(is_training=True),
    # the PyTorch one calls train() on every network before the E/G loss.
    "caae": ("batch", "both CAAE references: D_z and D_img in training mode in the E/G loss"),
}


def check(value: str, where: str = "frozen_batchnorm") -> str:
    """``value`` if it is one of :data:`CHOICES`.

    Raises:
        ConfigError: naming the choices.
    """
    return check_choice(value, CHOICES, where)


def default_for(variant: str) -> str:
    """The family's default: what its reference did (``"moving"`` for a variant not listed)."""
    return REFERENCE_DEFAULTS.get(str(variant).lower(), ("moving", ""))[0]
