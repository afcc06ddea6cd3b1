"""``gans`` commands: list, train (one handler for every family of :mod:`gans.families`) and sample."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gans import families
from gans.cli.types import add_option, count, lazy, number
from gans.config import DATASETS
from gans.errors import ConfigError
from gans.evaluation.extractors import EXTRACTORS
from gans.precision import PRECISIONS


def register(sub) -> None:
    p = sub.add_parser("list", help="list the variants and the thesis's 20 experiments",
                       description="List the GAN variants and the thesis's experiments (Tables 4.1-4.7).")
    p.set_defaults(func=lazy("gans.experiments.listing:cmd_list"))

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
               "  gans train cgan --dataset mnist --steps 3000   # class-conditional; 10x10 class grids\n"
               "  gans train --experiment 18 --data faces.npz   # CelebA experiments need face crops\n"
               "  gans train attribute --data img_align_celeba --classifier clf/classifier.h5 --image-size 64 52 "
               "--steps 3000 --out runs/attr\n"
               "  gans train caae --dataset utkface --data UTKFace --image-size 64 --epochs 10 --limit 3000 --out runs/caae",
    )
    p.add_argument("variant", nargs="?", choices=families.names(),
                   help="train this variant with the defaults of its first configuration (thesis experiments "
                        "1-4; cgan: the MNIST paper's ccgan-mnist)")
    p.add_argument("--experiment", "-e", metavar="N|NAME",
                   help="thesis experiment number (1-20) or a named configuration (ccgan-mnist); see 'gans list'")
    p.add_argument("--dataset", choices=DATASETS, help="data set of a VARIANT run (default mnist)")
    p.add_argument("--data", metavar="PATH",
                   help="MNIST: mnist.npz or a folder of IDX .gz files (labels included); faces: an .npz of crops "
                        "or a CelebA image folder (list_attr_celeba.txt in or beside it)")
    p.add_argument("--image-size", type=count(), nargs="+", metavar="H W",
                   help="resize the training images to H x W (e.g. 64 52 for CelebA's 218x178 faces); one value S "
                        "for S x S (the CAAE's square faces: 32, 64 or 128)")
    p.add_argument("--limit", type=count(), metavar="N", help="train on the first N images of the data only")
    p.add_argument("--steps", type=count(), metavar="S", help="training iterations (default: the experiment's)")
    p.add_argument("--epochs", type=count(), metavar="E", help="passes over the data, instead of --steps")
    p.add_argument("--batch-size", type=count(), metavar="B", help="real images per discriminator step")
    p.add_argument("--latent-dim", type=count(), metavar="D", help="size of the noise vector z")
    learning_rate = number("learning rate", 0, low_open=True)
    p.add_argument("--lr", type=learning_rate, help="learning rate of the generator (combined model) optimizer")
    p.add_argument("--d-lr", type=learning_rate, help="learning rate of the discriminator optimizer")
    p.add_argument("--beta1", type=number("beta1", 0, 1, high_open=True), help="Adam beta1 for both optimizers")
    p.add_argument("--n-critic", type=count(), help="discriminator steps per generator step")
    p.add_argument("--label-smoothing", type=number("label smoothing"),
                   help="one-sided soft real labels in [1-s, 1] (e.g. 0.1)")
    p.add_argument("--label-flip", type=number("label flip probability"),
                   help="probability of flipping a real label to fake (e.g. 0.05)")
    p.add_argument("--frozen-batchnorm", choices=("batch", "moving"),
                   help="what the frozen discriminator's batch norm does in the generator update: 'batch' "
                        "normalizes with the batch's statistics (Keras 2 / TensorFlow 1), 'moving' with its moving "
                        "statistics (Keras 3); default: what the family's reference did (see 'gans list')")
    p.add_argument("--precision", choices=PRECISIONS,
                   help="Keras dtype policy of the networks: float32 (default), mixed_float16 (with a dynamic loss "
                        "scale) or mixed_bfloat16; outputs and losses stay float32 (see docs/performance.md)")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/expNN or runs/VARIANT-DATASET)")
    p.add_argument("--sample-every", type=count(), metavar="K", help="steps between sample grids "
                   "(default: the thesis's 500 for GAN/LSGAN, 200 for DCGAN/WGAN)")
    p.add_argument("--checkpoint-every", type=count(), metavar="K",
                   help="steps between generator .h5 checkpoints and resumable states (same default)")
    p.add_argument("--keep-checkpoints", type=count(), metavar="N",
                   help="keep the .h5 checkpoints of the last N checkpoint steps only (default: keep all, as the "
                        "thesis); the state's own step is always kept (see docs/run-folder.md for the disk it saves)")
    p.add_argument("--keep-every", type=count(), metavar="K",
                   help="with --keep-checkpoints: also keep every K-th checkpoint (steps that are multiples of "
                        "K x --checkpoint-every) as milestones")
    p.add_argument("--fid-every", type=count(), metavar="K",
                   help="steps between FID evaluations into fid.csv (off by default)")
    p.add_argument("--fid-extractor", choices=EXTRACTORS,
                   help="FID features: lenet (offline; default for MNIST) or inception (the thesis's InceptionV3; "
                        "default for faces; downloads ImageNet weights once)")
    p.add_argument("--fid-n", type=count(2), default=5000, metavar="N",
                   help="generated and real images per FID evaluation (default 5000, as the thesis)")
    p.add_argument("--inception-weights", metavar="PATH",
                   help="local InceptionV3 'notop' weights .h5, for machines with no network")
    p.add_argument("--diagnose-every", type=count(), metavar="K",
                   help="steps between diversity checks for the run's diagnosis (default: --sample-every)")
    p.add_argument("--seed", type=count(0), default=0, help="random seed (default 0)")
    p.add_argument("--batch-mode", choices=("random", "epoch"), default="random",
                   help="random: indices drawn with replacement each step, as the thesis; epoch: shuffled passes")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    g = p.add_argument_group("execution", "how each iteration runs; every choice takes the same updates "
                                          "(see gans.training.execution)")
    g.add_argument("--execution", choices=("fused", "recipe"), default="fused",
                   help="fused (default): the iteration's updates traced into one compiled function; recipe: the "
                        "thesis's one train_on_batch per update")
    g.add_argument("--jit", choices=("auto", "on", "off"), default="auto",
                   help="XLA for the fused execution. auto (default): on for fully connected networks, off for "
                        "convolutional ones, as measured on CPU; config.json records the choice")
    g.add_argument("--distribute", choices=("none", "mirrored", "multi-worker"), default="none",
                   help="tf.distribute: mirrored = every local GPU; multi-worker = one process per machine, cluster "
                        "from TF_CONFIG. --batch-size is the global batch, split across replicas")
    g.add_argument("--no-tensorboard", action="store_true", help="do not write RUN_DIR/tensorboard event files")
    g.add_argument("--deterministic", action="store_true",
                   help="bit-identical reruns and resumes: one TensorFlow thread, deterministic kernels (slower)")
    for family in families.FAMILIES.values():  # each family's own options, refused with any other family
        specs = family.option_specs()
        if specs:
            g = p.add_argument_group(family.options_title or family.name, family.options_description or None)
            for option in specs:
                add_option(g, option)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "sample", help="generate a grid of images from a generator .h5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Load a generator checkpoint (.h5, safe mode) and save a grid of generated images.\n"
                    "A conditional generator needs the classes: --label K for N images of class K, or\n"
                    "--labels all for one row per class (or --labels 0,3,3,7 for one image each).",
        epilog="examples:\n"
               "  gans sample runs/exp03/checkpoints/generator_step_030000.h5 --n 25 --out grid.png\n"
               "  gans sample runs/cgan-mnist/checkpoints/generator_step_003000.h5 --label 7 --out sevens.png\n"
               "  gans sample runs/cgan-mnist/checkpoints/generator_step_003000.h5 --labels all --out classes.png",
    )
    p.add_argument("checkpoint", metavar="CHECKPOINT.h5", help="a generator .h5, or a progressive run folder with "
                   "--resolution")
    p.add_argument("--resolution", type=count(4), metavar="R",
                   help="progressive run folder: the generator of resolution R (its stable checkpoint, else faded)")
    p.add_argument("--n", type=count(), metavar="N",
                   help="number of images (default 25; with --labels all: images per class, default 10)")
    p.add_argument("--out", default="grid.png", help="output .png (default grid.png); an existing file is kept "
                   "unless --overwrite")
    p.add_argument("--seed", type=count(0), default=0, help="seed of the noise vectors")
    p.add_argument("--label", type=count(0), metavar="K", help="conditional generator: generate class K")
    p.add_argument("--labels", metavar="all|K,K,...",
                   help="conditional generator: 'all' for one row per class, or one class per image")
    p.add_argument("--npz", metavar="PATH", help="also save the images as uint8 in an .npz (with their labels)")
    p.add_argument("--overwrite", action="store_true", help="replace --out (and --npz) if they exist")
    p.set_defaults(func=cmd_sample)


def cmd_sample(args) -> int:
    """``gans sample CHECKPOINT|RUN_DIR [--resolution R] ...``: the run folder's generator as its family
    names it (:func:`gans.training.steps.run_generator`)."""
    from gans.sampling import cmd_sample as sample
    from gans.training.steps import run_generator

    args.checkpoint = str(run_generator(args.checkpoint, args.resolution))
    return sample(args)


# ---------------------------------------------------------------------- gans train: one handler, every family
def family_of(args):
    """The registry entry a ``gans train`` command line trains: VARIANT, or --experiment's family."""
    from gans.experiments import get_experiment

    if (args.experiment is None) == (args.variant is None):
        raise ConfigError(f"give either --experiment N or a VARIANT ({', '.join(families.names())}), e.g. "
                          "'gans train --experiment 3' or 'gans train lsgan --dataset mnist'.")
    if args.experiment is not None:
        return families.get(get_experiment(args.experiment).variant)
    return families.get(args.variant)


