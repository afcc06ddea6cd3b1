"""The step contract: what a GAN family gives the one :class:`~gans.training.trainer.Trainer`.

Every family trains through the same loop; its difference is a step object, a subclass of
:class:`Step`. The Trainer, the state file, the callbacks (loss log and plot, sample grids,
checkpoints, FID, diagnostics) and the command line use only what this contract names, and never
branch on a family's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from gans.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from gans.config import GANConfig
    from gans.training.data import BatchSource


class Step:
    """One training iteration of one GAN family, and everything the loop needs to know about it.

    **State.** :attr:`models` (name -> ``keras.Model``) and :attr:`optimizers` (name -> optimizer)
    are what the resumable state saves: every variable of each network (weights, batch-norm
    statistics, the seed states of dropout and noise layers) and every optimizer variable (step
    count, moments). :meth:`get_extra_state` returns anything else the family needs to continue
    exactly where it stopped (a phase, a fade-in alpha), as JSON-ready values. On resume the loop
    calls :meth:`set_extra_state` *first*, so a family whose networks change between phases grows
    them to the saved phase; only then are the optimizers built (:meth:`build_optimizers`) and the
    saved variables restored into networks of matching shapes.

    **Losses.** :attr:`loss_names` are the keys of the dict :meth:`train_step` returns, in order.
    They become the columns of ``losses.csv``, the values on the progress bar, the curves of
    ``loss_plot.png`` (:attr:`plot_losses` chooses which) and what the diagnostics read
    (:attr:`adversarial_pair` names the discriminator and generator losses of the non-convergence
    check, or None where a family has no such pair).

    **One iteration.** :meth:`train_step` gets the 1-based step number, the
    :class:`~gans.training.data.BatchSource` (``batch(draw, rng)`` returns images in [-1, 1] and,
    for labelled data, their labels) and the run's numpy generator, which is the only source of
    randomness a step may draw from (it is saved with the state, so a resumed run draws the same
    numbers). It splits in two: :meth:`draw` takes every random input of the iteration from them, in
    numpy, and :meth:`iterate` makes the updates on those inputs through an *execution*
    (:mod:`gans.training.execution`): the recipe's one ``train_on_batch`` per update, or all of them
    traced into one compiled function (the default), with XLA or on several devices as asked. A
    family writes its iteration once and gets every execution. :attr:`batches_per_step` says how many
    real batches one iteration consumes, so the loop can count epochs.

    **Sampling.** :meth:`sample` (``n``, ``rng``, ``labels=None``) returns ``n`` generated images in
    [-1, 1]. Grids, FID and ``gans sample`` draw through it; the mode-collapse check judges
    :meth:`diagnostic_samples`, which are these samples unless a family names others (the CAAE's
    reconstructions of validation faces). A conditional family
    sets :attr:`num_classes`; given ``labels`` it generates those classes, without them it draws
    classes uniformly. Sample grids then put one class per row, and the conditional metrics (the
    classifier's agreement, per-class FID, the confusion matrix) follow without special cases.
    :attr:`generator` is the network saved as ``checkpoints/generator_step_N.h5``.

    **Phases.** A family whose networks change during training (the progressive GAN) changes them
    in :meth:`draw` when its schedule says so (before the iteration runs), recompiles what it must,
    calls :meth:`networks_changed` so the execution retraces, and reports the phase in
    :meth:`get_extra_state`; :meth:`set_extra_state` rebuilds the same networks from it. A value that
    changes every step (a fade-in alpha) lives in a variable the networks read, assigned in
    :meth:`draw`, so the compiled iteration never retraces for it.

    How the other families map onto the contract:

    - **GAN, DCGAN, LSGAN, WGAN, CCGAN** (:mod:`~gans.training.steps.adversarial`): models
      ``generator`` and ``discriminator``; optimizers ``discriminator`` and ``gan`` (the combined
      model's, which updates G only); losses ``d_loss_real``, ``d_loss_fake``, ``d_loss``,
      ``g_loss``; no extra state. The CCGAN is the same step with ``num_classes`` set: real batches
      carry their labels, fakes get uniformly drawn labels, and both networks see the label.
    - **CAAE** (the UTKFace paper): models ``encoder``, ``generator``, ``discriminator_z``,
      ``discriminator_img``; one optimizer per updated group (``eg`` for encoder + generator, ``dz``,
      ``di``); losses ``eg`` (L1 reconstruction plus the weighted adversarial and total-variation
      terms), ``dz``, ``di`` and ``valid`` (L1 on the validation split); ``adversarial_pair`` None
      ("eg" is a reconstruction, not a generator's adversarial loss, so the non-convergence check
      does not apply); extra state: the two-stage schedule's stage. Batches carry the age and gender
      labels; ``sample(n, rng, labels)`` decodes prior z with the asked labels, while the collapse check
      judges reconstructions of validation faces; :meth:`load_data` reads UTKFace with its validation
      split.
    - **Progressive GAN** (the CelebA-HQ paper): models ``generator`` and ``discriminator`` of the
      current resolution (their lower-resolution weights carried into each grown pair); extra state
      ``{"phase": k, "alpha": a, "images_shown": m}``; :meth:`train_step` sets alpha on the fade-in
      layer every step and grows the networks at a phase boundary; :meth:`set_extra_state` grows
      them to the saved phase before the saved variables are restored. Batches come at the phase's
      resolution.

    Subclasses implement :meth:`draw`, :meth:`iterate`, :meth:`sample`, :attr:`models`, :attr:`optimizers`,
    :meth:`build_optimizers` and :meth:`summaries`, and a ``from_config`` classmethod through which
    :func:`~gans.training.steps.make_step` builds them.
    """

    loss_names: ClassVar[tuple[str, ...]] = ()
    plot_losses: ClassVar[tuple[str, ...] | None] = None  # None: every loss
    adversarial_pair: ClassVar[tuple[str, str] | None] = None
    num_classes: int | None = None
    batches_per_step: int = 1

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_config(cls, config: "GANConfig", networks: dict[str, "keras.Model"]) -> "Step":
        """The step for ``config`` around freshly built ``networks`` (role -> model)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the iteration
    execution = None  # set by use_execution; the fused default on the first step otherwise

    def use_execution(self, execution) -> None:
        """Carry out :meth:`iterate` with ``execution`` (see :mod:`gans.training.execution`)."""
        if self.execution is not None:
            self.execution.close()
        self.execution = execution

    #: what a frozen network's batch normalization does in a training pass ("batch" or "moving", see
    #: :mod:`gans.batchnorm`); None leaves the layers as they were built. Set by :meth:`use_frozen_batchnorm`.
    frozen_batchnorm: str | None = None

    def use_frozen_batchnorm(self, mode: str) -> None:
        """Set ``mode`` on every batch-normalization layer of :attr:`models`, now and after each
        :meth:`networks_changed` (a grown network gets it too)."""
        self.frozen_batchnorm = mode
        self.networks_changed()

    #: the dtype policy the networks were built in (:mod:`gans.precision`); set by :meth:`use_precision`.
    precision: str = "float32"

    def use_precision(self, precision: str) -> None:
        """Record the networks' dtype policy; under a mixed one their outputs are made float32 now and
        after each :meth:`networks_changed` (:func:`gans.precision.float32_outputs`)."""
        from gans.precision import check

        self.precision = check(precision)
        self.networks_changed()

    def networks_changed(self) -> None:
        """Call after replacing or growing :attr:`models` (a new phase): the execution retraces the
        iteration for the new networks on its next call."""
        if self.frozen_batchnorm is not None:
            from gans.training.freeze import set_frozen_batchnorm

            set_frozen_batchnorm(self.models.values(), self.frozen_batchnorm)
        if self.precision != "float32":
            from gans.precision import float32_outputs

            float32_outputs(self.models.values())
        if self.execution is not None:
            self.execution.reset()

    def variable_scope(self):
        """The context new variables of this step (optimizer slots, grown layers) are created in: the
        distribution strategy's scope when the execution has one."""
        import contextlib

        strategy = getattr(self.execution, "strategy", None)
        return strategy.scope() if strategy is not None else contextlib.nullcontext()

    def train_step(self, step: int, data: "BatchSource", rng: np.random.Generator) -> dict[str, float]:
        """Iteration ``step`` (1-based); returns one float per name of :attr:`loss_names`.

        Draws the iteration's random inputs in numpy (:meth:`draw`), then lets the execution carry
        out :meth:`iterate` on them.
        """
        if self.execution is None:
            from gans.training.execution import make_execution

            self.use_execution(make_execution("fused", "auto", models=self.models.values()))
        return self.execution(self, self.draw(step, data, rng))

    def draw(self, step: int, data: "BatchSource", rng: np.random.Generator) -> Any:
        """Every random input of iteration ``step`` (real batches, noise, classes, soft labels), as
        numpy arrays in a nested structure (tuples, lists, dicts, NamedTuples; None allowed) whose
        arrays have the batch as their first axis. Only ``rng`` and ``data`` may be drawn from."""
        raise NotImplementedError

    def iterate(self, draws: Any, run) -> dict:
        """The iteration's updates on ``draws``, written once for every execution: ``run.generate(model,
        inputs)``, ``run.train(model, x, y)`` (one optimizer update through the model's compiled loss;
        returns the batch loss) and ``run.measure(fn, *inputs)`` (a reported number that is not
        trained on, ``fn`` in ``keras.ops``) are the only operations, and
        :func:`~gans.training.freeze.set_trainable` before each ``run.train`` freezes what that update
        must not change. Returns the losses by :attr:`loss_names`, as values ``run.train`` or
        ``run.measure`` returned or arithmetic on them.

        It is called eagerly by the recipe execution and traced once into a graph by the fused one,
        so it must not read the values (no ``float()``, no branching on a loss).
        """
        raise NotImplementedError

    @classmethod
    def load_data(cls, config: "GANConfig", data, image_size: tuple[int, int] | None = None,
                  limit: int | None = None, options: dict | None = None):
        """The training set of ``data`` when the family reads its data its own way (UTKFace with a
        validation split for the CAAE), as an :class:`~gans.datasets.base.ImageDataset`; None (the
        default) leaves it to the generic loader (:func:`gans.training.run.training_data`).
        ``options`` are the family's own command-line options (its registry entry's), by name."""
        return None

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """The options this family reads from ``config.step_options`` (the sweep's step-option axes). By
        default the keyword parameters of the class's ``__init__``, which ``from_config`` fills from them."""
        import inspect

        parameters = inspect.signature(cls.__init__).parameters
        return tuple(p for p, v in parameters.items()
                     if p != "self" and v.kind in (v.KEYWORD_ONLY, v.POSITIONAL_OR_KEYWORD))

    @classmethod
    def configure(cls, config: "GANConfig", dataset) -> "GANConfig":
        """``config`` fitted to the training set it will run on (the CAAE counts its steps per epoch
        from the faces); called once the data is read, before the run starts. The default: as it is."""
        return config

    def check_data(self, labels: np.ndarray | None) -> None:
        """Refuse training data the family cannot learn from (e.g. unlabelled data for a conditional
        family), with a message naming the fix. Called before training starts."""

    def prepare_data(self, images: np.ndarray, labels: np.ndarray | None) -> None:
        """Look at the whole training set once before training (after :meth:`check_data`): e.g. a
        family whose noise is built from a classifier's outputs on real faces computes them here.
        ``images`` are uint8 (N, H, W, C). The default does nothing."""

    def batch_labels(self, labels: np.ndarray | None) -> np.ndarray | None:
        """What each real image carries into its batches beside it, one row per training image (called
        after :meth:`prepare_data`): the data's ``labels`` for a conditional family (:attr:`num_classes`
        set), None for an unconditional one. A family that pairs each real image with something it
        computed (the attribute GAN's projection discriminator: the classifier's reading of that face)
        returns that."""
        return labels if self.num_classes is not None else None

    # ------------------------------------------------------------------ sampling
    @property
    def generator(self) -> "keras.Model":
        """The network that makes images: saved as the run's .h5 checkpoints."""
        raise NotImplementedError

    def sample(self, n: int, rng: np.random.Generator, labels: np.ndarray | None = None) -> np.ndarray:
        """``n`` generated images, float32 in [-1, 1], in inference mode."""
        raise NotImplementedError

    #: what :meth:`diagnostic_samples` returns, in the words of the diagnosis (``config.json`` keeps it)
    diagnostic_source: ClassVar[str] = "fixed-z batch"

    def diagnostic_samples(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """The ``n`` images the mode-collapse check judges against real ones (float32 in [-1, 1]).

        By default what the family generates, :meth:`sample`. A family whose prior samples are not
        what it is for (the CAAE, whose faces come from encoding and decoding) judges those instead and
        names them in :attr:`diagnostic_source`.
        """
        batch = 256
        return np.concatenate([self.sample(min(batch, n - i), rng) for i in range(0, n, batch)])

    def check_labels(self, n: int, labels: np.ndarray | None) -> np.ndarray | None:
        """``labels`` as int class ids, checked against ``n`` and :attr:`num_classes`.

        Raises:
            ConfigError: labels for an unconditional family, labels of another length than ``n``,
                or a class outside ``0 .. num_classes - 1``.
        """
        if labels is None:
            return None
        if self.num_classes is None:
            raise ConfigError("this generator is not conditional: it takes no labels; sample without them.")
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) != n:
            raise ConfigError(f"give one class label per image: {n} images but labels of shape {labels.shape}.")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ConfigError(f"class labels must be integers 0-{self.num_classes - 1}, got dtype {labels.dtype}.")
        bad = labels[(labels < 0) | (labels >= self.num_classes)]
        if bad.size:
            raise ConfigError(f"label {int(bad[0])} is out of range: this model has {self.num_classes} classes "
                              f"(0-{self.num_classes - 1}).")
        return labels.astype(np.int64)

    # ------------------------------------------------------------------ state
    @property
    def models(self) -> dict[str, "keras.Model"]:
        """The networks whose variables make up the training state."""
        raise NotImplementedError

    @property
    def optimizers(self) -> dict[str, Any]:
        """The optimizers whose variables make up the training state."""
        raise NotImplementedError

    def build_optimizers(self) -> None:
        """Create every optimizer's variables as the first steps would, so saved ones can be restored."""
        raise NotImplementedError

    @property
    def restored_models(self) -> dict[str, "keras.Model"]:
        """The networks the saved state is restored into: :attr:`models`, unless the run continues
        as a larger one (:meth:`continue_run`), whose saved state holds only the smaller networks."""
        return self.models

    def continue_run(self, saved: dict, current: dict, saved_step: int | None) -> tuple[dict, dict | None]:
        """How a resume continues the saved run: ``(saved record as this run continues it, growth)``.

        ``saved`` is the run folder's ``config.json``, ``current`` the record this resume would write;
        the first value returned is what :func:`~gans.training.run.check_resume` compares with
        ``current`` (any other difference is refused). The default: the same run, no growth. A
        family whose finished run may grow (the progressive GAN to a higher resolution) returns the
        saved record as grown and a JSON-ready note of the growth, which ``config.json`` keeps.
        """
        return saved, None

    def get_extra_state(self) -> dict[str, Any]:
        """Family state beyond variables (a phase, an alpha), as JSON-ready values."""
        return {}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_extra_state`'s values; called before any variable is restored."""
        if state:
            raise ConfigError(f"{type(self).__name__} keeps no extra state, but the saved state has {sorted(state)}.")

    # ------------------------------------------------------------------ artefacts
    def metric_callbacks(self, every: int) -> list:
        """Callbacks measuring what only this family has (e.g. the attribute GAN's agreement), run
        every ``every`` steps beside the common artefacts. The default: none."""
        return []

    def run_summary(self, run_dir, step: int) -> list[str]:
        """Lines ``gans train`` prints about a run stopped at ``step``, beyond its folder
        (the CAAE's first and last epoch, the progressive GAN's phase). The default: none."""
        return []

    @classmethod
    def generator_checkpoint(cls, run_dir, resolution: int | None = None):
        """The generator ``gans sample``, ``export`` and ``demo`` read from a run folder of this family:
        by default its latest ``checkpoints/generator_step_N.h5``; a family with several resolutions
        (the progressive GAN) picks the one asked for.

        Raises:
            DataNotFoundError: no checkpoint yet.
            ConfigError: a resolution asked of a family that has one.
        """
        from pathlib import Path

        from gans.errors import DataNotFoundError

        if resolution is not None and int(resolution) not in cls.resolutions(run_dir):
            raise ConfigError(f"{run_dir} has no generator at {resolution}x{resolution}; it trains at "
                              f"{', '.join(f'{r}x{r}' for r in cls.resolutions(run_dir))} only.")
        found = sorted((Path(run_dir) / "checkpoints").glob("generator_step_*.h5"),
                       key=lambda p: int(p.stem.rsplit("_", 1)[-1]) if p.stem.rsplit("_", 1)[-1].isdigit() else -1)
        if not found:
            raise DataNotFoundError(f"{run_dir} holds no generator checkpoint (checkpoints/generator_step_N.h5) yet.")
        return found[-1]

    @classmethod
    def checkpoint_classes(cls, generator) -> int | None:
        """The classes a loaded generator checkpoint of this family draws (``gans sample --label``), or
        None for an unconditional one. The default: the ``label`` input of a conditional generator
        (:mod:`gans.models.conditioning`)."""
        from gans.models.conditioning import num_classes_of

        if len(generator.inputs) == 1:
            return None
        if "label" not in [t.name for t in generator.inputs]:
            raise ConfigError(f"generator {generator.name!r} takes {[t.name for t in generator.inputs]}, not z and a "
                              "class label; give its run folder, or its checkpoint inside RUN/checkpoints/, so "
                              "its family can draw from it.")
        return num_classes_of(generator)

    @classmethod
    def checkpoint_inputs(cls, generator, n: int, rng: np.random.Generator, labels=None):
        """What a loaded generator checkpoint of this family decodes into ``n`` images (``gans sample``
        on the checkpoint alone, without the rest of the step): by default normal z, and the classes
        ``labels`` for a conditional generator."""
        from gans.models.conditioning import label_inputs

        z = rng.standard_normal((n, generator.inputs[0].shape[-1]), dtype=np.float32)
        return z if labels is None else [z, label_inputs(generator, labels)]

    @classmethod
    def checkpoint_origin(cls, path) -> dict:
        """Where a generator checkpoint came from, for an export's contract: ``{"checkpoint", "run",
        "step", "phase"}`` (``run`` the folder above ``checkpoints/``, ``step`` N of a
        ``generator_step_N.h5``; what cannot be told is None). A family with other checkpoint names (the
        progressive GAN's per-phase ones) tells their step."""
        import re
        from pathlib import Path

        path = Path(path).expanduser().resolve()
        run = path.parent.parent if path.parent.name == "checkpoints" else None
        by_step = re.fullmatch(r"generator_step_(\d+)\.h5", path.name)
        return {"checkpoint": str(path), "run": str(run) if run else None,
                "step": int(by_step.group(1)) if by_step else None, "phase": None}

    @classmethod
    def resolutions(cls, run_dir) -> list[int]:
        """The resolutions :meth:`generator_checkpoint` can give for ``run_dir``: by default the one of
        its configuration (None when the folder has no config.json)."""
        from pathlib import Path

        from gans.io import read_json

        path = Path(run_dir) / "config.json"
        if not path.is_file():
            return []
        return [int(read_json(path)["image_shape"][0])]

    def summaries(self):
        """Yield ``(name, model)`` for the model summary files, the last one also drawn as
        ``model_plot.png``; each model is yielded in the trainable state its own steps use."""
        raise NotImplementedError

    def close(self) -> None:
        """Release threads or other resources (called when training ends)."""
        if self.execution is not None:
            self.execution.close()
