"""Running the CAAE: ``gans train caae``, its per-epoch artefacts, and ``gans age-progress``.

The step (:class:`gans.training.steps.caae.CAAEStep`) trains on the shared Trainer; a CAAE run folder
holds, beside the artefacts of every run (``losses.csv`` with "eg", "dz", "di", "valid", "eg_total", the loss
plot, sample grids with one age group per row, ``checkpoints/generator_step_N.h5``, the resumable
state):

- ``checkpoints/encoder_step_N.h5`` beside every generator checkpoint (an epoch apart by default);
- ``samples/validation_step_N.png`` and ``validation.png`` (the latest) every epoch: validation faces
  on the left, their reconstructions on the right, at the same places (the seed's Figure 4);
- ``epochs.csv`` and ``epoch_losses.png``: per epoch the mean "eg", "dz", "di" of its steps, "valid"
  at its end and the seconds it took (the seed's Figure 3 and Table 1 columns);
- ``caae.json``: the data, image size, limit and split the run was trained on (``gans age-agreement``
  reads the same validation split from it).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np

from gans.callbacks import Callback, publish, step_name
from gans.datasets.utkface import spread_indices
from gans.errors import ConfigError, DataError, DataNotFoundError

log = logging.getLogger(__name__)

EPOCHS_FILE = "epochs.csv"
EPOCH_COLUMNS = ("epoch", "step", "eg", "dz", "di", "valid", "seconds")
RECORD_FILE = "caae.json"
VALIDATION_GRID = "validation.png"
GENDER_CHOICES = ("both", "male", "female")


def validation_composite(originals: np.ndarray, rebuilt: np.ndarray, cols: int = 8, gap: int = 6) -> np.ndarray:
    """One uint8 picture: the originals tiled on the left, the reconstructions at the same places on
    the right, a white band between them."""
    from gans.visualize import tile_images

    rows = int(np.ceil(len(originals) / cols))
    left, right = tile_images(originals, rows, cols), tile_images(rebuilt, rows, cols)
    band = np.full((left.shape[0], gap, left.shape[2]), 255, np.uint8)
    return np.concatenate([left, band, right], axis=1)


class CAAEArtefacts(Callback):
    """The CAAE's per-epoch artefacts (see the module docstring). Created by the step's
    :meth:`~gans.training.steps.caae.CAAEStep.metric_callbacks`.

    At the start it gives the step the validation split the run's data carries
    (``dataset.meta["validation"]``, set by :func:`cmd_train_caae`) and writes ``caae.json`` from
    ``dataset.meta["caae"]``.
    """

    def __init__(self, faces: int = 32, cols: int = 8):
        self.faces, self.cols = faces, cols
        self.checkpoint_every = 0
        self.per_epoch = 1
        self._started = None

    def on_train_begin(self, trainer):
        from gans.io import read_rows_until, write_json, write_rows
        from gans.training.callbacks import GeneratorCheckpoint

        meta = getattr(trainer.dataset, "meta", None) or {}
        validation = meta.get("validation")
        if validation is not None and trainer.step_obj.validation is None:
            trainer.step_obj.set_validation(validation.images, validation.labels)
        if meta.get("caae"):
            write_json(trainer.run_dir / RECORD_FILE, meta["caae"])
        self.per_epoch = max(1, trainer.data.steps_per_epoch)
        self.checkpoint_every = next((c.every for c in trainer.callbacks if isinstance(c, GeneratorCheckpoint)), 0)
        path = trainer.run_dir / EPOCHS_FILE
        write_rows(path, EPOCH_COLUMNS, read_rows_until(path, trainer.step))
        self._started = time.perf_counter()

    def on_step_end(self, trainer, step, logs):
        from gans.training.callbacks import save_h5

        if self.checkpoint_every and (step % self.checkpoint_every == 0 or step == trainer.total_steps):
            save_h5(trainer.step_obj.encoder, trainer.run_dir / "checkpoints" / f"encoder_{step_name(step)}.h5")
        epoch_end = step % self.per_epoch == 0
        if epoch_end:
            self._epoch_row(trainer, step, logs)
        if epoch_end or step == trainer.total_steps:
            self._validation_grid(trainer, step)

    def _epoch_row(self, trainer, step, logs):
        from gans.io import read_rows_until, write_rows
        from gans.visualize import plot_losses

        seconds = time.perf_counter() - self._started
        path = trainer.run_dir / EPOCHS_FILE
        rows = read_rows_until(trainer.run_dir / "losses.csv", step)
        epoch_rows = [r for r in rows if int(r["step"]) > step - self.per_epoch]
        row = {"epoch": step // self.per_epoch, "step": step, "valid": f"{logs['valid']:.6g}",
               "seconds": f"{seconds:.2f}"}
        for name in ("eg", "dz", "di"):
            row[name] = f"{np.mean([float(r[name]) for r in epoch_rows]):.6g}"
        table = read_rows_until(path, step - 1) + [row]
        write_rows(path, EPOCH_COLUMNS, table)
        epochs = [int(r["epoch"]) for r in table]
        plot_losses(epochs, {k: [float(r[k]) for r in table] for k in ("eg", "dz", "di", "valid")},
                    trainer.run_dir / "epoch_losses.png", title=f"{trainer.title}: per epoch", xlabel="epoch")
        publish(trainer, step, scalars={"caae/seconds_per_epoch": seconds})
        self._started = time.perf_counter()

    def _validation_grid(self, trainer, step):
        from gans.datasets.scaling import scale_images
        from gans.models.caae import render
        from gans.visualize import save_image_grid

        step_obj = trainer.step_obj
        images, labels = step_obj.validation_set()
        pick = spread_indices(len(images), self.faces)
        images, labels = images[pick], labels[pick]
        age, gender = labels[:, :step_obj.num_classes], labels[:, step_obj.num_classes:]
        rebuilt = render(step_obj.encoder, step_obj.generator, scale_images(images), age, gender)
        picture = validation_composite(images, rebuilt, self.cols)
        for path in (trainer.run_dir / "samples" / f"validation_{step_name(step)}.png",
                     trainer.run_dir / VALIDATION_GRID):
            save_image_grid(picture[None], path, 1, 1, scale=2, pad=0)
        publish(trainer, step, images={"validation": picture})


# ---------------------------------------------------------------------- gans train caae
def image_side(image_size) -> int | None:
    """``--image-size S`` (or ``S S``) as S; a CAAE image is square."""
    if image_size is None:
        return None
    sizes = [int(v) for v in image_size]
    if len(sizes) not in (1, 2) or len(set(sizes)) != 1:
        raise ConfigError(f"the CAAE trains on square faces: give --image-size S (e.g. 64), got {' '.join(map(str, sizes))}.")
    return sizes[0]


def caae_config_from_args(args, steps_per_epoch: int = 333):
    """The :class:`~gans.config.GANConfig` of a ``gans train caae`` command line."""
    from gans.experiments.caae import BASELINE_BATCH, BASELINE_LR, STEP_OPTIONS, caae_config
    from gans.models.caae import check_image_size

    size = image_side(getattr(args, "image_size", None)) or 128
    check_image_size((size, size, 3))
    options = dict(STEP_OPTIONS)
    if getattr(args, "adversarial_weights", None) is not None:
        options.update(zip(("image_weight", "z_weight", "tv_weight"), (float(v) for v in args.adversarial_weights)))
    if getattr(args, "pretrain_epochs", None) is not None:
        options["pretrain_epochs"] = int(args.pretrain_epochs)
    encoder = {"filters": args.encoder_filters} if getattr(args, "encoder_filters", None) else {}
    generator = {"filters": args.generator_filters} if getattr(args, "generator_filters", None) else {}
    config = caae_config(size, learning_rate=args.lr or BASELINE_LR, batch_size=args.batch_size or BASELINE_BATCH,
                         steps_per_epoch=steps_per_epoch, step_options=options, encoder=encoder, generator=generator)
    changes = {}
    if args.d_lr is not None or args.beta1 is not None:
        from gans.config import OptimizerSpec

        beta1 = config.optimizer.beta_1 if args.beta1 is None else args.beta1
        changes["optimizer"] = OptimizerSpec("adam", config.optimizer.learning_rate, beta1)
        changes["discriminator_optimizer"] = OptimizerSpec("adam", args.d_lr or config.optimizer.learning_rate, beta1)
    if args.latent_dim is not None:
        changes["latent_dim"] = args.latent_dim
    if getattr(args, "frozen_batchnorm", None) is not None:
        changes["frozen_batchnorm"] = args.frozen_batchnorm
    if getattr(args, "precision", None) is not None:
        changes["precision"] = args.precision
    return config.replace(**changes) if changes else config


def load_caae_data(data, size: int, limit: int | None = None, validation_fraction: float = 0.1, seed: int = 0):
    """(train, validation) of a UTKFace folder or .npz at ``size`` x ``size``; the training set carries
    the validation split and the record of the data in its ``meta`` (see :class:`CAAEArtefacts`)."""
    from gans.datasets.utkface import load_utkface_splits

    if data is None:
        raise ConfigError("gans train caae needs --data: a UTKFace folder (age_gender_race_datetime.jpg files) or "
                          "an .npz with 'images', 'age' (or 'age_group') and 'gender' arrays.")
    path = Path(data).expanduser()
    if not path.exists():
        raise DataNotFoundError(f"--data {path} does not exist; pass the UTKFace folder (e.g. UTKFace or crop_part1) "
                                "or an .npz of faces with age and gender.")
    train, validation = load_utkface_splits(path, size, validation_fraction=validation_fraction, seed=seed, limit=limit)
    train.meta["validation"] = validation
    train.meta["caae"] = {"data": str(path.resolve()), "image_size": int(size), "limit": limit,
                          "validation_fraction": validation_fraction, "split_seed": seed,
                          "train_faces": len(train), "validation_faces": len(validation)}
    return train, validation


def cmd_train_caae(args) -> int:
    """``gans train caae --dataset utkface --data DIR --image-size S --epochs N [--limit N] --out RUN``."""
    from gans.experiments.caae import BASELINE_EPOCHS
    from gans.training.commands import settings_from_args
    from gans.training.run import train

    if args.steps is not None and args.epochs is not None:
        raise ConfigError("give --steps or --epochs, not both.")
    if args.experiment is not None and str(args.experiment).strip().lower() != "caae-utkface":
        raise ConfigError(f"--experiment {args.experiment} does not go with 'gans train caae'.")
    if args.dataset not in (None, "utkface"):
        raise ConfigError(f"the CAAE trains on UTKFace (--dataset utkface), not {args.dataset}.")
    for option in ("n_critic", "label_smoothing", "label_flip", "classifier"):
        if getattr(args, option, None) is not None:
            raise ConfigError(f"--{option.replace('_', '-')} does not go with 'gans train caae'.")
    caae_config_from_args(args)  # every option checked (image size first) before any face is read
    size = image_side(args.image_size) or 128
    fraction = 0.1 if args.validation_fraction is None else args.validation_fraction
    train_set, validation = load_caae_data(args.data, size, args.limit, fraction)
    batch = args.batch_size or 64
    if batch > len(train_set):
        raise ConfigError(f"--batch-size {batch} is larger than the {len(train_set)} training faces; lower it or "
                          "raise --limit.")
    per_epoch = len(train_set) // batch
    config = caae_config_from_args(args, steps_per_epoch=per_epoch)
    settings = settings_from_args(args)
    settings = dataclasses.replace(settings, sample_every=settings.sample_every or per_epoch,
                                   checkpoint_every=settings.checkpoint_every or per_epoch)
    epochs = args.epochs
    if args.steps is None and epochs is None and not args.resume:
        epochs = BASELINE_EPOCHS
    out = Path(args.out or Path("runs") / f"caae-{size}")
    trainer = train(config, out, data=train_set, steps=args.steps, epochs=epochs, settings=settings,
                    resume=args.resume)
    print(f"run folder: {out.resolve()}  (step {trainer.step} of {trainer.total_steps}; {len(train_set)} training and "
          f"{len(validation)} validation faces, {per_epoch} steps per epoch)")
    from gans.io import read_rows_until

    rows = read_rows_until(out / EPOCHS_FILE, trainer.step)
    if rows:
        first, last = rows[0], rows[-1]
        print(f"epoch {first['epoch']}: eg {float(first['eg']):.4f} valid {float(first['valid']):.4f}; epoch "
              f"{last['epoch']}: eg {float(last['eg']):.4f} valid {float(last['valid']):.4f}; "
              f"{float(last['seconds']):.1f} s in the last epoch (all in {out / EPOCHS_FILE})")
    return 0


# ---------------------------------------------------------------------- gans age-progress
def read_face(path, size: int, crop: bool = False, detector=None) -> np.ndarray:
    """One face as uint8 (size, size, 3): with ``crop`` the library's MTCNN crop of a photo; without,
    the photo's centred square, resized (for faces that are already cropped).

    Raises:
        DataNotFoundError: no such file.
        DataError: not an image, or (with ``crop``) no detectable face.
    """
    from gans.datasets.image_files import read_rgb
    from gans.datasets.npz import resize_images

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"face photo {path} does not exist.")
    if crop:
        from gans.datasets.faces import crop_face_photos

        return crop_face_photos([path], (size, size), detector=detector)[0]
    image, reason, detail = read_rgb(path)
    if image is None:
        raise DataError(f"{path} cannot be read as an image ({reason}: {detail}).")
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return resize_images(image[None, top:top + side, left:left + side], (size, size))[0]


def age_progression(encoder, generator, face: np.ndarray, genders=(0, 1)) -> np.ndarray:
    """``face`` (uint8 S x S x 3) encoded once and rendered at every age group, once per gender.

    Returns:
        float32 (len(genders), num_ages, S, S, 3) in [-1, 1].
    """
    from gans.datasets.scaling import scale_images
    from gans.datasets.utkface import GENDERS, one_hot_pm1
    from gans.models.caae import render

    k = int(generator.inputs[1].shape[-1])
    x = scale_images(np.asarray(face)[None])
    rows = []
    for gender in genders:
        images = np.repeat(x, k, axis=0)
        rows.append(render(encoder, generator, images, one_hot_pm1(np.arange(k), k),
                           one_hot_pm1(np.full(k, gender), len(GENDERS))))
    return np.stack(rows)


def save_age_strip(face: np.ndarray, strip: np.ndarray, out, genders=(0, 1), title: str = "") -> Path:
    """The input face, then the face at each age group, one row per gender, with the groups as titles."""
    from gans.datasets.scaling import unscale_images
    from gans.datasets.utkface import AGE_GROUPS, GENDERS
    from gans.visualize import _pyplot, save_figure

    plt = _pyplot()
    rows, k = strip.shape[0], strip.shape[1]
    fig, axes = plt.subplots(rows, k + 1, figsize=(1.3 * (k + 1), 1.45 * rows + 0.4), squeeze=False)
    for r in range(rows):
        panels = [np.asarray(face)] + list(unscale_images(strip[r]))
        names = ["input"] + list(AGE_GROUPS[:k])
        for c, (panel, name) in enumerate(zip(panels, names)):
            ax = axes[r, c]
            ax.imshow(panel)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(name, fontsize=8)
        axes[r, 0].set_ylabel(GENDERS[genders[r]], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out, dpi=100)


def gender_ids(choice: str) -> tuple[int, ...]:
    if choice not in GENDER_CHOICES:
        raise ConfigError(f"--gender must be one of {', '.join(GENDER_CHOICES)}, got {choice!r}.")
    return {"both": (0, 1), "male": (0,), "female": (1,)}[choice]


def cmd_age_progress(args) -> int:
    """``gans age-progress RUN_OR_CHECKPOINT face.jpg --out strip.png [--gender both] [--crop]``."""
    from gans.models.caae import load_pair

    genders = gender_ids(args.gender)
    encoder, generator = load_pair(args.checkpoint)
    size = int(encoder.inputs[0].shape[1])
    face = read_face(args.face, size, crop=args.crop)
    strip = age_progression(encoder, generator, face, genders)
    out = save_age_strip(face, strip, args.out, genders, title=f"{Path(args.face).name}: age groups")
    print(f"age strip: {Path(out).resolve()} ({len(genders)} row(s) of {strip.shape[1]} age groups at {size}x{size})")
    return 0
