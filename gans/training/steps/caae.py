"""The CAAE's step (Zhang, Song and Qi 2017; seed 000): an encoder and a generator trained as an
autoencoder conditioned on age and gender, with a discriminator on z and one on images.

One iteration, on a real batch x with its age-group and gender one-hots (values -1/+1) and a batch of
prior samples z* ~ U[-1, 1]^50:

1. ``dz``: D_z learns to tell z* (target 1) from E(x) (target 0);
2. ``di``: D_img learns to tell (x, l) (target 1) from (G(E(x), l), l) (target 0);
3. E and G learn, with D_z and D_img frozen (the library's freezing rule), on
   ``L1(x, G(E(x), l)) + w_img * BCE(D_img(G(E(x), l), l), 1) + w_z * BCE(D_z(E(x)), 1) + w_tv * TV(G(E(x), l))``.

``eg`` is the first term alone, the batch's mean |x - G(E(x), l)| before the update: the reference's
``EG_loss`` and the seed's "loss value between the original and generated images" (its Figure 3 and
Table 1). ``eg_total`` is the whole objective E and G minimised; with the reference's weights (1e-4,
0, 0) the two differ by 1e-4 times D_img's cross-entropy on the reconstructions.

E(x) and G(E(x), l) for the discriminators' updates are computed before any update, as in the
reference, where all three updates come from one forward pass; the reference then applies the three
updates at once, while here E/G learns against the discriminators as updated in steps 1 and 2 (the
thesis's order: discriminators first). Each discriminator update is one optimizer step on the sum of
its two cross-entropies, each half with its own batch statistics (a two-input model calling the
discriminator twice), as the reference's ``loss_Dz`` and ``loss_Di``; ``dz`` and ``di`` report that
sum.

The two-stage schedule of the reference (``main.py``: 10 epochs with all adversarial and TV weights
0 before the main training) is ``pretrain_epochs``: the weights live in a variable the E/G loss
reads, set in :meth:`CAAEStep.draw`, so the compiled iteration does not change between stages.

"valid" is the mean L1 reconstruction error on the validation split (``set_validation``), measured
after the first step and at the end of every epoch, in inference mode, and carried in the logs in
between (the seed's Figure 3 plots it per epoch).
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import keras
import numpy as np

from gans.errors import ConfigError, DataError
from gans.models import inference_function
from gans.models.caae import NUM_GENDERS, build_autoencoder, check_pair, render
from gans.training.data import BatchSource
from gans.training.freeze import set_trainable
from gans.training.steps.base import Step

log = logging.getLogger(__name__)

# The reference's weights (FaceAging.py, train(weigts=(0.0001, 0, 0))): image adversarial, z adversarial, TV.
REFERENCE_WEIGHTS = {"image_weight": 1e-4, "z_weight": 0.0, "tv_weight": 0.0}
STAGES = ("autoencoder", "adversarial")
VALIDATION_FALLBACK = 256  # faces of the training set measured as "valid" when no validation split is given


class CAAEDraws(NamedTuple):
    """The numpy inputs of one CAAE iteration (batch first everywhere)."""

    images: np.ndarray  # x in [-1, 1]
    age: np.ndarray  # (n, num_ages) one-hot in -1/+1
    gender: np.ndarray  # (n, 2) one-hot in -1/+1
    z_prior: np.ndarray  # (n, latent) uniform on [-1, 1]
    pair_targets: np.ndarray  # (n, 2): 1 for the first input (prior / real), 0 for the second
    ones: np.ndarray  # (n, 1): the E/G update's targets for both discriminators


def split_labels(labels: np.ndarray, num_ages: int) -> tuple[np.ndarray, np.ndarray]:
    """(age one-hot, gender one-hot) of UTKFace label rows ``[age (num_ages) | gender (2)]``."""
    labels = np.asarray(labels, np.float32)
    return labels[:, :num_ages], labels[:, num_ages:num_ages + NUM_GENDERS]


def check_label_rows(labels, num_ages: int) -> None:
    """Refuse CAAE labels that are not one age group and one gender per face, as -1/+1 one-hots.

    Raises:
        DataError: missing labels, the wrong width, values other than -1/+1, or not exactly one
            group (and one gender) per row; the message names the first bad row.
    """
    if labels is None:
        raise DataError("the CAAE trains on faces labelled with age and gender; this data has no labels. Use a "
                        "UTKFace folder (labels from the file names) or an .npz with 'age' and 'gender' arrays.")
    labels = np.asarray(labels)
    width = num_ages + NUM_GENDERS
    if labels.ndim != 2 or labels.shape[1] != width:
        raise DataError(f"CAAE labels are rows of {num_ages} age-group and {NUM_GENDERS} gender one-hots "
                        f"({width} values); got shape {labels.shape}.")
    if not np.isin(labels, (-1.0, 1.0)).all():
        row = int(np.argwhere(~np.isin(labels, (-1.0, 1.0)))[0, 0])
        raise DataError(f"age or gender label out of range in row {row}: the one-hots hold -1 and +1 only, got "
                        f"{labels[row].tolist()}.")
    for part, name, count in ((labels[:, :num_ages], "age group", num_ages), (labels[:, num_ages:], "gender", 2)):
        ons = (part > 0).sum(axis=1)
        if (ons != 1).any():
            row = int(np.argmax(ons != 1))
            raise DataError(f"age or gender label out of range in row {row}: exactly one of the {count} {name} "
                            f"values must be +1, got {int(ons[row])}.")


def mean_absolute_error(a, b):
    """mean |a - b| over every element, in float32 (a ``run.measure`` function)."""
    ops = keras.ops
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


class CAAEStep(Step):
    """One CAAE iteration. See the module docstring and :class:`~gans.training.steps.base.Step`.

    Args:
        encoder: from :mod:`gans.models.caae`.
        generator: from :mod:`gans.models.caae`.
        discriminator_z: from :mod:`gans.models.caae`.
        discriminator_img: from :mod:`gans.models.caae`.
        optimizer: E and G's optimizer ("eg").
        dz_optimizer: D_z's optimizer (an object of its own).
        di_optimizer: D_img's optimizer (an object of its own).
        image_weight: weight of the image-adversarial term in the E/G loss (the reference's 1e-4).
        z_weight: weight of the z-adversarial term (the reference's 0).
        tv_weight: weight of the total variation term (the reference's 0).
        pretrain_epochs: epochs at the start with all three weights 0 (the reference's first stage).
    """

    loss_names = ("eg", "dz", "di", "valid", "eg_total")
    plot_losses = ("eg", "dz", "di", "valid")  # the seed's Figure 3
    # "eg" is an L1 reconstruction, not -log D(G(z)): the minimax non-convergence thresholds do not apply
    adversarial_pair = None

    def __init__(self, encoder: keras.Model, generator: keras.Model, discriminator_z: keras.Model,
                 discriminator_img: keras.Model, optimizer, dz_optimizer, di_optimizer,
                 image_weight: float = REFERENCE_WEIGHTS["image_weight"], z_weight: float = REFERENCE_WEIGHTS["z_weight"],
                 tv_weight: float = REFERENCE_WEIGHTS["tv_weight"], pretrain_epochs: int = 0):
        if len({id(optimizer), id(dz_optimizer), id(di_optimizer)}) != 3:
            raise ConfigError("the CAAE needs three separate optimizer objects (eg, dz, di).")
        self.image_shape = check_pair(encoder, generator)
        self.latent_dim = int(encoder.outputs[0].shape[-1])
        self.num_classes = int(generator.inputs[1].shape[-1])  # age groups: sample grids get one per row
        if tuple(discriminator_z.inputs[0].shape[1:]) != (self.latent_dim,):
            raise ConfigError(f"discriminator_z reads z of {tuple(discriminator_z.inputs[0].shape[1:])}, the encoder "
                              f"makes ({self.latent_dim},); build both with the same latent_dim.")
        if tuple(discriminator_img.inputs[0].shape[1:]) != self.image_shape or \
                int(discriminator_img.inputs[1].shape[-1]) != self.num_classes:
            raise ConfigError("discriminator_img must read the generator's images and age groups; build every CAAE "
                              "network with the same image_shape and num_classes.")
        weights = {"image_weight": image_weight, "z_weight": z_weight, "tv_weight": tv_weight}
        for name, value in weights.items():
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}.")
        if not isinstance(pretrain_epochs, int) or pretrain_epochs < 0:
            raise ConfigError(f"pretrain_epochs must be a whole number >= 0, got {pretrain_epochs!r}.")
        self.weights = {k: float(v) for k, v in weights.items()}
        self.pretrain_epochs = int(pretrain_epochs)
        self.encoder, self._generator = encoder, generator
        self.discriminator_z, self.discriminator_img = discriminator_z, discriminator_img
        self.stage = STAGES[0] if self.pretrain_epochs else STAGES[1]
        # read by the E/G loss in the compiled iteration; assigned when the stage changes (draw)
        self.loss_weights = keras.Variable(self._stage_weights(self.stage), trainable=False, dtype="float32",
                                           name="caae_loss_weights")
        self.validation: tuple[np.ndarray, np.ndarray] | None = None
        self.valid: float | None = None
        self._fallback: tuple[np.ndarray, np.ndarray] | None = None
        self._build_training_models(optimizer, dz_optimizer, di_optimizer)

    @classmethod
    def load_data(cls, config, data, image_size=None, limit=None, options=None):
        """A UTKFace folder or .npz at the configuration's image size (or ``image_size``), its
        seeded validation split (``--validation-fraction``, default 0.1) in ``meta``."""
        from gans.experiments.caae import image_side
        from gans.training.caae import load_caae_data

        fraction = (options or {}).get("validation_fraction")
        size = image_side(image_size) or int(config.image_shape[0])
        return load_caae_data(data, size, limit, 0.1 if fraction is None else fraction)[0]

    @classmethod
    def configure(cls, config, dataset):
        """Steps per epoch (and the artefact interval, one epoch) counted from the training faces."""
        if config.batch_size > len(dataset):
            raise ConfigError(f"--batch-size {config.batch_size} is larger than the {len(dataset)} training faces; "
                              "lower it or raise --limit.")
        per_epoch = len(dataset) // config.batch_size
        epochs = max(1, config.steps // config.interval)
        return config.replace(steps=epochs * per_epoch, interval=per_epoch)

    def run_summary(self, run_dir, step):
        from gans.io import read_rows_until
        from gans.training.caae import EPOCHS_FILE

        lines = []
        if self.validation is not None:
            lines.append(f"{len(self.validation[0])} validation faces")
        rows = read_rows_until(run_dir / EPOCHS_FILE, step)
        if not rows:
            return lines
        first, last = rows[0], rows[-1]
        return lines + [f"epoch {first['epoch']}: eg {float(first['eg']):.4f} valid {float(first['valid']):.4f}; epoch "
                f"{last['epoch']}: eg {float(last['eg']):.4f} valid {float(last['valid']):.4f}; "
                f"{float(last['seconds']):.1f} s in the last epoch (all in {run_dir / EPOCHS_FILE})"]

    @classmethod
    def from_config(cls, config, networks):
        options = dict(config.step_options)
        unknown = set(options) - {"image_weight", "z_weight", "tv_weight", "pretrain_epochs"}
        if unknown:
            raise ConfigError(f"the CAAE takes no step option {sorted(unknown)}; its options are image_weight, "
                              "z_weight, tv_weight and pretrain_epochs.")
        return cls(networks["encoder"], networks["generator"], networks["discriminator_z"],
                   networks["discriminator_img"], optimizer=config.optimizer.build(config.precision),
                   dz_optimizer=config.discriminator_optimizer.build(config.precision),
                   di_optimizer=config.discriminator_optimizer.build(config.precision), **options)

    # ------------------------------------------------------------------ the training models
    def _stage_weights(self, stage: str) -> list[float]:
        if stage == "autoencoder":
            return [0.0, 0.0, 0.0]
        return [self.weights["image_weight"], self.weights["z_weight"], self.weights["tv_weight"]]

    def _reconstruction_loss(self, y_true, y_pred):
        """Per face: mean |x - G(E(x), l)| plus the TV weight times the reference's total variation
        (half the squared neighbour differences, summed, divided by the side, in both directions)."""
        ops = keras.ops
        l1 = ops.mean(ops.abs(y_true - y_pred), axis=(1, 2, 3))
        dy = y_pred[:, 1:, :, :] - y_pred[:, :-1, :, :]
        dx = y_pred[:, :, 1:, :] - y_pred[:, :, :-1, :]
        h, w = float(self.image_shape[0]), float(self.image_shape[1])
        tv = 0.5 * ops.sum(dy * dy, axis=(1, 2, 3)) / h + 0.5 * ops.sum(dx * dx, axis=(1, 2, 3)) / w
        return l1 + self.loss_weights[2] * tv

    def _z_adversarial_loss(self, y_true, y_pred):
        return self.loss_weights[1] * keras.losses.binary_crossentropy(y_true, y_pred, from_logits=True)

    def _image_adversarial_loss(self, y_true, y_pred):
        return self.loss_weights[0] * keras.losses.binary_crossentropy(y_true, y_pred, from_logits=True)

    def _build_training_models(self, optimizer, dz_optimizer, di_optimizer) -> None:
        from keras import layers

        shape, latent, k = self.image_shape, self.latent_dim, self.num_classes
        self.autoencoder = build_autoencoder(self.encoder, self._generator)

        z_prior, z_encoded = keras.Input((latent,), name="z_prior"), keras.Input((latent,), name="z_encoded")
        scores = layers.Concatenate(name="dz_scores")([self.discriminator_z(z_prior), self.discriminator_z(z_encoded)])
        self.dz_pair = keras.Model([z_prior, z_encoded], scores, name="dz_update")
        self.dz_pair.compile(optimizer=dz_optimizer, loss=keras.losses.BinaryCrossentropy(from_logits=True))

        real, fake = keras.Input(shape, name="real"), keras.Input(shape, name="generated")
        age, gender = keras.Input((k,), name="age"), keras.Input((NUM_GENDERS,), name="gender")
        scores = layers.Concatenate(name="di_scores")([self.discriminator_img([real, age, gender]),
                                                       self.discriminator_img([fake, age, gender])])
        self.di_pair = keras.Model([real, age, gender, fake], scores, name="di_update")
        self.di_pair.compile(optimizer=di_optimizer, loss=keras.losses.BinaryCrossentropy(from_logits=True))

        image = keras.Input(shape, name="image")
        age, gender = keras.Input((k,), name="age"), keras.Input((NUM_GENDERS,), name="gender")
        z = self.encoder(image)
        rebuilt = self._generator([z, age, gender])
        self.eg_model = keras.Model([image, age, gender],
                                    [rebuilt, self.discriminator_z(z), self.discriminator_img([rebuilt, age, gender])],
                                    name="eg_update")
        self.eg_model.compile(optimizer=optimizer, loss=[self._reconstruction_loss, self._z_adversarial_loss,
                                                         self._image_adversarial_loss])

    # ------------------------------------------------------------------ data
    def check_data(self, labels: np.ndarray | None) -> None:
        check_label_rows(labels, self.num_classes)

    def prepare_data(self, images: np.ndarray, labels: np.ndarray | None) -> None:
        """Keep the first faces of the training set for "valid" in case no validation split is set."""
        n = min(VALIDATION_FALLBACK, len(images))
        self._fallback = (images[:n], np.asarray(labels[:n], np.float32))

    def set_validation(self, images: np.ndarray, labels: np.ndarray) -> None:
        """The validation split "valid" is measured on: uint8 faces of the training size, label rows."""
        images = np.asarray(images)
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape or not len(images):
            raise DataError(f"the validation faces are {images.shape}; the CAAE was built for {self.image_shape}. "
                            "Load both splits at the same --image-size.")
        check_label_rows(labels, self.num_classes)
        self.validation = (images, np.asarray(labels, np.float32))

    def validation_set(self) -> tuple[np.ndarray, np.ndarray]:
        if self.validation is not None:
            return self.validation
        if self._fallback is None:
            raise ConfigError("the CAAE measures 'valid' on a validation split: call set_validation(images, labels) "
                              "(or prepare_data) before training.")
        log.warning("no validation split set: 'valid' is measured on the first %d training faces",
                    len(self._fallback[0]))
        self.validation = self._fallback
        return self.validation

    def validation_l1(self, batch_size: int = 128) -> float:
        """Mean |x - G(E(x), l)| over the validation split, in inference mode (rendered as every
        reconstruction is, by :func:`gans.models.caae.render`)."""
        from gans.datasets.scaling import scale_images

        images, labels = self.validation_set()
        total = 0.0
        for i in range(0, len(images), batch_size):
            x = scale_images(images[i:i + batch_size])
            age, gender = split_labels(labels[i:i + batch_size], self.num_classes)
            rebuilt = render(self.encoder, self._generator, x, age, gender, batch_size)
            total += float(np.abs(rebuilt - x).astype(np.float64).sum())
        return total / float(images.size)

    # ------------------------------------------------------------------ the iteration
    def stage_at(self, step: int, data: BatchSource) -> str:
        """The schedule's stage of iteration ``step``: the first ``pretrain_epochs`` epochs are the
        autoencoder stage."""
        return STAGES[0] if step <= self.pretrain_epochs * max(1, data.steps_per_epoch) else STAGES[1]

    def draw(self, step: int, data: BatchSource, rng: np.random.Generator) -> CAAEDraws:
        """The real batch with its labels, then the prior batch (in that order from ``rng``)."""
        stage = self.stage_at(step, data)
        if stage != self.stage or step == 1:
            self.stage = stage
            self.loss_weights.assign(self._stage_weights(stage))
        batch = data.batch(step - 1, rng)
        if batch.labels is None:
            raise DataError("the CAAE's batches carry age and gender labels; these have none.")
        age, gender = split_labels(batch.labels, self.num_classes)
        n = len(batch.images)
        z_prior = rng.uniform(-1.0, 1.0, (n, self.latent_dim)).astype(np.float32)
        targets = np.tile(np.asarray([[1.0, 0.0]], np.float32), (n, 1))
        return CAAEDraws(batch.images, age, gender, z_prior, targets, np.ones((n, 1), np.float32))

    def iterate(self, draws: CAAEDraws, run) -> dict:
        """D_z on z* against E(x), D_img on (x, l) against (G(E(x), l), l), then E and G with both frozen."""
        encoded = run.generate(self.encoder, draws.images)
        rebuilt = run.generate(self.autoencoder, [draws.images, draws.age, draws.gender])
        set_trainable(self.discriminator_z, True)
        dz = run.train(self.dz_pair, [draws.z_prior, encoded], draws.pair_targets)
        set_trainable(self.discriminator_img, True)
        di = run.train(self.di_pair, [draws.images, draws.age, draws.gender, rebuilt], draws.pair_targets)
        set_trainable(self.discriminator_z, False)
        set_trainable(self.discriminator_img, False)
        eg_total = run.train(self.eg_model, [draws.images, draws.age, draws.gender],
                             [draws.images, draws.ones, draws.ones])
        eg = run.measure(mean_absolute_error, draws.images, rebuilt)  # from the same pass as the updates
        # Keras means the pair's two cross-entropies; the reference's loss_Dz / loss_Di is their sum
        return {"eg": eg, "dz": 2.0 * dz, "di": 2.0 * di, "eg_total": eg_total}

    def train_step(self, step: int, data: BatchSource, rng: np.random.Generator) -> dict[str, float]:
        logs = super().train_step(step, data, rng)
        if self.valid is None or step % max(1, data.steps_per_epoch) == 0:
            self.valid = self.validation_l1()
        logs["valid"] = float(self.valid)
        return logs

    # ------------------------------------------------------------------ sampling
    @property
    def generator(self) -> keras.Model:
        return self._generator

    def sample(self, n: int, rng: np.random.Generator, labels: np.ndarray | None = None) -> np.ndarray:
        """``n`` faces decoded from prior z (drawn first), age groups ``labels`` (drawn next when None)
        and genders (drawn last)."""
        inputs = self.checkpoint_inputs(self._generator, n, rng, self.check_labels(n, labels))
        return inference_function(self._generator)(inputs).numpy()

    @classmethod
    def checkpoint_classes(cls, generator) -> int:
        """The age groups of a CAAE generator (its ``age`` input)."""
        return int(generator.inputs[1].shape[-1])

    @classmethod
    def checkpoint_inputs(cls, generator, n: int, rng: np.random.Generator, labels=None):
        """Prior z, uniform in [-1, 1] as the encoder's tanh (drawn first), the age groups ``labels``
        (drawn next when None) and genders (drawn last): what :meth:`sample` decodes, and ``gans sample``
        on a generator checkpoint alone."""
        from gans.datasets.utkface import one_hot_pm1

        num_classes = cls.checkpoint_classes(generator)
        z = rng.uniform(-1.0, 1.0, (n, int(generator.inputs[0].shape[-1]))).astype(np.float32)
        ages = rng.integers(0, num_classes, n) if labels is None else np.asarray(labels)
        genders = rng.integers(0, NUM_GENDERS, n)
        return [z, one_hot_pm1(ages, num_classes), one_hot_pm1(genders, NUM_GENDERS)]

    diagnostic_source = "reconstructions of fixed validation faces"

    def diagnostic_samples(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """G(E(x), l) of ``n`` validation faces (drawn by ``rng``) with their own labels: what the CAAE
        is for. Its prior samples are no test of collapse: with the reference's z-adversarial weight of 0
        the encoder is never pulled to the prior, so prior z decodes to no face (read as collapse)."""
        from gans.datasets.scaling import scale_images

        images, labels = self.validation_set()
        chosen = rng.choice(len(images), n, replace=n > len(images))
        age, gender = split_labels(labels[chosen], self.num_classes)
        return render(self.encoder, self._generator, scale_images(images[chosen]), age, gender)

    # ------------------------------------------------------------------ state
    @property
    def models(self) -> dict[str, keras.Model]:
        return {"encoder": self.encoder, "generator": self._generator, "discriminator_z": self.discriminator_z,
                "discriminator_img": self.discriminator_img}

    @property
    def optimizers(self) -> dict[str, Any]:
        return {"eg": self.eg_model.optimizer, "dz": self.dz_pair.optimizer, "di": self.di_pair.optimizer}

    def build_optimizers(self) -> None:
        for discriminator, pair in ((self.discriminator_z, self.dz_pair), (self.discriminator_img, self.di_pair)):
            set_trainable(discriminator, True)
            if not pair.optimizer.built:
                pair.optimizer.build(pair.trainable_variables)
        set_trainable(self.discriminator_z, False)
        set_trainable(self.discriminator_img, False)
        if not self.eg_model.optimizer.built:
            self.eg_model.optimizer.build(self.eg_model.trainable_variables)
        # The three-output loss creates its trackers on first use; create them now, outside any traced
        # function, so the fused iteration traces once (a compute on zeros changes no weight).
        if not getattr(self, "_losses_built", False):
            zeros = [np.zeros((1, *tuple(o.shape[1:])), np.float32) for o in self.eg_model.outputs]
            self.eg_model.compute_loss(y=zeros, y_pred=zeros)
            self._losses_built = True

    def get_extra_state(self) -> dict[str, Any]:
        return {"stage": self.stage, "valid": self.valid}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        unknown = set(state) - {"stage", "valid"}
        if unknown:
            raise ConfigError(f"the CAAE's saved state has unknown entries {sorted(unknown)}.")
        stage = state.get("stage", self.stage)
        if stage not in STAGES:
            raise ConfigError(f"the CAAE's saved stage {stage!r} is not one of {STAGES}.")
        self.stage = stage
        self.loss_weights.assign(self._stage_weights(stage))
        self.valid = None if state.get("valid") is None else float(state["valid"])

    # ------------------------------------------------------------------ artefacts
    def metric_callbacks(self, every: int) -> list:
        """Every epoch: the validation grid, epochs.csv (the seed's per-epoch losses and seconds) and
        its plot; at every generator checkpoint, the encoder's .h5 beside it."""
        from gans.training.caae import CAAEArtefacts

        return [CAAEArtefacts()]

    def summaries(self):
        """Each network as its own updates see it, then the E/G update with both discriminators frozen."""
        set_trainable(self.discriminator_z, True)
        set_trainable(self.discriminator_img, True)
        yield "encoder", self.encoder
        yield "generator", self._generator
        yield "discriminator_z", self.discriminator_z
        yield "discriminator_img", self.discriminator_img
        set_trainable(self.discriminator_z, False)
        set_trainable(self.discriminator_img, False)
        yield "eg_update", self.eg_model
