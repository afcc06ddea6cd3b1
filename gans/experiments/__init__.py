"""The thesis's 20 experiments (Tables 4.1-4.5) and the companion papers' named configurations, as
data, and the per-variant defaults.

Each experiment is a :class:`~gans.config.GANConfig`. Where the OCR'd tables are garbled
(experiments 3 and 7 show "1" in the generator's Conv2D columns), the row follows the family it
belongs to: LSGAN generators are fully connected.

Filter widths are not in the tables; every convolutional row uses its family's widths
(:mod:`gans.models.dcgan`, :mod:`gans.models.wgan`).
"""

from __future__ import annotations

from gans.errors import ConfigError
from gans.config import DATASET_IMAGE_SHAPES, GANConfig, NetworkSpec, OptimizerSpec
from gans.experiments.pggan import pggan_config as _pggan_config
from gans.experiments.caae import caae_config as _caae_config

ADAM = OptimizerSpec("adam", 2e-4, 0.5)
RMSPROP = OptimizerSpec("rmsprop", 5e-5, None)
MNIST_SHAPE, CELEBA_SHAPE = DATASET_IMAGE_SHAPES["mnist"], DATASET_IMAGE_SHAPES["celeba"]

# The thesis saves every 500 iterations for GAN/LSGAN families and every 200 for DCGAN/WGAN (4.3).
INTERVALS = {"gan": 500, "lsgan": 500, "dcgan": 200, "wgan": 200}
LOSS_OF_VARIANT = {"gan": "binary_crossentropy", "dcgan": "binary_crossentropy", "lsgan": "mse",
                   "wgan": "wasserstein_loss"}


def _mlp_generator(builder: str) -> NetworkSpec:
    # Table 4.4 rows 1, 3, 7-9, 11, 13, 19, 20: leakyReLU 0.2, BatchNorm 0.8, no convolutions, tanh.
    return NetworkSpec(builder, {"activation": "leaky_relu", "alpha": 0.2, "use_batchnorm": True, "momentum": 0.8,
                                 "output_activation": "tanh"})


def _mlp_discriminator(builder: str, output: str) -> NetworkSpec:
    # Table 4.5 rows 1, 3, 7, 8, 11, 13, 19, 20: leakyReLU 0.2, no batch norm, no convolutions.
    return NetworkSpec(builder, {"activation": "leaky_relu", "alpha": 0.2, "use_batchnorm": False,
                                 "output_activation": output})


def _conv_generator(builder: str, activation: str, kernel: int, batchnorm: bool) -> NetworkSpec:
    return NetworkSpec(builder, {"activation": activation, "alpha": 0.2, "use_batchnorm": batchnorm, "momentum": 0.8,
                                 "upsampling": True, "kernel_size": kernel, "output_activation": "tanh"})


def _conv_discriminator(builder: str, batchnorm: bool, kernel: int, dropout: float, output: str) -> NetworkSpec:
    return NetworkSpec(builder, {"activation": "leaky_relu", "alpha": 0.2, "use_batchnorm": batchnorm,
                                 "momentum": 0.8, "kernel_size": kernel, "dropout": dropout,
                                 "output_activation": output})


def _experiment(number, variant, dataset, steps, latent, batch, generator, discriminator, fid, description):
    optimizer = RMSPROP if variant == "wgan" else ADAM
    loss = LOSS_OF_VARIANT[variant]
    return GANConfig(
        variant=variant, dataset=dataset, steps=steps, latent_dim=latent, batch_size=batch,
        loss=loss, optimizer=optimizer, discriminator_loss=loss, discriminator_optimizer=optimizer,
        networks={"generator": generator, "discriminator": discriminator},
        image_shape=MNIST_SHAPE if dataset == "mnist" else CELEBA_SHAPE,
        n_critic=5 if variant == "wgan" else 1, experiment=number, interval=INTERVALS[variant],
        published_fid=fid, description=description,
    )


