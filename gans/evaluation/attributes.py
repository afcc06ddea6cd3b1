"""The CelebA attribute classifier at work: training it, judging it, reading faces with it, and the
attribute agreement of generated faces (seed 002, Kim, Ha and Kim 2018).

- :func:`split_dev` and :func:`train_attribute_classifier`: the paper's 98/2 train/dev split and
  training with a progress bar and the dev accuracy after every epoch;
- :func:`attribute_report`: per-attribute dev accuracy against the accuracy of always answering the
  training set's majority class (the baseline a reader needs to judge the paper's 89.4%);
- :func:`load_attribute_classifier` and :func:`predict_attributes`: a saved classifier, checked, and
  its 40 outputs for faces of any size (resized to the classifier's input);
- :func:`attribute_agreement`: how well faces read back the attributes they were asked for, a
  measure the paper lacked; :func:`attribute_mixes` and :func:`read_back` take it on a generator,
  :func:`reference_agreement` on real faces (a copy of a given face, a random face) as yardsticks,
  :class:`AttributeAgreement` logs it in training and ``gans attribute-agreement``
  (:mod:`gans.attribute_faces`) on checkpoints afterwards, on more mixes or single faces.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gans.callbacks import IntervalCallback
from gans.errors import ConfigError, DataError
from gans.io import read_rows_until, write_rows

log = logging.getLogger(__name__)

DEV_FRACTION = 0.02  # the paper's 98/2 split


def split_dev(n: int, dev_fraction: float = DEV_FRACTION, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, dev) index arrays, ``dev_fraction`` of ``n`` in dev (at least one image each).

    Raises:
        DataError: fewer than two images.
    """
    if not 0.0 < float(dev_fraction) < 1.0:
        raise ConfigError(f"dev_fraction must be in (0, 1), got {dev_fraction}.")
    if n < 2:
        raise DataError(f"a train/dev split needs at least 2 images, got {n}.")
    order = np.random.default_rng(seed).permutation(n)
    n_dev = min(max(1, int(round(n * float(dev_fraction)))), n - 1)
    return np.sort(order[n_dev:]), np.sort(order[:n_dev])


def _batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int):
    """A Keras data source that scales one shuffled batch of uint8 faces at a time (a whole CelebA
    set in float32 would not fit in memory)."""
    import keras

    from gans.datasets.scaling import scale_images

    class ScaledBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(images))

        def __len__(self):
            return math.ceil(len(images) / batch_size)

        def __getitem__(self, index):
            rows = np.sort(self.order[index * batch_size:(index + 1) * batch_size])
            return scale_images(images[rows]), labels[rows].astype(np.float32)

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(images))

    return ScaledBatches()


def train_attribute_classifier(model, images: np.ndarray, labels: np.ndarray, dev_images: np.ndarray,
                               dev_labels: np.ndarray, epochs: int = 5, batch_size: int = 64, seed: int = 0,
                               progress: bool = True, on_epoch=None) -> list[dict]:
    """Train a compiled attribute classifier (:func:`gans.models.attribute.build_classifier`).

    Args:
        model: the compiled classifier.
        images: uint8 training faces (N, H, W, C).
        labels: their 0/1 attributes (N, 40).
        dev_images: the held-out faces, judged after every epoch.
        dev_labels: their 0/1 attributes.
        epochs: passes over the training faces.
        batch_size: faces per update.
        seed: seed of the weights' dropout and the shuffling.
        progress: Keras' progress bar over each epoch's batches.
        on_epoch: called with each epoch's row (epoch, loss, accuracy, dev_loss, dev_accuracy).

    Returns:
        One row per epoch: ``epoch``, ``loss``, ``accuracy`` (training, mean over attributes and
        faces), ``dev_loss``, ``dev_accuracy``.
    """
    import keras

    from gans.datasets.scaling import scale_images

    labels, dev_labels = np.asarray(labels), np.asarray(dev_labels)
    if labels.ndim != 2 or labels.shape[1] != model.outputs[0].shape[-1] or len(labels) != len(images):
        raise DataError(f"need one row of {model.outputs[0].shape[-1]} attributes per face: {len(images)} faces, "
                        f"labels of shape {labels.shape}.")
    keras.utils.set_random_seed(seed)
    rows: list[dict] = []

    class Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            row = {"epoch": epoch + 1, "loss": float(logs["loss"]), "accuracy": float(logs["binary_accuracy"]),
                   "dev_loss": float(logs["val_loss"]), "dev_accuracy": float(logs["val_binary_accuracy"])}
            rows.append(row)
            if on_epoch is not None:
                on_epoch(row)

    model.fit(_batches(images, labels, batch_size, seed), epochs=int(epochs), verbose=1 if progress else 0,
              validation_data=(scale_images(dev_images), dev_labels.astype(np.float32)),
              callbacks=[Report()])
    return rows


