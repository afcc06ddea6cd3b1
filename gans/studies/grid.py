"""Grid axes of a sweep: what ``--grid NAME=V1,V2,...`` may name, and how a value changes a config.

An axis is any of:

- a :class:`~gans.config.GANConfig` field that is one value: ``batch_size``, ``latent_dim``,
  ``n_critic``, ``label_smoothing``, ``label_flip``, ``frozen_batchnorm``, ``precision``;
- a learning rate or Adam beta1: ``lr`` (both optimizers), ``g_lr`` (the generator's), ``d_lr``
  (the discriminator's), ``beta1`` (both);
- a builder option of the configuration's networks: ``capacity`` changes every network whose
  ``build_<role>`` function takes ``capacity``; ``discriminator.depth`` only that network's;
- an option of the family's step object (``step.NAME`` or plain ``NAME``), e.g. the attribute
  GAN's ``alpha``;
- the MNIST paper's short names: ``F`` (capacity), ``D`` (discriminator depth), ``B`` (batch size);
- the run's length, ``epochs`` or ``steps`` (seed 000's Table 1 trains each row for its own epochs);
- a label that only names a point, ``result_id`` (the seed's row number): a sweep of listed points
  rather than a full grid names its runs after it (``result_id3``).

Run folders and figure titles are named after the values: ``F1-D2-B64`` when every axis has a
short name (seed 004's "F-D-B" names), ``lr2e-04-batch_size64`` otherwise.

This module reads the configuration and the builders' signatures only; it imports no TensorFlow.
"""

from __future__ import annotations

import inspect
import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

from gans.config import GANConfig, OptimizerSpec
from gans.errors import ConfigError

CONFIG_AXES = ("batch_size", "latent_dim", "n_critic", "label_smoothing", "label_flip", "frozen_batchnorm",
               "precision")
OPTIMIZER_AXES = {"lr": ("optimizer", "discriminator_optimizer"), "g_lr": ("optimizer",),
                  "d_lr": ("discriminator_optimizer",)}
SHORT_NAMES = {"F": "capacity", "D": "discriminator.depth", "B": "batch_size"}
LENGTH_AXES = ("epochs", "steps")
LABEL_AXES = ("result_id",)
_RUN_CONTEXT = ("latent_dim", "image_shape", "num_classes")  # set by the run, not by network options
# Step constructor arguments that come from the config's own fields or networks, not step_options.
_SET_BY_CONFIG = {"self", "generator", "discriminator", "loss", "optimizer", "discriminator_optimizer",
                  "discriminator_loss", "label_smoothing", "label_flip", "n_critic", "num_classes", "config",
                  "networks"}


@dataclass(frozen=True)
class Axis:
    """One grid axis: the name the user gave, what it changes, and its values."""

    name: str
    target: str  # "config:FIELD", "optimizer:lr|g_lr|d_lr|beta1", "network:ROLE.OPTION", "step:OPTION",
    #              "length:epochs|steps" or "label:NAME"
    values: tuple


def parse_value(text: str):
    """``"32"`` -> 32, ``"1e-4"`` -> 0.0001, ``"true"`` -> True; anything else stays a string."""
    text = text.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        raise ConfigError(f"grid value {text!r} is not finite; give finite numbers.")
    return value


def parse_grid(tokens: list[str]) -> dict[str, tuple]:
    """``["lr=1e-4,2e-4", "batch_size=32,64"]`` -> ``{"lr": (1e-4, 2e-4), "batch_size": (32, 64)}``."""
    axes: dict[str, tuple] = {}
    for token in tokens:
        name, sep, values = token.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"grid axis {token!r} is not NAME=V1,V2,...; e.g. --grid lr=1e-4,2e-4 batch_size=32,64.")
        parsed = tuple(parse_value(v) for v in values.split(",") if v.strip())
        if not parsed:
            raise ConfigError(f"grid axis {name!r} has no values; give at least one, e.g. {name}=1,2.")
        if len(set(parsed)) != len(parsed):
            raise ConfigError(f"grid axis {name!r} repeats a value ({values}); give each value once.")
        if name in axes:
            raise ConfigError(f"grid axis {name!r} is given twice; give all its values in one NAME=V1,V2,... .")
        axes[name] = parsed
    return axes


