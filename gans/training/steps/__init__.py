"""Step objects, one module per family, and the lookups that turn a variant name into one.

The contract every step honours is :class:`~gans.training.steps.base.Step`. The registry,
:data:`gans.families.FAMILIES` (also here as :data:`FAMILIES`), is the one place a variant name meets
code: its builders come from the configuration's network specs, its step class from its entry. The
Trainer, run assembly and the CLI look families up; none of them branch on names.
"""

from __future__ import annotations

from gans.families import FAMILIES, get
from gans.training.steps.adversarial import AdversarialStep
from gans.training.steps.attribute import AttributeStep
from gans.training.steps.base import Step
from gans.training.steps.caae import CAAEStep
from gans.training.steps.conditional import ConditionalStep
from gans.training.steps.pggan import PGGANStep
from gans.training.steps.wgan import WGANStep


def step_class(variant: str) -> type[Step]:
    """The step class of a variant name (its registry entry's)."""
    return get(variant).step_class()


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
           "checkpoint_origin", "make_step", "run_generator", "run_resolutions", "run_step_class", "step_class"]


def run_step_class(run_dir) -> type[Step]:
    """The step class of the run saved in ``run_dir`` (from its ``config.json``).

    Raises:
        DataNotFoundError: not a folder, or no ``config.json`` in it.
    """
    from pathlib import Path

    from gans.errors import DataNotFoundError
    from gans.io import read_json

    run_dir = Path(run_dir).expanduser()
    path = run_dir / "config.json"
    if not path.is_file():
        raise DataNotFoundError(f"{run_dir} is not a run folder (no config.json); give a generator .h5 or the folder "
                                "'gans train' wrote.")
    return step_class(read_json(path, "a run's config.json").get("variant", ""))


def run_generator(source, resolution: int | None = None):
    """The generator file ``source`` names: itself when it is a file, else the generator its run
    folder's family picks (:meth:`Step.generator_checkpoint`; ``resolution`` for a progressive run).

    Raises:
        ConfigError: ``resolution`` given with one file.
        DataNotFoundError: no such file or run folder, or no checkpoint of that resolution.
    """
    from pathlib import Path

    from gans.errors import ConfigError, DataNotFoundError

    source = Path(source).expanduser()
    if source.is_dir():
        return run_step_class(source).generator_checkpoint(source, resolution)
    if not source.exists():
        raise DataNotFoundError(f"{source} does not exist; give a generator .h5 or a run folder.")
    if resolution is not None:
        raise ConfigError(f"--resolution picks a generator from a run folder; {source} is one file: pass the run "
                          "folder, or drop --resolution.")
    return source


def checkpoint_origin(path) -> dict:
    """Where the generator checkpoint ``path`` came from (run, step, phase), as the family of its run
    folder tells it (:meth:`Step.checkpoint_origin`; a file outside a run folder: its name only)."""
    from pathlib import Path

    return checkpoint_step_class(path).checkpoint_origin(Path(path).expanduser().resolve())


def checkpoint_step_class(path) -> type[Step]:
    """The step class of the run folder the generator checkpoint ``path`` lies in
    (``RUN/checkpoints/``), or :class:`Step` for a file outside a run folder."""
    from pathlib import Path

    path = Path(path).expanduser().resolve()
    run = path.parent.parent if path.parent.name == "checkpoints" else None
    return run_step_class(run) if run is not None and (run / "config.json").is_file() else Step


def run_resolutions(run_dir) -> list[int]:
    """The resolutions the run in ``run_dir`` has generators for (:meth:`Step.resolutions`)."""
    return run_step_class(run_dir).resolutions(run_dir)
