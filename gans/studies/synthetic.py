"""Training LeNet on synthetic digits: the MNIST paper's section 4 (seed 004).

For each real fraction r, LeNet-5 (:func:`gans.evaluation.classifier.build_lenet5`, trained by
:func:`~gans.evaluation.classifier.train_lenet5`) is trained from scratch on a mixture: a random r of
the real training digits of every class, filled up with digits a class-conditional generator draws
for that class, so the training set keeps its size and its class proportions (the paper's "same
amount of training data ... including proportion of individual classes"). ``class_fractions``
overrides r for single classes (the paper's section 4.3 raised class 0 to 40%). Its accuracy is
measured on real digits that no training step saw. As a control, the same real digits are also used
alone, without the synthetic fill, for as many gradient steps as the mixture (they are repeated to the
mixture's size, :func:`repeat_to_size`; the steps of both are read from the optimizers and written to
the CSV): the difference is what the generated digits add, not what more training adds. The real
digits alone for the mixture's epochs (fewer steps: the control this study used before) are kept as
``same_epochs_accuracy``.

Which digits are held out: with a data source that has both MNIST splits, the test split. The shared
MNIST folder of this project has only the 10,000 test digits: then a seeded random ``holdout`` of them
(:func:`holdout_split`) is held out and the rest is the real training pool. The generator should not
have seen the held-out digits either: train it on the pool only (``write_training_part``).

Outputs in ``--out``: ``synthetic.csv`` (one row per fraction), ``synthetic_fraction.png`` (accuracy
against the real fraction, with the real-only control), ``confusion_rNNN.png`` and ``.csv`` per
fraction, and ``synthetic.json`` (the protocol: data, split, checkpoint, training settings).

Reference:
    Seed 004, section 4 and Figures 9-12 ("high performance even when the amount of real training
    samples is quite small (around 10%)").
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError

log = logging.getLogger(__name__)

HOLDOUT_SEED = 0
HOLDOUT_SIZE = 2000
# The files a study writes into its folder (glob patterns): what --overwrite removes of an earlier study.
OUTPUTS = ("synthetic.csv", "synthetic_fraction.png", "synthetic.json", "confusion_r*.png", "confusion_r*.csv")
# The first seven are read by other code (gans reproduce): keep them. ``steps`` are the mixture's gradient
# steps; the control (``real_only_*``) is trained for as many (``real_only_epochs`` passes over its real
# digits); ``same_epochs_accuracy`` is the real digits alone for the mixture's epochs, so fewer steps.
COLUMNS = ("real_fraction", "n_real", "n_synthetic", "accuracy", "real_only_accuracy", "n_test", "class_fractions",
           "steps", "real_only_steps", "real_only_epochs", "same_epochs_accuracy")


def holdout_split(n: int, holdout: int = HOLDOUT_SIZE, seed: int = HOLDOUT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Indices (training part, held-out part) of ``n`` digits: a seeded random ``holdout`` are held out.

    Raises:
        ConfigError: ``holdout`` leaves no digit on one side.
    """
    if not 0 < holdout < n:
        raise ConfigError(f"--holdout must be between 1 and {n - 1} (the digits available), got {holdout}.")
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[holdout:]), np.sort(order[:holdout])


def split_mnist(path=None, holdout: int = HOLDOUT_SIZE, seed: int = HOLDOUT_SEED) -> dict:
    """The real training pool and the held-out test digits, and a sentence saying how they were chosen.

    The MNIST training and test splits when the source has both; otherwise (the shared folder: the
    test set only) a seeded random split of the one split there is (:func:`holdout_split`).

    Returns:
        dict with ``x_train``, ``y_train``, ``x_test``, ``y_test`` (uint8 images, int labels), ``split``
        ({"kind": "mnist" or "seeded", "seed": the split's seed or None, "n_train", "n_test"}) and ``protocol``.
    """
    from gans.datasets.mnist import load_mnist

    def split(name):
        try:
            return load_mnist(path, split=name, allow_fallback=False)
        except DataError:
            return None

    train, test = split("train"), split("test")
    if train is not None and test is not None and train.labels is not None and test.labels is not None:
        return {"x_train": train.images, "y_train": train.labels, "x_test": test.images, "y_test": test.labels,
                "split": {"kind": "mnist", "seed": None, "n_train": len(train), "n_test": len(test)},
                "protocol": f"real pool: the MNIST training split ({len(train)} digits); held out: the test "
                            f"split ({len(test)} digits) of {train.source}"}
    data = train or test or load_mnist(path, split="all")
    if data.labels is None:
        raise DataError(f"{data.source} has no labels; the study needs the class of every digit.")
    return split_digits(data.images, data.labels, data.source, holdout, seed)


