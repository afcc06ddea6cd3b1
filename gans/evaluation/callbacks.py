"""Evaluation during training: FID at its own interval, and diversity tracking with a final verdict.

Both follow the training loop's callback contract (:mod:`gans.training.callbacks`): they read
``trainer.run_dir``, ``trainer.step``, ``trainer.total_steps``, ``trainer.config``,
``trainer.data.images`` (uint8 real images) and call ``trainer.generate(n, seed)``.

Files written into the run folder:

* ``fid.csv``: ``step,fid,extractor,n,seconds``, one row per FID evaluation;
  ``fid_reference_stats.npz``: the real images' statistics the rows are measured against.
* ``diversity.csv``: ``step,diversity,real_diversity,ratio`` for a fixed batch of latent vectors;
  at the end of the run ``diagnostics.json``, ``diagnostics.md`` and ``diagnostics.png``
  (:func:`gans.evaluation.diagnostics.write_diagnosis`).

On resume, rows after the restored step are dropped, as the loss log does.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from gans.io import read_rows_until, write_rows
from gans.training.callbacks import IntervalCallback

log = logging.getLogger(__name__)


def _dataset_name(trainer) -> str:
    config = getattr(trainer, "config", None)
    return str(getattr(config, "dataset", None) or "data")


class FIDCallback(IntervalCallback):
    """FID of ``n`` generated images against ``n`` training images, every ``every`` steps.

    The thesis's protocol (section 4.5.1): 5,000 generated against 5,000 randomly chosen training
    images. The generated images come from a fixed seed, so successive rows differ only by training.

    Args:
        every: steps between evaluations (0 or None disables).
        extractor: ``"lenet"`` (offline, MNIST-like data), ``"inception"`` (the thesis's InceptionV3;
            needs the ImageNet weights) or a :class:`~gans.evaluation.fid.FeatureExtractor`.
        n: generated and real images per evaluation.
        batch_size: generator and extractor batch size.
        seed: seed of the latent vectors and of the choice of real images.
        extractor_options: keyword arguments for the extractor's constructor (e.g.
            ``{"weights": "/path/to/notop.h5"}`` or ``{"data_path": "../shared/data/mnist"}``).

    Reference:
        Heusel et al. (2017); thesis section 4.5.1.
    """

    FILE = "fid.csv"
    STATS_FILE = "fid_reference_stats.npz"
    COLUMNS = ("step", "fid", "extractor", "n", "seconds")

    def __init__(self, every: int | None, extractor="lenet", n: int = 5000, batch_size: int = 256,
                 seed: int = 0, extractor_options: dict | None = None):
        super().__init__(every)
        self.extractor_spec = extractor
        self.extractor_options = dict(extractor_options or {})
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.extractor = None
        self.reference = None
        self.rows: list[dict] = []

    def on_train_begin(self, trainer) -> None:
        from gans.evaluation.fid import get_extractor, reference_statistics

        if not self.every:
            return
        if self.extractor is None:
            self.extractor = get_extractor(self.extractor_spec, **self.extractor_options)
        if self.reference is None:
            self.reference = reference_statistics(
                trainer.data.images, dataset=_dataset_name(trainer), split="train", extractor=self.extractor,
                n=self.n, seed=self.seed, batch_size=self.batch_size, progress=False)
            self.reference.save(Path(trainer.run_dir) / self.STATS_FILE)
        self.rows = read_rows_until(Path(trainer.run_dir) / self.FILE, trainer.step)

    def run(self, trainer, step: int) -> None:
        from gans.evaluation.fid import compute_statistics, fid_from_statistics

        if self.rows and int(float(self.rows[-1]["step"])) >= step:
            return  # already measured (the last step can coincide with an interval)
        start = time.perf_counter()
        images = trainer.generate(self.n, seed=self.seed, batch_size=self.batch_size)
        fake = compute_statistics(images, self.extractor, self.batch_size, progress=False)
        result = fid_from_statistics(fake, self.reference)
        self.rows.append({"step": int(step), "fid": f"{result.fid:.6g}", "extractor": result.extractor,
                          "n": result.n_a, "seconds": f"{time.perf_counter() - start:.1f}"})
        write_rows(Path(trainer.run_dir) / self.FILE, self.COLUMNS, self.rows)
        log.info("step %d: %s", step, result)


class DiagnosticsCallback(IntervalCallback):
    """Track the diversity of a fixed-z batch and write the run's verdict at the end.

    Every ``every`` steps the generator draws ``n`` images from the same latent vectors; their mean
    pairwise distance (in pixel space, or in an extractor's feature space) divided by the same figure
    for ``n`` real images goes to ``diversity.csv``. At the end of the run (also when it stops early)
    :func:`gans.evaluation.diagnostics.write_diagnosis` judges ``losses.csv`` and ``diversity.csv``.

    Args:
        every: steps between diversity measurements (0 or None: only the final verdict).
        n: images per batch (pairs grow as n^2; 256 is cheap and stable).
        extractor: None for pixel space, or ``"lenet"``/``"inception"``/a FeatureExtractor.
        seed: seed of the fixed latent batch and the real batch.
        extractor_options: keyword arguments for the extractor's constructor.
        classifier_options: when given, the MNIST LeNet
            (:func:`gans.evaluation.classifier.load_or_train_lenet` with these arguments) also reads the
            classes of the same batch, into ``coverage.csv`` for the class-coverage check.
    """

    FILE = "diversity.csv"
    COLUMNS = ("step", "diversity", "real_diversity", "ratio")
    COVERAGE_FILE = "coverage.csv"
    COVERAGE_COLUMNS = ("step", "label_entropy", "classes")

    def __init__(self, every: int | None, n: int = 256, extractor=None, seed: int = 4321,
                 extractor_options: dict | None = None, classifier_options: dict | None = None):
        super().__init__(every)
        self.n = int(n)
        self.extractor_spec = extractor
        self.extractor_options = dict(extractor_options or {})
        self.classifier_options = None if classifier_options is None else dict(classifier_options)
        self.seed = int(seed)
        self.extractor = None
        self.classifier = None
        self.real_diversity: float | None = None
        self.rows: list[dict] = []
        self.coverage_rows: list[dict] = []

    def _features(self, images: np.ndarray) -> np.ndarray:
        if self.extractor is None:
            from gans.datasets.scaling import scale_images

            return scale_images(images).reshape(len(images), -1)
        return self.extractor(images)

    def on_train_begin(self, trainer) -> None:
        from gans.evaluation.diagnostics import mean_pairwise_distance
        from gans.evaluation.fid import get_extractor

        if self.extractor_spec is not None and self.extractor is None:
            self.extractor = get_extractor(self.extractor_spec, **self.extractor_options)
        real = trainer.data.images
        n = min(self.n, len(real))
        chosen = real[np.random.default_rng(self.seed).choice(len(real), n, replace=False)]
        self.real_diversity = mean_pairwise_distance(self._features(chosen))
        self.rows = read_rows_until(Path(trainer.run_dir) / self.FILE, trainer.step)
        if self.classifier_options is not None and self.classifier is None:
            from gans.evaluation.classifier import load_or_train_lenet

            self.classifier, _ = load_or_train_lenet(**{"progress": False, **self.classifier_options})
        self.coverage_rows = read_rows_until(Path(trainer.run_dir) / self.COVERAGE_FILE, trainer.step)

    def run(self, trainer, step: int) -> None:
        from gans.evaluation.diagnostics import mean_pairwise_distance

        if self.rows and int(float(self.rows[-1]["step"])) >= step:
            return
        images = trainer.generate(self.n, seed=self.seed)
        diversity = mean_pairwise_distance(self._features(images))
        self.rows.append({"step": int(step), "diversity": f"{diversity:.6g}",
                          "real_diversity": f"{self.real_diversity:.6g}",
                          "ratio": f"{diversity / max(self.real_diversity, 1e-12):.4f}"})
        write_rows(Path(trainer.run_dir) / self.FILE, self.COLUMNS, self.rows)
        if self.classifier is not None:
            from gans.evaluation.classifier import predict_probabilities
            from gans.evaluation.diagnostics import label_entropy

            probabilities = predict_probabilities(self.classifier, images)
            shares = np.bincount(probabilities.argmax(axis=1), minlength=probabilities.shape[1]) / len(images)
            self.coverage_rows.append({"step": int(step), "label_entropy": f"{label_entropy(probabilities):.4f}",
                                       "classes": int((shares >= 0.02).sum())})
            write_rows(Path(trainer.run_dir) / self.COVERAGE_FILE, self.COVERAGE_COLUMNS, self.coverage_rows)

    def on_train_end(self, trainer) -> None:
        from gans.evaluation.diagnostics import write_diagnosis

        if self.every and trainer.step and (not self.rows or int(float(self.rows[-1]["step"])) < trainer.step):
            self.run(trainer, trainer.step)  # a run stopped early still gets its last measurement
        if not (Path(trainer.run_dir) / "losses.csv").is_file():
            log.warning("no losses.csv in %s: no diagnosis written.", trainer.run_dir)
            return
        title = getattr(trainer, "title", None) or Path(trainer.run_dir).name
        diagnosis = write_diagnosis(trainer.run_dir, title=f"Training diagnostics: {title}")
        log.info("diagnosis of %s: %s", trainer.run_dir, diagnosis.summary())
