"""The attribute GAN's command-line options (seed 002): the attribute classifier its noise reads, the
weight of the attribute-consistency term and the discriminator (the paper's, or a projection one).

Its configuration, ``attribute-celeba``, is in the named configurations (:data:`gans.experiments.NAMED`).
This module is plain data and imports no Keras.
"""

from __future__ import annotations

from pathlib import Path

from gans.config import GANConfig
from gans.errors import ConfigError
from gans.families import Option

DISCRIMINATORS = ("paper", "projection")

OPTIONS = (
    Option(("--classifier",), "the CelebA attribute classifier whose outputs bias the noise (from 'gans "
           "train-classifier celeba')", metavar="CLASSIFIER.h5"),
    Option(("--attribute-weight",), "weight of the attribute-consistency term (not in the paper): in the generator's "
           "update the frozen classifier reads G's faces and a cross-entropy pulls its 40 outputs toward the "
           "attributes overlaid on their noise; default 0, the paper's method (see docs/attribute-celeba.md)",
           kind="weight", metavar="W"),
    Option(("--attribute-discriminator",), "the discriminator: 'paper' (the default: it sees the face alone) or "
           "'projection' (not in the paper; Miyato and Koyama 2018): it reads a real face beside the classifier's "
           "reading of that face and a generated one beside the attributes overlaid on its noise (the "
           "discriminator's network option num_attributes=40; see docs/attribute-celeba.md)",
           choices=DISCRIMINATORS),
)


def config_from_args(args, base: GANConfig) -> GANConfig:
    """``base`` reading the classifier ``--classifier`` names (recorded in config.json, absolute), with
    the ``--attribute-weight`` and the ``--attribute-discriminator`` asked for."""
    weight = getattr(args, "attribute_weight", None)
    if weight is not None:
        base = base.replace(step_options={**base.step_options, "attribute_weight": float(weight)})
    discriminator = getattr(args, "attribute_discriminator", None)
    if discriminator is not None:
        base = with_discriminator(base, discriminator)
    path = getattr(args, "classifier", None)
    if not path:
        return base
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"--classifier {path} does not exist; train one with 'gans train-classifier celeba "
                          "--data CELEBA_DIR --out DIR' (it writes DIR/classifier.h5).")
    return base.replace(step_options={**base.step_options, "classifier": str(path.resolve())})


def with_discriminator(config: GANConfig, kind: str) -> GANConfig:
    """``config`` with the paper's discriminator or a projection one (``kind``, one of
    :data:`DISCRIMINATORS`): the discriminator network's ``num_attributes``, 0 or 40."""
    from gans.models.attribute import N_ATTRIBUTES

    if kind not in DISCRIMINATORS:
        raise ConfigError(f"the attribute GAN's discriminator is one of {', '.join(DISCRIMINATORS)}, got {kind!r}.")
    spec = config.networks["discriminator"]
    options = {**spec.options, "num_attributes": N_ATTRIBUTES if kind == "projection" else 0}
    return config.replace(networks={**config.networks, "discriminator": type(spec)(spec.builder, options)})