def check_options(args, family) -> None:
    """Refuse another family's options, and the common ones this family does not take."""
    for other in families.FAMILIES.values():
        if other.name == family.name:
            continue
        for option in other.option_specs():
            mine = any(o.name == option.name for o in family.option_specs())
            if not mine and getattr(args, option.name, None) is not None:
                raise ConfigError(f"{option.flags[0]} goes with 'gans train {other.name}' only.")
    for name, hint in family.refuses.items():
        if getattr(args, name, None) not in (None, False):
            raise ConfigError(f"--{name.replace('_', '-')} does not go with 'gans train {family.name}'"
                              f"{f' ({hint})' if hint else ''}.")


def config_from_args(args, family=None):
    """The GANConfig an invocation of ``gans train`` asks for (every option checked; no data read)."""
    from gans.config import OptimizerSpec
    from gans.experiments import get_experiment, variant_config

    family = family or family_of(args)
    if args.image_size is not None and len(args.image_size) not in (1, 2):
        raise ConfigError(f"--image-size takes H W (or S for square images), got {len(args.image_size)} values.")
    if args.experiment is not None:
        if args.dataset:
            raise ConfigError("--dataset goes with a VARIANT; an experiment has its own data set.")
        config = get_experiment(args.experiment)
    else:
        config = variant_config(family.name, args.dataset)
    configure = families.configure_function(family)
    if configure is not None:
        config = configure(args, config)
    changes = {}
    for name in ("batch_size", "latent_dim", "n_critic", "label_smoothing", "label_flip", "frozen_batchnorm",
                 "precision"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value

    def optimizer(spec: OptimizerSpec, lr):
        return OptimizerSpec(spec.name, lr if lr is not None else spec.learning_rate,
                             args.beta1 if args.beta1 is not None else spec.beta_1)

    changes["optimizer"] = optimizer(config.optimizer, args.lr)
    changes["discriminator_optimizer"] = optimizer(config.discriminator_optimizer, args.d_lr)
    if args.steps is not None:
        changes["steps"] = args.steps
    return config.replace(**changes)


def settings_from_args(args):
    """The :class:`~gans.training.run.RunSettings` of a ``gans train`` command line (every family's)."""
    from gans.training.run import RunSettings

    return RunSettings(sample_every=args.sample_every, checkpoint_every=args.checkpoint_every,
                       keep_checkpoints=args.keep_checkpoints, keep_every=args.keep_every, seed=args.seed,
                       batch_mode=args.batch_mode, progress=not args.no_progress and sys.stderr.isatty(),
                       fid_every=args.fid_every, fid_extractor=args.fid_extractor, fid_n=args.fid_n,
                       inception_weights=args.inception_weights, diagnose_every=args.diagnose_every,
                       execution=args.execution, jit=args.jit, distribute=args.distribute,
                       tensorboard=not args.no_tensorboard, deterministic=args.deterministic)


def default_out(config) -> Path:
    """A run's folder when --out is not given: runs/expNN, runs/NAME of a named configuration, or
    runs/VARIANT-DATASET."""
    if isinstance(config.experiment, int):
        return Path("runs") / f"exp{config.experiment:02d}"
    return Path("runs") / (config.experiment or f"{config.variant}-{config.dataset}")


def cmd_train(args) -> int:
    """``gans train``: for every family, options checked, config built, data read, the run trained."""
    from gans.training.run import check_family, read_run_record, train, training_data
    from gans.training.steps import step_class

    # Every option is checked here, before data, networks or a LeNet are loaded (the parser has
    # checked each value on its own: counts >= 1, finite learning rates, ...).
    if args.steps is not None and args.epochs is not None:
        raise ConfigError("give --steps or --epochs, not both.")
    family = family_of(args)
    check_options(args, family)
    config = config_from_args(args, family)
    out = Path(args.out) if args.out else default_out(config)
    check_family(out, read_run_record(out) if out.is_dir() else None, config.variant)  # before the data is read
    size = args.image_size
    if size is not None and len(size) == 1:
        size = [size[0], size[0]]
    options = {o.name: getattr(args, o.name, None) for o in family.option_specs()}
    data = training_data(config, args.data, None if size is None else tuple(size), args.limit, options)
    config = step_class(config.variant).configure(config, data)
    # Without --steps/--epochs a new run takes the configuration's steps, a resumed one its own length.
    trainer = train(config, out, data=data, steps=args.steps, epochs=args.epochs,
                    settings=settings_from_args(args), resume=args.resume)
    print(f"run folder: {out.resolve()}  (step {trainer.step} of {trainer.total_steps})")
    for line in trainer.step_obj.run_summary(out, trainer.step):
        print(line)
    diagnosis = out / "diagnostics.json"
    if diagnosis.exists():
        found = json.loads(diagnosis.read_text(encoding="utf-8"))
        began = "" if found["healthy"] else f" from step {found['began_at_step']}"
        print(f"diagnosis: {found['verdict']}{began}  (evidence in {out / 'diagnostics.md'})")
    conditional = out / "conditional.csv"
    if conditional.exists():
        from gans.io import read_rows_until

        last = read_rows_until(conditional, trainer.step)[-1:]
        if last:
            print(f"conditional agreement: LeNet reads the asked class in {float(last[0]['agreement']):.1%} "
                  f"(per class in {conditional}; confusion matrix in {out / 'confusion_matrix.png'})")
    return 0
