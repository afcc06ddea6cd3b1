"""Assemble and run one training from a :class:`~gans.config.GANConfig`: data, networks, step object,
the default artefacts, ``config.json``, the loop. ``gans train`` and the examples call :func:`train`.

Nothing here knows a family by name: the registry (:mod:`gans.training.steps`) builds the step, and
the artefacts follow from the step contract (a conditional family gets the conditional metrics).
"""

from __future__ import annotations

import json
import logging
import platform
from dataclasses import dataclass
from pathlib import Path

from gans.callbacks import Callback
from gans.config import GANConfig
from gans.datasets.base import ImageDataset
from gans.errors import ConfigError, DataError
from gans.io import write_json
from gans.training.callbacks import GeneratorCheckpoint, LossLog, ModelSummaries, SampleGrid, StateCheckpoint
from gans.training.data import BatchSource
from gans.training.steps import Step, make_step
from gans.training.trainer import Trainer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSettings:
    """How a run is carried out (not what is trained).

    Attributes:
        sample_every: steps between sample grids (default: the thesis interval of the family).
        checkpoint_every: steps between generator .h5 files and resumable states (same default).
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
    """

    sample_every: int | None = None
    checkpoint_every: int | None = None
    plot_every: int | None = None
    seed: int = 0
    batch_mode: str = "random"
    progress: bool = True
    fid_every: int | None = None
    fid_extractor: str | None = None
    fid_n: int = 5000
    inception_weights: str | None = None
    diagnose_every: int | None = None


def load_training_data(config: GANConfig, data: str | Path | ImageDataset | None = None) -> ImageDataset:
    """The images a configuration trains on.

    MNIST comes from :func:`gans.datasets.mnist.load_mnist` (an explicit path uses every split in it;
    otherwise the training split from Keras, or the offline subset). CelebA experiments train on an
    .npz of face crops (``gans crop-faces``), which must be passed.
    """
    if isinstance(data, ImageDataset):
        return data
    if data is not None and Path(data).suffix == ".npz" and config.dataset != "mnist":
        from gans.datasets.npz import load_images

        return load_images(data)
    if config.dataset == "mnist":
        from gans.datasets.mnist import load_mnist

        if data is not None and Path(data).suffix == ".npz":
            try:
                return load_mnist(data, split="all")
            except DataError:  # not Keras' MNIST layout: any .npz of 28x28 images will do
                from gans.datasets.npz import load_images

                return load_images(data)
        return load_mnist(data, split="all" if data is not None else "train")
    raise DataError(
        f"the {config.dataset} experiments train on face crops: pass --data FACES.npz "
        "(make one with 'gans crop-faces SRC OUT.npz --size 40')."
    )


def default_callbacks(config: GANConfig, settings: RunSettings, dataset: ImageDataset | None = None,
                      step_obj: Step | None = None) -> list[Callback]:
    """The thesis's artefacts (summaries, loss log and plot, sample grids, .h5 checkpoints, state), the
    run's diagnosis, the conditional metrics of a conditional family and, when asked for, FID at its
    own interval."""
    from gans.evaluation.callbacks import ConditionalMetrics, DiagnosticsCallback, FIDCallback
    from gans.evaluation.extractors import LENET_DATASETS, default_extractor_name, extractor_options

    sample_every = settings.sample_every or config.interval
    checkpoint_every = settings.checkpoint_every or config.interval
    callbacks: list[Callback] = [
        ModelSummaries(),
        LossLog(settings.plot_every or sample_every),
        SampleGrid(sample_every),
        GeneratorCheckpoint(checkpoint_every),
    ]
    # LeNet learns from the run's own MNIST source when it has one, so no download is needed; it
    # serves the LeNet FID, the class-coverage check and the conditional metrics.
    source = dataset.source.rsplit(" [", 1)[0] if dataset is not None else ""
    lenet_options = extractor_options("lenet", lenet_data=source if source and Path(source).exists() else None)
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
    callbacks.append(RunRecord(settings))
    callbacks.append(StateCheckpoint(checkpoint_every))  # last: it marks the step as safely on disk
    return callbacks