def resolve_axes(config: GANConfig, axes: dict[str, tuple], listed: bool = False) -> list[Axis]:
    """Check every axis name against ``config`` and say what each changes.

    Args:
        config: the sweep's base configuration.
        axes: name -> values.
        listed: the sweep lists its points (a named sweep's table rows): only then may a label axis
            (``result_id``) name them; in a grid it changes nothing, and two points would be one run.

    Raises:
        ConfigError: an axis that is not a config field, learning rate, builder option or step option
            (the message lists the valid names), one the family does not read (a label axis of a grid, a
            setting its ``gans train`` refuses), or one with no values.
    """
    if not axes:
        raise ConfigError("the sweep has no grid axes; give --grid NAME=V1,V2,... (e.g. --grid lr=1e-4,2e-4).")
    resolved = []
    for name, values in axes.items():
        if not values:
            raise ConfigError(f"grid axis {name!r} has no values; give at least one.")
        axis = Axis(name, _target(config, SHORT_NAMES.get(name, name)), tuple(values))
        _check_read(config, axis, listed)
        if axis.target.startswith("length:") and not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                                                         for v in values):
            raise ConfigError(f"grid axis {name!r} is a run length: give whole numbers >= 1, got {list(values)}.")
        resolved.append(axis)
    targets = [a.target for a in resolved]
    if sum(t.startswith("length:") for t in targets) > 1:
        raise ConfigError("give the run length as one axis, epochs or steps, not both.")
    for target in set(targets):
        if targets.count(target) > 1:
            raise ConfigError(f"two grid axes change the same setting ({target}); keep one of them.")
    return resolved


def _target(config: GANConfig, name: str) -> str:
    if name in LENGTH_AXES:
        return f"length:{name}"
    if name in LABEL_AXES:
        return f"label:{name}"
    if name in CONFIG_AXES:
        return f"config:{name}"
    if name in OPTIMIZER_AXES or name == "beta1":
        return f"optimizer:{name}"
    options = network_options(config)
    role, dot, option = name.partition(".")
    if dot and role in options:
        if option in options[role]:
            return f"network:{role}.{option}"
        raise ConfigError(f"grid axis {name!r}: the {role} builder ({config.networks[role].builder}) takes no "
                          f"option {option!r}; it takes {sorted(options[role])}.")
    if dot and role == "step":
        name = option
    step_opts = step_options(config)
    if name in step_opts:
        return f"step:{name}"
    roles = [r for r, opts in options.items() if name in opts]
    if roles and not dot:
        return "network:" + "+".join(f"{r}.{name}" for r in roles)
    every = sorted({*CONFIG_AXES, *OPTIMIZER_AXES, "beta1", *SHORT_NAMES, *LENGTH_AXES, *LABEL_AXES,
                    *(f"{r}.{o}" for r, opts in options.items() for o in opts), *step_opts})
    raise ConfigError(f"grid axis {name!r} is not a config field, learning rate, builder option or step option of "
                      f"the {config.variant} family; valid axes: {', '.join(every)}.")


def _check_read(config: GANConfig, axis: Axis, listed: bool) -> None:
    """Refuse an axis whose values the family would not read: its points would train the same run."""
    kind, _, what = axis.target.partition(":")
    if kind == "label" and not listed:
        raise ConfigError(f"grid axis {axis.name!r} only names the listed points of a named sweep; in a grid it "
                          f"changes nothing, so its {len(axis.values)} values would train the same run. Drop it.")
    if kind == "config":
        from gans import families

        refused = families.get(config.variant).refuses if config.variant in families.names() else {}
        if what in refused:
            hint = f" ({refused[what]})" if refused[what] else ""
            raise ConfigError(f"grid axis {axis.name!r}: the {config.variant} family does not read {what}{hint}, "
                              f"so its values would train the same run; drop the axis.")


def network_options(config: GANConfig) -> dict[str, set[str]]:
    """Role -> the keyword options its builder takes (without those the run sets)."""
    from gans.models import get_builder

    found = {}
    for role, spec in config.networks.items():
        parameters = inspect.signature(get_builder(spec.builder, role)).parameters
        found[role] = {p for p in parameters if p not in _RUN_CONTEXT and p != "name"}
    return found


def step_options(config: GANConfig) -> set[str]:
    """The options of the family's step object beyond the config's own fields
    (:meth:`~gans.training.steps.base.Step.option_names`)."""
    from gans.training.steps import step_class

    return set(step_class(config.variant).option_names()) - _SET_BY_CONFIG


