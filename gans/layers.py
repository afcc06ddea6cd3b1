"""Every custom layer and constraint of the library, each registered with Keras and fully configurable.

Keeping them in one module means ``import gans`` registers everything a saved model can contain, so a
checkpoint loads with ``keras.models.load_model`` (safe mode on) in a fresh process.
"""

from __future__ import annotations

import keras
from keras import ops

from gans.errors import ConfigError

PACKAGE = "gans"


@keras.saving.register_keras_serializable(package=PACKAGE)
class ClipConstraint(keras.constraints.Constraint):
    """Clip every entry of a weight to ``[-clip_value, clip_value]`` after each optimizer update.

    This is the WGAN critic's Lipschitz device: Arjovsky et al. (2017) keep the critic's weights in a
    small hypercube, 0.01 in the paper and in the thesis (section 3.3.3). As a kernel constraint it
    runs inside the optimizer's update, so no weights are copied through numpy on every step.

    Args:
        clip_value: half-width of the hypercube, > 0.
    """

    def __init__(self, clip_value: float = 0.01):
        clip_value = float(clip_value)
        if not clip_value > 0:
            raise ConfigError(f"clip_value must be > 0, got {clip_value}.")
        self.clip_value = clip_value

    def __call__(self, w):
        return ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self):
        return {"clip_value": self.clip_value}
