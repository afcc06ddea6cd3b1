"""Step objects, one module per family, and the registry that maps a variant to its step class.

The contract every step honours is :class:`~gans.training.steps.base.Step`. :data:`FAMILIES` is the
one place a variant name meets code: its builders come from :func:`gans.models.get_variant`, its step
class from here. The Trainer, run assembly and the CLI look families up; none of them branch on names.
"""

from __future__ import annotations

from gans.errors import ConfigError
from gans.training.steps.adversarial import AdversarialStep
from gans.training.steps.attribute import AttributeStep
from gans.training.steps.base import Step
from gans.training.steps.caae import CAAEStep
from gans.training.steps.conditional import ConditionalStep
from gans.training.steps.pggan import PGGANStep
from gans.training.steps.wgan import WGANStep

# variant -> step class. Builders: gans.models.<variant> (gans.models.get_variant).
FAMILIES: dict[str, type[Step]] = {
    "gan": AdversarialStep,
    "dcgan": AdversarialStep,
    "lsgan": AdversarialStep,
    "wgan": WGANStep,
    "cgan": ConditionalStep,
    "mnist_dcgan": AdversarialStep,
    "attribute": AttributeStep,
    "pggan": PGGANStep,
    "caae": CAAEStep,
}


def step_class(variant: str) -> type[Step]:
    """The step class of a variant name."""
    try:
        return FAMILIES[str(variant).lower()]
    except KeyError:
        raise ConfigError(f"unknown variant {variant!r}; expected one of {sorted(FAMILIES)}.") from None


def build_networks(config) -> dict:
    """Every network of ``config`` (role -> keras.Model), built in the order the config lists them, in
    the dtype policy ``config.precision`` names (:func:`gans.precision.policy_scope`)."""
    from gans.precision import policy_scope

    context = {"latent_dim": config.latent_dim, "image_shape": tuple(config.image_shape),
               "num_classes": config.num_classes}
    with policy_scope(config.precision):
        return {role: spec.build(role, **context) for role, spec in config.networks.items()}


def make_step(config, networks: dict | None = None) -> Step:
    """The step object for a :class:`~gans.config.GANConfig`, around ``networks`` (built when None), its
    frozen networks' batch normalization set by ``config.frozen_batchnorm`` and its networks' outputs
    float32 under a mixed ``config.precision`` (the optimizers' loss scale comes with
    :meth:`~gans.config.OptimizerSpec.build`)."""
    step = step_class(config.variant).from_config(config, networks if networks is not None else build_networks(config))
    step.use_frozen_batchnorm(config.frozen_batchnorm)
    step.use_precision(config.precision)
    return step


__all__ = ["FAMILIES", "AdversarialStep", "AttributeStep", "CAAEStep", "ConditionalStep", "PGGANStep", "Step", "WGANStep", "build_networks",
           "make_step", "step_class"]