_DC_G = _conv_generator("dcgan", "relu", 3, True)            # rows 2, 5, 12, 15
_DC_G_LEAKY = _conv_generator("dcgan", "leaky_relu", 3, True)  # rows 6, 16
_DC_G_K4_NOBN = _conv_generator("dcgan", "leaky_relu", 4, False)  # rows 17, 18
_W_G = _conv_generator("wgan", "relu", 4, True)              # rows 4, 10, 14
_DC_D_BN = _conv_discriminator("dcgan", True, 3, 0.25, "sigmoid")    # rows 2, 12
_DC_D_04 = _conv_discriminator("dcgan", False, 3, 0.4, "sigmoid")    # rows 5, 6, 9, 15, 16
_DC_D_K5 = _conv_discriminator("dcgan", False, 5, 0.4, "sigmoid")    # rows 17, 18
_W_D = NetworkSpec("wgan", {**_conv_discriminator("wgan", True, 3, 0.25, "linear").options, "clip_value": 0.01})

EXPERIMENTS: dict[int, GANConfig] = {e.experiment: e for e in (
    _experiment(1, "gan", "mnist", 30000, 100, 32, _mlp_generator("gan"), _mlp_discriminator("gan", "sigmoid"),
                53.7039, "original fully connected GAN"),
    _experiment(2, "dcgan", "mnist", 4000, 100, 32, _DC_G, _DC_D_BN, 62.0163,
                "DCGAN, batch-norm discriminator (mode collapse in the thesis, Figure 2.4)"),
    _experiment(3, "lsgan", "mnist", 30000, 100, 32, _mlp_generator("lsgan"),
                _mlp_discriminator("lsgan", "linear"), 52.4530, "LSGAN, fully connected (best MNIST FID)"),
    _experiment(4, "wgan", "mnist", 4000, 100, 32, _W_G, _W_D, 55.5659, "WGAN, clipped critic"),
    _experiment(5, "dcgan", "mnist", 4000, 100, 32, _DC_G, _DC_D_04, 53.3753, "DCGAN, dropout 0.4 discriminator"),
    _experiment(6, "dcgan", "mnist", 4000, 100, 32, _DC_G_LEAKY, _DC_D_04, 53.1102,
                "DCGAN, leakyReLU generator"),
    _experiment(7, "lsgan", "mnist", 30000, 200, 32, _mlp_generator("lsgan"),
                _mlp_discriminator("lsgan", "linear"), 53.8863, "LSGAN, latent 200"),
    _experiment(8, "lsgan", "mnist", 30000, 200, 128, _mlp_generator("lsgan"),
                _mlp_discriminator("lsgan", "linear"), 52.5877, "LSGAN, latent 200, batch 128"),
    _experiment(9, "lsgan", "mnist", 30000, 200, 128, _mlp_generator("lsgan"), _DC_D_04, 56.3247,
                "LSGAN generator against a convolutional sigmoid discriminator"),
    _experiment(10, "wgan", "mnist", 5000, 100, 64, _W_G, _W_D, 55.4045, "WGAN, batch 64"),
    _experiment(11, "gan", "celeba", 30000, 100, 32, _mlp_generator("gan"), _mlp_discriminator("gan", "sigmoid"),
                0.4570, "original GAN on 40x40 faces"),
    _experiment(12, "dcgan", "celeba", 4000, 100, 32, _DC_G, _DC_D_BN, 18.5712,
                "DCGAN on faces (non-convergence in the thesis, Figure 2.5)"),
    _experiment(13, "lsgan", "celeba", 30000, 100, 32, _mlp_generator("lsgan"),
                _mlp_discriminator("lsgan", "linear"), 0.5618, "LSGAN on faces"),
    _experiment(14, "wgan", "celeba", 4000, 100, 32, _W_G, _W_D, 0.1605, "WGAN on faces"),
    _experiment(15, "dcgan", "celeba", 4000, 100, 32, _DC_G, _DC_D_04, 0.0793, "DCGAN, dropout 0.4 discriminator"),
    _experiment(16, "dcgan", "celeba", 4000, 100, 32, _DC_G_LEAKY, _DC_D_04, 0.1015, "DCGAN, leakyReLU generator"),
    _experiment(17, "dcgan", "celeba", 4000, 100, 32, _DC_G_K4_NOBN, _DC_D_K5, 0.0844,
                "DCGAN, no batch norm, kernels 4/5"),
    _experiment(18, "dcgan", "celeba", 4000, 100, 128, _DC_G_K4_NOBN, _DC_D_K5, 0.0681,
                "DCGAN, no batch norm, batch 128 (best CelebA FID)"),
    _experiment(19, "lsgan", "celeba", 30000, 100, 64, _mlp_generator("lsgan"),
                _mlp_discriminator("lsgan", "linear"), 0.2844, "LSGAN on faces, batch 64"),
    _experiment(20, "lsgan", "celeba", 30000, 200, 128, _mlp_generator("lsgan"),
                _mlp_discriminator("lsgan", "linear"), 0.2584, "LSGAN on faces, latent 200, batch 128"),
)}