@dataclass
class AttributeReport:
    """Dev accuracy of an attribute classifier, per attribute and overall, against the majority baseline.

    Attributes:
        names: attribute names.
        accuracy: dev accuracy per attribute.
        baseline: dev accuracy of always answering the training set's majority class, per attribute.
        positive_share: share of dev faces that have each attribute.
        n_dev: dev faces.
    """

    names: list
    accuracy: np.ndarray
    baseline: np.ndarray
    positive_share: np.ndarray
    n_dev: int
    extra: dict = field(default_factory=dict)

    @property
    def mean_accuracy(self) -> float:
        return float(np.mean(self.accuracy))

    @property
    def mean_baseline(self) -> float:
        return float(np.mean(self.baseline))

    def rows(self) -> list[dict]:
        return [{"attribute": n, "accuracy": f"{a:.4f}", "majority_baseline": f"{b:.4f}",
                 "positive_share": f"{p:.4f}"}
                for n, a, b, p in zip(self.names, self.accuracy, self.baseline, self.positive_share)]

    def summary(self) -> str:
        return (f"mean dev accuracy {self.mean_accuracy:.2%} over {len(self.names)} attributes "
                f"(majority-class baseline {self.mean_baseline:.2%}; {self.n_dev} dev faces)")


def attribute_report(probabilities: np.ndarray, dev_labels: np.ndarray, train_labels: np.ndarray,
                     names) -> AttributeReport:
    """Per-attribute accuracy of thresholded (0.5) outputs, and the majority-class baseline.

    Args:
        probabilities: the classifier's (n_dev, k) outputs on the dev faces.
        dev_labels: their true 0/1 attributes (n_dev, k).
        train_labels: the training faces' 0/1 attributes, whose majority class is the baseline's answer.
        names: the k attribute names.
    """
    probabilities, dev_labels = np.asarray(probabilities), np.asarray(dev_labels).astype(bool)
    majority = np.asarray(train_labels).mean(axis=0) >= 0.5
    return AttributeReport(
        names=list(names),
        accuracy=np.mean((probabilities >= 0.5) == dev_labels, axis=0),
        baseline=np.mean(dev_labels == majority[None], axis=0),
        positive_share=dev_labels.mean(axis=0),
        n_dev=len(dev_labels),
    )


def load_attribute_classifier(path):
    """A classifier saved by ``gans train-classifier`` (.h5, safe mode), checked to read 40 attributes.

    Raises:
        DataNotFoundError: no such file.
        DataError: not a Keras model file.
        ConfigError: a model that does not map one image to 40 outputs.
    """
    from gans.models import load_model_file
    from gans.models.attribute import check_classifier

    path = Path(path).expanduser()
    model = load_model_file(path, "classifier", "train one with 'gans train-classifier celeba --data CELEBA_DIR "
                            "--out DIR' (it writes DIR/classifier.h5).")
    check_classifier(model, source=f"classifier {path}")
    return model


def predict_attributes(classifier, images: np.ndarray, batch_size: int = 256, chunk: int = 2048) -> np.ndarray:
    """The classifier's attribute outputs for faces (uint8, or floats in [-1, 1]) of any size.

    Faces of another size than the classifier's input are resized (area when shrinking), a chunk at
    a time, so a whole training set never exists in float32 at once.

    Returns:
        float32 (N, 40) in [0, 1].
    """
    from gans.datasets.npz import resize_images
    from gans.evaluation.classifier import predict_probabilities
    from gans.models.attribute import check_classifier

    height, width, channels = check_classifier(classifier)
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != channels:
        raise DataError(f"the classifier reads ({height}, {width}, {channels}) faces; got images of shape "
                        f"{images.shape}.")
    out = np.empty((len(images), int(classifier.outputs[0].shape[-1])), np.float32)
    for start in range(0, len(images), chunk):
        block = resize_images(images[start:start + chunk], (height, width))
        out[start:start + chunk] = predict_probabilities(classifier, block, batch_size)
    return out


