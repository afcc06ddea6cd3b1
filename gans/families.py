"""The family registry: the one place where a family's name meets its code.

A *family* is what ``GANConfig.variant`` names: a way of training (a step class), the named
configuration a bare ``gans train NAME`` starts from, its own command-line options, and its
reference's batch-norm semantics. Everything above the families (``gans train``, ``sample``,
``export``, ``demo``, the sweep, ``gans list``) looks a family up here and asks its step class
(:class:`gans.training.steps.base.Step`) the rest; none of them branches on a name.

Entries are plain data and name their code as ``"module:attribute"`` strings, so reading the
registry (``gans --help``, ``gans list``) imports no Keras. Adding a family means writing its own
modules (builders under :mod:`gans.models`, a step under :mod:`gans.training.steps`, a configuration
under :mod:`gans.experiments`) and one :class:`Family` line in :data:`FAMILIES`, or, from outside
the library, one :func:`register` call::

    from gans.families import Family, register
    register(Family("toy", step=ToyStep, base=my_config))
    # 'gans train toy ...' now trains, samples and resumes it

This module imports only :mod:`gans.errors`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from gans.errors import ConfigError

_THESIS_BN = ("moving", "thesis: tf.keras on TensorFlow 2 (model summaries show 'Functional' models)")
_SEED004_BN = ("batch", "seed 004's code: standalone Keras 2 on TensorFlow 1 (frozen BN uses batch statistics)")


@dataclass(frozen=True)
class Option:
    """One command-line option of a family's own argument group, as data (``gans.cli`` declares it).

    Attributes:
        flags: the option strings, e.g. ``("--target-resolution",)``.
        help: the ``--help`` text.
        kind: a value type of :mod:`gans.cli.types` by name ("count", "count0", "count4", "fraction",
            "weight", "beta", "float"), or None for a string.
        metavar, nargs, choices: as argparse's.
        negates: the option is a ``--no-...`` flag that sets its ``dest`` to False.
        dest: the attribute name (default: from the first flag, without ``--no-``).
    """

    flags: tuple[str, ...]
    help: str
    kind: str | None = None
    metavar: Any = None
    nargs: Any = None
    choices: tuple | None = None
    negates: bool = False
    dest: str | None = None

    @property
    def name(self) -> str:
        """The attribute the parsed value lands in."""
        if self.dest:
            return self.dest
        flag = self.flags[0].lstrip("-")
        return (flag[3:] if self.negates and flag.startswith("no-") else flag).replace("-", "_")


@dataclass(frozen=True)
class Family:
    """One family of the registry.

    Attributes:
        name: the variant name (``GANConfig.variant``, ``gans train NAME``).
        step: its step class, or ``"module:Class"``.
        base: what ``gans train NAME`` starts from: a named configuration or thesis experiment key of
            :func:`gans.experiments.get_experiment`, a GANConfig, or a callable returning one; None
            when the family is only reached through ``--experiment``.
        options: its own command-line options (:class:`Option`), shown as one group of ``gans train``
            and refused with any other family; or ``"module:ATTRIBUTE"`` naming that tuple.
        options_title, options_description: the group's title and the line under it.
        configure: ``"module:function"`` (or the function) ``configure(args, base) -> GANConfig``: the
            configuration the parsed arguments ask for, from ``base`` (the ``--experiment`` or
            :attr:`base` configuration); every family's common options (learning rates, batch size,
            ...) are applied after it. None: ``base`` as it is.
        commands: modules of the family's own ``gans`` commands (each with ``register(subparsers)``,
            as :mod:`gans.cli`'s command groups have), e.g. the CAAE's ``age-progress``.
        refuses: common ``gans train`` options this family does not take, each with a hint
            (e.g. ``{"batch_size": "use --batch-sizes, one per resolution"}``).
        frozen_batchnorm: (default, source): what its reference's frozen batch norm did in the
            generator update (see :mod:`gans.batchnorm`).
        modules: the modules that belong to this family alone (no other module may import them).
        summary: one line for ``gans list``.
    """

    name: str
    step: Any
    base: Any = None
    options: Any = ()
    options_title: str = ""
    options_description: str = ""
    configure: Any = None
    refuses: dict = field(default_factory=dict)
    commands: tuple[str, ...] = ()
    frozen_batchnorm: tuple[str, str] = ("moving", "")
    modules: tuple[str, ...] = ()
    summary: str = ""

    def step_class(self):
        """The step class (imported on first use)."""
        return resolve(self.step)

    def option_specs(self) -> tuple[Option, ...]:
        return tuple(resolve(self.options)) if self.options else ()


def resolve(ref: Any) -> Any:
    """``ref`` itself, or the attribute a ``"module:attribute"`` string names."""
    if not isinstance(ref, str):
        return ref
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


# The unconditional adversarial step and its builders serve four families.
_ADVERSARIAL = ("gans.training.steps.adversarial", "gans.models.gan", "gans.models.dcgan", "gans.models.lsgan",
                "gans.models.mnist_dcgan")
_CAAE_REFUSES = {name: "" for name in ("n_critic", "label_smoothing", "label_flip")}

FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("gan", "gans.training.steps.adversarial:AdversarialStep", base=1, frozen_batchnorm=_THESIS_BN,
           modules=_ADVERSARIAL,
           summary="thesis: fully connected GAN, minimax loss"),
    Family("dcgan", "gans.training.steps.adversarial:AdversarialStep", base=2, frozen_batchnorm=_THESIS_BN,
           modules=_ADVERSARIAL,
           summary="thesis: deep convolutional GAN"),
    Family("lsgan", "gans.training.steps.adversarial:AdversarialStep", base=3, frozen_batchnorm=_THESIS_BN,
           modules=_ADVERSARIAL,
           summary="thesis: least-squares GAN"),
    Family("wgan", "gans.training.steps.wgan:WGANStep", base=4, frozen_batchnorm=_THESIS_BN,
           modules=("gans.models.wgan", "gans.training.steps.wgan"),
           summary="thesis: Wasserstein GAN, weight clipping, n_critic"),
    Family("cgan", "gans.training.steps.conditional:ConditionalStep", base="ccgan-mnist",
           frozen_batchnorm=_SEED004_BN, modules=("gans.models.cgan", "gans.training.steps.conditional"),
           summary="seed 004: class-conditional GAN on MNIST"),
    Family("mnist_dcgan", "gans.training.steps.adversarial:AdversarialStep", frozen_batchnorm=_SEED004_BN,
           modules=_ADVERSARIAL,
           summary="seed 004: the MNIST paper's unconditional DCGAN"),
    # Seed 002 names no framework and its code is not public; measured (docs, 'Frozen batch norm';
    # 64x52 faces, 1,000 steps): with batch norm in D, "batch" gave faces with a diversity ratio of
    # 0.96, "moving" collapsed to noise (0.17).
    Family("attribute", "gans.training.steps.attribute:AttributeStep", base="attribute-celeba",
           options="gans.experiments.attribute:OPTIONS", options_title="attribute GAN (gans train attribute)",
           configure="gans.experiments.attribute:config_from_args",
           frozen_batchnorm=("batch", "seed 002 names no framework; measured: with BN in D 'batch' trains, "
                                      "'moving' collapses"),
           modules=("gans.models.attribute", "gans.training.steps.attribute", "gans.experiments.attribute",
                    "gans.evaluation.attributes", "gans.attribute_faces", "gans.cli.attributes"),
           commands=("gans.cli.attributes",),
           summary="seed 002: GAN whose noise carries a face classifier's 40 CelebA attributes"),
    # The PGGAN's discriminator has no batch normalization (Karras et al.; seed 001's MSE recipe).
    Family("pggan", "gans.training.steps.pggan:PGGANStep", base="pggan-celeba",
           options="gans.experiments.pggan:OPTIONS", options_title="progressive GAN (gans train pggan)",
           options_description="phases of fade-in and stabilisation from 4x4 up",
           configure="gans.experiments.pggan:config_from_args",
           refuses={"n_critic": "", "label_smoothing": "", "label_flip": "",
                    "batch_size": "use --batch-sizes, one per resolution"},
           frozen_batchnorm=("batch", "no batch norm in the progressive discriminator: the choice changes nothing"),
           modules=("gans.models.pggan", "gans.models.growth", "gans.training.steps.pggan",
                    "gans.training.progressive", "gans.experiments.pggan"),
           summary="seed 001: progressive-growing GAN, fade-in and stable phases from 4x4"),
    # Both CAAE codes: the TensorFlow reference builds the E/G loss with batch_norm(is_training=True),
    # the PyTorch one calls train() on every network before the E/G loss.
    Family("caae", "gans.training.steps.caae:CAAEStep", base="caae-utkface",
           options="gans.experiments.caae:OPTIONS", options_title="conditional adversarial autoencoder "
                                                                  "(gans train caae)",
           options_description="UTKFace faces with age and gender from the file names; defaults: the reference "
                               "code's. --limit N takes a fixed seeded sample of N faces (name order would leave "
                               "out whole age groups), then --validation-fraction of them is held out",
           configure="gans.experiments.caae:config_from_args", refuses=_CAAE_REFUSES,
           frozen_batchnorm=("batch", "both CAAE references: D_z and D_img in training mode in the E/G loss"),
           modules=("gans.models.caae", "gans.training.steps.caae", "gans.training.caae", "gans.experiments.caae",
                    "gans.evaluation.age", "gans.cli.caae"),
           commands=("gans.cli.caae",),
           summary="seed 000: conditional adversarial autoencoder, faces across 10 age groups"),
)}


def register(family: Family, replace: bool = False) -> Family:
    """Add ``family`` to the registry (``replace`` an entry of the same name only when asked)."""
    if not isinstance(family, Family):
        raise ConfigError(f"register() takes a gans.families.Family, got {type(family).__name__}.")
    if family.name in FAMILIES and not replace:
        raise ConfigError(f"a family named {family.name!r} is registered already; pass replace=True to replace it.")
    FAMILIES[family.name] = family
    return family


def unregister(name: str) -> None:
    """Remove a family added with :func:`register` (tests)."""
    FAMILIES.pop(name, None)


def names() -> tuple[str, ...]:
    """Every registered family name, in registration order."""
    return tuple(FAMILIES)


def get(name: str) -> Family:
    """The family called ``name``.

    Raises:
        ConfigError: an unknown name (the message lists the known ones).
    """
    try:
        return FAMILIES[str(name).lower()]
    except KeyError:
        raise ConfigError(f"unknown variant {name!r}; expected one of {', '.join(FAMILIES)}.") from None


def configure_function(family: Family) -> Callable | None:
    return resolve(family.configure) if family.configure else None
