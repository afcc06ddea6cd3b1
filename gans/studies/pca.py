"""PCA as a generator: the MNIST paper's baseline for the class-conditional GAN (seed 004, section 5).

For each class, principal component analysis of that class's real digits gives a mean image and the
directions of largest variance. The paper's protocol (section 5.1) is *reconstruction*: a digit is
projected on its class's first ``k`` components and rebuilt. Here PCA is fitted on a training part
of the digits and the digits rebuilt are held out (the split rule of the synthetic-data study,
:func:`gans.studies.synthetic.split_mnist`: MNIST's test split when the source has both splits,
else a seeded random ``holdout``), so the curve measures how well ``k`` components carry digits the
fit never saw (source ``pca_reconstruction``: the primary curve). As a second curve the components
are used as a generator proper: the class mean plus a random combination of the first ``k``
directions, each weighted by a Gaussian draw with that component's variance, clipped to [-1, 1]
(source ``pca``). With few components every digit is a blurred class average; with more, the samples
carry more of the class's variation but also more of its linear noise, while the rebuilt digits
approach the real ones.

Both are scored like the GANs, by the library's MNIST LeNet
(:func:`gans.evaluation.classifier.load_or_train_lenet`): the classifier inception score
(:func:`gans.evaluation.inception_score.inception_score_from_probs`) and the conditional agreement, how
often LeNet reads the class the digit was rebuilt or drawn for (the paper's "inception score of
97.6%"). The held-out digits themselves, and a CCGAN checkpoint when one is given, are scored the same
way for the horizontal lines of the figure. :func:`saturation_point` finds where the reconstruction
curve stops improving (the paper: "after 64 major components, the improvement became saturated").

Outputs in ``--out``: ``pca.csv`` (the ``pca_reconstruction`` rows, then the ``pca`` rows, then the
real digits and the checkpoint), ``pca.json`` (the split, its seed and sizes, the saturation points),
``pca.png`` (score and agreement against the component count, log x), ``pca_rebuilt.png`` (held-out
digits, one per class, and their reconstructions, one row per k) and ``samples/pca_kNNN.png`` (sampled
digits, one class per row).

Reference:
    Seed 004, section 5 and Figure 13: "after 64 major components, the improvement became saturated".
    Pearson, K. (1901); Hotelling, H. (1933) for PCA.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError

log = logging.getLogger(__name__)

DEFAULT_COMPONENTS = (1, 2, 4, 8, 16, 32, 64, 128)
# The files a study writes into its folder (glob patterns): what --overwrite removes of an earlier study.
OUTPUTS = ("pca.csv", "pca.json", "pca.png", "pca_rebuilt.png", "samples/pca_k*.png")
# The first seven are read by other code (gans reproduce): keep them. ``n_scored``: the digits scored in
# the row; ``reconstruction_error``: the rebuilt held-out digits' mean squared pixel error (in [-1, 1]).
COLUMNS = ("source", "components", "inception_score", "inception_score_std", "agreement",
           "explained_variance", "n_per_class", "n_scored", "reconstruction_error")
# :func:`saturation_point`'s default tolerance: 1% of the curve's best value.
SATURATION_TOLERANCE = 0.01


@dataclass
class ClassPCA:
    """The principal components of one class's digits, in [-1, 1] pixel space (flattened).

    Attributes:
        mean: (P,) the class's mean image.
        components: (K, P) orthonormal directions, largest variance first.
        variances: (K,) the variance of the digits' scores along each direction (unbiased).
        total_variance: the summed pixel variance of the class, for the explained share.
    """

    mean: np.ndarray
    components: np.ndarray
    variances: np.ndarray
    total_variance: float

    def explained(self, k: int) -> float:
        """Share of the class's pixel variance the first ``k`` components carry."""
        return float(self.variances[:k].sum() / self.total_variance) if self.total_variance > 0 else 1.0

    def reconstruct(self, x: np.ndarray, k: int) -> np.ndarray:
        """Flattened images in [-1, 1] projected on the first ``k`` components and back (clipped)."""
        centred = np.asarray(x, dtype=np.float64).reshape(len(x), self.mean.size) - self.mean
        return np.clip(self.mean + centred @ self.components[:k].T @ self.components[:k], -1.0, 1.0)

    def sample(self, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` flattened images from the first ``k`` components: mean + sum_i z_i v_i, z_i ~ N(0, var_i)."""
        scores = rng.standard_normal((n, k)) * np.sqrt(self.variances[:k])
        return np.clip(self.mean + scores @ self.components[:k], -1.0, 1.0)


def max_components(images: np.ndarray, labels: np.ndarray) -> tuple[int, dict[int, int]]:
    """The most components every class can give (its digits minus one, at most the pixel count), and
    the digits per class."""
    counts = {int(c): int((labels == c).sum()) for c in np.unique(labels)}
    pixels = int(np.prod(images.shape[1:]))
    return min([pixels] + [n - 1 for n in counts.values()]), counts


def check_components(components, images: np.ndarray, labels: np.ndarray) -> list[int]:
    """The component counts, sorted and checked against what the data can give.

    Raises:
        ConfigError: an empty list, a count below 1, more than the pixels of an image, or more than a
            class's digits can span (its digit count minus one: one degree of freedom goes to the mean).
    """
    values = sorted({int(k) for k in components})
    if not values:
        raise ConfigError("--components lists no component count; give e.g. --components 1,2,4,8.")
    if values[0] < 1:
        raise ConfigError(f"--components must be at least 1, got {values[0]}.")
    pixels = int(np.prod(images.shape[1:]))
    if values[-1] > pixels:
        raise ConfigError(f"--components {values[-1]} is more than the {pixels} pixels of a "
                          f"{'x'.join(map(str, images.shape[1:3]))} image; use at most {pixels}.")
    limit, counts = max_components(images, labels)
    if values[-1] > limit:
        smallest = min(counts, key=counts.get)
        raise ConfigError(f"--components {values[-1]} is more than class {smallest} can give: it has "
                          f"{counts[smallest]} digits, so at most {counts[smallest] - 1} components (one degree "
                          f"of freedom goes to the mean); use at most {limit}, or more data.")
    return values


def fit_class_pca(images: np.ndarray, k: int) -> ClassPCA:
    """PCA of one class's digits (uint8 or [-1, 1]) by a thin SVD of the centred data; ``k`` components kept."""
    from gans.datasets.scaling import scale_images

    x = scale_images(images).reshape(len(images), -1).astype(np.float64)
    mean = x.mean(axis=0)
    _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)
    variances = singular ** 2 / (len(x) - 1)
    return ClassPCA(mean, vt[:k], variances[:k], float(variances.sum()))


def fit_pca_generators(images: np.ndarray, labels: np.ndarray, k: int) -> dict[int, ClassPCA]:
    """One :class:`ClassPCA` per class, each with ``k`` components (fewer are its first rows)."""
    return {int(c): fit_class_pca(images[labels == c], k) for c in np.unique(labels)}


def sample_pca(models: dict[int, ClassPCA], k: int, n_per_class: int, seed: int = 0,
               image_shape: tuple[int, ...] = (28, 28, 1)) -> tuple[np.ndarray, np.ndarray]:
    """``n_per_class`` digits of every class from the first ``k`` components.

    Returns:
        (images float32 (n, *image_shape) in [-1, 1], grouped by class; the class of each).
    """
    rng = np.random.default_rng(seed)
    classes = sorted(models)
    images = np.concatenate([models[c].sample(n_per_class, k, rng) for c in classes]).astype(np.float32)
    return images.reshape((-1,) + tuple(image_shape)), np.repeat(classes, n_per_class)


def score(images: np.ndarray, asked: np.ndarray, classifier, splits: int = 10) -> dict[str, float]:
    """The LeNet scores of class-labelled digits: inception score (mean, std over splits) and agreement."""
    from gans.evaluation.classifier import predict_probabilities
    from gans.evaluation.inception_score import inception_score_from_probs

    probs = predict_probabilities(classifier, images)
    # The splits must each hold every class, as a random draw would: samples come grouped by class, and a
    # split of one class has a peaked marginal p(y), which would score about 1.
    shuffled = probs[np.random.default_rng(0).permutation(len(probs))]
    mean, std = inception_score_from_probs(shuffled, splits=splits)
    return {"inception_score": mean, "inception_score_std": std,
            "agreement": float(np.mean(probs.argmax(axis=1) == np.asarray(asked)))}


def _row(source: str, k, scores: dict, explained, n_per_class: int, n_scored: int, error=None) -> dict:
    return {"source": source, "components": "" if k is None else int(k),
            "inception_score": f"{scores['inception_score']:.4f}",
            "inception_score_std": f"{scores['inception_score_std']:.4f}",
            "agreement": f"{scores['agreement']:.4f}",
            "explained_variance": "" if explained is None else f"{explained:.4f}", "n_per_class": n_per_class,
            "n_scored": int(n_scored), "reconstruction_error": "" if error is None else f"{error:.6f}"}


def saturation_point(rows, key: str = "inception_score", tolerance: float = SATURATION_TOLERANCE,
                     source: str = "pca_reconstruction") -> int | None:
    """Where a curve of ``rows`` saturates: the smallest component count k from which no larger count
    improves on k's ``key`` by more than ``tolerance`` times the curve's best value.

    The rule reads "the improvement became saturated" (seed 004, section 5.2) literally: after the
    saturation point, more components gain at most ``tolerance`` (1% of the best value by default:
    0.1 of an inception score near 10, or about one point of agreement). A curve that falls from its
    first k saturates there (nothing later improves on it); a curve still rising by more than the
    tolerance at its last steps saturates at the largest k tried, which then says only that it did
    not saturate earlier. The default score is the paper's (Figure 13: the inception score): the
    agreement of a digit rebuilt from its own class's components is near 1 from k = 1 on (the class
    mean already reads as the class), so its curve saturates at once and says little.

    Args:
        rows: ``pca.csv``'s rows (as :func:`run_pca_study` returns them, or read back as strings).
        key: the score that should improve (``"inception_score"`` or ``"agreement"``; higher is better).
        tolerance: the improvement counted as none, as a share of the curve's best value.
        source: the curve (``"pca_reconstruction"``, the paper's, or ``"pca"``, the sampled digits).

    Returns:
        The saturation point's component count, or None when ``rows`` hold no such curve.
    """
    curve = sorted((int(r["components"]), float(r[key])) for r in rows if r["source"] == source)
    if not curve:
        return None
    allowed = tolerance * max(abs(v) for _, v in curve)
    for i, (k, value) in enumerate(curve):
        if max(v for _, v in curve[i:]) - value <= allowed:
            return k
    return curve[-1][0]  # not reached: the last point always satisfies the rule


def plot_pca(rows: list[dict], out: Path, title: str = "") -> Path:
    """Inception score and agreement against the component count (log x): held-out digits rebuilt from k
    components (the paper's protocol, solid), digits sampled from the components (dashed), the real
    digits and the checkpoint (when scored) as horizontal lines, and each curve's saturation point."""
    from gans.visualize import pyplot, save_figure

    plt = pyplot()
    rebuilt = [r for r in rows if r["source"] == "pca_reconstruction"]
    sampled = [r for r in rows if r["source"] == "pca"]
    ks = [int(r["components"]) for r in rebuilt or sampled]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for ax, key, label in ((axes[0], "inception_score", "LeNet inception score"),
                           (axes[1], "agreement", "LeNet reads the class")):
        for curve, style, name in ((rebuilt, dict(color="tab:blue", marker="o", ls="-", lw=2),
                                    "held-out digits rebuilt from k components (paper)"),
                                   (sampled, dict(color="tab:purple", marker="s", ls="--", lw=1.2),
                                    "digits sampled from k components")):
            if not curve:
                continue
            x = [int(r["components"]) for r in curve]
            if key == "inception_score":
                ax.errorbar(x, [float(r[key]) for r in curve], yerr=[float(r["inception_score_std"]) for r in curve],
                            capsize=3, label=name, **style)
            else:
                ax.plot(x, [float(r[key]) for r in curve], label=name, **style)
        k = saturation_point(rows, key)
        if k is not None:
            ax.axvline(k, color="tab:blue", lw=1, ls=(0, (1, 3)), label=f"rebuilt: saturated at k={k}")
        for source, style, name in (("real", dict(color="gray", ls=":"), "held-out real digits"),
                                    ("ccgan", dict(color="tab:orange", ls="--"), "CCGAN")):
            for r in rows:
                if r["source"] == source:
                    ax.axhline(float(r[key]), lw=1.5, label=f"{name} ({float(r[key]):.3f})", **style)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks)
        ax.set_xticklabels([str(k) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("principal components per class (k)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()  # the curves first, in the order drawn
        order = sorted(range(len(labels)), key=lambda i: (not labels[i].endswith("components (paper)"),
                                                          not labels[i].startswith("digits sampled"), i))
        ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=7, loc="best")
    lowest = min(float(r["agreement"]) for r in rows)
    axes[1].set_ylim(max(0.0, lowest - 0.05), 1.005)
    fig.suptitle(title or "Held-out digits rebuilt from k per-class principal components (seed 004, Figure 13)",
                 fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out)


def run_pca_study(parts: dict, components, out: str | Path, classifier, checkpoint: str | Path | None = None,
                  n_per_class: int = 1000, seed: int = 0, progress: bool = True, overwrite: bool = False) -> list[dict]:
    """Fit per-class PCA on the training part; for each component count, score the held-out digits
    rebuilt from it (the paper's protocol) and digits sampled from it; write the outputs.

    The study owns ``out`` (:func:`gans.io.claim_folder`): a used folder is refused, or with
    ``overwrite`` emptied of the earlier study's files first, so no sample grid of that study stays.

    Args:
        parts: the training part and the held-out digits, from :func:`gans.studies.synthetic.split_mnist`
            (a data source) or :func:`gans.studies.synthetic.split_digits` (digits in memory): uint8
            ``x_train``/``x_test`` (N, H, W, 1), their ``y_train``/``y_test``, ``protocol`` and ``split``.
        components: component counts to try.
        out: output folder.
        classifier: the scoring classifier (softmax over the classes).
        checkpoint: a conditional generator .h5 scored the same way, or None.
        n_per_class: held-out digits rebuilt per class (all of a class's when it has fewer) and samples
            drawn per class, for each score.
        seed: seed of the samples (PCA scores, generator latents, the choice of held-out digits).
        progress: show a progress bar over the component counts.
        overwrite: replace an earlier study in ``out`` (its files only).

    Returns:
        The rows of ``pca.csv``: ``pca_reconstruction`` for each k, ``pca`` for each k, ``real``, and
        ``ccgan`` with a checkpoint.

    Raises:
        ConfigError: bad components or data; ``out`` holds files, and ``overwrite`` is False or some
            are not this study's.
        DataError: a digit without a label, or a held-out class the training part lacks.
    """
    from gans.datasets.scaling import scale_images
    from gans.io import claim_folder, write_json, write_rows
    from gans.visualize import save_image_grid

    x_fit, y_fit, x_held, y_held = parts["x_train"], parts["y_train"], parts["x_test"], parts["y_test"]
    for x, y, name in ((x_fit, y_fit, "training part"), (x_held, y_held, "held-out part")):
        if y is None or len(y) != len(x):
            raise DataError(f"the PCA study needs a class label for every digit of its {name}.")
    ks = check_components(components, x_fit, y_fit)
    if n_per_class < 10:
        raise ConfigError(f"--n-per-class must be at least 10 (the inception score uses 10 splits), got {n_per_class}.")
    unknown = sorted(set(np.unique(y_held).tolist()) - set(np.unique(y_fit).tolist()))
    if unknown:
        raise DataError(f"held-out classes {unknown} have no digit in the training part; PCA is fitted per class.")
    image_shape = x_fit.shape[1:]
    generator = None
    if checkpoint is not None:  # checked before minutes of work
        from gans.studies.synthetic import load_conditional_generator

        generator = load_conditional_generator(checkpoint, image_shape, len(np.unique(y_fit)))
    out = claim_folder(out, "--out", overwrite, OUTPUTS)  # every input checked; minutes of work follow
    (out / "samples").mkdir(exist_ok=True)
    start = time.perf_counter()
    models = fit_pca_generators(x_fit, y_fit, ks[-1])  # the training part only: the rebuilt digits are unseen
    log.info("per-class PCA fitted on %d digits (%d components, %d classes) in %.1f s", len(y_fit), ks[-1],
             len(models), time.perf_counter() - start)
    classes = sorted(models)
    rng = np.random.default_rng(seed)
    chosen = {c: np.sort(rng.choice(np.flatnonzero(y_held == c), min(n_per_class, int((y_held == c).sum())),
                                    replace=False)) for c in classes}
    pixels = int(np.prod(image_shape))
    held = {c: scale_images(x_held[i]).reshape(len(i), pixels).astype(np.float64) for c, i in chosen.items()}
    asked_held = np.concatenate([np.full(len(i), c) for c, i in chosen.items()])
    n_held = min(len(i) for i in chosen.values())  # the n_per_class of the held-out rows: the smallest class's
    shown = [c for c in classes if len(chosen[c])]
    strip = [np.stack([held[c][0] for c in shown])]  # held-out digits, one per class, then their reconstructions
    rebuilt_rows, sampled_rows = [], []
    steps = ks
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(ks, desc="PCA components", unit="count")
    for k in steps:
        explained = float(np.mean([m.explained(k) for m in models.values()]))
        rebuilt = {c: models[c].reconstruct(held[c], k) for c in classes}
        error = float(np.mean(np.concatenate([((rebuilt[c] - held[c]) ** 2).ravel() for c in classes])))
        images = np.concatenate([rebuilt[c] for c in classes]).reshape((-1,) + image_shape).astype(np.float32)
        rebuilt_rows.append(_row("pca_reconstruction", k, score(images, asked_held, classifier), explained, n_held,
                                 len(asked_held), error))
        strip.append(np.stack([rebuilt[c][0] for c in shown]))
        fake, asked = sample_pca(models, k, n_per_class, seed=seed, image_shape=image_shape)
        sampled_rows.append(_row("pca", k, score(fake, asked, classifier), explained, n_per_class, len(asked)))
        per_row = min(10, n_per_class)
        grid = np.concatenate([fake[asked == c][:per_row] for c in classes])
        save_image_grid(grid, out / "samples" / f"pca_k{k:03d}.png", rows=len(models), cols=per_row)
    save_image_grid(np.concatenate(strip).reshape((-1,) + image_shape).astype(np.float32), out / "pca_rebuilt.png",
                    rows=len(strip), cols=len(shown))
    real = np.concatenate([x_held[chosen[c]] for c in classes])
    rows = rebuilt_rows + sampled_rows + [_row("real", None, score(real, asked_held, classifier), None, n_held,
                                               len(asked_held))]
    if generator is not None:
        from gans.evaluation.fid import generate_images

        asked = np.repeat(classes, n_per_class)
        fake = generate_images(generator, len(asked), seed=seed, labels=asked)
        rows.append(_row("ccgan", None, score(fake, asked, classifier), None, n_per_class, len(asked)))
    write_rows(out / "pca.csv", COLUMNS, rows)
    write_json(out / "pca.json", {
        "protocol": parts.get("protocol"), "split": parts.get("split"),
        "n_fit": int(len(y_fit)), "n_held_out": int(len(y_held)), "n_rebuilt": int(len(asked_held)),
        "fit_per_class": {str(c): int((y_fit == c).sum()) for c in classes},
        "rebuilt_per_class": {str(c): int(len(chosen[c])) for c in classes},
        "components": ks, "n_per_class": n_per_class, "seed": seed,
        "checkpoint": None if checkpoint is None else str(checkpoint),
        "saturation": {"rule": "the smallest k from which no larger k improves the rebuilt held-out digits' score "
                               f"by more than {SATURATION_TOLERANCE:g} x the curve's best value",
                       "tolerance": SATURATION_TOLERANCE,
                       "inception_score": saturation_point(rows, "inception_score"),
                       "agreement": saturation_point(rows, "agreement")}})
    plot_pca(rows, out / "pca.png",
             title=f"Held-out digits rebuilt from k per-class components vs "
                   f"{'CCGAN ' + Path(checkpoint).name if checkpoint else 'the real digits'} (LeNet scores)")
    return rows


def cmd_pca(args) -> int:
    """``gans study pca``: the handler (arguments in :mod:`gans.cli`)."""
    from gans.evaluation.classifier import load_or_train_lenet
    from gans.io import claim_folder
    from gans.studies.synthetic import split_mnist

    claim_folder(args.out, "--out", args.overwrite, OUTPUTS, remove=False)  # refused before anything is read
    components = parse_components(args.components)
    parts = split_mnist(args.data, holdout=args.holdout, seed=args.split_seed)
    check_components(components, parts["x_train"], parts["y_train"])  # before the classifier is loaded or trained
    classifier, info = load_or_train_lenet(args.data, progress=not args.no_progress)
    print(f"data: {parts['protocol']}.")
    scorer = info.get("protocol", info.get("source", ""))
    print(f"PCA per class fitted on the {len(parts['y_train'])} training digits; up to {args.n_per_class} held-out "
          f"digits per class rebuilt from k components. Scored by LeNet ({scorer})")
    rows = run_pca_study(parts, components, args.out, classifier, checkpoint=args.checkpoint,
                         n_per_class=args.n_per_class, seed=args.seed, progress=not args.no_progress,
                         overwrite=args.overwrite)
    print(f"{'source':>18} {'k':>4} {'IS':>7} {'+-':>6} {'agree':>6} {'explained':>9} {'n':>6} {'mse':>8}")
    for r in rows:
        print(f"{r['source']:>18} {str(r['components']):>4} {r['inception_score']:>7} {r['inception_score_std']:>6} "
              f"{r['agreement']:>6} {str(r['explained_variance']):>9} {r['n_scored']:>6} "
              f"{str(r['reconstruction_error']):>8}")
    largest = max(int(r["components"]) for r in rows if r["source"] == "pca_reconstruction")
    for key, name in (("inception_score", "inception score"), ("agreement", "agreement")):
        k = saturation_point(rows, key)
        note = " (the largest k tried: no saturation before it)" if k == largest else ""
        print(f"saturation of the rebuilt held-out digits' {name}: k = {k}{note}; no larger k improves on it by "
              f"more than {100 * SATURATION_TOLERANCE:g}% of the curve's best (the paper: 64).")
    out = Path(args.out)
    print(f"-> {out / 'pca.csv'}, {out / 'pca.json'}, {out / 'pca.png'}, {out / 'pca_rebuilt.png'}, {out / 'samples'}/")
    return 0

def parse_components(text: str) -> list[int]:
    """``"1,2,4"`` -> [1, 2, 4] (one clear error for anything else)."""
    from gans.studies.synthetic import parse_number_list

    return parse_number_list(text, int, "--components", "whole numbers", "component count", "1,2,4,8", "1,2,4,8")