def split_digits(images: np.ndarray, labels: np.ndarray, source: str, holdout: int = HOLDOUT_SIZE,
                 seed: int = HOLDOUT_SEED) -> dict:
    """The parts of one labelled split of digits: a seeded random ``holdout`` held out (:func:`holdout_split`).

    What :func:`split_mnist` does with a source that has one split only, for digits already in memory.

    Returns:
        dict as :func:`split_mnist`'s, with ``split`` = {"kind": "seeded", "seed", "n_train", "n_test"}.
    """
    pool, held = holdout_split(len(images), holdout, seed)
    return {"x_train": images[pool], "y_train": labels[pool], "x_test": images[held], "y_test": labels[held],
            "split": {"kind": "seeded", "seed": int(seed), "n_train": int(len(pool)), "n_test": int(len(held))},
            "protocol": f"{source} has one split only: a seeded (seed {seed}) random {len(held)} of its "
                        f"{len(images)} digits are held out for testing, never trained on; the other "
                        f"{len(pool)} are the real pool"}


def write_training_part(path, out, holdout: int = HOLDOUT_SIZE, seed: int = HOLDOUT_SEED) -> Path:
    """Write the real pool as an MNIST-layout .npz (``x_train``, ``y_train``), to train the generator on
    exactly the digits the study may train on (``gans train cgan --data OUT.npz``)."""
    from gans.io import save_npz

    parts = split_mnist(path, holdout, seed)
    return save_npz(Path(out), compressed=True, x_train=parts["x_train"][..., 0], y_train=parts["y_train"])


def load_conditional_generator(path, image_shape, num_classes: int):
    """A class-conditional generator from a checkpoint, checked against the data it must imitate.

    Raises:
        ConfigError: the model is not a conditional generator (one input, no class input, no image
            output), or its images or classes do not match the data.
    """
    from gans.models import load_generator
    from gans.models.conditioning import num_classes_of

    model = load_generator(path)
    fix = "pass a class-conditional generator checkpoint (gans train cgan ... -> RUN/checkpoints/generator_step_N.h5)"
    outputs = model.output_shape
    if len(model.inputs) != 2 or isinstance(outputs, list) or len(outputs) != 4:
        raise ConfigError(f"{path} is not a conditional generator (inputs {[tuple(t.shape) for t in model.inputs]}, "
                          f"output {outputs}); {fix}.")
    try:
        classes = num_classes_of(model)
    except ConfigError:
        raise ConfigError(f"{path} takes no class label input; {fix}.") from None
    if tuple(outputs[1:]) != tuple(image_shape):
        raise ConfigError(f"{path} draws {tuple(outputs[1:])} images, the data has {tuple(image_shape)}; {fix}.")
    if classes != num_classes:
        raise ConfigError(f"{path} draws {classes} classes, the data has {num_classes}; {fix}.")
    return model


