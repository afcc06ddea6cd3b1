"""The CAAE's run artefacts, its training faces, and the age strip of ``gans age-progress``.

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
    (``dataset.meta["validation"]``, set by :func:`load_caae_data`) and writes ``caae.json`` from
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


# ---------------------------------------------------------------------- the training faces
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


# ---------------------------------------------------------------------- gans age-progress
def read_face(path, size: int, crop: bool = False, detector=None) -> np.ndarray:
    """One face as uint8 (size, size, 3) (:func:`gans.datasets.faces.read_face_photos`): with ``crop``
    the library's MTCNN crop of a photo of one person; without, an already cropped face, checked to be
    face-sized and face-shaped, its centred square resized.

    Raises:
        DataNotFoundError: no such file.
        DataError: not an image, too small or not face-shaped, or (with ``crop``) no face or several.
    """
    from gans.datasets.faces import read_face_photos

    return read_face_photos([path], (size, size), crop=crop, detector=detector)[0]


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
    from gans.visualize import pyplot, save_figure

    plt = pyplot()
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
