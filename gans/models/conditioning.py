"""How a class-conditional model takes its labels: one-hot rows or integer ids into an input named
"label". Every conditional family's networks follow it (the CCGAN's builders make them), and the
commands that draw from any conditional generator (``gans sample``, FID per class, the synthetic-data
study) read the class count and make the label input here, without knowing the family.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from gans.errors import ConfigError

EMBEDDING_LAYER = "label_embedding"  # num_classes_of reads an embedding model's class count from it


def label_inputs(model: keras.Model, labels) -> np.ndarray:
    """Integer class ids as the ``label`` input of a conditional model built here expects them.

    Args:
        model: a model with an input named "label" (a conditional generator or discriminator, or a
            model wrapping one with the same input).
        labels: 1-D integer class ids in ``0 .. num_classes - 1``.

    Returns:
        float32 one-hot rows (n, num_classes) for a one-hot model, int32 ids (n, 1) for an embedding
        model.

    Raises:
        ConfigError: the model is not conditional, or the labels are not 1-D integers in range.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ConfigError(f"labels must be a 1-D array of class ids, got shape {labels.shape}; "
                          "pass e.g. np.array([0, 1, 2]).")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"labels must be integer class ids, got dtype {labels.dtype}; pass labels.astype(int).")
    num_classes = num_classes_of(model)
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ConfigError(f"label {bad[0]} is out of range 0-{num_classes - 1} for a model with "
                          f"{num_classes} classes.")
    if _is_embedding(_label_tensor(model)):
        return labels.astype("int32").reshape(-1, 1)
    return np.eye(num_classes, dtype="float32")[labels]


def num_classes_of(model: keras.Model) -> int:
    """The number of classes a conditional model takes, read from its ``label`` input.

    Raises:
        ConfigError: the model has no input named "label".
    """
    label = _label_tensor(model)
    if not _is_embedding(label):
        return int(label.shape[-1])
    for layer in _all_layers(model):
        if isinstance(layer, layers.Embedding) and layer.name == EMBEDDING_LAYER:
            return int(layer.input_dim)
    raise ConfigError(f"model {model.name!r} takes integer labels but has no {EMBEDDING_LAYER!r} layer; "
                      "build it with gans.models.cgan.")


def _label_tensor(model: keras.Model):
    for tensor in model.inputs:
        if tensor.name == "label":
            return tensor
    names = [t.name for t in model.inputs]
    raise ConfigError(f"model {model.name!r} has no input named 'label' (its inputs: {names}); "
                      "it is not a conditional model built by gans.models.cgan.")


def _is_embedding(label) -> bool:
    return "int" in keras.backend.standardize_dtype(label.dtype)


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