def parse_number_list(text: str, convert, option: str, kind: str, one: str, example: str,
                      full_example: str) -> list:
    """A command-line list ``"a,b,c"`` converted item by item (``float``, ``int``), empty items skipped.

    Raises:
        ConfigError: an item ``convert`` refuses ("``option`` takes ``kind`` separated by commas"), or
            no item at all ("``option`` lists no ``one``"), with ``example`` / ``full_example`` as the fix.
    """
    try:
        values = [convert(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{option} takes {kind} separated by commas (e.g. {example}), got {text!r}.") from None
    if not values:
        raise ConfigError(f"{option} lists no {one}; give e.g. {option} {full_example}.")
    return values


def parse_fractions(text: str) -> list[float]:
    """``"0.1,0.25,1"`` -> [0.1, 0.25, 1.0], each in (0, 1].

    Raises:
        ConfigError: not numbers, none, or one outside (0, 1].
    """
    values = parse_number_list(text, float, "--real-fraction", "numbers", "fraction", "0.1,0.5,1", "0.1,0.25,0.5,1.0")
    for value in values:
        if not (0.0 < value <= 1.0):  # also refuses NaN
            raise ConfigError(f"real fraction {value:g} is outside (0, 1]: it is the share of the real training "
                              "digits kept (1 = all real, no synthetic digit); e.g. --real-fraction 0.1,0.5,1.")
    return sorted(set(values))


def parse_class_fractions(items, num_classes: int = 10) -> dict[int, float]:
    """``["0=0.4", "3=0.2,5=1"]`` -> {0: 0.4, 3: 0.2, 5: 1.0}.

    Raises:
        ConfigError: not ``CLASS=FRACTION``, a class out of range, or a fraction outside (0, 1].
    """
    result = {}
    for item in [part for entry in (items or []) for part in str(entry).split(",") if part.strip()]:
        try:
            cls, value = item.split("=")
            cls, value = int(cls), float(value)
        except ValueError:
            raise ConfigError(f"--class-fraction takes CLASS=FRACTION (e.g. 0=0.4), got {item!r}.") from None
        if not 0 <= cls < num_classes:
            raise ConfigError(f"--class-fraction {item}: class {cls} is out of range 0-{num_classes - 1}.")
        if not (0.0 < value <= 1.0):
            raise ConfigError(f"--class-fraction {item}: the fraction {value:g} is outside (0, 1].")
        result[cls] = value
    return result


def mixture_counts(labels: np.ndarray, fraction: float, class_fractions: dict[int, float] | None = None,
                   num_classes: int | None = None) -> dict[int, tuple[int, int]]:
    """Real and synthetic digits of each class: ``round(r_c * n_c)`` real (at least one), the rest
    synthetic, so every class keeps its count ``n_c``.

    Returns:
        {class: (n_real, n_synthetic)}.
    """
    labels = np.asarray(labels)
    classes = range(num_classes) if num_classes else sorted(int(c) for c in np.unique(labels))
    counts = {}
    for c in classes:
        n = int((labels == c).sum())
        r = (class_fractions or {}).get(c, fraction)
        real = min(n, max(1, int(round(r * n)))) if n else 0
        counts[c] = (real, n - real)
    return counts


def build_mixture(x_real: np.ndarray, y_real: np.ndarray, synthetic: dict[int, np.ndarray],
                  counts: dict[int, tuple[int, int]], seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training set of one fraction: per class, a seeded random choice of real digits, then the
    first generated digits of the class.

    Args:
        x_real: uint8 real digits; y_real: their classes.
        synthetic: per class, generated digits in [-1, 1] (at least the synthetic count).
        counts: from :func:`mixture_counts`.
        seed: seed of the choice of real digits.

    Returns:
        (images float32 in [-1, 1], labels, is_real mask).
    """
    from gans.datasets.scaling import scale_images

    rng = np.random.default_rng(seed)
    xs, ys, real_mask = [], [], []
    for c, (n_real, n_fake) in counts.items():
        idx = rng.choice(np.flatnonzero(y_real == c), n_real, replace=False)
        xs.append(scale_images(x_real[idx]))
        if n_fake:
            if len(synthetic.get(c, ())) < n_fake:
                raise DataError(f"class {c} needs {n_fake} generated digits, {len(synthetic.get(c, ()))} were drawn.")
            xs.append(np.asarray(synthetic[c][:n_fake], dtype=np.float32))
        ys.append(np.full(n_real + n_fake, c))
        real_mask.append(np.r_[np.ones(n_real, bool), np.zeros(n_fake, bool)])
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(real_mask)


def repeat_to_size(x: np.ndarray, y: np.ndarray, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``x``, ``y`` repeated to ``size`` items: every item ``size // n`` times, and a seeded random choice of
    ``size % n`` of them once more, so each is seen as evenly as the size allows.

    The step-matched control: the real digits alone, repeated to the mixture's size, give LeNet the
    same number of gradient steps per epoch as the mixture, and the same learning-rate schedule
    (:func:`~gans.evaluation.classifier.train_lenet5` halves it after two thirds of the epochs).

    Raises:
        DataError: nothing to repeat, or ``size`` smaller than what there is.
    """
    n = len(y)
    if n == 0 or size < n:
        raise DataError(f"cannot repeat {n} digits to {size}: need at least one digit and a size of at least {n}.")
    extra = np.random.default_rng(seed).choice(n, size % n, replace=False)
    index = np.concatenate([np.tile(np.arange(n), size // n), np.sort(extra)])
    return x[index], y[index]


def train_and_test(x, y, x_test, y_test, num_classes: int, epochs: int, batch_size: int, learning_rate: float,
                   seed: int) -> tuple[float, np.ndarray, int]:
    """A fresh LeNet-5 trained on (x, y); its accuracy and confusion matrix on the held-out digits, and the
    gradient steps it took (read from its optimizer, not computed)."""
    import keras

    from gans.evaluation.callbacks import confusion_matrix
    from gans.evaluation.classifier import build_lenet5, predict_probabilities, train_lenet5

    model = build_lenet5(input_shape=x.shape[1:], num_classes=num_classes)
    train_lenet5(model, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, max_shift=0,
                 seed=seed, progress=False)
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    read = predict_probabilities(model, x_test).argmax(axis=1)
    return float(np.mean(read == y_test)), confusion_matrix(y_test, read, num_classes), steps


def plot_fractions(rows: list[dict], out: Path, title: str = "") -> Path:
    """Held-out accuracy against the real fraction (each tick also gives the real digits' count): real +
    synthetic, the same real digits alone for as many gradient steps, and (thin) for as many epochs."""
    from gans.visualize import pyplot, save_figure

    plt = pyplot()
    fractions = [float(r["real_fraction"]) for r in rows]
    fig, ax = plt.subplots(figsize=(6.5, 4.4), dpi=100)
    ax.plot(fractions, [100 * float(r["accuracy"]) for r in rows], marker="o", color="tab:blue",
            label="real + synthetic (same size, same class proportions)")
    ax.plot(fractions, [100 * float(r["real_only_accuracy"]) for r in rows], marker="s", ls="--",
            color="tab:gray", label="the same real digits alone, as many gradient steps")
    if any(r.get("same_epochs_accuracy", "") not in ("", "nan") for r in rows):
        ax.plot(fractions, [100 * float(r.get("same_epochs_accuracy") or "nan") for r in rows], marker=".", ls=":",
                lw=1, color="tab:gray", label="the same real digits alone, as many epochs (fewer steps)")
    for f, r in zip(fractions, rows):
        ax.annotate(f"{100 * float(r['accuracy']):.1f}", (f, 100 * float(r["accuracy"])), textcoords="offset points",
                    xytext=(0, 6), ha="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xticks(fractions)
    ax.set_xticklabels([f"{100 * f:g}%\n{int(r['n_real']):,}" for f, r in zip(fractions, rows)])
    ax.minorticks_off()
    ax.set_xlabel("real digits in the training set (share, count)")
    ax.set_ylabel("accuracy on held-out real digits (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title or "LeNet trained on real and synthetic digits (seed 004, Figure 9)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out)


def run_synthetic_study(checkpoint, parts: dict, fractions, out, class_fractions: dict[int, float] | None = None,
                        epochs: int = 5, batch_size: int = 32, learning_rate: float = 1e-3, seed: int = 0,
                        real_only: bool = True, progress: bool = True, source: str | Path | None = None,
                        overwrite: bool = False) -> list[dict]:
    """Train and test LeNet on each mixture; write the CSV, the curve and a confusion matrix per fraction.

    The study owns ``out`` (:func:`gans.io.claim_folder`): a used folder is refused, or with
    ``overwrite`` emptied of the earlier study's files first, so no figure of that study stays.

    Args:
        checkpoint: a class-conditional generator .h5 (or a loaded model: then ``source`` names its file).
        parts: from :func:`split_mnist`.
        fractions: real fractions, each in (0, 1].
        out: output folder.
        class_fractions: per-class overrides of the real fraction.
        epochs: LeNet's training epochs (the paper: 5).
        batch_size: LeNet's batch (the paper: 32).
        learning_rate: LeNet's Adam learning rate (the paper: 1e-3).
        seed: seed of the real-digit choice, the generated digits and LeNet's training.
        real_only: also train on the real digits alone (the control).
        progress: show a progress bar over the fractions.
        source: the generator's file when ``checkpoint`` is a loaded model, for ``synthetic.json``.
        overwrite: replace an earlier study in ``out`` (its files only).

    Returns:
        The rows of ``synthetic.csv``.

    Raises:
        ConfigError: ``out`` holds files, and ``overwrite`` is False or some are not this study's.
    """
    import keras

    from gans.evaluation.callbacks import plot_confusion
    from gans.evaluation.fid import generate_images
    from gans.io import claim_folder, write_json, write_rows

    fractions = parse_fractions(",".join(map(str, fractions))) if not isinstance(fractions, str) else \
        parse_fractions(fractions)
    x_train, y_train, x_test, y_test = parts["x_train"], parts["y_train"], parts["x_test"], parts["y_test"]
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    class_fractions = dict(class_fractions or {})
    generator = checkpoint if isinstance(checkpoint, keras.Model) else \
        load_conditional_generator(checkpoint, x_train.shape[1:], num_classes)
    plans = {f: mixture_counts(y_train, f, class_fractions, num_classes) for f in fractions}
    out = claim_folder(out, "--out", overwrite, OUTPUTS)  # every input checked; minutes of work follow
    needed = {c: max(plan[c][1] for plan in plans.values()) for c in range(num_classes)}
    start = time.perf_counter()
    synthetic = {c: generate_images(generator, n, seed=seed + c, labels=np.full(n, c)) if n else
                 np.zeros((0,) + x_train.shape[1:], np.float32) for c, n in needed.items()}
    log.info("%d digits generated in %.1f s", sum(needed.values()), time.perf_counter() - start)
    rows = []
    steps = fractions
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(fractions, desc="real fractions", unit="fraction")
    for f in steps:
        x, y, is_real = build_mixture(x_train, y_train, synthetic, plans[f], seed=seed)
        accuracy, matrix, mixture_steps = train_and_test(x, y, x_test, y_test, num_classes, epochs, batch_size,
                                                         learning_rate, seed)
        n_real = int(is_real.sum())
        alone, alone_steps, same_epochs = float("nan"), "", float("nan")
        if real_only and is_real.all():
            alone, alone_steps, same_epochs = accuracy, mixture_steps, accuracy  # the control is this training set
        elif real_only:
            # The control sees the real digits alone for as many gradient steps as the mixture took (the
            # real digits repeated to the mixture's size), so the extra training is no part of the gap.
            x_alone, y_alone = repeat_to_size(x[is_real], y[is_real], len(y), seed=seed)
            alone, _, alone_steps = train_and_test(x_alone, y_alone, x_test, y_test, num_classes, epochs, batch_size,
                                                   learning_rate, seed)
            same_epochs, _, _ = train_and_test(x[is_real], y[is_real], x_test, y_test, num_classes, epochs,
                                               batch_size, learning_rate, seed)
        name = f"confusion_r{round(1000 * f):04d}"
        plot_confusion(matrix, out / f"{name}.png",
                       title=f"{100 * f:g}% real{' (' + _describe(class_fractions) + ')' if class_fractions else ''}: "
                             f"held-out accuracy {100 * accuracy:.2f}%", ylabel="true class (held-out real digit)")
        write_rows(out / f"{name}.csv", ("true",) + tuple(f"read_{c}" for c in range(num_classes)),
                   [{"true": t, **{f"read_{c}": int(v) for c, v in enumerate(row)}} for t, row in enumerate(matrix)])
        rows.append({"real_fraction": f"{f:g}", "n_real": n_real, "n_synthetic": int((~is_real).sum()),
                     "accuracy": f"{accuracy:.4f}", "real_only_accuracy": f"{alone:.4f}", "n_test": len(y_test),
                     "class_fractions": _describe(class_fractions) or "-", "steps": mixture_steps,
                     "real_only_steps": alone_steps,
                     "real_only_epochs": f"{epochs * len(y) / n_real:.4g}" if real_only else "",
                     "same_epochs_accuracy": f"{same_epochs:.4f}"})
        write_rows(out / "synthetic.csv", COLUMNS, rows)  # after every fraction: a long study shows progress
    plot_fractions(rows, out / "synthetic_fraction.png")
    write_json(out / "synthetic.json", {
        # the generator's file (a loaded model's name is no path: None unless ``source`` gives it)
        "checkpoint": str(source) if source is not None else None if isinstance(checkpoint, keras.Model)
        else str(checkpoint),
        "protocol": parts["protocol"], "split": parts.get("split"), "n_pool": int(len(y_train)),
        "n_test": int(len(y_test)), "fractions": fractions,
        "class_fractions": {str(k): v for k, v in class_fractions.items()},
        "lenet": {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate, "augmentation": "none",
                  "seed": seed},
        "control": None if not real_only else "the same real digits alone, repeated to the mixture's size: as many "
                   "gradient steps and the same learning-rate schedule (real_only_*); same_epochs_accuracy: "
                   "them alone for the mixture's epochs, so fewer steps"})
    return rows


def _describe(class_fractions: dict[int, float]) -> str:
    return " ".join(f"{c}={v:g}" for c, v in sorted(class_fractions.items()))


def cmd_synthetic(args) -> int:
    """``gans study synthetic``: the handler (arguments in :mod:`gans.cli`)."""
    from gans.io import claim_folder

    claim_folder(args.out, "--out", args.overwrite, OUTPUTS, remove=False)  # refused before anything is read
    fractions = parse_fractions(args.real_fraction)
    class_fractions = parse_class_fractions(args.class_fraction)
    if args.epochs < 1 or args.batch_size < 1:
        raise ConfigError("--epochs and --batch-size must be at least 1.")
    parts = split_mnist(args.data, holdout=args.holdout, seed=args.split_seed)
    num_classes = int(max(parts["y_train"].max(), parts["y_test"].max())) + 1
    # The checkpoint is checked before any training starts.
    generator = load_conditional_generator(args.checkpoint, parts["x_train"].shape[1:], num_classes)
    print(f"data: {parts['protocol']}.")
    print(f"LeNet-5 from scratch for each fraction: {args.epochs} epochs, batch {args.batch_size}, Adam "
          f"{args.lr:g}, no augmentation; accuracy on the {len(parts['y_test'])} held-out real digits.")
    rows = run_synthetic_study(generator, parts, fractions, args.out, class_fractions, epochs=args.epochs,
                               batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed,
                               real_only=not args.no_real_only, progress=not args.no_progress,
                               source=args.checkpoint, overwrite=args.overwrite)
    print(f"{'real':>6} {'n_real':>7} {'n_synth':>7} {'steps':>6} {'accuracy':>9} {'real only':>9} "
          f"{'its steps':>9} {'epochs':>6} {'same epochs':>11}")
    for r in rows:
        print(f"{100 * float(r['real_fraction']):>5g}% {r['n_real']:>7} {r['n_synthetic']:>7} {r['steps']:>6} "
              f"{100 * float(r['accuracy']):>8.2f}% {100 * float(r['real_only_accuracy']):>8.2f}% "
              f"{r['real_only_steps']:>9} {r['real_only_epochs']:>6} {100 * float(r['same_epochs_accuracy']):>10.2f}%")
    print("real only: the same real digits alone for as many gradient steps as the mixture (repeated: 'epochs' "
          "passes over them); same epochs: them alone for the mixture's epochs, fewer steps.")
    out = Path(args.out)
    print(f"-> {out / 'synthetic.csv'}, {out / 'synthetic_fraction.png'}, {out}/confusion_r*.png")
    return 0
