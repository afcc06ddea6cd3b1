"""The WGAN step: the adversarial iteration with n_critic critic updates and a clipped critic."""

from __future__ import annotations

from gans.errors import ConfigError
from gans.training.steps.adversarial import AdversarialStep


class WGANStep(AdversarialStep):
    """One WGAN iteration: 5 critic updates (labels -1 real / +1 fake), then one generator update.

    The critic's weights must be clipped (Arjovsky et al. 2017): build it with ``clip_value`` (a
    :class:`gans.layers.ClipConstraint` on every weight, applied inside the optimizer update). The
    step refuses an unclipped critic rather than train a WGAN without its Lipschitz constraint.
    """

    default_n_critic = 5

    def __init__(self, generator, discriminator, loss="wasserstein", *args, **kwargs):
        super().__init__(generator, discriminator, loss, *args, **kwargs)
        if self.discriminator_loss.name != "wasserstein":
            raise ConfigError(f"WGANStep trains with the Wasserstein loss, got {self.discriminator_loss.name!r}.")
        unclipped = [v.path for v in discriminator.trainable_variables if getattr(v, "constraint", None) is None]
        if unclipped:
            raise ConfigError(
                f"the WGAN critic has unclipped weights ({', '.join(unclipped[:3])}...); build it with "
                "clip_value=0.01 (gans.models.wgan.build_discriminator does by default)."
            )