def prepare(config: GANConfig, run_dir: str | Path, data=None, settings: RunSettings = RunSettings(),
            extra_callbacks=()) -> Trainer:
    """Build everything for a run without training: data, networks, step object, callbacks."""
    import keras

    dataset = load_training_data(config, data)
    if dataset.image_shape != tuple(config.image_shape):
        log.info("training images are %s; building the networks for that shape", dataset.image_shape)
        config = config.replace(image_shape=dataset.image_shape)
    keras.utils.set_random_seed(settings.seed)
    step_obj = make_step(config)
    step_obj.check_data(dataset.labels)
    batches = BatchSource(dataset.images, config.batch_size, mode=settings.batch_mode, seed=settings.seed,
                          labels=dataset.labels if step_obj.num_classes is not None else None)
    callbacks = default_callbacks(config, settings, dataset, step_obj)
    callbacks[-1:-1] = list(extra_callbacks)  # before the state checkpoint
    return Trainer(step_obj, batches, run_dir, config=config, callbacks=callbacks, seed=settings.seed,
                   dataset=dataset)


def train(config: GANConfig, run_dir: str | Path, data=None, steps: int | None = None, epochs: int | None = None,
          settings: RunSettings = RunSettings(), resume: bool = False, extra_callbacks=()) -> Trainer:
    """Train ``config`` into ``run_dir`` and return the finished :class:`Trainer`.

    Args:
        config: what to train (an experiment from :mod:`gans.experiments`, or your own).
        run_dir: the run folder.
        data: a path (MNIST .npz / IDX folder, or a faces .npz) or an :class:`ImageDataset`;
            None loads the configuration's default data set.
        steps: iterations; defaults to ``config.steps`` when ``epochs`` is not given either.
        epochs: passes over the data, instead of ``steps``.
        settings: intervals, seed, batch mode, progress bar.
        resume: continue the run saved in ``run_dir``.
        extra_callbacks: more callbacks (e.g. FID), run before the state checkpoint.
    """
    run_dir = Path(run_dir)
    if steps is None and epochs is None:
        steps = config.steps
    trainer = prepare(config, run_dir, data, settings, extra_callbacks)
    _check_resumable(run_dir, trainer.config, resume)
    trainer.record = {"steps": steps, "epochs": epochs, "resume": resume}
    trainer.fit(steps=steps, epochs=epochs, resume=resume, progress=settings.progress)
    return trainer


class RunRecord(Callback):
    """Writes ``config.json`` once the run has been accepted (after the resume checks), so a refused
    command never changes the record of an existing run."""

    def __init__(self, settings: RunSettings):
        self.settings = settings

    def on_train_begin(self, trainer) -> None:
        record = getattr(trainer, "record", {})
        write_json(trainer.run_dir / "config.json",
                   run_record(trainer, record.get("steps", trainer.total_steps), record.get("epochs"),
                              self.settings, record.get("resume", False)))


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
        "sample_every": settings.sample_every or trainer.config.interval,
        "checkpoint_every": settings.checkpoint_every or trainer.config.interval,
        "seed": settings.seed,
        "batch_mode": settings.batch_mode,
        "fid_every": settings.fid_every,
        "fid_extractor": settings.fid_extractor,
        "fid_n": settings.fid_n,
        "resumed": bool(resume),
        "loss_names": list(trainer.step_obj.loss_names),
        "adversarial_pair": list(trainer.step_obj.adversarial_pair or []),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__, "python": platform.python_version()},
    }
    return record


# Fields a resumed run may change: how long it runs, and nothing about what it trains.
_RESUME_MAY_CHANGE = {"steps", "description", "run"}


def _check_resumable(run_dir: Path, config: GANConfig, resume: bool) -> None:
    path = run_dir / "config.json"
    if not (resume and path.exists()):
        return
    saved = json.loads(path.read_text(encoding="utf-8"))
    current = json.loads(json.dumps(config.to_dict()))
    changed = sorted(k for k in current if k not in _RESUME_MAY_CHANGE and saved.get(k) != current[k])
    if changed:
        raise ConfigError(
            f"cannot resume {run_dir}: the configuration differs from the saved one in {changed}. "
            "Resume with the original settings, or start a new run in another --out folder."
        )
