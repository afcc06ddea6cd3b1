"""The CAAE on UTKFace (seed 000): its baseline configuration and the learning-rate x batch-size
study of its Table 1, as data.

Table 1 of the seed reports, per "result id", the epochs trained, the learning rate, the batch size
and the final loss values ("loss value", "eg", "dz", "di", "valid"). Result 3 is the baseline
(Adam 2e-4, batch 64, 100 epochs); 10-15 are short runs, 16-21 longer ones. The seed does not say
what "loss value" is (it tracks "eg" closely); it is kept as published.

:func:`caae_config` is the baseline :class:`~gans.config.GANConfig` (``NAMED["caae-utkface"]``);
:func:`study_config` turns a result id into the configuration that reproduces it (its learning rate
for all three optimizers, its batch size), and :func:`scaled_learning_rate` is the seed's
conclusion as a rule: scale the learning rate with the batch size.

This module is plain data and imports no Keras.
"""

from __future__ import annotations

from dataclasses import dataclass

from gans.config import GANConfig, NetworkSpec, OptimizerSpec, scaled_learning_rate  # noqa: F401 (the seed's rule)
from gans.errors import ConfigError
from gans.families import Option

BASELINE_ID = 3
BASELINE_LR, BASELINE_BATCH, BASELINE_EPOCHS = 2e-4, 64, 100
BETA1 = 0.5
# The reference's E/G loss weights (FaceAging.py: train(weigts=(0.0001, 0, 0))) and no pre-training
# stage (its main.py pre-trains 10 epochs only when it starts without the authors' init model).
STEP_OPTIONS = {"image_weight": 1e-4, "z_weight": 0.0, "tv_weight": 0.0, "pretrain_epochs": 0}


@dataclass(frozen=True)
class CAAEResult:
    """One row of the seed's Table 1: a configuration and the losses it ended with."""

    result_id: int
    epochs: int
    learning_rate: float
    batch_size: int
    loss_value: float
    eg: float
    dz: float
    di: float
    valid: float

    COLUMNS = ("result_id", "epochs", "learning_rate", "batch_size", "loss_value", "eg", "dz", "di", "valid")

    def row(self) -> dict:
        return {k: getattr(self, k) for k in self.COLUMNS}


# Table 1, as published (result id, epoch, learning rate, batch size, loss value, eg, dz, di, valid).
TABLE1: dict[int, CAAEResult] = {r.result_id: r for r in (
    CAAEResult(3, 100, 2e-4, 64, 0.0817, 0.0758, 0.0063, 0.1271, 0.1165),
    CAAEResult(10, 10, 1e-4, 64, 0.1263, 0.1245, 1.0049, 0.0241, 0.1208),
    CAAEResult(11, 10, 2e-4, 128, 0.1371, 0.1381, 0.7722, 0.0179, 0.1556),
    CAAEResult(12, 10, 4e-4, 128, 0.1441, 0.1488, 0.1976, 0.0351, 0.1531),
    CAAEResult(13, 10, 1.5e-4, 128, 0.1387, 0.1399, 0.9363, 0.0191, 0.1402),
    CAAEResult(14, 13, 4e-4, 128, 0.3454, 0.3455, 0.4429, 0.0008, 0.3484),
    CAAEResult(15, 20, 4e-4, 128, 0.1196, 0.1169, 0.0396, 0.2041, 0.1314),
    CAAEResult(16, 50, 4e-4, 128, 0.0991, 0.0998, 0.0011, 0.0872, 0.1113),
    CAAEResult(17, 50, 2e-4, 128, 0.0998, 0.0997, 0.0068, 0.0102, 0.1046),
    CAAEResult(18, 50, 1e-4, 128, 0.1021, 0.1039, 0.0981, 0.0107, 0.1071),
    CAAEResult(19, 50, 1e-4, 32, 0.0874, 0.0855, 0.0137, 0.0616, 0.0994),
    CAAEResult(20, 31, 1e-5, 32, 0.1211, 0.1268, 1.3472, 0.0119, 0.1304),
    CAAEResult(21, 50, 2e-4, 32, 0.0845, 0.0884, 0.0144, 0.0668, 0.1014),
)}


def caae_result(result_id: int | str) -> CAAEResult:
    """Table 1's row of ``result_id`` (3, 10-21).

    Raises:
        ConfigError: an id the table does not have (the message lists them).
    """
    try:
        return TABLE1[int(result_id)]
    except (KeyError, ValueError, TypeError):
        raise ConfigError(f"the seed's Table 1 has no result id {result_id!r}; its ids are "
                          f"{', '.join(map(str, TABLE1))}.") from None


