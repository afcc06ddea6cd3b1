"""A new face from the features of given faces (seed 002): the attribute classifier reads the faces,
their averaged attributes are overlaid on the GAN's noise (equation 1), the generator draws the face;
``gans generate-from-faces``. And whether trained generators' faces carry the attributes asked of
them, measured on checkpoints: ``gans attribute-agreement``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gans.evaluation.attributes import REFERENCES, AttributeAgreement
from gans.io import check_output


def face_from_faces(classifier, generator, faces: np.ndarray, alpha: float = 0.6, beta: float = 0.8,
                    seed: int = 0) -> dict:
    """A new face with the attributes of ``faces`` (the CelebA attributes paper, seed 002).

    The classifier reads each face; its 40 outputs are averaged, overlaid on 160 standard normal
    draws by equation 1 (:func:`gans.models.attribute.attribute_noise`) and rendered by the generator.

    Args:
        classifier: the attribute classifier (40 sigmoid outputs).
        generator: a generator of the attribute GAN (160-d input).
        faces: uint8 (n, H, W, 3) faces (resized to the classifier's input as needed).
        alpha, beta: equation 1's noise weights, in [0, 1].
        seed: seed of the normal draws.

    Returns:
        ``image`` (H, W, C) float32 in [-1, 1], ``used`` (40,) the averaged attributes put into the
        noise, ``inputs`` (n, 40) the classifier's outputs per given face, ``read`` (40,) its outputs
        on the new face, ``noise`` (160,).
    """
    from gans.evaluation.attributes import predict_attributes
    from gans.models.attribute import LATENT_DIM, attribute_noise, check_attribute_generator, check_classifier

    check_classifier(classifier)
    check_attribute_generator(generator)
    inputs = predict_attributes(classifier, faces)
    used = inputs.mean(axis=0)
    noise = attribute_noise(used, np.random.default_rng(seed).standard_normal(LATENT_DIM), alpha, beta)
    image = np.asarray(generator.predict(noise[None], verbose=0))[0]
    read = predict_attributes(classifier, image[None])[0]
    return {"image": image, "used": used, "inputs": inputs, "read": read, "noise": noise}


def celeba_means(classifier_path) -> np.ndarray | None:
    """Each attribute's share of the faces a classifier was trained on, from the
    ``attribute_accuracy.csv`` that ``gans train-classifier`` writes beside it; None without one."""
    import csv

    from gans.datasets.celeba import ATTRIBUTE_NAMES

    path = Path(classifier_path).expanduser().parent / "attribute_accuracy.csv"
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as f:
        shares = {row["attribute"]: row.get("positive_share") for row in csv.DictReader(f)}
    try:
        return np.asarray([float(shares[name]) for name in ATTRIBUTE_NAMES])
    except (KeyError, TypeError, ValueError):
        return None


def plot_face_attributes(faces: np.ndarray, made: dict, out, mean: np.ndarray | None, top: int = 10,
                         title: str = "") -> list[int]:
    """What ``gans generate-from-faces`` did, as one figure: the given faces and the new face on the
    left; on the right, for the ``top`` attributes whose averaged value differs most from the CelebA
    mean (``mean``; from 0.5 without it), the classifier's reading of each given face, the averaged
    vector put into the noise, the reading of the new face, and the mean as a tick.

    Returns:
        the indices of the attributes shown, most different first.
    """
    from gans.datasets.celeba import ATTRIBUTE_NAMES
    from gans.datasets.scaling import unscale_images
    from gans.visualize import pyplot, save_figure

    plt = pyplot()
    reference = mean if mean is not None else np.full(len(made["used"]), 0.5)
    shown = [int(i) for i in np.argsort(-np.abs(made["used"] - reference))[:top]]
    n = len(faces)
    fig = plt.figure(figsize=(11, 0.42 * top + 2.2), dpi=100)
    grid = fig.add_gridspec(max(n + 1, 2), 2, width_ratios=(1, 3.2))
    pictures = [*faces, unscale_images(made["image"][None])[0]]
    for i, picture in enumerate(pictures):
        ax = fig.add_subplot(grid[i, 0])
        ax.imshow(picture)
        ax.set_axis_off()
        ax.set_title("new face" if i == n else f"face {i + 1}", fontsize=8)
    ax = fig.add_subplot(grid[:, 1])
    rows = np.arange(len(shown))[::-1]
    series = [*[(made["inputs"][k, shown], f"face {k + 1}", None) for k in range(n)],
              (made["used"][shown], "averaged: put into the noise", "black"),
              (made["read"][shown], "read on the new face", "tab:red")]
    height = 0.8 / len(series)
    for j, (values, label, colour) in enumerate(series):
        ax.barh(rows + 0.4 - (j + 0.5) * height, values, height, label=label, color=colour,
                alpha=0.45 if j < n else 0.9)
    ax.plot(reference[shown], rows, "|", color="tab:green", ms=14, mew=2,
            label="CelebA mean (classifier's training faces)" if mean is not None else "0.5 (no CelebA mean known)")
    ax.set_yticks(rows, [ATTRIBUTE_NAMES[i] for i in shown], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("classifier output (probability the attribute is present)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    ax.set_title(title or f"the {len(shown)} attributes furthest from the CelebA mean", fontsize=9)
    fig.tight_layout()
    save_figure(fig, out)
    return shown


def cmd_generate_from_faces(args) -> int:
    from gans.datasets.celeba import ATTRIBUTE_NAMES
    from gans.datasets.npz import resize_images
    from gans.datasets.scaling import unscale_images
    from gans.datasets.faces import read_face_photos
    from gans.evaluation.attributes import load_attribute_classifier
    from gans.io import write_rows
    from gans.models import load_generator
    from gans.models.attribute import check_attribute_generator, check_classifier
    from gans.training.steps import run_generator
    from gans.visualize import save_image_grid

    out = check_output(args.out, ".png", "--out", args.overwrite)
    beside = check_output(str(out.with_name(f"{out.stem}_with_inputs.png")), ".png", "--out", args.overwrite)
    table = check_output(str(out.with_name(f"{out.stem}_attributes.csv")), ".csv", "--out", args.overwrite)
    explained = check_output(str(out.with_name(f"{out.stem}_explained.png")), ".png", "--out", args.overwrite)
    paths = [Path(p).expanduser() for p in args.faces]
    classifier = load_attribute_classifier(args.classifier)
    generator = load_generator(run_generator(args.generator))  # a run folder: its latest generator
    height, width, _ = check_attribute_generator(generator, source=f"generator {args.generator}")
    size = check_classifier(classifier)[:2]
    faces = read_face_photos(paths, size, crop=args.crop, margin=args.margin)
    made = face_from_faces(classifier, generator, faces, args.alpha, args.beta, args.seed)
    save_image_grid(made["image"][None], out, scale=1, pad=0)
    shown = np.concatenate([resize_images(faces, (height, width)), unscale_images(made["image"][None])])
    save_image_grid(shown, beside, rows=1, cols=len(shown), scale=2)
    rows = [{"attribute": name, "used": f"{u:.4f}", "new_face": f"{r:.4f}",
             **{f"face_{i + 1}": f"{v:.4f}" for i, v in enumerate(made["inputs"][:, k])}}
            for k, (name, u, r) in enumerate(zip(ATTRIBUTE_NAMES, made["used"], made["read"]))]
    write_rows(table, ("attribute", "used", "new_face", *[f"face_{i + 1}" for i in range(len(paths))]), rows)
    print(f"attribute vector used (mean of the classifier's outputs on {len(paths)} faces; alpha {args.alpha:g}, "
          f"beta {args.beta:g}):")
    for row in rows:
        print(f"  {row['attribute']:<20} {row['used']}   (read on the new face: {row['new_face']})")
    agree = float(np.mean((made["used"] >= 0.5) == (made["read"] >= 0.5)))
    print(f"the classifier reads {agree:.0%} of the attributes on the new face as in the vector used")
    mean = celeba_means(args.classifier)
    shown = plot_face_attributes(faces, made, explained, mean)
    if mean is None:
        print(f"note: no attribute_accuracy.csv beside {args.classifier}: the figure ranks the attributes by their "
              "distance from 0.5, not from the CelebA mean")
    print(f"new face: {out}\nbeside its inputs: {beside}\nattributes: {table}\n"
          f"explained ({len(shown)} attributes furthest from the CelebA mean): {explained}")
    return 0


EVALUATION_FILE = "attribute_agreement_{n}x{k}_seed{seed}.csv"  # not the training log's attribute_agreement.png
SETTINGS_COLUMNS = ("generator", "run", "step", "n", "faces_per_mix", "seed", "alpha", "beta")  # then the measures
REFERENCE_COLUMNS = tuple(f"{m}{s}" for s in REFERENCES for m in AttributeAgreement.MEASURES)  # alike in every row


def format_evaluation(rows: list[dict]) -> str:
    """The rows of ``gans attribute-agreement`` as a table a person reads: per generator, the agreement
    with the overlay and with plain noise and the gain, over all attributes and the balanced ones, and
    the balanced correlation; under them the same measures on the real-face yardsticks
    (:func:`gans.evaluation.attributes.reference_agreement`)."""
    header = (f"{'run':<24} {'step':>6}  {'agreement, all (none, gain)':<28} {'balanced (none, gain)':<28} "
              "correlation, balanced (none)")
    lines = [header, "-" * len(header)]
    first = rows[0] if rows else {}  # the yardsticks are alike in every row
    references = [f"{name:<31} {float(first[f'agreement{s}']):<28.1%} {float(first[f'agreement_balanced{s}']):<28.1%} "
                  f"{float(first[f'correlation_balanced{s}']):.3f}"
                  for s, name in zip(REFERENCES, ("real: a given face itself", "real: a random face"))
                  if f"agreement{s}" in first]
    for r in rows:
        cells = []
        for suffix in ("", "_balanced"):
            a, b = float(r[f"agreement{suffix}"]), float(r[f"agreement{suffix}_no_overlay"])
            cells.append(f"{a:.1%} ({b:.1%}, {100 * (a - b):+.1f})")
        lines.append(f"{str(r['run'])[-24:]:<24} {str(r['step']):>6}  {cells[0]:<28} {cells[1]:<28} "
                     f"{float(r['correlation_balanced']):.3f} ({float(r['correlation_balanced_no_overlay']):.3f})")
    if references:
        lines += ["-" * len(header), *references]
    return "\n".join(lines)


def cmd_attribute_agreement(args) -> int:
    """``gans attribute-agreement GENERATOR_OR_RUN ... --data CELEBA_DIR [--n N] [--faces-per-mix K]``."""
    from tqdm.auto import tqdm

    from gans.datasets.celeba import load_celeba
    from gans.errors import ConfigError
    from gans.evaluation.attributes import (attribute_mixes, balanced_attributes, base_rates,
                                            load_attribute_classifier, per_attribute_rows,
                                            plot_attribute_correlations, read_back, reference_agreement)
    from gans.io import read_json, write_rows
    from gans.models import load_generator
    from gans.models.attribute import ALPHA, BETA, check_attribute_generator
    from gans.training.steps import checkpoint_origin, run_generator

    def outputs(table: str) -> tuple[Path, Path, Path]:  # the table, its per-attribute table and figure
        table = check_output(table, ".csv", "--out", args.overwrite)
        per = check_output(str(table.with_name(f"{table.stem}_per_attribute.csv")), ".csv", "--out", args.overwrite)
        figure = check_output(str(table.with_suffix(".png")), ".png", "--out", args.overwrite)
        return table, per, figure

    given = outputs(args.out) if args.out else None  # a given --out: before anything is loaded
    paths = [run_generator(g) for g in args.generators]  # a run folder: its latest generator
    origins = [checkpoint_origin(p) for p in paths]
    configs = [Path(o["run"]) / "config.json" if o["run"] else None for o in origins]
    options = [(read_json(c, "a run's config.json").get("step_options") or {}) if c and c.is_file() else {}
               for c in configs]  # each run's classifier, alpha and beta
    if given is None and origins[0]["run"] is None:
        raise ConfigError(f"{paths[0]} is not in a run folder (RUN/checkpoints/): pass --out TABLE.csv.")
    table, per_table, figure = given or outputs(str(Path(origins[0]["run"]) / EVALUATION_FILE.format(
        n=args.n, k=args.faces_per_mix, seed=args.seed)))
    classifier_path = args.classifier or next((o.get("classifier") for o in options if o.get("classifier")), None)
    if classifier_path is None:
        raise ConfigError("no classifier known: the generators' run folders do not name one; pass --classifier "
                          "CLASSIFIER.h5 (from 'gans train-classifier').")
    classifier = load_attribute_classifier(classifier_path)
    generators = []
    for path in paths:
        generator = load_generator(path)
        generators.append((generator, check_attribute_generator(generator, source=f"generator {path}")))
    size = generators[0][1][:2]
    if any(shape[:2] != size for _, shape in generators):
        raise ConfigError("the generators draw faces of different sizes "
                          f"({sorted({f'{s[0]}x{s[1]}' for _, s in generators})}); measure each size in its own call.")
    data = load_celeba(args.data, limit=args.limit, size=size)
    rates = base_rates(data.labels, None)
    balanced = balanced_attributes(rates)
    print(f"{args.n} mixes of {args.faces_per_mix} of {len(data.images)} faces from {args.data} (seed {args.seed}); "
          f"{int(balanced.sum())} balanced attributes (base rate 10-90%)")
    rows, per_rows, mixes, references = [], [], {}, {}
    for (generator, _), path, origin, option in tqdm(list(zip(generators, paths, origins, options)),
                                                     desc="attribute agreement", unit="generator",
                                                     disable=args.no_progress or len(paths) == 1):
        alpha = args.alpha if args.alpha is not None else float(option.get("alpha", ALPHA))
        beta = args.beta if args.beta is not None else float(option.get("beta", BETA))
        if (alpha, beta) not in mixes:  # one draw of faces and r for every generator: paired comparisons
            asked, noise, read = attribute_mixes(classifier, data.images, args.n, args.faces_per_mix, args.seed,
                                                 alpha, beta)
            mixes[alpha, beta] = asked, noise
            if not references:  # the faces drawn do not depend on alpha and beta: one pair of yardsticks
                references = reference_agreement(classifier, data.images, asked, read, args.seed, balanced)
        asked, noise = mixes[alpha, beta]
        found, per_attribute = read_back(generator, classifier, asked, noise, balanced)
        run = Path(origin["run"]).name if origin["run"] else ""
        row = {"generator": str(path), "run": run, "step": "" if origin["step"] is None else origin["step"],
               "n": args.n, "faces_per_mix": args.faces_per_mix, "seed": args.seed, "alpha": alpha, "beta": beta,
               **{name: f"{value:.4f}" for name, value in {**found, **references}.items()}}
        rows.append(row)
        per_rows += per_attribute_rows(origin["step"], rates, balanced, per_attribute, generator=str(path), run=run)
    write_rows(table, (*SETTINGS_COLUMNS, *AttributeAgreement.COLUMNS[1:], *REFERENCE_COLUMNS), rows)
    write_rows(per_table, ("generator", "run", *AttributeAgreement.PER_ATTRIBUTE_COLUMNS), per_rows)
    last = rows[-1]
    at = f" step {last['step']}" if last["step"] != "" else ""
    plot_attribute_correlations([r for r in per_rows if r["generator"] == last["generator"]], figure,
                                title=f"{last['run'] or Path(last['generator']).name}{at}: "
                                      f"{args.n} mixes of {args.faces_per_mix}")
    print(format_evaluation(rows))
    print(f"written to {table}, {per_table} and {figure} (the last generator's attributes, ranked)")
    return 0