BALANCED = (0.1, 0.9)  # base rates of the attributes a face can visibly carry either way


def attribute_correlations(asked: np.ndarray, read: np.ndarray) -> np.ndarray:
    """Per attribute, the Pearson correlation across faces between the values asked for and the values
    read; NaN for an attribute whose asked or read values do not vary.

    Args:
        asked: (n, k) attribute vectors put into the noise.
        read: (n, k) the classifier's outputs on the faces generated from them.
    """
    asked, read = np.asarray(asked, np.float64), np.asarray(read, np.float64)
    if asked.shape != read.shape or asked.ndim != 2:
        raise ValueError(f"asked and read must be (n, k) of one shape, got {asked.shape} and {read.shape}.")
    a, r = asked - asked.mean(axis=0), read - read.mean(axis=0)
    norm = np.sqrt((a * a).sum(axis=0) * (r * r).sum(axis=0))
    out = np.full(asked.shape[1], np.nan)
    varies = norm > 1e-12
    out[varies] = (a * r).sum(axis=0)[varies] / norm[varies]
    return out


def balanced_attributes(base_rates: np.ndarray) -> np.ndarray:
    """The mask of attributes whose base rate lies in :data:`BALANCED` (10% to 90%): the ones a face can
    visibly carry or not. The rare ones ("Bald", "Mustache") are absent on almost any face, so reading
    them as asked says little."""
    rates = np.asarray(base_rates, np.float64)
    return (rates >= BALANCED[0]) & (rates <= BALANCED[1])


def attribute_agreement(asked: np.ndarray, read: np.ndarray, balanced: np.ndarray | None = None) -> dict[str, float]:
    """How well generated faces carry the attributes they were generated from.

    Args:
        asked: (n, k) attribute vectors put into the noise (e.g. averages of real faces' outputs).
        read: (n, k) the classifier's outputs on the faces generated from them.
        balanced: a (k,) mask of the attributes to average over as well (:func:`balanced_attributes`).

    Returns:
        ``agreement``: the share of (face, attribute) pairs on the same side of 0.5 in both;
        ``correlation``: the Pearson correlation across faces between asked and read values,
        averaged over the attributes whose asked and read values both vary (0 when none does). A
        generator that ignores the attributes scores a correlation near 0 and an agreement near the
        share the attribute frequencies alone give; one that follows them scores higher on both.
        With ``balanced``, also ``agreement_balanced`` and ``correlation_balanced``, the same over
        the masked attributes only.
    """
    correlations = attribute_correlations(asked, read)
    same_side = (np.asarray(asked) >= 0.5) == (np.asarray(read) >= 0.5)

    def mean_correlation(mask):
        values = correlations[mask & np.isfinite(correlations)]
        return float(np.mean(values)) if values.size else 0.0

    everything = np.ones(len(correlations), bool)
    out = {"agreement": float(np.mean(same_side)), "correlation": mean_correlation(everything)}
    if balanced is not None:
        balanced = np.asarray(balanced, bool)
        out["agreement_balanced"] = float(np.mean(same_side[:, balanced])) if balanced.any() else float("nan")
        out["correlation_balanced"] = mean_correlation(balanced)
    return out


CLASSIFIER_FILE = "classifier.h5"


