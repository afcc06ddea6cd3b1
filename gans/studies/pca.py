"""PCA as a generator: the MNIST paper's baseline for the class-conditional GAN (seed 004, section 5).

For each class, principal component analysis of that class's real digits gives a mean image and the
directions of largest variance. A new digit of the class is the mean plus a random combination of the
first ``k`` directions, each weighted by a Gaussian draw with that component's variance (the
component scores of the real digits are uncorrelated with exactly those variances), clipped to
[-1, 1]. With few components every digit is a blurred class average; with more, the samples carry
more of the class's variation but also more of its linear noise.

The samples are scored like the GANs, by the library's MNIST LeNet
(:func:`gans.evaluation.classifier.load_or_train_lenet`): the classifier inception score
(:func:`gans.evaluation.inception_score.inception_score_from_probs`) and the conditional agreement, how
often LeNet reads the class the sample was drawn for (the paper's "inception score of 97.6%"). Real
digits, and a CCGAN checkpoint when one is given, are scored the same way for the horizontal lines of
the figure.

The paper's own reading may have been reconstruction: each real digit projected on the first ``k``
components and rebuilt. Those are scored too (source ``pca_reconstruction``): they approach the real
digits' scores as ``k`` grows, where the sampled digits need not.

Outputs in ``--out``: ``pca.csv`` (per component count a ``pca`` and a ``pca_reconstruction`` row, plus
the real digits and the checkpoint), ``pca.png`` (score and agreement against the component count, log x) and
``samples/pca_kNNN.png`` (one class per row).

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
OUTPUTS = ("pca.csv", "pca.png", "samples/pca_k*.png")
COLUMNS = ("source", "components", "inception_score", "inception_score_std", "agreement",
           "explained_variance", "n_per_class")


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
        centred = np.asarray(x, dtype=np.float64).reshape(len(x), -1) - self.mean
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


def _row(source: str, k, scores: dict, explained, n_per_class: int) -> dict:
    return {"source": source, "components": "" if k is None else int(k),
            "inception_score": f"{scores['inception_score']:.4f}",
            "inception_score_std": f"{scores['inception_score_std']:.4f}",
            "agreement": f"{scores['agreement']:.4f}",
            "explained_variance": "" if explained is None else f"{explained:.4f}", "n_per_class": n_per_class}


def plot_pca(rows: list[dict], out: Path, title: str = "") -> Path:
    """Inception score and agreement against the component count (log x), with the real digits and
    the checkpoint (when scored) as horizontal lines."""
    from gans.visualize import pyplot, save_figure

    plt = pyplot()
    pca = [r for r in rows if r["source"] == "pca"]
    rebuilt = [r for r in rows if r["source"] == "pca_reconstruction"]
    ks = [int(r["components"]) for r in pca]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for ax, key, label in ((axes[0], "inception_score", "LeNet inception score"),
                           (axes[1], "agreement", "LeNet reads the asked class")):
        values = [float(r[key]) for r in pca]
        if key == "inception_score":
            ax.errorbar(ks, values, yerr=[float(r["inception_score_std"]) for r in pca], color="tab:blue",
                        marker="o", capsize=3, label="PCA per class")
        else:
            ax.plot(ks, values, color="tab:blue", marker="o", label="PCA per class")
        if rebuilt:
            ax.plot([int(r["components"]) for r in rebuilt], [float(r[key]) for r in rebuilt], color="tab:green",
                    marker="s", ls="-.", label="real digits rebuilt from k components")
        for source, style in (("real", dict(color="gray", ls=":")), ("ccgan", dict(color="tab:orange", ls="--"))):
            for r in rows:
                if r["source"] == source:
                    ax.axhline(float(r[key]), lw=1.5, label=f"{source} ({float(r[key]):.3f})", **style)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks)
        ax.set_xticklabels([str(k) for k in ks])
        ax.set_xlabel("principal components per class")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    axes[1].set_ylim(0, 1.02)
    fig.suptitle(title or "PCA as a generator against the CCGAN (seed 004, Figure 13)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out)


def run_pca_study(images: np.ndarray, labels: np.ndarray, components, out: str | Path, classifier,
                  checkpoint: str | Path | None = None, n_per_class: int = 1000, seed: int = 0,
                  progress: bool = True, overwrite: bool = False) -> list[dict]:
    """Fit per-class PCA generators, score their samples for each component count, write the outputs.

    The study owns ``out`` (:func:`gans.io.claim_folder`): a used folder is refused, or with
    ``overwrite`` emptied of the earlier study's files first, so no sample grid of that study stays.

    Args:
        images: real digits, uint8 (N, H, W, 1).
        labels: their classes (N,).
        components: component counts to try.
        out: output folder.
        classifier: the scoring classifier (softmax over the classes).
        checkpoint: a conditional generator .h5 scored the same way, or None.
        n_per_class: samples per class for each score.
        seed: seed of the samples (PCA scores, generator latents, the draw of real digits).
        progress: show a progress bar over the component counts.
        overwrite: replace an earlier study in ``out`` (its files only).

    Returns:
        The rows of ``pca.csv``.

    Raises:
        ConfigError: bad components or data; ``out`` holds files, and ``overwrite`` is False or some
            are not this study's.
    """
    from gans.datasets.scaling import scale_images
    from gans.io import claim_folder, write_rows
    from gans.visualize import save_image_grid

    if labels is None or len(labels) != len(images):
        raise DataError("the PCA study needs a class label for every digit.")
    ks = check_components(components, images, labels)
    if n_per_class < 10:
        raise ConfigError(f"--n-per-class must be at least 10 (the inception score uses 10 splits), got {n_per_class}.")
    generator = None
    if checkpoint is not None:  # checked before minutes of work
        from gans.studies.synthetic import load_conditional_generator

        generator = load_conditional_generator(checkpoint, images.shape[1:], len(np.unique(labels)))
    out = claim_folder(out, "--out", overwrite, OUTPUTS)  # every input checked; minutes of work follow
    (out / "samples").mkdir(exist_ok=True)
    start = time.perf_counter()
    models = fit_pca_generators(images, labels, ks[-1])
    log.info("per-class PCA fitted (%d components, %d classes) in %.1f s", ks[-1], len(models),
             time.perf_counter() - start)
    classes = sorted(models)
    rng = np.random.default_rng(seed)
    real_idx = np.concatenate([rng.choice(np.flatnonzero(labels == c), min(n_per_class, int((labels == c).sum())),
                                          replace=False) for c in classes])
    real_labels = labels[real_idx]
    scaled = scale_images(images[real_idx])
    counts = [int((real_labels == c).sum()) for c in classes]
    rows = []
    steps = ks
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(ks, desc="PCA components", unit="count")
    for k in steps:
        fake, asked = sample_pca(models, k, n_per_class, seed=seed, image_shape=images.shape[1:])
        explained = float(np.mean([m.explained(k) for m in models.values()]))
        rows.append(_row("pca", k, score(fake, asked, classifier), explained, n_per_class))
        # The paper's reading of "PCA as a generator": real digits rebuilt from k components.
        rebuilt = np.concatenate([models[c].reconstruct(scaled[real_labels == c], k) for c in classes])
        rows.append(_row("pca_reconstruction", k, score(rebuilt.reshape((-1,) + images.shape[1:]).astype(np.float32),
                                                        np.repeat(classes, counts), classifier),
                         explained, n_per_class))
        per_row = min(10, n_per_class)
        grid = np.concatenate([fake[asked == c][:per_row] for c in sorted(models)])
        save_image_grid(grid, out / "samples" / f"pca_k{k:03d}.png", rows=len(models), cols=per_row)
    rows.append(_row("real", None, score(images[real_idx], labels[real_idx], classifier), None,
                     min(int((labels == c).sum()) for c in classes)))
    if generator is not None:
        from gans.evaluation.fid import generate_images

        asked = np.repeat(classes, n_per_class)
        fake = generate_images(generator, len(asked), seed=seed, labels=asked)
        rows.append(_row("ccgan", None, score(fake, asked, classifier), None, n_per_class))
    write_rows(out / "pca.csv", COLUMNS, rows)
    plot_pca(rows, out / "pca.png",
             title=f"PCA per class vs {'CCGAN ' + Path(checkpoint).name if checkpoint else 'real digits'} "
                   f"({n_per_class} samples per class, LeNet scores)")
    return rows


def cmd_pca(args) -> int:
    """``gans study pca``: the handler (arguments in :mod:`gans.cli`)."""
    from gans.datasets.mnist import load_mnist
    from gans.evaluation.classifier import load_or_train_lenet

    from gans.io import claim_folder

    claim_folder(args.out, "--out", args.overwrite, OUTPUTS, remove=False)  # refused before anything is read
    components = parse_components(args.components)
    data = load_mnist(args.data, split="all") if args.data else load_mnist()
    if data.labels is None:
        raise DataError(f"{data.source} has no labels; the PCA study fits one PCA per class.")
    check_components(components, data.images, data.labels)  # before the classifier is loaded or trained
    classifier, info = load_or_train_lenet(args.data, progress=not args.no_progress)
    rows = run_pca_study(data.images, data.labels, components, args.out, classifier, checkpoint=args.checkpoint,
                         n_per_class=args.n_per_class, seed=args.seed, progress=not args.no_progress,
                         overwrite=args.overwrite)
    print(f"PCA per class on {len(data.images)} digits ({data.source}); scored by LeNet "
          f"({info.get('protocol', info.get('source', ''))})")
    print(f"{'source':>18} {'k':>4} {'IS':>7} {'+-':>6} {'agree':>6} {'explained':>9}")
    for r in rows:
        print(f"{r['source']:>18} {str(r['components']):>4} {r['inception_score']:>7} {r['inception_score_std']:>6} "
              f"{r['agreement']:>6} {str(r['explained_variance']):>9}")
    print(f"-> {Path(args.out) / 'pca.csv'}, {Path(args.out) / 'pca.png'}, {Path(args.out) / 'samples'}/")
    return 0


def parse_components(text: str) -> list[int]:
    """``"1,2,4"`` -> [1, 2, 4] (one clear error for anything else)."""
    from gans.studies.synthetic import parse_number_list

    return parse_number_list(text, int, "--components", "whole numbers", "component count", "1,2,4,8", "1,2,4,8")
