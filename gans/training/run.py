"""Assemble and run one training from a :class:`~gans.config.GANConfig`: data, networks, step object,
the default artefacts, ``config.json``, the loop. ``gans train`` and the examples call :func:`train`.

Nothing here knows a family by name: the registry (:mod:`gans.training.steps`) builds the step, and
the artefacts follow from the step contract (a conditional family gets the conditional metrics).
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gans.callbacks import Callback
from gans.config import GANConfig
from gans.datasets.base import ImageDataset
from gans.errors import ConfigError, DataError, TrainingDiverged
from gans.evaluation.diagnostics import DIVERGENCE_FILE
from gans.io import NPZ_ERRORS, folder_lock, read_json, read_npz, write_json
from gans.training.callbacks import (GeneratorCheckpoint, LossLog, ModelSummaries, SampleGrid, StateCheckpoint,
                                    TensorBoardLog)
from gans.training.data import BatchSource
from gans.training.steps import Step, make_step
from gans.training.state import STATE_FILE
from gans.training.trainer import Trainer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSettings:
    """How a run is carried out (not what is trained).

    Attributes:
        sample_every: steps between sample grids (default: the thesis interval of the family).
        checkpoint_every: steps between generator .h5 files and resumable states (same default).
        keep_checkpoints: keep the .h5 checkpoints of the last N checkpoint steps only (None: all, as
            the thesis); the state's own step is always kept (:func:`~gans.training.callbacks.prune_checkpoints`).
        keep_every: with ``keep_checkpoints``, also keep every K-th checkpoint (steps that are multiples
            of K x ``checkpoint_every``) as milestones.
        plot_every: steps between loss plots (default: ``sample_every``).
        seed: seed of weights, latents, batches and labels.
        batch_mode: "random" (the thesis: indices drawn with replacement) or "epoch".
        progress: show a progress bar.
        fid_every: steps between FID evaluations written to ``fid.csv`` (None or 0: off).
        fid_extractor: "lenet" (offline; the default for MNIST) or "inception" (the thesis's
            InceptionV3; the default for face data).
        fid_n: generated and real images per FID evaluation (the thesis: 5,000).
        inception_weights: a local InceptionV3 "notop" weights file, for machines with no network.
        diagnose_every: steps between diversity measurements for the run's diagnosis
            (default: ``sample_every``); the verdict is written at the end of every run.
        execution: "fused" (the iteration as one compiled function) or "recipe" (one
            ``train_on_batch`` per update); see :mod:`gans.training.execution`.
        jit: XLA for the fused execution: "auto" (where it measured faster), "on" or "off".
        distribute: "none", "mirrored" or "multi-worker" (see :mod:`gans.training.distribute`).
        tensorboard: also write TensorBoard events into ``RUN_DIR/tensorboard``.
        deterministic: bit-identical reruns and resumes, slower (one thread; see
            :func:`gans.training.execution.deterministic_runtime`).
    """

    sample_every: int | None = None
    checkpoint_every: int | None = None
    keep_checkpoints: int | None = None
    keep_every: int | None = None
    plot_every: int | None = None
    seed: int = 0
    batch_mode: str = "random"
    progress: bool = True
    fid_every: int | None = None
    fid_extractor: str | None = None
    fid_n: int = 5000
    inception_weights: str | None = None
    diagnose_every: int | None = None
    execution: str = "fused"
    jit: str = "auto"
    distribute: str = "none"
    tensorboard: bool = True
    deterministic: bool = False

    def __post_init__(self):
        for name in ("keep_checkpoints", "keep_every"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}.")
        if self.keep_every is not None and self.keep_checkpoints is None:
            raise ConfigError("--keep-every K only spares milestones from the pruning of --keep-checkpoints N; "
                              "give --keep-checkpoints too (without it every checkpoint is kept).")


def load_training_data(config: GANConfig, data: str | Path | ImageDataset | None = None) -> ImageDataset:
    """The images a configuration trains on.

    MNIST comes from :func:`gans.datasets.mnist.load_mnist` (an explicit path uses every split in it;
    otherwise the training split from Keras, or the offline subset). CelebA experiments train on an
    .npz of face crops (``gans crop-faces``), which must be passed.
    """
    if isinstance(data, ImageDataset):
        return data
    arrays = data is not None and Path(data).suffix in (".npz", ".npy")
    if arrays and config.dataset != "mnist":
        from gans.datasets.npz import load_images

        return load_images(data)
    if config.dataset == "mnist":
        from gans.datasets.mnist import load_mnist

        if arrays:
            from gans.datasets.npz import load_images

            _, names = read_npz(data, (), what="an MNIST .npz or an .npz of images")
            if {"x_train", "x_test"} & set(names):
                return load_mnist(data, split="all")
            return load_images(data)  # not Keras' MNIST layout: any .npz of 28x28 images will do
        return load_mnist(data, split="all" if data is not None else "train")
    if config.dataset == "celeba" and data is not None and Path(data).is_dir():
        from gans.datasets.celeba import load_celeba

        return load_celeba(data)
    raise DataError(
        f"the {config.dataset} experiments train on face crops: pass --data FACES.npz "
        "(make one with 'gans crop-faces SRC OUT.npz --size 40') or a CelebA image folder."
    )


def training_data(config: GANConfig, data=None, image_size: tuple[int, int] | None = None, limit: int | None = None,
                  options: dict | None = None):
    """What ``config`` trains on: ``data`` as its family reads it (:meth:`Step.load_data`), else as
    :func:`load_training_data` does, cut to the first ``limit`` images and resized to ``image_size``
    when asked (a CelebA folder decodes only those images, at that size). ``options`` are the
    family's own command-line options, by name. Returns an :class:`ImageDataset`, or ``data`` itself
    when nothing is to be cut or resized (the run loads it)."""
    from gans.training.steps import step_class

    own = step_class(config.variant).load_data(config, data, image_size, limit, options)
    if own is not None:  # a family that reads its data its own way
        return own
    if image_size is None and limit is None:
        return data
    if config.dataset == "celeba" and data is not None and Path(data).is_dir():
        from gans.datasets.celeba import load_celeba

        return load_celeba(data, limit=limit, size=None if image_size is None else tuple(image_size))
    dataset = load_training_data(config, data)
    images, labels = dataset.images[:limit], None if dataset.labels is None else dataset.labels[:limit]
    notes = [] if limit is None else [f"first {len(images)}"]
    if image_size is not None:
        from gans.datasets.npz import resize_images

        images = resize_images(images, tuple(image_size))
        notes.append(f"resized to {image_size[0]}x{image_size[1]}")
    return ImageDataset(images, labels, source=f"{dataset.source} [{', '.join(notes)}]", meta=dataset.meta)


def default_callbacks(config: GANConfig, settings: RunSettings, dataset: ImageDataset | None = None,
                      step_obj: Step | None = None) -> list[Callback]:
    """The thesis's artefacts (summaries, loss log and plot, sample grids, .h5 checkpoints, state), the
    run's diagnosis, the conditional metrics of a conditional family and, when asked for, FID at its
    own interval."""
    from gans.evaluation.callbacks import ConditionalMetrics, DiagnosticsCallback, FIDCallback
    from gans.evaluation.extractors import LENET_DATASETS, default_extractor_name, extractor_options, lenet_data

    sample_every = settings.sample_every or config.interval
    checkpoint_every = settings.checkpoint_every or config.interval
    callbacks: list[Callback] = [
        DivergenceRecord(),  # first: the diagnosis, written by a later callback, reads its record
        ModelSummaries(),
        LossLog(settings.plot_every or sample_every),
        SampleGrid(sample_every),
        GeneratorCheckpoint(checkpoint_every),
    ]
    # LeNet learns from the run's own MNIST source when it has one, so no download is needed; it
    # serves the LeNet FID, the class-coverage check and the conditional metrics.
    lenet_options = extractor_options("lenet", lenet_data=lenet_data(dataset.source if dataset is not None else None))
    classifier_options = None
    if settings.fid_every:
        extractor = settings.fid_extractor or default_extractor_name(config.dataset)
        options = extractor_options(extractor, inception_weights=settings.inception_weights,
                                    lenet_data=lenet_options.get("data_path"))
        if extractor == "lenet":
            classifier_options = options  # the same LeNet also counts the classes the generator covers
        n = min(settings.fid_n, len(dataset)) if dataset is not None else settings.fid_n
        callbacks.append(FIDCallback(settings.fid_every, extractor=extractor, n=n, extractor_options=options))
    callbacks.append(DiagnosticsCallback(settings.diagnose_every or sample_every, classifier_options=classifier_options))
    if step_obj is not None and step_obj.num_classes is not None and config.dataset in LENET_DATASETS:
        callbacks.append(ConditionalMetrics(sample_every, classifier_options=lenet_options))
    if step_obj is not None:  # the family's own measures (the attribute GAN's agreement, ...)
        callbacks.extend(step_obj.metric_callbacks(sample_every))
    callbacks.append(RunRecord(settings))
    if settings.tensorboard:  # after the record: its config.json goes into the log as text
        callbacks.append(TensorBoardLog())
    # Last: it marks the step as safely on disk, then prunes the checkpoints beyond what is kept.
    callbacks.append(StateCheckpoint(checkpoint_every, settings.keep_checkpoints, settings.keep_every))
    return callbacks


def prepare(config: GANConfig, run_dir: str | Path, data=None, settings: RunSettings = RunSettings(),
            extra_callbacks=(), strategy=None) -> Trainer:
    """Build everything for a run without training: data, networks, step object, callbacks.

    ``strategy``: the ``tf.distribute`` strategy of ``settings.distribute`` when the caller made it
    already (:func:`train` does, to lock the right folder); made here otherwise. ``run_dir`` is then
    the folder this worker writes (see :func:`gans.training.distribute.worker_folder`).
    """
    import contextlib

    import keras

    from gans.training.distribute import check_batch, make_strategy
    from gans.training.execution import deterministic_runtime, make_execution

    if strategy is None:  # first: a multi-worker runtime starts before any other op
        if settings.deterministic:
            deterministic_runtime()
        strategy = make_strategy(settings.distribute)
    check_batch(config.batch_size, strategy)
    dataset = load_training_data(config, data)
    if dataset.image_shape != tuple(config.image_shape):
        log.info("training images are %s; building the networks for that shape", dataset.image_shape)
        config = config.replace(image_shape=dataset.image_shape)
    keras.utils.set_random_seed(settings.seed)
    from gans.precision import device_warning

    if device_warning(config.precision):
        log.warning(device_warning(config.precision))
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        step_obj = make_step(config)
    step_obj.use_execution(make_execution(settings.execution, settings.jit, step_obj.models.values(), strategy))
    step_obj.check_data(dataset.labels)
    step_obj.prepare_data(dataset.images, dataset.labels)
    batches = BatchSource(dataset.images, config.batch_size, mode=settings.batch_mode, seed=settings.seed,
                          labels=step_obj.batch_labels(dataset.labels))
    callbacks = default_callbacks(config, settings, dataset, step_obj)
    callbacks[-1:-1] = list(extra_callbacks)  # before the state checkpoint
    return Trainer(step_obj, batches, run_dir, config=config, callbacks=callbacks, seed=settings.seed,
                   dataset=dataset)


def train(config: GANConfig, run_dir: str | Path, data=None, steps: int | None = None, epochs: int | None = None,
          settings: RunSettings = RunSettings(), resume: bool = False, extra_callbacks=()) -> Trainer:
    """Train ``config`` into ``run_dir`` and return the finished :class:`Trainer`.

    The run folder is locked for the whole run (:func:`gans.io.folder_lock`): a second process gets
    a :class:`~gans.errors.RunFolderInUse` naming the first one's process id. Nothing in an existing
    run folder changes before every check has passed: the saved state must be readable, and a resume
    must continue the same run (:func:`check_resume`), so a refused command leaves the run as it was.

    Args:
        config: what to train (an experiment from :mod:`gans.experiments`, or your own).
        run_dir: the run folder.
        data: a path (MNIST .npz / IDX folder, or an .npz / .npy of images) or an
            :class:`ImageDataset`; None loads the configuration's default data set.
        steps: iterations; defaults to ``config.steps`` when ``epochs`` is not given either (on
            resume: to the saved run's length).
        epochs: passes over the data, instead of ``steps``.
        settings: intervals, seed, batch mode, progress bar.
        resume: continue the run saved in ``run_dir``. A family may let a resume grow the run
            (:meth:`~gans.training.steps.Step.continue_run`: a progressive run to a higher target
            resolution); ``config.json`` then records the growth in ``run.growth``.
        extra_callbacks: more callbacks (e.g. FID), run before the state checkpoint.

    Raises:
        RunFolderInUse: another process trains into ``run_dir``.
        ConfigError: ``run_dir`` holds a run and ``resume`` is False, or the resume would change the
            run (the message names each field, its saved value and the new one).
        DataError: the saved state or config.json of ``run_dir`` is damaged.
        TrainingDiverged: a loss became NaN or infinite; ``divergence.json`` and the diagnosis in
            the run folder record it.
    """
    from gans.training.distribute import make_strategy, worker_folder
    from gans.training.execution import deterministic_runtime

    if settings.deterministic:
        deterministic_runtime()
    strategy = make_strategy(settings.distribute)
    run_dir = worker_folder(Path(run_dir), strategy)
    with folder_lock(run_dir):
        saved_step = saved_state_step(run_dir)
        saved = read_run_record(run_dir) if resume else None
        own_length = steps is None and epochs is None
        if own_length:
            steps, epochs = _saved_length(saved) if saved else (config.steps, None)
        trainer = prepare(config, run_dir, data, settings, extra_callbacks, strategy=strategy)
        growth = list((saved or {}).get("run", {}).get("growth") or [])
        if resume and saved is not None:
            current = run_record(trainer, steps, epochs, settings, resume)
            continued, grown = trainer.step_obj.continue_run(saved, current, saved_step)
            check_resume(run_dir, continued, current, saved_step)
            if grown is not None:  # a run grown larger runs to its new length unless told otherwise
                growth.append(grown)
                if own_length:
                    steps, epochs = trainer.config.steps, None
        trainer.record = {"steps": steps, "epochs": epochs, "resume": resume, "growth": growth}
        try:
            trainer.fit(steps=steps, epochs=epochs, resume=resume, progress=settings.progress)
        except TrainingDiverged as exc:
            from gans.evaluation.diagnostics import write_diagnosis

            try:  # again, whatever the callbacks managed while stopping: the verdict must say so
                record_divergence(trainer, exc)
                write_diagnosis(run_dir, title=f"Training diagnostics: {trainer.title}")
            except (OSError, ValueError) as error:  # never in place of the divergence message
                log.error("could not record the divergence in %s: %s", run_dir, error)
            raise TrainingDiverged(f"{exc} The run folder records it: {run_dir / DIVERGENCE_FILE}, "
                                   f"diagnosis in {run_dir / 'diagnostics.md'}.") from exc
    return trainer


def _saved_length(saved: dict) -> tuple[int | None, int | None]:
    """(steps, epochs) of a saved run: a resume with neither continues to the saved run's end."""
    epochs = (saved.get("run") or {}).get("epochs")
    return (None, int(epochs)) if epochs else (int(saved["steps"]), None)


class RunRecord(Callback):
    """Writes ``config.json`` once the run has been accepted (after the resume checks), so a refused
    command never changes the record of an existing run."""

    def __init__(self, settings: RunSettings):
        self.settings = settings

    def on_train_begin(self, trainer) -> None:
        record = getattr(trainer, "record", {})
        self.written = run_record(trainer, record.get("steps") or trainer.total_steps, record.get("epochs"),
                                  self.settings, record.get("resume", False))
        write_json(trainer.run_dir / "config.json", self.written)

    def on_train_end(self, trainer) -> None:
        """Record what the execution ended up as (``--jit auto`` falls back when XLA cannot compile)."""
        execution = trainer.step_obj.execution
        if execution is not None and self.written["run"].get("execution") != execution.describe():
            self.written["run"]["execution"] = execution.describe()
            write_json(trainer.run_dir / "config.json", self.written)


def run_record(trainer: Trainer, steps, epochs, settings: RunSettings, resume: bool) -> dict:
    """config.json: every hyperparameter of thesis section 4.4, plus how and on what the run went."""
    import keras
    import tensorflow as tf

    record = trainer.config.to_dict()
    record["steps"] = int(steps) if steps is not None else record["steps"]
    record["run"] = {
        "epochs": epochs,
        "data_source": trainer.dataset.source,
        "n_images": len(trainer.dataset),
        "data_sha1": data_fingerprint(trainer.dataset),
        "sample_every": settings.sample_every or trainer.config.interval,
        "checkpoint_every": settings.checkpoint_every or trainer.config.interval,
        "keep_checkpoints": settings.keep_checkpoints,
        "keep_every": settings.keep_every,
        "seed": settings.seed,
        "batch_mode": settings.batch_mode,
        "fid_every": settings.fid_every,
        "fid_extractor": settings.fid_extractor,
        "fid_n": settings.fid_n,
        "resumed": bool(resume),
        "execution": trainer.step_obj.execution.describe() if trainer.step_obj.execution else None,
        "deterministic": settings.deterministic,
        "loss_names": list(trainer.step_obj.loss_names),
        "adversarial_pair": list(trainer.step_obj.adversarial_pair or []),
        "diagnostic_source": trainer.step_obj.diagnostic_source,
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__, "python": platform.python_version()},
    }
    growth = getattr(trainer, "record", {}).get("growth")
    if growth:  # each time a resume grew the run (Step.continue_run), oldest first
        record["run"]["growth"] = growth
    return json.loads(json.dumps(record))  # as config.json holds it (lists, not tuples), to compare