def train_celeba_classifier(data, out, image_size=None, epochs: int = 5, limit: int | None = None,
                            batch_size: int = 64, seed: int = 0, progress: bool = True, overwrite: bool = False,
                            on_epoch=None) -> AttributeReport:
    """Train the attribute classifier on a CelebA folder and write it with its reports into ``out``.

    The faces are split 98/2 (seeded); after training the dev faces are read once more for the
    per-attribute report. Files written into ``out``: ``classifier.h5`` (loads with
    :func:`load_attribute_classifier`), ``epochs.csv`` (loss and accuracy, train and dev, per epoch),
    ``attribute_accuracy.csv`` (per attribute: dev accuracy, majority baseline, share present) and
    ``classifier.json`` (the data, split, size and the mean figures).

    Args:
        data: a CelebA image folder (:func:`gans.datasets.celeba.load_celeba`).
        out: the output folder.
        image_size: (H, W) to resize the faces to; None keeps their size.
        epochs: see :func:`train_attribute_classifier`.
        batch_size: see :func:`train_attribute_classifier`.
        seed: see :func:`train_attribute_classifier`.
        progress: see :func:`train_attribute_classifier`.
        on_epoch: see :func:`train_attribute_classifier`.
        limit: the first ``limit`` faces of the attribute file only.
        overwrite: replace an existing ``classifier.h5``.

    Returns:
        The dev :class:`AttributeReport`.

    Raises:
        ConfigError: ``out`` already holds a classifier or its reports and ``overwrite`` is False.
    """
    from gans.datasets.celeba import load_celeba
    from gans.io import atomic_path, refuse_existing, write_json, write_rows
    from gans.models.attribute import build_classifier

    out = Path(out).expanduser()
    target = out / CLASSIFIER_FILE
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; pass a folder for the classifier and its reports.")
    refuse_existing([out / name for name in (CLASSIFIER_FILE, "epochs.csv", "attribute_accuracy.csv",
                                             "classifier.json")], "--out", overwrite)
    dataset = load_celeba(data, limit=limit, size=None if image_size is None else tuple(int(v) for v in image_size))
    train_rows, dev_rows = split_dev(len(dataset), seed=seed)
    images, labels = dataset.images, dataset.labels
    model = build_classifier(image_shape=dataset.image_shape, num_attributes=labels.shape[1])
    history = train_attribute_classifier(model, images[train_rows], labels[train_rows], images[dev_rows],
                                         labels[dev_rows], epochs=epochs, batch_size=batch_size, seed=seed,
                                         progress=progress, on_epoch=on_epoch)
    report = attribute_report(predict_attributes(model, images[dev_rows]), labels[dev_rows], labels[train_rows],
                              dataset.meta["attribute_names"])
    out.mkdir(parents=True, exist_ok=True)
    write_rows(out / "epochs.csv", ("epoch", "loss", "accuracy", "dev_loss", "dev_accuracy"),
               [{k: (f"{v:.5f}" if isinstance(v, float) else v) for k, v in row.items()} for row in history])
    write_rows(out / "attribute_accuracy.csv", ("attribute", "accuracy", "majority_baseline", "positive_share"),
               report.rows())
    write_json(out / "classifier.json", {
        "data_source": dataset.source, "n_train": len(train_rows), "n_dev": len(dev_rows),
        "dev_fraction": DEV_FRACTION, "seed": seed, "image_shape": list(dataset.image_shape), "epochs": epochs,
        "batch_size": batch_size, "mean_dev_accuracy": report.mean_accuracy,
        "mean_majority_baseline": report.mean_baseline, "attribute_names": report.names,
    })
    with atomic_path(target) as tmp:
        model.save(tmp)
    report.extra = {"classifier": str(target), "history": history, "n_train": len(train_rows)}
    return report


def cmd_train_classifier(args) -> int:
    import sys

    from gans.evaluation.attributes import train_celeba_classifier

    def epoch_line(row):
        print(f"epoch {row['epoch']}/{args.epochs}: loss {row['loss']:.4f}, accuracy {row['accuracy']:.2%}; "
              f"dev loss {row['dev_loss']:.4f}, dev accuracy {row['dev_accuracy']:.2%}", flush=True)

    report = train_celeba_classifier(args.data, args.out, image_size=args.image_size, epochs=args.epochs,
                                     limit=args.limit, batch_size=args.batch_size, seed=args.seed,
                                     progress=not args.no_progress and sys.stdout.isatty(),
                                     overwrite=args.overwrite, on_epoch=epoch_line)
    print(f"{'attribute':<20} {'dev acc':>8} {'majority':>8}")
    for name, accuracy, baseline in zip(report.names, report.accuracy, report.baseline):
        print(f"{name:<20} {accuracy:>8.2%} {baseline:>8.2%}")
    print(report.summary())
    print(f"classifier: {report.extra['classifier']}  (per attribute in {Path(args.out) / 'attribute_accuracy.csv'})")
    return 0


