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
in the documentation, docs/training.md, "Frozen batch norm in the generator update", and each
paper's page).

Each family's default follows its reference: its registry entry's ``frozen_batchnorm``
(:mod:`gans.families`), with the source.

This module is plain data: it imports only :mod:`gans.errors` and :mod:`gans.families`, so the
configuration and ``gans list`` read it without loading Keras.
"""

from __future__ import annotations

from gans.errors import check_choice

CHOICES = ("batch", "moving")


def check(value: str, where: str = "frozen_batchnorm") -> str:
    """``value`` if it is one of :data:`CHOICES`.

    Raises:
        ConfigError: naming the choices.
    """
    return check_choice(value, CHOICES, where)


def default_for(variant: str) -> str:
    """The family's default: what its reference did (:attr:`gans.families.Family.frozen_batchnorm`;
    ``"moving"``, Keras 3's own, for a name no family has)."""
    from gans import families

    family = families.FAMILIES.get(str(variant).lower())
    return family.frozen_batchnorm[0] if family is not None else "moving"
