"""The resumable training state: all weights, optimizer slots, the step and the random generator.

One ``state.npz`` (numpy arrays only, loaded with ``allow_pickle=False``) plus its metadata as a JSON
string inside it, written atomically. A run killed at any moment resumes from the last state and
loses at most one checkpoint interval.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError
from gans.io import atomic_path

STATE_FILE = "state.npz"
FORMAT_VERSION = 1


def save_state(path: Path, step_obj, step: int, rng: np.random.Generator, extra: dict | None = None) -> None:
    """Write the state of ``step_obj`` after ``step`` completed steps."""
    arrays = {}
    for name, model in step_obj.models.items():
        for i, w in enumerate(model.get_weights()):
            arrays[f"model/{name}/{i}"] = w
    for name, optimizer in step_obj.optimizers.items():
        for i, v in enumerate(optimizer.variables):
            arrays[f"optimizer/{name}/{i}"] = np.asarray(v)
    meta = {"format": FORMAT_VERSION, "step": int(step), "rng": rng.bit_generator.state, **(extra or {})}
    arrays["meta"] = np.array(json.dumps(meta))
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


def read_meta(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["meta"]))


def load_state(path: Path, step_obj) -> dict:
    """Restore weights and optimizer slots into ``step_obj``; return the metadata (step, rng, ...).

    Raises:
        DataError: the file is unreadable.
        ConfigError: the saved networks do not match the ones built now.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read training state {path}: {exc}. Delete it to start over.") from exc
    with data:
        meta = json.loads(str(data["meta"]))
        step_obj.build_optimizers()
        for name, model in step_obj.models.items():
            model.set_weights(_collect(data, f"model/{name}/", [w.shape for w in model.get_weights()], name))
        for name, optimizer in step_obj.optimizers.items():
            values = _collect(data, f"optimizer/{name}/", [tuple(v.shape) for v in optimizer.variables], name)
            for variable, value in zip(optimizer.variables, values):
                variable.assign(value)
    return meta


def restore_rng(meta: dict) -> np.random.Generator:
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    return rng


def _collect(data, prefix: str, shapes: list, name: str) -> list[np.ndarray]:
    keys = sorted((k for k in data.files if k.startswith(prefix)), key=lambda k: int(k.rsplit("/", 1)[1]))
    saved = [data[k] for k in keys]
    if [tuple(a.shape) for a in saved] != [tuple(s) for s in shapes]:
        raise ConfigError(
            f"the saved {name} state does not match the {name} built from the current configuration "
            f"({len(saved)} arrays saved, {len(shapes)} expected). Resume with the original settings, "
            "or start a new run in another --out folder."
        )
    return saved
