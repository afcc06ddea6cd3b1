"""Mixed precision: the Keras dtype policy a run's networks compute in (``--precision``).

- ``"float32"`` (the default, and every run before this option): everything in float32.
- ``"mixed_float16"``: layers compute in float16 and keep their weights in float32; the losses are
  multiplied by a dynamic loss scale before the gradients are taken and the gradients divided by it
  before the update (:func:`loss_scaled`), so small float16 gradients do not flush to zero.
- ``"mixed_bfloat16"``: layers compute in bfloat16 (float32's exponent range: no loss scaling).

What computes in the policy, and what stays float32:

- the networks of a run are built inside :func:`policy_scope` (Keras' global policy, set for the
  block and put back afterwards), so every layer keeps the policy in its own config: a process can
  hold runs of two policies, and a saved ``.h5`` loads with the policy it was trained with;
- each network's output layers are set to float32 (:func:`float32_outputs`): images, scores and
  logits leave a network in float32, so sigmoids, losses and everything read from a network (sample
  grids, FID, checkpoints' outputs) are float32, as Keras' mixed-precision guide recommends;
- the models that only wrap networks for training (the combined model, the CAAE's update models,
  the progressive GAN's gradient-penalty critic trainer) are built outside the scope: their own
  layers (concatenations, the gradient penalty) compute in float32; losses are float32 Keras losses;
- variables (weights, batch-norm statistics, optimizer slots) are float32 in every policy; batch
  normalization computes its statistics in float32.

This module is plain data at import (it imports :mod:`gans.errors` only), so the configuration and the
command line read :data:`PRECISIONS` without loading Keras; the functions import Keras when called.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from gans.errors import check_choice

if TYPE_CHECKING:  # pragma: no cover
    import keras

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
DEFAULT = "float32"


def check(value: str, where: str = "precision") -> str:
    """``value`` if it is one of :data:`PRECISIONS`.

    Raises:
        ConfigError: naming the choices.
    """
    return check_choice(value, PRECISIONS, where)


def needs_loss_scaling(precision: str) -> bool:
    """Whether ``precision`` computes gradients in float16, whose range needs a loss scale."""
    return check(precision) == "mixed_float16"


@contextlib.contextmanager
def policy_scope(precision: str) -> Iterator[None]:
    """Build layers in ``precision``: Keras' global dtype policy for the block, the previous one after.

    Keras keeps the global policy per thread; layers read it when they are created and keep it in
    their config, so what is built inside computes in ``precision`` wherever it is used later.
    ``precision`` is one of :data:`PRECISIONS` or any other Keras policy name (:func:`current`'s).
    """
    import keras

    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def current() -> str:
    """The name of the dtype policy layers are built in now (``"float32"`` outside :func:`policy_scope`)."""
    import keras

    return keras.config.dtype_policy().name


def float32_outputs(models: Iterable["keras.Model"]) -> int:
    """Make the layers that produce each model's outputs compute in float32; returns how many changed.

    Under a mixed policy a network's last layer (tanh, sigmoid, a linear score, a fade-in mix) would
    otherwise emit float16 or bfloat16. Set before the model is first traced for training; the layer's
    config then carries float32, so a saved network loads the same way.
    """
    changed = 0
    for model in models:
        for tensor in model.outputs:
            layer = tensor._keras_history.operation
            if layer.dtype_policy.name != "float32":
                layer.dtype_policy = "float32"
                changed += 1
    return changed


def device_warning(precision: str) -> str | None:
    """Why ``precision`` will be slow on this machine, or None.

    mixed_float16 on a machine without a GPU: TensorFlow's CPU kernels for float16 convolutions and
    their gradients are generic ones, far slower than float32 (docs/performance.md has the measurement);
    bfloat16 has fast CPU kernels where the processor supports it (AVX512-BF16, AMX).
    """
    if check(precision) != "mixed_float16":
        return None
    import tensorflow as tf

    if tf.config.list_logical_devices("GPU"):
        return None
    return ("--precision mixed_float16 on a machine without a GPU: TensorFlow's CPU kernels for float16 "
            "convolutions are far slower than float32 ones (see docs/performance.md); on a CPU use "
            "mixed_bfloat16 or float32.")


def loss_scaled(optimizer: "keras.optimizers.Optimizer", precision: str) -> "keras.optimizers.Optimizer":
    """``optimizer`` wrapped in Keras' dynamic ``LossScaleOptimizer`` where ``precision`` needs it
    (:func:`needs_loss_scaling`), else unchanged. The wrapper's scale and counter are optimizer
    variables, so the resumable state saves and restores them with the inner optimizer's."""
    if not needs_loss_scaling(precision):
        return optimizer
    import keras

    return keras.optimizers.LossScaleOptimizer(optimizer)
