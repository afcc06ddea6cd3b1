"""Age agreement: does a CAAE render the age group it is asked for?

No CAAE implementation reports this; it is the CAAE's counterpart of the conditional agreement of the
MNIST GANs (:class:`gans.evaluation.callbacks.ConditionalMetrics`). Two parts:

1. a small age-group classifier (:func:`build_age_classifier`: four 3x3 convolution blocks with batch
   normalization and pooling, global average pooling, softmax over the CAAE's 10 groups), trained on
   the UTKFace *training* split and scored on the *validation* split (the same seeded split as
   ``gans train caae``), overall and per group;
2. :func:`age_agreement`: validation faces, each encoded once and rendered at every age group with
   its own gender; per group, the share the classifier reads as the asked group. Beside it stands the
   classifier's accuracy on real validation faces of that group: the most the agreement can show.

Chance is 10%. Neighbouring groups (16-20 and 21-30, say) are hard to tell apart even on real faces,
so the real-face accuracy, not 100%, is the ceiling to compare with.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError

log = logging.getLogger(__name__)

CLASSIFIER_FILE = "age_classifier.h5"
REPORT_FILE = "age_classifier.json"
AGREEMENT_FILE = "age_agreement.csv"
AGREEMENT_COLUMNS = ("age_group", "group", "faces", "agreement", "mean_read", "real_accuracy", "real_mean_read",
                     "real_faces", "rebuilt_accuracy", "rebuilt_mean_read", "label_effect")


def build_age_classifier(image_size: int = 64, num_classes: int = 10, filters=(32, 64, 128, 256),
                         dropout: float = 0.3, name: str = "age_classifier"):
    """Faces in [-1, 1] (S, S, 3) -> probabilities of the ``num_classes`` age groups."""
    import keras
    from keras import layers

    if image_size < 2 ** len(filters):
        raise ConfigError(f"the age classifier halves the image {len(filters)} times; use faces of at least "
                          f"{2 ** len(filters)} pixels, got {image_size}.")
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = inputs
    for i, width in enumerate(filters):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.GlobalAveragePooling2D(name="pooled")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="age_group")(x)
    return keras.Model(inputs, outputs, name=name)


def per_group_accuracy(predicted: np.ndarray, groups: np.ndarray, num_classes: int = 10) -> list[dict]:
    """Accuracy per true group: rows ``{"age_group", "faces", "accuracy"}`` (NaN for a group without faces)."""
    rows = []
    for g in range(num_classes):
        mask = groups == g
        rows.append({"age_group": g, "faces": int(mask.sum()),
                     "accuracy": float(np.mean(predicted[mask] == g)) if mask.any() else float("nan")})
    return rows


def train_age_classifier(train, validation, epochs: int = 8, batch_size: int = 64, learning_rate: float = 1e-3,
                         seed: int = 0, progress: bool = True):
    """Train :func:`build_age_classifier` on ``train`` (horizontal flips as augmentation) and score it on
    ``validation``; both are UTKFace :class:`~gans.datasets.base.ImageDataset` objects with
    ``meta["age_group"]``.

    Returns:
        (model, report): report holds ``accuracy`` (validation), ``per_group``, ``train_accuracy``
        (last epoch, on augmented faces), ``majority_baseline`` and the counts.
    """
    import keras

    from gans.datasets.scaling import scale_images
    from gans.evaluation.classifier import predict_probabilities

    y, y_val = (np.asarray(d.meta["age_group"], np.int64) for d in (train, validation))
    if len(train) < 2 or len(validation) < 1:
        raise DataError(f"the age classifier needs faces in both splits; got {len(train)} training and "
                        f"{len(validation)} validation faces.")
    side = train.images.shape[1]
    keras.utils.set_random_seed(seed)
    model = build_age_classifier(side)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])
    x = scale_images(train.images)
    rng = np.random.default_rng(seed)
    epochs_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc="training the age classifier", unit="epoch")
    history = []
    for epoch in epochs_iter:
        if epoch == (2 * epochs) // 3:
            model.optimizer.learning_rate.assign(learning_rate / 3)
        order = rng.permutation(len(x))
        flips = rng.random(len(x)) < 0.5
        batch = x[order].copy()
        batch[flips] = batch[flips][:, :, ::-1]
        result = model.fit(batch, y[order], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
        history.append(float(result.history["accuracy"][-1]))
    predicted = predict_probabilities(model, validation.images).argmax(axis=1)
    counts = np.bincount(y, minlength=10)
    report = {"accuracy": float(np.mean(predicted == y_val)), "per_group": per_group_accuracy(predicted, y_val),
              "train_accuracy": history[-1] if history else None,
              "majority_baseline": float(np.mean(y_val == int(np.argmax(counts)))),
              "train_faces": len(train), "validation_faces": len(validation), "image_size": int(side),
              "epochs": int(epochs)}
    return model, report


def load_age_classifier(path):
    """A classifier saved by :func:`cmd_train_age_classifier`, loaded in safe mode and checked."""
    from gans.models import load_model_file

    path = Path(path).expanduser()
    model = load_model_file(path, "age classifier", "train one with 'gans train-age-classifier --data UTKFACE_DIR "
                            "--out DIR' (it writes DIR/age_classifier.h5).")
    if tuple(model.outputs[0].shape[1:]) != (10,) or len(model.inputs[0].shape) != 4:
        raise DataError(f"{path} is not an age-group classifier (it maps {tuple(model.inputs[0].shape[1:])} to "
                        f"{tuple(model.outputs[0].shape[1:])}, not faces to 10 groups).")
    return model


def _classify(classifier, images: np.ndarray) -> np.ndarray:
    """Groups the classifier reads in float [-1, 1] or uint8 faces, resized to its input when needed."""
    from gans.datasets.npz import resize_images
    from gans.datasets.scaling import unscale_images
    from gans.evaluation.classifier import predict_probabilities

    side = int(classifier.inputs[0].shape[1])
    if images.shape[1] != side:
        images = resize_images(images if images.dtype == np.uint8 else unscale_images(images), (side, side))
    return predict_probabilities(classifier, images).argmax(axis=1)


def age_agreement(encoder, generator, classifier, images: np.ndarray, groups: np.ndarray,
                  genders: np.ndarray, batch_size: int = 64) -> list[dict]:
    """Per age group: the share of ``images`` (uint8 validation faces), rendered at that group with their
    own ``genders``, that ``classifier`` reads as that group (``agreement``) and the mean group index it
    reads in them (``mean_read``, 0 = 0-5 ... 9 = >70: a graded measure that still shows ageing where
    the exact group is missed); beside them the classifier's accuracy and mean read group on the real
    faces of that group (their true ``groups``), and on their reconstructions G(E(x), own group)
    (``rebuilt_*``): the reconstructions are blurred, so what the classifier reads from them is the
    fair ceiling for re-aged faces. ``label_effect`` (the same in every row) is the mean absolute
    pixel difference, in [-1, 1] units, between each face rendered at the oldest and at the youngest
    group: how much the label changes a face at all.

    Returns:
        Rows of :data:`AGREEMENT_COLUMNS`, one per group.
    """
    from gans.datasets.scaling import scale_images
    from gans.datasets.utkface import AGE_GROUPS, GENDERS, one_hot_pm1
    from gans.models.caae import render

    if not len(images):
        raise DataError("age agreement needs at least one validation face.")
    k = int(generator.inputs[1].shape[-1])
    x = scale_images(images)
    gender_onehot = one_hot_pm1(genders, len(GENDERS))
    groups = np.asarray(groups)
    real_read = _classify(classifier, images)
    real = per_group_accuracy(real_read, groups, k)
    rebuilt_read = _classify(classifier, render(encoder, generator, x, one_hot_pm1(groups, k), gender_onehot,
                                                batch_size))
    rebuilt = per_group_accuracy(rebuilt_read, groups, k)
    rows, ends = [], {}
    for g in range(k):
        faces = render(encoder, generator, x, one_hot_pm1(np.full(len(x), g), k), gender_onehot, batch_size)
        if g in (0, k - 1):
            ends[g] = faces
        read = _classify(classifier, faces)
        mine = groups == g
        rows.append({"age_group": g, "group": AGE_GROUPS[g], "faces": len(x), "agreement": float(np.mean(read == g)),
                     "mean_read": float(np.mean(read)), "real_accuracy": real[g]["accuracy"],
                     "real_mean_read": float(np.mean(real_read[mine])) if mine.any() else float("nan"),
                     "real_faces": real[g]["faces"], "rebuilt_accuracy": rebuilt[g]["accuracy"],
                     "rebuilt_mean_read": float(np.mean(rebuilt_read[mine])) if mine.any() else float("nan")})
    effect = float(np.mean(np.abs(ends[k - 1] - ends[0])))
    return [{**r, "label_effect": effect} for r in rows]


def format_agreement(rows: list[dict]) -> str:
    """The agreement table as text, with the mean over groups."""
    def share(value, faces):
        return "n/a" if not np.isfinite(value) else f"{value:.1%} of {faces}"

    def mean(value):
        return "n/a" if not np.isfinite(value) else f"{value:.2f}"

    lines = [f"{'group':>6}  {'asked faces':>11}  {'agreement':>9}  {'mean read':>9}  {'real-face accuracy':>18}  "
             f"{'real mean read':>14}  {'rebuilt accuracy':>16}  {'rebuilt mean read':>17}"]
    for r in rows:
        lines.append(f"{r['group']:>6}  {r['faces']:>11}  {r['agreement']:>9.1%}  {r['mean_read']:>9.2f}  "
                     f"{share(r['real_accuracy'], r['real_faces']):>18}  {mean(r['real_mean_read']):>14}  "
                     f"{share(r['rebuilt_accuracy'], r['real_faces']):>16}  {mean(r['rebuilt_mean_read']):>17}")
    lines.append(f"{'mean':>6}  {'':>11}  {np.mean([r['agreement'] for r in rows]):>9.1%}  (chance 10%; 'mean read': "
                 "the mean group index read, 0 = 0-5 ... 9 = >70; 'rebuilt': the faces' reconstructions at their own "
                 "group, the fair ceiling)")
    lines.append(f"label effect, mean |G(E(x), oldest) - G(E(x), youngest)|: {rows[0]['label_effect']:.4f}")
    return "\n".join(lines)


def plot_age_agreement(rows: list[dict], out: Path | None = None, title: str = ""):
    """The age agreement as a picture: the mean group the classifier reads against the group asked, for
    the re-aged faces and for the real faces of each group, with the diagonal (read = asked).

    Args:
        rows: :func:`age_agreement`'s rows, or those of ``age_agreement.csv`` (values as text).
        out: PNG to write; None returns the figure (the notebook shows it).
    """
    from gans.datasets.utkface import AGE_GROUPS
    from gans.visualize import pyplot, save_figure

    plt = pyplot()
    asked = [int(float(r["age_group"])) for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=100)
    ax.plot(asked, [float(r["mean_read"]) for r in rows], "o-", lw=2, label="re-aged validation faces")
    ax.plot(asked, [float(r["real_mean_read"]) for r in rows], "s--", color="gray", label="real faces of the group")
    if all("rebuilt_mean_read" in r for r in rows):  # files written before the column existed lack it
        ax.plot(asked, [float(r["rebuilt_mean_read"]) for r in rows], "^:", color="tab:green",
                label="their reconstructions (own group)")
    ax.plot([0, len(AGE_GROUPS) - 1], [0, len(AGE_GROUPS) - 1], ":", color="black", lw=0.8, label="read = asked")
    ax.set_xticks(range(len(AGE_GROUPS)), AGE_GROUPS, rotation=45)
    ax.set_yticks(range(len(AGE_GROUPS)), AGE_GROUPS)
    ax.set_xlabel("age group asked")
    ax.set_ylabel("mean age group read by the classifier")
    mean = np.mean([float(r["agreement"]) for r in rows])
    ax.set_title(f"{title}\nexact agreement {mean:.1%} (chance 10%)" if title else
                 f"exact agreement {mean:.1%} (chance 10%)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    if out is None:
        return fig
    save_figure(fig, out)
    return None


# ---------------------------------------------------------------------- which faces it saw
def run_validation_names(run_dir) -> list[str]:
    """The names of a CAAE run's validation faces, from its ``caae.json`` (see
    :func:`gans.datasets.utkface.utkface_split_names`)."""
    from gans.datasets.utkface import utkface_split_names
    from gans.io import read_json

    run_dir = Path(run_dir).expanduser()
    path = run_dir / "caae.json"
    if not path.is_file():
        raise ConfigError(f"{run_dir} is not a CAAE run folder (it has no caae.json naming its data and split).")
    record = read_json(path, "a CAAE run's caae.json")
    return utkface_split_names(record["data"], validation_fraction=record.get("validation_fraction", 0.1),
                               seed=record.get("split_seed", 0), limit=record.get("limit"))[1]


def classifier_training_names(record: dict, where) -> set[str] | None:
    """The names of the faces an age classifier was trained on, from its ``age_classifier.json``
    (``record``): its split of its data, less the faces it held out; None for a record written before
    the split was recorded in full.

    Raises:
        ConfigError: the classifier's data is no longer where the record says.
    """
    from gans.datasets.utkface import utkface_split_names

    if "data" not in record or "split_seed" not in record:
        return None
    if not Path(record["data"]).exists():
        raise ConfigError(f"cannot tell which faces the age classifier was trained on: its data {record['data']} "
                          f"(from {where}) is gone; restore it there or retrain the classifier.")
    train, _ = utkface_split_names(record["data"], validation_fraction=record.get("validation_fraction", 0.1),
                                   seed=record["split_seed"], limit=record.get("limit"))
    return set(train) - set(record.get("held_out_files", ()))


# ---------------------------------------------------------------------- commands
def cmd_train_age_classifier(args) -> int:
    """``gans train-age-classifier --data DIR --image-size S --out DIR``."""
    from gans.datasets.utkface import AGE_GROUPS, load_utkface_splits
    from gans.io import check_writable_folder, refuse_existing, write_json

    out = Path(args.out).expanduser()
    refuse_existing((out / CLASSIFIER_FILE, out / REPORT_FILE), "--out", args.overwrite)  # before any work
    check_writable_folder(out, "--out")
    train, validation = load_utkface_splits(args.data, args.image_size, validation_fraction=args.validation_fraction,
                                            limit=args.limit)
    held_out = sorted({name for run in (args.hold_out or ()) for name in run_validation_names(run)})
    if held_out:
        drop = set(held_out)
        keep = [i for i, name in enumerate(train.meta["filenames"]) if name not in drop]
        print(f"held out {len(train) - len(keep)} training faces that are validation faces of "
              f"{', '.join(map(str, args.hold_out))}")
        train = train.subset(keep)
    model, report = train_age_classifier(train, validation, epochs=args.epochs, batch_size=args.batch_size,
                                         seed=args.seed)
    from gans.io import atomic_path

    with atomic_path(out / CLASSIFIER_FILE) as tmp:
        model.save(tmp)
    report = {**report, "data": str(Path(args.data).expanduser().resolve()), "limit": args.limit,
              "validation_fraction": args.validation_fraction, "split_seed": 0,
              "held_out_runs": [str(Path(r).expanduser().resolve()) for r in (args.hold_out or ())],
              "held_out_files": held_out}
    write_json(out / REPORT_FILE, report)
    print(f"age classifier: {out / CLASSIFIER_FILE}; validation accuracy {report['accuracy']:.1%} on "
          f"{report['validation_faces']} faces (majority class {report['majority_baseline']:.1%}, chance 10%)")
    print("per group: " + ", ".join(f"{AGE_GROUPS[r['age_group']]} {r['accuracy']:.0%} ({r['faces']})"
                                    for r in report["per_group"]))
    return 0


def unseen_faces(pick: np.ndarray, names: list[str], classifier_path, run_dir) -> tuple[np.ndarray, str]:
    """``pick`` (indices into a CAAE run's validation faces, whose names are ``names``) less the faces the
    age classifier at ``classifier_path`` was trained on, and a line saying what was left out (empty
    when nothing was): a classifier that saw a face reads it better than a new one, which would inflate
    the real-face ceiling and the agreement.

    Raises:
        ConfigError: every picked face was in the classifier's training set.
    """
    from gans.io import read_json

    record_path = Path(classifier_path).expanduser().parent / REPORT_FILE
    if not record_path.is_file():
        return pick, (f"note: {record_path} is missing, so the faces the age classifier was trained on are unknown; "
                      "if they include this run's validation faces, the real-face accuracy is inflated.")
    seen = classifier_training_names(read_json(record_path, "an age classifier's record"), record_path)
    if seen is None:
        return pick, (f"note: {record_path} predates the record of its split, so the faces it was trained on cannot "
                      "be checked; retrain it with 'gans train-age-classifier ... --hold-out RUN' to be sure.")
    unseen = np.asarray([i for i in pick if names[i] not in seen], dtype=np.int64)
    overlap = len(pick) - len(unseen)
    if not overlap:
        return pick, ""
    fix = (f"train the classifier with 'gans train-age-classifier ... --hold-out {run_dir}' to score "
           "every validation face")
    if not len(unseen):
        raise ConfigError(f"all {len(pick)} validation faces of {run_dir} were in the age classifier's training set "
                          f"({record_path}), so its reading of them says nothing: {fix}.")
    return unseen, (f"scoring {len(unseen)} of {len(pick)} validation faces: {overlap} were in the age classifier's "
                    f"training set ({record_path}); {fix}.")


def cmd_age_agreement(args) -> int:
    """``gans age-agreement RUN --classifier AGE_CLASSIFIER.h5 [--data DIR] [--n N]``."""
    from gans.datasets.utkface import load_utkface_splits, spread_indices
    from gans.io import check_output, read_json, write_rows
    from gans.models.caae import load_pair

    def outputs(table: str) -> Path:  # the table and its figure beside it
        table = check_output(table, ".csv", "--out", args.overwrite)
        check_output(str(table.with_suffix(".png")), ".png", "--out", args.overwrite)
        return table

    out = outputs(args.out) if args.out else None  # a given --out: before anything is loaded
    classifier = load_age_classifier(args.classifier)
    encoder, generator = load_pair(args.run)
    run = Path(args.run).expanduser()
    run_dir = run if run.is_dir() else run.parent.parent
    out = out or outputs(str(run_dir / AGREEMENT_FILE))  # the default, in the run folder once it is found
    record_path = run_dir / "caae.json"
    record = read_json(record_path, "a CAAE run's caae.json") if record_path.is_file() else {}
    data = args.data or record.get("data")
    if data is None:
        raise ConfigError(f"{run_dir} has no caae.json naming its data: pass --data UTKFACE_DIR.")
    size = int(encoder.inputs[0].shape[1])
    _, validation = load_utkface_splits(data, size, validation_fraction=record.get("validation_fraction", 0.1),
                                        seed=record.get("split_seed", 0), limit=record.get("limit"))
    pick = spread_indices(len(validation), args.n)  # not the first N: the split is in name (= age) order
    pick, note = unseen_faces(pick, validation.meta["filenames"], args.classifier, run_dir)
    if note:
        print(note)
    rows = age_agreement(encoder, generator, classifier, validation.images[pick], validation.meta["age_group"][pick],
                         validation.meta["gender"][pick])
    write_rows(out, AGREEMENT_COLUMNS, [{**r, **{c: f"{r[c]:.4f}" for c in ("agreement", "mean_read", "real_accuracy",
                                                                            "real_mean_read", "rebuilt_accuracy",
                                                                            "rebuilt_mean_read", "label_effect")}}
                                        for r in rows])
    plot_age_agreement(rows, out.with_suffix(".png"),
                       title=f"{run_dir.name}: {len(pick)} validation faces the classifier was not trained on")
    print(format_agreement(rows))
    print(f"written to {out} and {out.with_suffix('.png')}")
    log.debug("age agreement of %s: %s", run_dir, json.dumps(rows))
    return 0
