"""``gans list``, ``gans train`` and ``gans sample``. Heavy imports happen inside the handlers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gans.errors import ConfigError

VARIANTS = ("gan", "dcgan", "lsgan", "wgan")


def register(sub) -> None:
    p = sub.add_parser("list", help="list the variants and the thesis's 20 experiments",
                       description="List the GAN variants and the thesis's experiments (Tables 4.1-4.7).")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "train", help="train a thesis experiment or a variant with your own settings",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a GAN with the thesis's train-on-batch loop and write its artefacts into a run folder:\n"
                    "config.json, *_modelsummary.txt, losses.csv, loss_plot.png, samples/step_N.png,\n"
                    "checkpoints/generator_step_N.h5 and a resumable state/state.npz.",
        epilog="examples:\n"
               "  gans train --experiment 3 --steps 2000 --out runs/exp03\n"
               "  gans train --experiment 3 --steps 2000 --out runs/exp03 --resume   # after a kill\n"
               "  gans train dcgan --dataset mnist --steps 500 --batch-size 64 --lr 1e-4\n"
               "  gans train --experiment 18 --data faces.npz   # CelebA experiments need face crops",
    )
    p.add_argument("variant", nargs="?", choices=VARIANTS,
                   help="train this variant with the defaults of its first thesis experiment (1-4)")
    p.add_argument("--experiment", "-e", type=int, metavar="N", help="thesis experiment number (1-20)")
    p.add_argument("--dataset", choices=("mnist", "celeba"), help="data set of a VARIANT run (default mnist)")
    p.add_argument("--data", metavar="PATH",
                   help="MNIST: mnist.npz or a folder of IDX .gz files; CelebA: an .npz of face crops")
    p.add_argument("--steps", type=int, metavar="S", help="training iterations (default: the experiment's)")
    p.add_argument("--epochs", type=int, metavar="E", help="passes over the data, instead of --steps")
    p.add_argument("--batch-size", type=int, metavar="B", help="real images per discriminator step")
    p.add_argument("--latent-dim", type=int, metavar="D", help="size of the noise vector z")
    p.add_argument("--lr", type=float, help="learning rate of the generator (combined model) optimizer")
    p.add_argument("--d-lr", type=float, help="learning rate of the discriminator optimizer")
    p.add_argument("--beta1", type=float, help="Adam beta1 for both optimizers")
    p.add_argument("--n-critic", type=int, help="discriminator steps per generator step")
    p.add_argument("--label-smoothing", type=float, help="one-sided soft real labels in [1-s, 1] (e.g. 0.1)")
    p.add_argument("--label-flip", type=float, help="probability of flipping a real label to fake (e.g. 0.05)")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/expNN or runs/VARIANT-DATASET)")
    p.add_argument("--sample-every", type=int, metavar="K", help="steps between sample grids "
                   "(default: the thesis's 500 for GAN/LSGAN, 200 for DCGAN/WGAN)")
    p.add_argument("--checkpoint-every", type=int, metavar="K",
                   help="steps between generator .h5 checkpoints and resumable states (same default)")
    p.add_argument("--fid-every", type=int, metavar="K", help="steps between FID evaluations into fid.csv (off by default)")
    p.add_argument("--fid-extractor", choices=("lenet", "inception"),
                   help="FID features: lenet (offline; default for MNIST) or inception (the thesis's InceptionV3; "
                        "default for faces; downloads ImageNet weights once)")
    p.add_argument("--fid-n", type=int, default=5000, metavar="N",
                   help="generated and real images per FID evaluation (default 5000, as the thesis)")
    p.add_argument("--inception-weights", metavar="PATH",
                   help="local InceptionV3 'notop' weights .h5, for machines with no network")
    p.add_argument("--diagnose-every", type=int, metavar="K",
                   help="steps between diversity checks for the run's diagnosis (default: --sample-every)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--batch-mode", choices=("random", "epoch"), default="random",
                   help="random: indices drawn with replacement each step, as the thesis; epoch: shuffled passes")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="generate a grid of images from a generator .h5",
                       description="Load a generator checkpoint (.h5) and save a grid of generated images.")
    p.add_argument("checkpoint", metavar="CHECKPOINT.h5")
    p.add_argument("--n", type=int, default=25, help="number of images (default 25)")
    p.add_argument("--out", default="grid.png", help="output PNG (default grid.png)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise vectors")
    p.add_argument("--npz", metavar="PATH", help="also save the images as uint8 in an .npz")
    p.set_defaults(func=cmd_sample)


def cmd_list(args) -> int:
    from gans.experiments import EXPERIMENTS, VARIANT_BASE

    print("Variants (gans train VARIANT):")
    for variant, number in VARIANT_BASE.items():
        print(f"  {variant:<6} defaults of experiment {number}")
    print("\nThesis experiments (gans train --experiment N):")
    print(f"  {'N':>2}  {'variant':<6} {'data':<6} {'steps':>6} {'z':>4} {'batch':>5} {'loss':<20} "
          f"{'FID (thesis)':>12}  description")
    for n, e in EXPERIMENTS.items():
        print(f"  {n:>2}  {e.variant:<6} {e.dataset:<6} {e.steps:>6} {e.latent_dim:>4} {e.batch_size:>5} "
              f"{e.loss:<20} {e.published_fid:>12.4f}  {e.description}")
    return 0


def config_from_args(args):
    """The GANConfig an invocation of ``gans train`` asks for."""
    from gans.experiments import get_experiment, variant_config
    from gans.training.config import OptimizerSpec

    if (args.experiment is None) == (args.variant is None):
        raise ConfigError("give either --experiment N or a VARIANT (gan, dcgan, lsgan, wgan), e.g. "
                          "'gans train --experiment 3' or 'gans train lsgan --dataset mnist'.")
    if args.experiment is not None:
        if args.dataset:
            raise ConfigError("--dataset goes with a VARIANT; an experiment has its own data set.")
        config = get_experiment(args.experiment)
    else:
        config = variant_config(args.variant, args.dataset or "mnist")
    changes = {}
    for name, field in (("batch_size", "batch_size"), ("latent_dim", "latent_dim"), ("n_critic", "n_critic"),
                        ("label_smoothing", "label_smoothing"), ("label_flip", "label_flip")):
        value = getattr(args, name)
        if value is not None:
            changes[field] = value

    def optimizer(spec: OptimizerSpec, lr):
        return OptimizerSpec(spec.name, lr if lr is not None else spec.learning_rate,
                             args.beta1 if args.beta1 is not None else spec.beta_1)

    changes["optimizer"] = optimizer(config.optimizer, args.lr)
    changes["discriminator_optimizer"] = optimizer(config.discriminator_optimizer, args.d_lr)
    if args.steps is not None:
        changes["steps"] = args.steps
    return config.replace(**changes)


def cmd_train(args) -> int:
    from gans.training.run import RunSettings, train

    config = config_from_args(args)
    if args.steps is not None and args.epochs is not None:
        raise ConfigError("give --steps or --epochs, not both.")
    for name in ("sample_every", "checkpoint_every", "fid_every", "diagnose_every", "fid_n"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {value}.")
    name = f"exp{config.experiment:02d}" if config.experiment else f"{config.variant}-{config.dataset}"
    out = Path(args.out or Path("runs") / name)
    settings = RunSettings(sample_every=args.sample_every, checkpoint_every=args.checkpoint_every, seed=args.seed,
                           batch_mode=args.batch_mode, progress=not args.no_progress and sys.stderr.isatty(),
                           fid_every=args.fid_every, fid_extractor=args.fid_extractor, fid_n=args.fid_n,
                           inception_weights=args.inception_weights, diagnose_every=args.diagnose_every)
    trainer = train(config, out, data=args.data, steps=None if args.epochs else config.steps, epochs=args.epochs,
                    settings=settings, resume=args.resume)
    print(f"run folder: {out.resolve()}  (step {trainer.step} of {trainer.total_steps})")
    diagnosis = out / "diagnostics.json"
    if diagnosis.exists():
        found = json.loads(diagnosis.read_text(encoding="utf-8"))
        began = "" if found["healthy"] else f" from step {found['began_at_step']}"
        print(f"diagnosis: {found['verdict']}{began}  (evidence in {out / 'diagnostics.md'})")
    return 0


def cmd_sample(args) -> int:
    import numpy as np

    from gans.datasets.scaling import unscale_images
    from gans.models import load_generator
    from gans.visualize import save_image_grid

    if args.n < 1:
        raise ConfigError(f"--n must be >= 1, got {args.n}.")
    generator = load_generator(args.checkpoint)
    z = np.random.default_rng(args.seed).standard_normal((args.n, generator.input_shape[-1]), dtype=np.float32)
    images = np.asarray(generator.predict(z, batch_size=256, verbose=0))
    save_image_grid(images, args.out)
    if args.npz:
        np.savez_compressed(args.npz, images=unscale_images(images))
    print(f"{args.n} images from {args.checkpoint} -> {args.out}"
          f" (values in [{images.min():.3f}, {images.max():.3f}])")
    return 0