def caae_config(image_size: int = 128, learning_rate: float = BASELINE_LR, batch_size: int = BASELINE_BATCH,
                epochs: int = BASELINE_EPOCHS, steps_per_epoch: int = 333, experiment: str | None = "caae-utkface",
                description: str = "UTKFace paper: conditional adversarial autoencoder, Adam 2e-4 / 0.5, batch 64",
                step_options: dict | None = None, encoder: dict | None = None,
                generator: dict | None = None) -> GANConfig:
    """The CAAE's configuration: four networks (the reference's widths unless ``encoder`` /
    ``generator`` options say otherwise), Adam(``learning_rate``, 0.5) for E/G, D_z and D_img.

    ``steps`` is ``epochs * steps_per_epoch``; 333 is the full UTKFace (23,708 faces, 90% for training)
    at batch 64. ``gans train caae`` trains by ``--epochs`` and counts steps from the data.
    """
    adam = OptimizerSpec("adam", learning_rate, BETA1)
    return GANConfig(
        variant="caae", dataset="utkface", steps=int(epochs) * int(steps_per_epoch), latent_dim=50,
        batch_size=int(batch_size), loss="binary_crossentropy", optimizer=adam,
        discriminator_loss="binary_crossentropy", discriminator_optimizer=adam,
        networks={"encoder": NetworkSpec("caae", dict(encoder or {})),
                  "generator": NetworkSpec("caae", dict(generator or {})),
                  "discriminator_z": NetworkSpec("caae", {}),
                  "discriminator_img": NetworkSpec("caae", {})},
        image_shape=(int(image_size), int(image_size), 3), num_classes=10,
        step_options={**STEP_OPTIONS, **(step_options or {})}, experiment=experiment,
        interval=int(steps_per_epoch), description=description)


def study_config(result_id: int | str, base: GANConfig | None = None) -> GANConfig:
    """The configuration of Table 1's ``result_id``: the baseline with that row's learning rate (for
    all three optimizers) and batch size; the row's epochs are :func:`caae_result`'s ``epochs``."""
    row = caae_result(result_id)
    base = base or caae_config()
    adam = OptimizerSpec("adam", row.learning_rate, base.optimizer.beta_1)
    return base.replace(batch_size=row.batch_size, optimizer=adam, discriminator_optimizer=adam,
                        experiment=f"caae-{row.result_id}",
                        description=f"seed Table 1, result {row.result_id}: lr {row.learning_rate:g}, batch "
                                    f"{row.batch_size}, {row.epochs} epochs")



# ---------------------------------------------------------------------- gans train caae
OPTIONS = (
    Option(("--validation-fraction",), "share of the (deduplicated, --limit'ed) faces held out for 'valid' "
           "(default 0.1)", kind="fraction", metavar="F"),
    Option(("--encoder-filters",), "filters of the encoder's first convolution, doubled per block (default 64)",
           kind="count", metavar="F"),
    Option(("--generator-filters",), "channels of the generator's 4x4 seed, halved per block (default 1024; 256 "
           "for a CPU run)", kind="count", metavar="F"),
    Option(("--adversarial-weights",), "weights of the image-adversarial, z-adversarial and total-variation terms "
           "in the E/G loss (default 1e-4 0 0, the reference code's)", kind="weight", nargs=3,
           metavar=("IMG", "Z", "TV")),
    Option(("--pretrain-epochs",), "first epochs as a plain autoencoder, every weight above 0 (the reference: 10 "
           "from scratch; default 0)", kind="count0", metavar="E"),
)


def image_side(image_size) -> int | None:
    """``--image-size S`` (or ``S S``) as S; a CAAE image is square."""
    if image_size is None:
        return None
    sizes = [int(v) for v in image_size]
    if len(sizes) not in (1, 2) or len(set(sizes)) != 1:
        raise ConfigError(f"the CAAE trains on square faces: give --image-size S (e.g. 64), got "
                          f"{' '.join(map(str, sizes))}.")
    return sizes[0]


def config_from_args(args, base: GANConfig | None = None) -> GANConfig:
    """The configuration of a ``gans train caae`` command line, before the data is read (its steps
    per epoch are counted from the data later: :meth:`gans.training.steps.caae.CAAEStep.configure`)."""
    from gans.models.caae import check_image_size

    if getattr(args, "experiment", None) is not None and str(args.experiment).strip().lower() != "caae-utkface":
        raise ConfigError(f"--experiment {args.experiment} does not go with 'gans train caae'.")
    if getattr(args, "dataset", None) not in (None, "utkface"):
        raise ConfigError(f"the CAAE trains on UTKFace (--dataset utkface), not {args.dataset}.")
    size = image_side(getattr(args, "image_size", None)) or 128
    check_image_size((size, size, 3))
    options = dict(STEP_OPTIONS)
    if getattr(args, "adversarial_weights", None) is not None:
        options.update(zip(("image_weight", "z_weight", "tv_weight"), (float(v) for v in args.adversarial_weights)))
    if getattr(args, "pretrain_epochs", None) is not None:
        options["pretrain_epochs"] = int(args.pretrain_epochs)
    encoder = {"filters": args.encoder_filters} if getattr(args, "encoder_filters", None) else {}
    generator = {"filters": args.generator_filters} if getattr(args, "generator_filters", None) else {}
    return caae_config(size, learning_rate=getattr(args, "lr", None) or BASELINE_LR,
                       batch_size=getattr(args, "batch_size", None) or BASELINE_BATCH, step_options=options,
                       encoder=encoder, generator=generator)