def data_fingerprint(dataset: ImageDataset) -> str:
    """SHA-1 of the training images and labels: the same data under another path is the same run."""
    digest = hashlib.sha1(np.ascontiguousarray(dataset.images).data)
    if dataset.labels is not None:
        digest.update(np.ascontiguousarray(dataset.labels).data)
    return digest.hexdigest()


# What a resume may change: how long the run goes, how it is executed (every execution takes the same
# updates; tests/training/test_execution.py) and the record of the resume itself. Everything
# else (what is trained, on which data, with which seed, batches, intervals and measurements) is the
# run, and a resume that changes it would make one run folder hold two runs.
_RESUME_MAY_CHANGE = {"steps", "description", "run.epochs", "run.resumed", "run.versions", "run.execution",
                      "run.deterministic", "run.growth", "run.keep_checkpoints", "run.keep_every"}


def check_resume(run_dir: Path, saved: dict, current: dict, saved_step: int | None) -> None:
    """Refuse a resume that would change the run; allow one that only extends it.

    Args:
        run_dir: the run folder.
        saved: its ``config.json``.
        current: the record the resumed run would write (:func:`run_record`).
        saved_step: the step of its saved state (None without one).

    Raises:
        ConfigError: naming every changed field with its saved and its new value, or a length that
            ends before the saved state.
    """
    check_family(run_dir, saved, current.get("variant"))
    changes = _differences(saved, current)
    same_data = saved.get("run", {}).get("data_sha1") == current["run"]["data_sha1"]
    if same_data:  # the same images moved to another path (or a new record field) is the same data
        changes = [c for c in changes if not c.startswith(("run.data_source ", "run.data_sha1 "))]
    if changes:
        raise ConfigError(
            f"cannot resume {run_dir}: that would change the run ({'; '.join(changes)}). A resume continues "
            "the same run and may only extend --steps (or --epochs): repeat the original options, or start a "
            "new run in another --out folder."
        )
    if saved_step is not None and current["steps"] < saved_step and not current["run"]["epochs"]:
        raise ConfigError(
            f"cannot resume {run_dir} with --steps {current['steps']}: its saved state is at step {saved_step}, "
            f"and a resume can only extend a run. Pass --steps above {saved_step}, or leave it out to finish "
            f"the run's own {saved.get('steps')} steps."
        )


