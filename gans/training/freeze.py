"""The one rule for freezing the discriminator under Keras 3.

Keras 2 recipe: set ``discriminator.trainable = False``, compile the combined model, never touch the
flag again; compile captured the trainable weights. Keras 3 does not read the flag at compile: it
reads it when a model's train function is traced, on that model's first ``train_on_batch`` (and again
whenever the function is retraced, e.g. for a new batch shape). Under the Keras 2 recipe the
discriminator's own ``train_on_batch`` then traces with the flag False and updates nothing; the only
sign is a UserWarning.

So the flag is set right before every call that may trace: True before each discriminator step,
False before each generator step through the combined model. Setting it is cheap when it does not
change (checked first), and a trace always sees the right value.
"""

from __future__ import annotations

import keras


def set_trainable(model: keras.Model, trainable: bool) -> None:
    """Set ``model.trainable`` (recursively, as Keras does) only if it differs.

    Call it immediately before the ``train_on_batch`` whose update should (True) or should not
    (False) reach ``model``'s weights.
    """
    if model.trainable != trainable:
        model.trainable = trainable


def set_frozen_batchnorm(models, mode: str) -> int:
    """Choose what every batch-normalization layer of ``models`` does while frozen in a training pass.

    ``"batch"``: the current batch's statistics, nothing updated (Keras 2 and TensorFlow 1);
    ``"moving"``: the moving statistics (Keras 3). See :mod:`gans.batchnorm`. The choice is stored on
    each :class:`gans.layers.BatchNormalization` and
    :class:`gans.layers.VirtualBatchNormalization` (and in their configs, so a saved network keeps
    it) and read when a training function is traced, as ``trainable`` is: set it before the first
    step, and call :meth:`~gans.training.steps.base.Step.networks_changed` if it changes later.

    Returns:
        How many layers were set.

    Raises:
        ConfigError: an unknown mode, or ``"batch"`` for a network with Keras' own BatchNormalization,
            which cannot normalize with batch statistics while frozen (build it with
            ``gans.layers.BatchNormalization``).
    """
    from gans import batchnorm
    from gans.errors import ConfigError
    from gans.layers import BatchNormalization, VirtualBatchNormalization

    batchnorm.check(mode, "--frozen-batchnorm")
    count = 0
    for model in models:
        for layer in model._flatten_layers(include_self=False):
            if isinstance(layer, (BatchNormalization, VirtualBatchNormalization)):
                layer.frozen_statistics = mode
                count += 1
            elif isinstance(layer, keras.layers.BatchNormalization) and mode == "batch":
                raise ConfigError(
                    f"{model.name}'s layer {layer.name} is Keras' own BatchNormalization, which always uses its "
                    "moving statistics while frozen; build the network with gans.layers.BatchNormalization, or "
                    "train with --frozen-batchnorm moving.")
    return count
