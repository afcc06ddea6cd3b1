"""``gans sample``: images from a saved generator, with class labels for a conditional one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gans.errors import ConfigError
from gans.io import check_output


def requested_labels(labels: str | None, label: int | None, n: int | None, num_classes: int | None):
    """The class of each image to generate, and the grid's (rows, cols), from the command's options.

    Args:
        labels: ``"all"`` (one row per class) or a comma-separated list of classes, or None.
        label: one class for every image, or None.
        n: images (per class with ``labels="all"``); None for the default.
        num_classes: the generator's classes; None for an unconditional generator.

    Returns:
        ``(labels or None, n_images, rows or None, cols or None)``.

    Raises:
        ConfigError: labels for an unconditional generator, none for a conditional one, both options,
            a class out of range, or a list whose length disagrees with ``--n``.
    """
    if num_classes is None:
        if labels is not None or label is not None:
            raise ConfigError("this generator is not conditional: drop --label/--labels.")
        n = 25 if n is None else n
        return None, n, None, None
    if labels is not None and label is not None:
        raise ConfigError("give --label K or --labels, not both.")
    if labels is None and label is None:
        raise ConfigError(f"this generator is conditional ({num_classes} classes): say which with --label K "
                          "(0-{}) or --labels all.".format(num_classes - 1))
    if label is not None:
        ids = np.full(25 if n is None else n, label)
        rows, cols = None, None
    elif labels.strip().lower() == "all":
        per_class = 10 if n is None else n
        ids = np.repeat(np.arange(num_classes), per_class)
        rows, cols = num_classes, per_class
    else:
        try:
            ids = np.array([int(v) for v in labels.split(",") if v.strip()])
        except ValueError:
            raise ConfigError(f"--labels takes 'all' or classes separated by commas (e.g. 0,3,7), got {labels!r}.") \
                from None
        if n is not None and n != len(ids):
            raise ConfigError(f"--labels lists {len(ids)} classes but --n asks for {n} images; give one class per "
                              "image, or drop --n.")
        rows, cols = None, None
    if ids.size == 0:
        raise ConfigError("--labels lists no class.")
    bad = ids[(ids < 0) | (ids >= num_classes)]
    if bad.size:
        raise ConfigError(f"label {int(bad[0])} is out of range: this generator has {num_classes} classes "
                          f"(0-{num_classes - 1}).")
    return ids, len(ids), rows, cols


def cmd_sample(args) -> int:
    from gans.datasets.scaling import unscale_images
    from gans.io import save_npz
    from gans.models import load_generator
    from gans.training.steps import checkpoint_step_class
    from gans.visualize import save_image_grid

    if args.n is not None and args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}.")
    out = check_output(args.out, ".png", "--out", args.overwrite)
    npz = check_output(args.npz, ".npz", "--npz", args.overwrite) if args.npz else None
    generator = load_generator(args.checkpoint)
    shape = tuple(generator.output_shape) if not isinstance(generator.output_shape, list) else None
    if shape is None or len(shape) != 4 or shape[-1] not in (1, 3):
        raise ConfigError(f"{args.checkpoint} outputs {generator.output_shape}, not images (N, H, W, C) with C = 1 "
                          "or 3: 'gans sample' needs a generator of images (RUN/checkpoints/generator_step_N.h5).")
    family = checkpoint_step_class(args.checkpoint)  # the run's family decodes its generator (the CAAE: prior z)
    num_classes = family.checkpoint_classes(generator)
    labels, n, rows, cols = requested_labels(args.labels, args.label, args.n, num_classes)
    inputs = family.checkpoint_inputs(generator, n, np.random.default_rng(args.seed), labels)
    images = np.asarray(generator.predict(inputs, batch_size=256, verbose=0))
    save_image_grid(images, out, rows, cols)
    if npz is not None:
        extra = {} if labels is None else {"labels": labels}
        save_npz(npz, compressed=True, images=unscale_images(images), **extra)
    what = "" if labels is None else f" of class {int(labels[0])}" if args.label is not None else " by class"
    print(f"{n} images{what} from {args.checkpoint} -> {out}"
          f" (values in [{images.min():.3f}, {images.max():.3f}])")
    return 0