def check_family(run_dir: Path, saved: dict | None, variant: str | None) -> None:
    """Refuse to train a ``variant`` into a folder that holds a run of another family, in one line
    (not as the twenty settings two families differ in).

    Raises:
        ConfigError: ``saved`` (the folder's config.json) records another family.
    """
    family = (saved or {}).get("variant")
    if family and variant and family != variant:
        raise ConfigError(f"{run_dir} is a {family} run, not {variant}: resume it with 'gans train "
                          f"{family} ... --resume' and its original options, or choose another --out folder.")


def _differences(saved: dict, current: dict, prefix: str = "") -> list[str]:
    found = []
    for key, new in current.items():
        name = f"{prefix}{key}"
        if name in _RESUME_MAY_CHANGE or key not in saved:  # a field older runs did not record
            continue
        old = saved[key]
        if isinstance(old, dict) and isinstance(new, dict):
            found += _differences(old, new, prefix=f"{name}.")
        elif old != new:
            found.append(f"{name} was {_short(old)}, now {_short(new)}")
    return found


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 120 else text[:117] + "..."


def read_run_record(run_dir: Path) -> dict | None:
    """The run folder's ``config.json`` (None when it has none), or a DataError if it is damaged."""
    path = run_dir / "config.json"
    if not path.is_file():
        return None
    record = read_json(path, what="a run's config.json",
                       fix="Restore it, or start a new run in another --out folder.")
    if not isinstance(record, dict) or "steps" not in record:
        raise DataError(f"{path} is not a run's config.json (no 'steps'). Restore it, or start a new run "
                        "in another --out folder.")
    return record


