"""The MNIST paper's unconditional DCGAN (seed 004), as a builder module of its own.

Its networks are :func:`gans.models.cgan.build_dcgan_generator` and
:func:`~gans.models.cgan.build_dcgan_discriminator` (the CCGAN without the label, with the same
capacity F and discriminator depth D); this module gives them the ``build_<role>`` names every
builder module has, so a :class:`~gans.config.NetworkSpec` can name them and ``gans sweep`` can vary
F and D as it does for the CCGAN. It is distinct from :mod:`gans.models.dcgan`, the thesis's DCGAN.
"""

from __future__ import annotations

from gans.models.cgan import build_dcgan_discriminator as build_discriminator
from gans.models.cgan import build_dcgan_generator as build_generator

__all__ = ["build_discriminator", "build_generator"]
