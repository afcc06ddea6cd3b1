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