# The MNIST paper (seed 004): its best class-conditional GAN, F=1, D=1, B=64 with label smoothing,
# Adam 1e-4 for both networks, 20 epochs of the 60,000 training digits (18,750 iterations at B=64).
# The paper gives no beta1 or smoothing width: 0.5 and 0.1 are the DCGAN/Salimans et al. values.
# Nor does it give the batch-norm momentum. The discriminator is the builder's default, the paper's
# (Conv-BN-ELU blocks with max pooling, sigmoid), and its frozen batch norm in the G step normalizes
# with the batch's statistics (frozen_batchnorm "batch", as the paper's Keras 2 code did: see
# gans.batchnorm); with the moving statistics instead, D told the separate real and fake batches apart
# (d_loss_fake ~0.1) while the frozen D scored the fakes otherwise, and agreement stayed at 10-13%.
# Batch-norm momentum 0.8 in G, the thesis's value, as measured here on the shared MNIST digits.
NAMED: dict[str, GANConfig] = {c.experiment: c for c in (
    GANConfig(
        variant="cgan", dataset="mnist", steps=18750, latent_dim=100, batch_size=64,
        loss="binary_crossentropy", optimizer=OptimizerSpec("adam", 1e-4, 0.5),
        discriminator_loss="binary_crossentropy", discriminator_optimizer=OptimizerSpec("adam", 1e-4, 0.5),
        networks={"generator": NetworkSpec("cgan", {"capacity": 1, "momentum": 0.8}),
                  "discriminator": NetworkSpec("cgan", {"capacity": 1, "depth": 1})},
        image_shape=MNIST_SHAPE, num_classes=10, label_smoothing=0.1, experiment="ccgan-mnist", interval=500,
        description="MNIST paper: class-conditional GAN, F=1 D=1 B=64, label smoothing (best, 97.6% IS)"),
    # The CelebA attributes paper (seed 002): the generator reads equation 1's 160-d noise, overlaid
    # with the attribute classifier's outputs on real faces (alpha 0.6, beta 0.8); G Adam 4e-4, D Adam
    # 2e-4 (beta1 0.5: the paper gives none), 16 real and 16 generated faces per step, one-sided label
    # flipping at 0.05, batch norm and dropout 0.3; 3,500 iterations, at the paper's 218x178x3 (a run
    # takes the size of the faces it is given). The classifier's path is a step option (--classifier).
    # Batch norm in D, as the paper says; the frozen D of the G step normalizes with the batch's
    # statistics (frozen_batchnorm "batch", the family's default: see gans.batchnorm). With its moving
    # statistics instead, D trained on separate real and fake batches told them apart by their batch
    # statistics (d_loss_fake 2e-4 at step 1,000) while the frozen D scored the fakes real (g_loss
    # 0.02): the samples stayed noise. The two additions that are not in the paper (the consistency
    # term's weight, the projection discriminator's num_attributes) are recorded at their paper values,
    # 0, so a resume that drops either option is refused as a change of the run.
    GANConfig(
        variant="attribute", dataset="celeba", steps=3500, latent_dim=160, batch_size=16,
        loss="binary_crossentropy", optimizer=OptimizerSpec("adam", 4e-4, 0.5),
        discriminator_loss="binary_crossentropy", discriminator_optimizer=OptimizerSpec("adam", 2e-4, 0.5),
        networks={"generator": NetworkSpec("attribute", {"dropout": 0.3}),
                  "discriminator": NetworkSpec("attribute", {"dropout": 0.3, "num_attributes": 0})},
        image_shape=(218, 178, 3), label_flip=0.05,
        step_options={"alpha": 0.6, "beta": 0.8, "attribute_weight": 0.0},
        experiment="attribute-celeba", interval=500,
        description="CelebA attributes paper: GAN on equation-1 noise from a 40-attribute classifier"),
    # The CelebA-HQ paper (seed 001): the progressive GAN, 4x4 to 32x32 here (the seed: 256), with its
    # stable recipe (MSE, no batch norm); 'gans train pggan' sets the resolution and schedule.
    _pggan_config(experiment="pggan-celeba",
                  description="CelebA-HQ paper: progressive growing GAN with fade-in, MSE recipe"),
    # The UTKFace paper (seed 000): the CAAE of Zhang et al. with the reference code's networks and E/G loss
    # weights, Adam 2e-4 / 0.5 for all three optimizers, batch 64, 100 epochs at 128x128 (Table 1, result 3);
    # 'gans train caae' sets the image size and counts the epochs on the data it is given.
    _caae_config(),
)}

