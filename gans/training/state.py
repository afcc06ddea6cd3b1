"""The resumable training state: every variable of every network and optimizer, the step, the run's
random generator and the family's extra state (a phase, an alpha).

One ``state.npz`` (numpy arrays only, loaded with ``allow_pickle=False``) plus its metadata as a JSON
string inside it, written atomically. A run killed at any moment resumes from the last state and
loses at most one checkpoint interval.

Networks are saved as ``model.variables``, not ``get_weights()``: that also holds the seed states of
dropout and noise layers, so the masks after a resume are the ones the uninterrupted run draws.

Beyond these and the batch order (drawn from the saved rng, or derived from the seed and the epoch)
nothing carries over between steps: where TensorFlow's kernels are deterministic, a run stopped or
killed and resumed is bit-identical to one that never stopped, in every weight, optimizer variable
and loss (``tests/training/test_resume.py``, every family). They are on CPU with one thread
(``TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1``). With the default thread pools, CPU
reductions can change order when other processes load the machine, so two runs, interrupted or not,
may differ by round-off (measured: 1e-7 to 2.5e-6 after six WGAN steps, in about 1 run in 8 under
load), which Adam and RMSprop can amplify over many steps; ``enable_op_determinism()`` did not
remove it. On GPU, cuDNN and atomic reductions are nondeterministic unless
``tf.config.experimental.enable_op_determinism()`` is on (not measured here).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError
from gans.io import save_npz

STATE_FILE = "state.npz"
FORMAT_VERSION = 2  # 1: get_weights() (no dropout seed states) and no extra state


def save_state(path: Path, step_obj, step: int, rng: np.random.Generator, extra: dict | None = None) -> None:
    """Write the state of ``step_obj`` (a :class:`~gans.training.steps.Step`) after ``step`` steps."""
    arrays = {}
    for name, model in step_obj.models.items():
        for i, v in enumerate(model.variables):
            arrays[f"model/{name}/{i}"] = np.asarray(v)
    for name, optimizer in step_obj.optimizers.items():
        for i, v in enumerate(optimizer.variables):
            arrays[f"optimizer/{name}/{i}"] = np.asarray(v)
    meta = {"format": FORMAT_VERSION, "step": int(step), "rng": rng.bit_generator.state,
            "step_state": step_obj.get_extra_state(), **(extra or {})}
    arrays["meta"] = np.array(json.dumps(meta))
    save_npz(path, **arrays)


def read_meta(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["meta"]))


def load_state(path: Path, step_obj) -> dict:
    """Restore ``step_obj`` from ``path``; return the metadata (step, rng, ...).

    The family's extra state is restored first (a step may grow its networks to the saved phase), then
    the optimizers are built and every saved variable is assigned, into the step's
    :attr:`~gans.training.steps.Step.restored_models` (its models, or the smaller networks of a run
    that continues as a larger one).

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
        step_obj.set_extra_state(meta.get("step_state") or {})
        with step_obj.variable_scope():  # a distributed run builds its optimizer slots on every replica
            step_obj.build_optimizers()
        for name, model in step_obj.restored_models.items():
            if meta.get("format", 1) < 2:
                model.set_weights(_collect(data, f"model/{name}/", [w.shape for w in model.get_weights()], name))
                continue
            _assign(model.variables, _collect(data, f"model/{name}/", [v.shape for v in model.variables], name))
        for name, optimizer in step_obj.optimizers.items():
            _assign(optimizer.variables,
                    _collect(data, f"optimizer/{name}/", [v.shape for v in optimizer.variables], name))
    return meta


def restore_rng(meta: dict) -> np.random.Generator:
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    return rng


def _assign(variables, values) -> None:
    for variable, value in zip(variables, values):
        variable.assign(value)


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