def apply_values(config: GANConfig, axes: list[Axis], values: dict[str, Any]) -> GANConfig:
    """The configuration of one grid point (validated as any GANConfig is)."""
    changes: dict[str, Any] = {}
    networks = dict(config.networks)
    step_opts = dict(config.step_options)
    optimizers = {"optimizer": config.optimizer, "discriminator_optimizer": config.discriminator_optimizer}
    for axis in axes:
        value = values[axis.name]
        kind, _, what = axis.target.partition(":")
        if kind == "config":
            changes[what] = value
        elif kind == "optimizer":
            for field_name in OPTIMIZER_AXES.get(what, tuple(optimizers)):
                spec = optimizers[field_name]
                optimizers[field_name] = (OptimizerSpec(spec.name, spec.learning_rate, value) if what == "beta1"
                                          else OptimizerSpec(spec.name, value, spec.beta_1))
        elif kind in ("length", "label"):
            continue  # the run's length (see run_length) and a name only
        elif kind == "network":
            for item in what.split("+"):
                role, option = item.split(".", 1)
                spec = networks[role]
                networks[role] = type(spec)(spec.builder, {**spec.options, option: value})
        else:
            step_opts[what] = value
    return config.replace(networks=networks, step_options=step_opts, **optimizers, **changes)


def scale_learning_rates(config: GANConfig, base_lr: float, base_batch: int) -> GANConfig:
    """The linear scaling rule (seed 000): lr = base_lr x batch / base_batch, for both optimizers."""
    from gans.config import scaled_learning_rate

    lr = scaled_learning_rate(config.batch_size, base_lr, base_batch)
    return config.replace(optimizer=OptimizerSpec(config.optimizer.name, lr, config.optimizer.beta_1),
                          discriminator_optimizer=OptimizerSpec(config.discriminator_optimizer.name, lr,
                                                                config.discriminator_optimizer.beta_1))


def parse_scale(text: str) -> tuple[float, int]:
    """``"2e-4@64"`` -> (0.0002, 64)."""
    lr, sep, batch = text.partition("@")
    try:
        lr_value, batch_value = float(lr), int(batch)
    except ValueError:
        lr_value = batch_value = None
    if not sep or lr_value is None or not lr_value > 0 or not math.isfinite(lr_value) or batch_value < 1:
        raise ConfigError(f"--scale-lr-with-batch {text!r} is not BASE_LR@BASE_BATCH with lr > 0 and batch >= 1; "
                          "e.g. --scale-lr-with-batch 2e-4@64.")
    return lr_value, batch_value


def grid_points(axes: list[Axis]) -> list[dict[str, Any]]:
    """Every combination, the first axis varying slowest (the order of the table and the figure)."""
    return [dict(zip([a.name for a in axes], combo)) for combo in itertools.product(*(a.values for a in axes))]


def point_name(axes: list[Axis], values: dict[str, Any]) -> str:
    """The run folder and title of one grid point: ``F1-D2-B64``, ``lr0.0002-batch_size64``, or
    ``result_id3`` where a label axis names the points."""
    labels = [a for a in axes if a.target.startswith("label:")]
    return "-".join(f"{a.name}{_format(values[a.name])}" for a in (labels or axes))


def run_length(axes: list[Axis], values: dict[str, Any], steps: int | None,
               epochs: int | None) -> tuple[int | None, int | None]:
    """(steps, epochs) of one point: its own length axis if the sweep has one, else the sweep's."""
    for axis in axes:
        if axis.target == "length:epochs":
            return None, int(values[axis.name])
        if axis.target == "length:steps":
            return int(values[axis.name]), None
    return steps, epochs


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("/", "_").replace(" ", "_")


def point_key(values: dict) -> str:
    """A grid point's values as one canonical string (the key its trials carry)."""
    return json.dumps({k: values[k] for k in sorted(values)}, sort_keys=True)


def point_states(study, axes: list[Axis], points: list[dict]) -> dict[str, list]:
    """Point key -> its trials (every state), for ``points`` (the sweep's)."""
    names = [a.name for a in axes]
    found: dict[str, list] = {point_key(v): [] for v in points}
    for trial in study.get_trials(deepcopy=False):
        key = trial.user_attrs.get("point")
        if key is None and set(trial.params) == set(names):
            key = point_key(trial.params)
        if key is not None:
            found.setdefault(key, []).append(trial)
    return found