# The attribute GAN whose faces carry their attributes (not in the paper; issue 22): the projection
# discriminator (a real face paired with the classifier's reading of it, a fake with its overlay) and the
# consistency term at weight 10. Measured on the shared faces at 64x52, 2,000 steps, 2,048 fresh mixes
# (docs/attribute-celeba.md): balanced attribute correlation 0.265 (steps 1,000 / 1,500: 0.254 / 0.286)
# against the paper's method's 0.045, W 10 alone 0.242 and the projection alone 0.266, with the most
# agreement of the three (89.8% with the overlay against 87.3% without) and varied faces (diversity 0.99).
_PAPER_ATTRIBUTE = NAMED["attribute-celeba"]
NAMED["attribute-celeba-carried"] = _PAPER_ATTRIBUTE.replace(
    networks={**_PAPER_ATTRIBUTE.networks, "discriminator": NetworkSpec(
        "attribute", {**_PAPER_ATTRIBUTE.networks["discriminator"].options, "num_attributes": 40})},
    step_options={**_PAPER_ATTRIBUTE.step_options, "attribute_weight": 10.0}, experiment="attribute-celeba-carried",
    description="attribute GAN whose faces carry the overlaid attributes: projection D + consistency term W 10 "
                "(not in the paper; measured best)")


def get_experiment(key: int | str) -> GANConfig:
    """A thesis experiment by number (1-20), or a companion paper's configuration by name.

    Raises:
        ConfigError: naming the valid numbers and names.
    """
    if isinstance(key, str):
        key = key.strip().lower()
        if key in NAMED:
            return NAMED[key]
        key = int(key) if key.isdigit() else key
    try:
        return EXPERIMENTS[int(key)]
    except (KeyError, ValueError, TypeError):
        raise ConfigError(
            f"unknown experiment {key}; the thesis has experiments 1-{max(EXPERIMENTS)}, and the named "
            f"configurations are {sorted(NAMED)} (run 'gans list' to see them)."
        ) from None


def variant_config(variant: str, dataset: str | None = None) -> GANConfig:
    """Defaults for a variant: its base configuration, not tied to that experiment (on the base's data
    set unless ``dataset`` names another)."""
    from gans import families

    start = families.get(variant).base
    if start is None:
        raise ConfigError(f"the {variant} family has no configuration of its own to start from; train one of its "
                          "configurations with --experiment NAME (see 'gans list').")
    base = start() if callable(start) else start if isinstance(start, GANConfig) else get_experiment(start)
    dataset = dataset or base.dataset
    if dataset not in DATASET_IMAGE_SHAPES:
        raise ConfigError(f"dataset must be one of {sorted(DATASET_IMAGE_SHAPES)}, got {dataset!r}.")
    return base.replace(experiment=None, dataset=dataset, published_fid=None,
                        image_shape=base.image_shape if dataset == base.dataset else DATASET_IMAGE_SHAPES[dataset],
                        description=f"{variant} with the defaults of {_label(base.experiment)}")


def _label(experiment: int | str | None) -> str:
    return f"thesis experiment {experiment}" if isinstance(experiment, int) else f"configuration {experiment!r}"