# ---------------------------------------------------------------------- measured on generated faces
def attribute_mixes(classifier, faces: np.ndarray, n: int, faces_per_mix: int, seed: int, alpha: float,
                    beta: float) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """What a generator is asked to draw: ``n`` mixes of ``faces_per_mix`` real faces (seeded), as
    ``gans generate-from-faces`` mixes its inputs, and ``n`` normal vectors r.

    Returns:
        ``asked`` (n, 40): the classifier's outputs averaged over each mix's faces; ``noise``:
        ``{"": equation 1's noise (r overlaid with asked, alpha and beta), "_no_overlay": r}``; and
        ``read`` (n * faces_per_mix, 40): the classifier's outputs on the faces chosen.
    """
    from gans.models.attribute import LATENT_DIM, attribute_noise

    rng = np.random.default_rng(seed)
    wanted = n * faces_per_mix
    chosen = faces[rng.choice(len(faces), wanted, replace=len(faces) < wanted)]
    read = predict_attributes(classifier, chosen)
    asked = read.reshape(n, faces_per_mix, -1).mean(axis=1)
    r = rng.standard_normal((n, LATENT_DIM), dtype=np.float32)
    return asked, {"": attribute_noise(asked, r, alpha, beta), "_no_overlay": r}, read


def read_back(generator, classifier, asked: np.ndarray, noise: dict[str, np.ndarray],
              balanced: np.ndarray) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """The generator renders each noise of :func:`attribute_mixes`, the classifier reads the faces, and
    :func:`attribute_agreement` compares the reading with ``asked``.

    Returns:
        the measures, each name with the noise's suffix (``agreement``, ``agreement_no_overlay``,
        ...), and per suffix the (40,) per-attribute correlations.
    """
    found, per_attribute = {}, {}
    for suffix, z in noise.items():
        images = np.asarray(generator.predict(z, batch_size=256, verbose=0))
        read = predict_attributes(classifier, images)
        found.update({f"{name}{suffix}": value for name, value in attribute_agreement(asked, read, balanced).items()})
        per_attribute[suffix] = attribute_correlations(asked, read)
    return found, per_attribute


REFERENCES = ("_given_face", "_random_face")  # the suffixes of :func:`reference_agreement`'s measures


def reference_agreement(classifier, faces: np.ndarray, asked: np.ndarray, read: np.ndarray, seed: int,
                        balanced: np.ndarray) -> dict[str, float]:
    """Two real-face yardsticks for :func:`read_back`'s figures on one draw of :func:`attribute_mixes`:
    the measures of :func:`attribute_agreement` when the faces read are real ones instead of generated.

    - ``_given_face``: each mix's first given face. What a generator that copied one of the given faces
      exactly would score; on one given face (``faces_per_mix`` 1) every measure is 1, on mixes of two
      it loses the attributes the two faces differ in about half the time.
    - ``_random_face``: a real face drawn at random (its own seeded stream, so the mixes' draw is
      unchanged). What a generator of real faces that ignored the attributes would score.

    Args:
        faces: the faces the mixes were drawn from.
        asked: :func:`attribute_mixes`' ``asked`` (n, k).
        read: :func:`attribute_mixes`' ``read`` (n * faces_per_mix, k).
        seed: the mixes' seed.
        balanced: as for :func:`attribute_agreement`.
    """
    n = len(asked)
    rng = np.random.default_rng([int(seed), 1])
    random_faces = predict_attributes(classifier, faces[rng.choice(len(faces), n, replace=len(faces) < n)])
    out = {}
    for suffix, reading in zip(REFERENCES, (np.asarray(read).reshape(n, -1, asked.shape[1])[:, 0], random_faces)):
        out.update({f"{name}{suffix}": value for name, value in attribute_agreement(asked, reading, balanced).items()})
    return out


def per_attribute_rows(step, rates: np.ndarray, balanced: np.ndarray, per_attribute: dict[str, np.ndarray],
                       **extra) -> list[dict]:
    """One row per attribute of a :func:`read_back` measurement, as ``attribute_correlations.csv`` holds
    them (``extra`` columns first)."""
    from gans.datasets.celeba import ATTRIBUTE_NAMES

    return [{**extra, "step": "" if step is None else int(step), "attribute": name,
             "base_rate": f"{rates[i]:.4f}", "balanced": int(balanced[i]),
             "correlation": f"{per_attribute[''][i]:.4f}",
             "correlation_no_overlay": f"{per_attribute['_no_overlay'][i]:.4f}"}
            for i, name in enumerate(ATTRIBUTE_NAMES)]