def saved_state_step(run_dir: Path) -> int | None:
    """The step of the run folder's saved state (None when it has none), after checking every entry
    of the file, so a damaged state is refused here, not halfway through restoring it.

    Raises:
        DataError: the state is truncated, corrupt or not a training state.
    """
    path = run_dir / "state" / STATE_FILE
    if not path.exists():
        return None
    fix = (f"The run cannot continue from it: move {path.parent} away to restart the run from step 0 with "
           "--resume, or start a new run in another --out folder.")
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
        damaged = damaged and f"its entry {damaged} fails its checksum"
    except NPZ_ERRORS as exc:
        damaged = f"{type(exc).__name__}: {exc}"
    if damaged:
        raise DataError(f"the saved training state {path} is damaged ({damaged}). {fix}")
    arrays, _ = read_npz(path, ("meta",), what="a training state", fix=fix)
    try:
        step = int(json.loads(str(arrays["meta"]))["step"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path} is not a training state (unreadable metadata: {exc}). {fix}") from exc
    return step


class DivergenceRecord(Callback):
    """Writes ``divergence.json`` when a run stops on a non-finite loss, before the diagnosis is made.

    The trainer calls ``on_train_end`` while it handles the error that stops the run, so the error is
    at hand (``sys.exc_info``); :func:`train` records it as well if this callback did not run.
    """

    def on_train_end(self, trainer) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, TrainingDiverged):
            record_divergence(trainer, error)


def record_divergence(trainer: Trainer, error: TrainingDiverged) -> None:
    """Write ``divergence.json``: the step whose loss was not finite, the last good step, the message.
    :func:`gans.evaluation.diagnostics.diagnose_run` reads it and calls the run diverged."""
    step = getattr(error, "step", None) or trainer.step + 1
    write_json(trainer.run_dir / DIVERGENCE_FILE,
               {"step": int(step), "last_good_step": int(trainer.step), "message": str(error)})
