"""The attribute GAN's command-line options (seed 002): the attribute classifier its noise reads and the
weight of the attribute-consistency term.

Its configuration, ``attribute-celeba``, is in the named configurations (:data:`gans.experiments.NAMED`).
This module is plain data and imports no Keras.
"""

from __future__ import annotations

from pathlib import Path

from gans.config import GANConfig
from gans.errors import ConfigError
from gans.families import Option

OPTIONS = (
    Option(("--classifier",), "the CelebA attribute classifier whose outputs bias the noise (from 'gans "
           "train-classifier celeba')", metavar="CLASSIFIER.h5"),
    Option(("--attribute-weight",), "weight of the attribute-consistency term (not in the paper): in the generator's "
           "update the frozen classifier reads G's faces and a cross-entropy pulls its 40 outputs toward the "
           "attributes overlaid on their noise; default 0, the paper's method (see docs/attribute-celeba.md)",
           kind="weight", metavar="W"),
)


def config_from_args(args, base: GANConfig) -> GANConfig:
    """``base`` reading the classifier ``--classifier`` names (recorded in config.json, absolute), with
    the ``--attribute-weight`` asked for."""
    weight = getattr(args, "attribute_weight", None)
    if weight is not None:
        base = base.replace(step_options={**base.step_options, "attribute_weight": float(weight)})
    path = getattr(args, "classifier", None)
    if not path:
        return base
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"--classifier {path} does not exist; train one with 'gans train-classifier celeba "
                          "--data CELEBA_DIR --out DIR' (it writes DIR/classifier.h5).")
    return base.replace(step_options={**base.step_options, "classifier": str(path.resolve())})