# ---------------------------------------------------------------------- measured during training
class AttributeAgreement(IntervalCallback):
    """Does the generator draw the attributes its noise carries? A measure the CelebA attributes paper
    (seed 002) lacked.

    Once, at the start: ``n`` mixes of ``faces_per_mix`` real training faces (fixed seed) are read by
    the attribute classifier and averaged, as ``gans generate-from-faces`` averages its inputs, and
    ``n`` normal vectors r are drawn; each attribute's base rate is the step's (the training faces'
    CelebA labels, or without labels the classifier's reading of them; :func:`base_rates`). Every
    ``every`` steps the generator renders each mix twice, from equation 1's noise (r overlaid with the
    mix's attributes, the step's alpha and beta) and from r alone, and the classifier reads both.
    :func:`attribute_agreement` compares what it reads with the mix's attributes: ``agreement`` (same
    side of 0.5) and ``correlation`` (across faces, averaged over attributes), each also over the
    balanced attributes only (base rate 10-90%, ``_balanced``) and each also ``_no_overlay``. A
    generator that follows its noise's attributes scores above the no-overlay figures.

    Writes ``attributes.csv`` (one row per measurement), ``attribute_correlations.csv`` (per
    measurement and attribute: base rate and correlation, with and without the overlay),
    ``attribute_agreement.png`` (over steps) and ``attribute_correlations.png`` (the latest
    measurement's attributes ranked), and hands the figures to TensorBoard.

    Args:
        every: steps between measurements.
        classifier: the attribute classifier (a ``keras.Model`` with 40 sigmoid outputs).
        n: generated faces per measurement (each way).
        faces_per_mix: real faces averaged into each attribute vector.
        seed: seed of the faces chosen and of r.
    """

    FILE = "attributes.csv"
    PER_ATTRIBUTE_FILE = "attribute_correlations.csv"
    PLOT = "attribute_agreement.png"
    PER_ATTRIBUTE_PLOT = "attribute_correlations.png"
    MEASURES = ("agreement", "correlation", "agreement_balanced", "correlation_balanced")
    COLUMNS = ("step", *(f"{m}{s}" for m in MEASURES for s in ("", "_no_overlay")))
    PER_ATTRIBUTE_COLUMNS = ("step", "attribute", "base_rate", "balanced", "correlation", "correlation_no_overlay")

    def __init__(self, every: int | None, classifier, n: int = 256, faces_per_mix: int = 2, seed: int = 1357):
        super().__init__(every)
        self.classifier = classifier
        self.n = int(n)
        self.faces_per_mix = int(faces_per_mix)
        self.seed = int(seed)
        self.asked: np.ndarray | None = None
        self.noise: dict[str, np.ndarray] = {}
        self.base_rates: np.ndarray | None = None
        self.rows: list[dict] = []
        self.attribute_rows: list[dict] = []

    def on_train_begin(self, trainer) -> None:
        from gans.models.attribute import ALPHA, BETA

        step = trainer.step_obj
        self.asked, self.noise, read = attribute_mixes(
            self.classifier, trainer.data.images, self.n, self.faces_per_mix, self.seed,
            getattr(step, "alpha", ALPHA), getattr(step, "beta", BETA))
        rates = getattr(step, "attribute_base_rates", None)
        self.base_rates = rates if rates is not None else base_rates(None, read)
        run_dir = Path(trainer.run_dir)
        self.rows = [r for r in read_rows_until(run_dir / self.FILE, trainer.step) if set(self.COLUMNS) <= set(r)]
        self.attribute_rows = read_rows_until(run_dir / self.PER_ATTRIBUTE_FILE, trainer.step)

    def run(self, trainer, step: int) -> None:
        from gans.callbacks import publish

        if self.rows and int(float(self.rows[-1]["step"])) >= step:
            return
        balanced = balanced_attributes(self.base_rates)
        found, per_attribute = read_back(trainer.step_obj.generator, self.classifier, self.asked, self.noise, balanced)
        row = {"step": int(step), **{name: f"{value:.4f}" for name, value in found.items()}}
        self.rows.append(row)
        self.attribute_rows += per_attribute_rows(step, self.base_rates, balanced, per_attribute)
        run_dir = Path(trainer.run_dir)
        write_rows(run_dir / self.FILE, self.COLUMNS, self.rows)
        write_rows(run_dir / self.PER_ATTRIBUTE_FILE, self.PER_ATTRIBUTE_COLUMNS, self.attribute_rows)
        title = getattr(trainer, "title", "")
        plot_attribute_agreement(self.rows, run_dir / self.PLOT, title=title)
        plot_attribute_correlations([r for r in self.attribute_rows if int(r["step"]) == step],
                                    run_dir / self.PER_ATTRIBUTE_PLOT, title=f"{title} step {step}".strip())
        publish(trainer, step, scalars={f"attributes/{k}": float(v) for k, v in row.items() if k != "step"})
        log.info("step %d: attribute agreement %s (no overlay %s); correlation %s, on the %d balanced attributes "
                 "%s (no overlay %s)", step, row["agreement"], row["agreement_no_overlay"], row["correlation"],
                 int(balanced.sum()), row["correlation_balanced"], row["correlation_balanced_no_overlay"])


