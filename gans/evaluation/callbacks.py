"""Evaluation during training: FID at its own interval, diversity tracking with a final verdict, and
the conditional metrics of a conditional family.

All follow the callback contract of :mod:`gans.callbacks` (below training and evaluation): they read
``trainer.run_dir``, ``trainer.step``, ``trainer.total_steps``, ``trainer.config``,
``trainer.data.images`` (uint8 real images) and ``trainer.data.labels``, and call
``trainer.generate(n, seed, labels=None)``.

Files written into the run folder:

* ``fid.csv``: ``step,fid,kid,kid_std,extractor,n,seconds``, one row per FID evaluation, with the KID
  (:mod:`gans.evaluation.kid`) of the same generated features; ``fid_reference_stats.npz`` and
  ``fid_reference_features.npz``: the real images' statistics and features the rows are measured
  against. A ``fid.csv`` written before KID was added resumes; its old rows read ``nan`` for KID.
* ``diversity.csv``: ``step,diversity,real_diversity,ratio`` for a fixed batch of latent vectors;
  at the end of the run ``diagnostics.json``, ``diagnostics.md`` and ``diagnostics.png``
  (:func:`gans.evaluation.diagnostics.write_diagnosis`).
* ``conditional.csv`` and ``conditional_agreement.png``: how often LeNet reads the class the
  generator was asked for, overall and per class; at the end ``confusion_matrix.png`` / ``.csv`` and
  ``fid_per_class.csv`` (LeNet FID of each class against the real images of that class).
* ``attributes.csv`` and ``attribute_agreement.png`` (the attribute-biased GAN): how well the
  attribute classifier reads back, on generated faces, the attributes put into their noise, against
  the same figures for the same noise without the overlay.

On resume, rows after the restored step are dropped, as the loss log does.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from gans.callbacks import IntervalCallback, publish
from gans.errors import GansError
from gans.io import read_npz, read_rows_until, save_npz, write_rows

log = logging.getLogger(__name__)


def _dataset_name(trainer) -> str:
    config = getattr(trainer, "config", None)
    return str(getattr(config, "dataset", None) or "data")


class FIDCallback(IntervalCallback):
    """FID and KID of ``n`` generated images against ``n`` training images, every ``every`` steps.

    The thesis's protocol (section 4.5.1): 5,000 generated against 5,000 randomly chosen training
    images. The generated images come from a fixed seed, so successive rows differ only by training.
    The KID (Binkowski et al. 2018; mean and spread over 100 subsets of up to 1,000) comes from the
    same features; unlike FID it is unbiased, so rows measured with few images compare fairly.

    Args:
        every: steps between evaluations (0 or None disables).
        extractor: ``"lenet"`` (offline, MNIST-like data), ``"inception"`` (the thesis's InceptionV3;
            needs the ImageNet weights) or a :class:`~gans.evaluation.fid.FeatureExtractor`.
        n: generated and real images per evaluation.
        batch_size: generator and extractor batch size.
        seed: seed of the latent vectors and of the choice of real images.
        extractor_options: keyword arguments for the extractor's constructor (e.g.
            ``{"weights": "/path/to/notop.h5"}`` or ``{"data_path": "../shared/data/mnist"}``).
        kid_subsets: subsets the KID is averaged over (Binkowski et al.: 100).
        kid_subset_size: features per side in each KID subset (1,000), capped by ``n``.

    Reference:
        Heusel et al. (2017); thesis section 4.5.1; Binkowski et al. (2018) for KID.
    """

    FILE = "fid.csv"
    STATS_FILE = "fid_reference_stats.npz"
    FEATURES_FILE = "fid_reference_features.npz"
    COLUMNS = ("step", "fid", "kid", "kid_std", "extractor", "n", "seconds")

    def __init__(self, every: int | None, extractor="lenet", n: int = 5000, batch_size: int = 256,
                 seed: int = 0, extractor_options: dict | None = None, kid_subsets: int = 100,
                 kid_subset_size: int = 1000):
        super().__init__(every)
        self.kid_subsets = int(kid_subsets)
        self.kid_subset_size = int(kid_subset_size)
        self.extractor_spec = extractor
        self.extractor_options = dict(extractor_options or {})
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.extractor = None
        self.reference = None
        self.reference_features: np.ndarray | None = None
        self.rows: list[dict] = []

    def on_train_begin(self, trainer) -> None:
        from gans.evaluation.extractors import get_extractor
        from gans.evaluation.statistics import activation_statistics

        if not self.every:
            return
        if self.extractor is None:
            self.extractor = get_extractor(self.extractor_spec, **self.extractor_options)
        if self.reference is None or self.reference_features is None:
            run_dir = Path(trainer.run_dir)
            self.reference_features = self._load_reference_features(trainer)
            self.reference = activation_statistics(self.reference_features, self.extractor.name)
            self.reference.save(run_dir / self.STATS_FILE)
            save_npz(run_dir / self.FEATURES_FILE, features=self.reference_features,
                     extractor=np.str_(self.extractor.name))
        # Rows of a fid.csv written before KID was measured have no KID: they read "nan".
        self.rows = [{"kid": "nan", "kid_std": "nan", **row}
                     for row in read_rows_until(Path(trainer.run_dir) / self.FILE, trainer.step)]

    def _load_reference_features(self, trainer) -> np.ndarray:
        """The real features: the run folder's own (a resumed run keeps its reference), else the cache's."""
        from gans.evaluation.reference import reference_features

        path = Path(trainer.run_dir) / self.FEATURES_FILE
        if path.is_file():
            try:
                arrays, _ = read_npz(path, ("features", "extractor"), what="reference features")
            except GansError as exc:
                log.warning("%s: computing the reference features again.", exc)
                arrays = {}
            features, name = arrays.get("features"), arrays.get("extractor")
            if (features is not None and name is not None and str(name) == self.extractor.name
                    and features.ndim == 2 and features.shape[1] == self.extractor.dim
                    and len(features) == min(self.n, len(trainer.data.images))):
                return features
        return reference_features(trainer.data.images, dataset=_dataset_name(trainer), split="train",
                                  extractor=self.extractor, n=self.n, seed=self.seed,
                                  batch_size=self.batch_size, progress=False)

    def run(self, trainer, step: int) -> None:
        from gans.evaluation.fid import fid_from_statistics
        from gans.evaluation.kid import kernel_inception_distance
        from gans.evaluation.statistics import activation_statistics

        if self.rows and int(float(self.rows[-1]["step"])) >= step:
            return  # already measured (the last step can coincide with an interval)
        start = time.perf_counter()
        images = trainer.generate(self.n, seed=self.seed, batch_size=self.batch_size)
        features = self.extractor(images, batch_size=self.batch_size)
        result = fid_from_statistics(activation_statistics(features, self.extractor.name), self.reference)
        kid = kernel_inception_distance(features, self.reference_features, self.extractor.name,
                                        self.kid_subsets, self.kid_subset_size, seed=self.seed)
        self.rows.append({"step": int(step), "fid": f"{result.fid:.6g}", "kid": f"{kid.kid:.6g}",
                          "kid_std": f"{kid.std:.6g}", "extractor": result.extractor,
                          "n": result.n_a, "seconds": f"{time.perf_counter() - start:.1f}"})
        write_rows(Path(trainer.run_dir) / self.FILE, self.COLUMNS, self.rows)
        scalars = {f"fid/{result.extractor}": result.fid, f"kid/{kid.extractor}": kid.kid}
        if np.isfinite(kid.std):
            scalars[f"kid_std/{kid.extractor}"] = kid.std
        publish(trainer, step, scalars)
        log.info("step %d: %s; %s", step, result, kid)


class DiagnosticsCallback(IntervalCallback):
    """Track the diversity of a fixed-z batch and write the run's verdict at the end.

    Every ``every`` steps the generator draws ``n`` images from the same latent vectors (a family may
    judge other images: :meth:`Step.diagnostic_samples <gans.training.steps.base.Step.diagnostic_samples>`,
    e.g. the CAAE's reconstructions of fixed validation faces); their mean
    pairwise distance (in pixel space, or in an extractor's feature space) divided by the same figure
    for ``n`` real images goes to ``diversity.csv``. At the end of the run (also when it stops early)
    :func:`gans.evaluation.diagnostics.write_diagnosis` judges ``losses.csv`` and ``diversity.csv``.

    The real figure is measured at the size the generator makes now (the real batch center-cropped to
    its aspect and resized; ``resolution`` column: the generated height). A generator that grows (the
    progressive GAN, 4x4 then 8x8, ...) is so compared with real images of its own resolution: pixel
    distances grow with the image size, so a baseline taken at the data's full size reads a healthy
    4x4 generator as collapsed (measured on CelebA: ratio 0.03 at 4x4 against 89x109 faces, 0.86 against 4x4 ones).

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
    COLUMNS = ("step", "diversity", "real_diversity", "ratio", "resolution")
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
        from gans.evaluation.extractors import get_extractor

        if self.extractor_spec is not None and self.extractor is None:
            self.extractor = get_extractor(self.extractor_spec, **self.extractor_options)
        real = trainer.data.images
        n = min(self.n, len(real))
        self._real_batch = real[np.random.default_rng(self.seed).choice(len(real), n, replace=False)]
        self._real_by_size = {}
        self.real_diversity = self._real_diversity_at(self._real_batch.shape[1:3])
        self.rows = read_rows_until(Path(trainer.run_dir) / self.FILE, trainer.step)
        for row in self.rows:  # a log from before the column: resolution unknown
            row.setdefault("resolution", "0")
        if self.classifier_options is not None and self.classifier is None:
            from gans.evaluation.classifier import load_or_train_lenet

            self.classifier, _ = load_or_train_lenet(**{"progress": False, **self.classifier_options})
        self.coverage_rows = read_rows_until(Path(trainer.run_dir) / self.COVERAGE_FILE, trainer.step)

    def _real_diversity_at(self, size) -> float:
        """The real batch's diversity at ``size`` (height, width), measured once per size."""
        from gans.evaluation.diagnostics import mean_pairwise_distance, real_at_size

        size = tuple(int(v) for v in size)
        if size not in self._real_by_size:
            self._real_by_size[size] = mean_pairwise_distance(self._features(real_at_size(self._real_batch, size)))
        return self._real_by_size[size]

    def run(self, trainer, step: int) -> None:
        from gans.evaluation.diagnostics import mean_pairwise_distance

        if self.rows and int(float(self.rows[-1]["step"])) >= step:
            return
        images = trainer.diagnostic_images(self.n, seed=self.seed)
        diversity = mean_pairwise_distance(self._features(images))
        self.real_diversity = self._real_diversity_at(images.shape[1:3])
        self.rows.append({"step": int(step), "diversity": f"{diversity:.6g}",
                          "real_diversity": f"{self.real_diversity:.6g}",
                          "ratio": f"{diversity / max(self.real_diversity, 1e-12):.4f}",
                          "resolution": int(images.shape[1])})
        write_rows(Path(trainer.run_dir) / self.FILE, self.COLUMNS, self.rows)
        publish(trainer, step, {"diversity/generated": diversity,
                                "diversity/ratio_to_real": diversity / max(self.real_diversity, 1e-12)})
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

        if (self.every and trainer.step and not stopping_on_divergence()
                and (not self.rows or int(float(self.rows[-1]["step"])) < trainer.step)):
            self.run(trainer, trainer.step)  # a run stopped early still gets its last measurement
        if not (Path(trainer.run_dir) / "losses.csv").is_file():
            log.warning("no losses.csv in %s: no diagnosis written.", trainer.run_dir)
            return
        title = getattr(trainer, "title", None) or Path(trainer.run_dir).name
        diagnosis = write_diagnosis(trainer.run_dir, title=f"Training diagnostics: {title}")
        log.info("diagnosis of %s: %s", trainer.run_dir, diagnosis.summary())


class ConditionalMetrics(IntervalCallback):
    """A conditional generator judged by the library's LeNet: does it draw the class it is asked for?

    Every ``every`` steps, ``n_per_class`` images of each class (fixed latent vectors) are generated
    and classified. The conditional agreement (the share LeNet reads as the asked class, the MNIST
    paper's measure) and the per-class agreement go to ``conditional.csv`` and
    ``conditional_agreement.png``. At the end of the run the last measurement's confusion matrix is
    drawn (``confusion_matrix.png``, rows: asked class, columns: class read) and each class's LeNet
    FID against the real images of that class is written to ``fid_per_class.csv``.

    Args:
        every: steps between measurements (0 or None: only at the end).
        n_per_class: generated images per class per measurement.
        fid_n: images per class for the per-class FID (capped by the real images of the class).
        seed: seed of the latent vectors.
        classifier_options: keyword arguments of :func:`gans.evaluation.classifier.load_or_train_lenet`.

    Reference:
        Mirza and Osindero (2014); the MNIST paper (seed 004): 97.6% with label smoothing.
    """

    FILE = "conditional.csv"
    PLOT = "conditional_agreement.png"
    CONFUSION_PLOT, CONFUSION_FILE = "confusion_matrix.png", "confusion_matrix.csv"
    FID_FILE = "fid_per_class.csv"

    def __init__(self, every: int | None, n_per_class: int = 100, fid_n: int = 500, seed: int = 2468,
                 classifier_options: dict | None = None):
        super().__init__(every)
        self.n_per_class = int(n_per_class)
        self.fid_n = int(fid_n)
        self.seed = int(seed)
        self.classifier_options = dict(classifier_options or {})
        self.classifier = None
        self.rows: list[dict] = []
        self.confusion: np.ndarray | None = None

    def on_train_begin(self, trainer) -> None:
        from gans.evaluation.classifier import load_or_train_lenet

        if self.classifier is None:
            self.classifier, _ = load_or_train_lenet(**{"progress": False, **self.classifier_options})
        self.rows = read_rows_until(Path(trainer.run_dir) / self.FILE, trainer.step)

    def columns(self, k: int) -> tuple[str, ...]:
        return ("step", "agreement") + tuple(f"class_{c}" for c in range(k))

    def run(self, trainer, step: int) -> None:
        from gans.evaluation.classifier import predict_probabilities

        if self.rows and int(float(self.rows[-1]["step"])) >= step:
            return
        k = trainer.step_obj.num_classes
        asked = np.repeat(np.arange(k), self.n_per_class)
        images = trainer.generate(len(asked), seed=self.seed, labels=asked)
        read = predict_probabilities(self.classifier, images).argmax(axis=1)
        self.confusion = confusion_matrix(asked, read, k)
        per_class = np.diag(self.confusion) / self.confusion.sum(axis=1)
        row = {"step": int(step), "agreement": f"{float(np.mean(read == asked)):.4f}"}
        row.update({f"class_{c}": f"{per_class[c]:.4f}" for c in range(k)})
        self.rows.append(row)
        write_rows(Path(trainer.run_dir) / self.FILE, self.columns(k), self.rows)
        publish(trainer, step, {"conditional/agreement": float(np.mean(read == asked))})
        plot_agreement(self.rows, k, Path(trainer.run_dir) / self.PLOT, title=getattr(trainer, "title", ""))
        log.info("step %d: conditional agreement %s", step, row["agreement"])

    def on_train_end(self, trainer) -> None:
        if not trainer.step or stopping_on_divergence():
            return  # a diverged generator has nothing left to measure
        if not self.rows or int(float(self.rows[-1]["step"])) < trainer.step or self.confusion is None:
            self.rows = [r for r in self.rows if int(float(r["step"])) < trainer.step]
            self.run(trainer, trainer.step)
        run_dir = Path(trainer.run_dir)
        write_rows(run_dir / self.CONFUSION_FILE, ("asked",) + tuple(f"read_{c}" for c in range(len(self.confusion))),
                   [{"asked": a, **{f"read_{c}": int(v) for c, v in enumerate(row)}}
                    for a, row in enumerate(self.confusion)])
        plot_confusion(self.confusion, run_dir / self.CONFUSION_PLOT,
                       title=f"step {trainer.step}: LeNet reads the asked class {self.rows[-1]['agreement']}")
        self.per_class_fid(trainer)

    def per_class_fid(self, trainer) -> None:
        """LeNet FID of each class's generated images against that class's real images."""
        from gans.evaluation.classifier import lenet_extractor
        from gans.evaluation.fid import fid_from_statistics
        from gans.evaluation.statistics import compute_statistics

        labels = trainer.data.labels
        if labels is None:
            return
        extractor = lenet_extractor(self.classifier)
        rows = []
        for c in range(trainer.step_obj.num_classes):
            real = trainer.data.images[labels == c]
            n = min(self.fid_n, len(real))
            if n < 2:
                log.warning("class %d has %d real images: no per-class FID.", c, len(real))
                continue
            real = real[np.random.default_rng(self.seed + c).choice(len(real), n, replace=False)]
            fake = trainer.generate(n, seed=self.seed + c, labels=np.full(n, c))
            result = fid_from_statistics(compute_statistics(fake, extractor, progress=False),
                                         compute_statistics(real, extractor, progress=False))
            rows.append({"class": c, "fid": f"{result.fid:.6g}", "extractor": result.extractor, "n": n})
        write_rows(Path(trainer.run_dir) / self.FID_FILE, ("class", "fid", "extractor", "n"), rows)


def stopping_on_divergence() -> bool:
    """True inside ``on_train_end`` of a run that is stopping because a loss became NaN or infinite:
    its generator may draw NaN, so a last measurement would only add an error after the real one."""
    import sys

    from gans.errors import TrainingDiverged

    return isinstance(sys.exc_info()[1], TrainingDiverged)


def confusion_matrix(asked: np.ndarray, read: np.ndarray, k: int) -> np.ndarray:
    """(k, k) counts: row = the class asked for, column = the class read."""
    return np.bincount(np.asarray(asked) * k + np.asarray(read), minlength=k * k).reshape(k, k)


def plot_agreement(rows: list[dict], k: int, out: Path, title: str = "") -> None:
    """Conditional agreement over steps: overall (thick) and per class (thin)."""
    from gans.visualize import pyplot, save_figure

    plt = pyplot()
    steps = [int(float(r["step"])) for r in rows]
    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    for c in range(k):
        ax.plot(steps, [float(r[f"class_{c}"]) for r in rows], lw=0.7, alpha=0.6, label=str(c))
    ax.plot(steps, [float(r["agreement"]) for r in rows], color="black", lw=2.2, marker="o", ms=3, label="all")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("iteration")
    ax.set_ylabel("LeNet reads the asked class")
    ax.set_title(f"{title}\nconditional agreement" if title else "conditional agreement", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="lower right", title="class", title_fontsize=7)
    fig.tight_layout()
    save_figure(fig, out)


def plot_confusion(matrix: np.ndarray, out: Path, title: str = "", ylabel: str = "class asked for") -> None:
    """The confusion matrix as an image with its counts (rows: asked class, or ``ylabel``; columns: class read)."""
    from gans.visualize import pyplot, save_figure

    plt = pyplot()
    k = len(matrix)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=100)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("class read by LeNet")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, out)