def base_rates(labels, outputs) -> np.ndarray:
    """Each attribute's base rate: the share of training faces whose CelebA label has it when the
    training set carries the (N, 40) labels (0/1 or -1/+1), else the share of faces the classifier
    reads it on (``outputs``, its (N, 40) outputs on them)."""
    from gans.models.attribute import N_ATTRIBUTES

    if labels is not None and np.ndim(labels) == 2 and np.shape(labels)[1] == N_ATTRIBUTES:
        return np.mean(np.asarray(labels) > 0, axis=0)
    return np.mean(np.asarray(outputs) >= 0.5, axis=0)


def plot_attribute_agreement(rows: list[dict], out: Path, title: str = "") -> None:
    """Attribute agreement and correlation over steps, with and without the overlay, over every
    attribute and over the balanced ones (rows of ``attributes.csv`` written before the balanced
    columns existed show the overall curves only)."""
    from gans.visualize import pyplot, save_figure

    plt = pyplot()
    steps = [int(float(r["step"])) for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for ax, name, label in ((axes[0], "agreement", "share of attributes read as asked"),
                            (axes[1], "correlation", "asked-read correlation across faces")):
        for suffix, what, marker in (("", "all 40", "o"), ("_balanced", "balanced (base rate 10-90%)", "s")):
            if not all(f"{name}{suffix}" in r for r in rows):
                continue
            line, = ax.plot(steps, [float(r[f"{name}{suffix}"]) for r in rows], marker=marker, ms=3,
                            label=f"{what}, equation 1 noise (overlay)")
            ax.plot(steps, [float(r[f"{name}{suffix}_no_overlay"]) for r in rows], marker=marker, ms=3, ls="--",
                    color=line.get_color(), alpha=0.6, label=f"{what}, plain noise (no overlay)")
        ax.set_xlabel("iteration")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"{title}\nattribute agreement" if title else "attribute agreement", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out)


def plot_attribute_correlations(rows: list[dict], out: Path, title: str = "") -> None:
    """One measurement's per-attribute correlations (rows of ``attribute_correlations.csv``), ranked:
    bars with the overlay, dots without it, the balanced attributes in colour and the rare ones grey."""
    from gans.visualize import pyplot, save_figure

    plt = pyplot()
    rows = sorted(rows, key=lambda r: float(r["correlation"]) if np.isfinite(float(r["correlation"])) else -2)
    names = [f"{r['attribute']} ({float(r['base_rate']):.0%})" for r in rows]
    with_overlay = np.nan_to_num([float(r["correlation"]) for r in rows])
    without = np.nan_to_num([float(r["correlation_no_overlay"]) for r in rows])
    colours = ["tab:blue" if int(r["balanced"]) else "lightgray" for r in rows]
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(rows) + 1.4), dpi=100)
    ax.barh(range(len(rows)), with_overlay, color=colours, label="with the overlay (grey: base rate outside 10-90%)")
    ax.plot(without, range(len(rows)), "k.", ms=4, label="plain noise (no overlay)")
    ax.set_yticks(range(len(rows)), names, fontsize=7)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("correlation across faces: attribute put in vs attribute read back")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"{title}\nper attribute, ranked" if title else "per attribute, ranked", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out)

