"""The ``gans`` command: every subcommand's arguments, declared here in one place.

Each handler below imports its library code when it runs, so parsing (``--help``, argument errors)
needs no TensorFlow model, data or extractor. The handlers live beside the code they drive:
:mod:`gans.training.commands` (list, train), :mod:`gans.sampling` (sample),
:mod:`gans.datasets.commands` (crop-faces) and :mod:`gans.evaluation.commands` (fid, report,
diagnose, train-classifier); :mod:`gans.sampling` also makes a face from faces (generate-from-faces).
Nothing in the library imports this module.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import warnings

from gans.config import DATASETS
from gans.errors import GansError
from gans.evaluation.extractors import EXTRACTORS, RESIZE_CHOICES
from gans.evaluation.frechet import FRECHET_METHODS
from gans.models import VARIANTS
from gans.precision import PRECISIONS


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line, ``gans COMMAND: error: ...``, like every other error of the command."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help').\n")



def _lazy(target: str):
    """The handler ``"module:function"``, imported when its command runs, so ``--help`` stays fast."""
    module, name = target.split(":")

    def run(args):
        import importlib

        return getattr(importlib.import_module(module), name)(args)

    return run

def _count(minimum: int = 1):
    """An integer option that must be at least ``minimum`` (checked before any work starts)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    parse.__name__ = "count"
    return parse


def _number(what: str = "the value", low: float | None = None, high: float | None = None,
            low_open: bool = False, high_open: bool = False):
    """A finite float option, optionally within bounds (``inf`` and ``nan`` are never accepted)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        below = low is not None and (value <= low if low_open else value < low)
        above = high is not None and (value >= high if high_open else value > high)
        if not math.isfinite(value) or below or above:
            bounds = []
            if low is not None:
                bounds.append(f"{'>' if low_open else '>='} {low:g}")
            if high is not None:
                bounds.append(f"{'<' if high_open else '<='} {high:g}")
            rule = " and ".join(bounds + ["finite"])
            raise argparse.ArgumentTypeError(f"{what} must be {rule}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gans",
        description=(
            "Rebuild, rerun and compare the GAN experiments of the thesis (MLP GAN, DCGAN, LSGAN, "
            "WGAN on MNIST and CelebA crops) and its companion papers (class-conditional GAN, ...)."
        ),
        epilog="Run 'gans COMMAND --help' for the options of one command.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_training(sub)
    _add_data(sub)
    _add_evaluation(sub)
    _add_attributes(sub)
    _add_app(sub)
    _add_caae(sub)
    _add_sweep(sub)
    _add_study(sub)
    return parser


# ---------------------------------------------------------------------- list, train, sample
def _add_training(sub) -> None:
    p = sub.add_parser("list", help="list the variants and the thesis's 20 experiments",
                       description="List the GAN variants and the thesis's experiments (Tables 4.1-4.7).")
    p.set_defaults(func=_lazy("gans.experiments.listing:cmd_list"))

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
    p.add_argument("variant", nargs="?", choices=VARIANTS,
                   help="train this variant with the defaults of its first configuration (thesis experiments "
                        "1-4; cgan: the MNIST paper's ccgan-mnist)")
    p.add_argument("--experiment", "-e", metavar="N|NAME",
                   help="thesis experiment number (1-20) or a named configuration (ccgan-mnist); see 'gans list'")
    p.add_argument("--dataset", choices=DATASETS, help="data set of a VARIANT run (default mnist)")
    p.add_argument("--data", metavar="PATH",
                   help="MNIST: mnist.npz or a folder of IDX .gz files (labels included); faces: an .npz of crops "
                        "or a CelebA image folder (list_attr_celeba.txt in or beside it)")
    p.add_argument("--image-size", type=_count(), nargs="+", metavar="H W",
                   help="resize the training images to H x W (e.g. 64 52 for CelebA's 218x178 faces); one value S "
                        "for S x S (the CAAE's square faces: 32, 64 or 128)")
    p.add_argument("--limit", type=_count(), metavar="N", help="train on the first N images of the data only")
    p.add_argument("--classifier", metavar="CLASSIFIER.h5",
                   help="attribute variant: the CelebA attribute classifier whose outputs bias the noise "
                        "(from 'gans train-classifier celeba')")
    p.add_argument("--steps", type=_count(), metavar="S", help="training iterations (default: the experiment's)")
    p.add_argument("--epochs", type=_count(), metavar="E", help="passes over the data, instead of --steps")
    p.add_argument("--batch-size", type=_count(), metavar="B", help="real images per discriminator step")
    p.add_argument("--latent-dim", type=_count(), metavar="D", help="size of the noise vector z")
    learning_rate = _number("learning rate", 0, low_open=True)
    p.add_argument("--lr", type=learning_rate, help="learning rate of the generator (combined model) optimizer")
    p.add_argument("--d-lr", type=learning_rate, help="learning rate of the discriminator optimizer")
    p.add_argument("--beta1", type=_number("beta1", 0, 1, high_open=True), help="Adam beta1 for both optimizers")
    p.add_argument("--n-critic", type=_count(), help="discriminator steps per generator step")
    p.add_argument("--label-smoothing", type=_number("label smoothing"),
                   help="one-sided soft real labels in [1-s, 1] (e.g. 0.1)")
    p.add_argument("--label-flip", type=_number("label flip probability"),
                   help="probability of flipping a real label to fake (e.g. 0.05)")
    p.add_argument("--frozen-batchnorm", choices=("batch", "moving"),
                   help="what the frozen discriminator's batch norm does in the generator update: 'batch' "
                        "normalizes with the batch's statistics (Keras 2 / TensorFlow 1), 'moving' with its moving "
                        "statistics (Keras 3); default: what the family's reference did (see 'gans list')")
    p.add_argument("--precision", choices=PRECISIONS,
                   help="Keras dtype policy of the networks: float32 (default), mixed_float16 (with a dynamic loss "
                        "scale) or mixed_bfloat16; outputs and losses stay float32 (see docs/performance.md)")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/expNN or runs/VARIANT-DATASET)")
    p.add_argument("--sample-every", type=_count(), metavar="K", help="steps between sample grids "
                   "(default: the thesis's 500 for GAN/LSGAN, 200 for DCGAN/WGAN)")
    p.add_argument("--checkpoint-every", type=_count(), metavar="K",
                   help="steps between generator .h5 checkpoints and resumable states (same default)")
    p.add_argument("--fid-every", type=_count(), metavar="K",
                   help="steps between FID evaluations into fid.csv (off by default)")
    p.add_argument("--fid-extractor", choices=EXTRACTORS,
                   help="FID features: lenet (offline; default for MNIST) or inception (the thesis's InceptionV3; "
                        "default for faces; downloads ImageNet weights once)")
    p.add_argument("--fid-n", type=_count(2), default=5000, metavar="N",
                   help="generated and real images per FID evaluation (default 5000, as the thesis)")
    p.add_argument("--inception-weights", metavar="PATH",
                   help="local InceptionV3 'notop' weights .h5, for machines with no network")
    p.add_argument("--diagnose-every", type=_count(), metavar="K",
                   help="steps between diversity checks for the run's diagnosis (default: --sample-every)")
    p.add_argument("--seed", type=_count(0), default=0, help="random seed (default 0)")
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
    g = p.add_argument_group("progressive GAN (gans train pggan)", "phases of fade-in and stabilisation from 4x4 up")
    g.add_argument("--target-resolution", type=_count(4), metavar="R",
                   help="last resolution, a power of two from 4 (default 32; the seed's 256)")
    g.add_argument("--images-per-phase", type=_count(), metavar="N",
                   help="real images shown in each fade-in and each stable phase (default 20000)")
    g.add_argument("--recipe", choices=("mse", "bce", "wasserstein"),
                   help="mse (default: least squares, no batch norm), bce (batch norm 0.8, sigmoid) or wasserstein")
    g.add_argument("--batch-sizes", type=_count(), nargs="+", metavar="B",
                   help="batch size per resolution from 4x4 up (default 32 to 32x32, 16 to 128x128, then 8)")
    g.add_argument("--filters", type=_count(), nargs="+", metavar="F",
                   help="filters per resolution from 4x4 up (default 128 to 16x16, 64 at 32x32, then fewer)")
    g.add_argument("--no-pixel-norm", dest="pixel_norm", action="store_const", const=False,
                   help="no pixel normalization in the generator (on by default)")
    g.add_argument("--no-equalized", dest="equalized", action="store_const", const=False,
                   help="plain layers instead of the equalized learning rate (on by default)")
    g.add_argument("--no-minibatch-stddev", dest="minibatch_stddev", action="store_const", const=False,
                   help="no minibatch standard deviation in the discriminator (on by default)")
    g.add_argument("--ema", type=float, metavar="BETA",
                   help="sample from an exponential moving average of the generator's weights with this beta (the "
                        "PGGAN paper's 0.999); 0 (default) = off. Per-phase checkpoints and samples then come from "
                        "it, the trained generator's beside them as raw_generator_*.h5")
    g.add_argument("--optimizer-reset", choices=("phase", "resolution"),
                   help="when Adam's state starts afresh: phase (default: every fade-in and stable phase, as the "
                        "PGGAN code's reset_opt_for_new_lod) or resolution (kept from a fade-in into its stable phase)")
    g = p.add_argument_group("conditional adversarial autoencoder (gans train caae)",
                             "UTKFace faces with age and gender from the file names; defaults: the reference code's. "
                             "--limit N takes a fixed seeded sample of N faces (name order would leave out whole "
                             "age groups), then --validation-fraction of them is held out")
    g.add_argument("--validation-fraction", type=_number("validation fraction", 0, 1, low_open=True, high_open=True),
                   metavar="F", help="share of the (deduplicated, --limit'ed) faces held out for 'valid' (default 0.1)")
    g.add_argument("--encoder-filters", type=_count(), metavar="F",
                   help="filters of the encoder's first convolution, doubled per block (default 64)")
    g.add_argument("--generator-filters", type=_count(), metavar="F",
                   help="channels of the generator's 4x4 seed, halved per block (default 1024; 256 for a CPU run)")
    g.add_argument("--adversarial-weights", type=_number("a loss weight", 0), nargs=3, metavar=("IMG", "Z", "TV"),
                   help="weights of the image-adversarial, z-adversarial and total-variation terms in the E/G loss "
                        "(default 1e-4 0 0, the reference code's)")
    g.add_argument("--pretrain-epochs", type=_count(0), metavar="E",
                   help="first epochs as a plain autoencoder, every weight above 0 (the reference: 10 from scratch; "
                        "default 0)")
    p.set_defaults(func=_train)

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
    p.add_argument("--resolution", type=_count(4), metavar="R",
                   help="progressive run folder: the generator of resolution R (its stable checkpoint, else faded)")
    p.add_argument("--n", type=_count(), metavar="N",
                   help="number of images (default 25; with --labels all: images per class, default 10)")
    p.add_argument("--out", default="grid.png", help="output .png (default grid.png); an existing file is kept "
                   "unless --overwrite")
    p.add_argument("--seed", type=_count(0), default=0, help="seed of the noise vectors")
    p.add_argument("--label", type=_count(0), metavar="K", help="conditional generator: generate class K")
    p.add_argument("--labels", metavar="all|K,K,...",
                   help="conditional generator: 'all' for one row per class, or one class per image")
    p.add_argument("--npz", metavar="PATH", help="also save the images as uint8 in an .npz (with their labels)")
    p.add_argument("--overwrite", action="store_true", help="replace --out (and --npz) if they exist")
    p.set_defaults(func=_sample)


_PGGAN_OPTIONS = ("target_resolution", "images_per_phase", "recipe", "batch_sizes", "filters", "pixel_norm",
                  "equalized", "minibatch_stddev", "ema", "optimizer_reset")


_CAAE_OPTIONS = ("validation_fraction", "encoder_filters", "generator_filters", "adversarial_weights", "pretrain_epochs")


def _train(args):
    if args.image_size is not None and len(args.image_size) not in (1, 2):
        raise GansError(f"--image-size takes H W (or S for square images), got {len(args.image_size)} values.")
    if args.variant == "caae" or str(args.experiment or "").strip().lower() == "caae-utkface":
        from gans.training.caae import cmd_train_caae  # UTKFace splits, validation and per-epoch artefacts

        return cmd_train_caae(args)
    caae_given = [o for o in _CAAE_OPTIONS if getattr(args, o, None) is not None]
    if caae_given:
        raise GansError(f"--{caae_given[0].replace('_', '-')} goes with 'gans train caae' only.")
    if args.image_size is not None and len(args.image_size) == 1:
        args.image_size = [args.image_size[0], args.image_size[0]]
    if args.variant == "pggan":  # phases, per-resolution batches and per-phase artefacts: its own handler
        from gans.training.progressive import cmd_train_pggan

        return cmd_train_pggan(args)
    given = [o for o in _PGGAN_OPTIONS if getattr(args, o, None) is not None]
    if given:
        negated = ("pixel_norm", "equalized", "minibatch_stddev")  # their flags are --no-...
        flag = ("--no-" if given[0] in negated else "--") + given[0].replace("_", "-")
        raise GansError(f"{flag} goes with 'gans train pggan' only.")
    from gans.training.commands import cmd_train

    return cmd_train(args)


def _sample(args):
    from pathlib import Path

    from gans.sampling import cmd_sample

    if args.resolution is not None or Path(args.checkpoint).is_dir():
        from gans.training.progressive import phase_checkpoint

        args.checkpoint = str(phase_checkpoint(args.checkpoint, args.resolution))

    return cmd_sample(args)


# ---------------------------------------------------------------------- crop-faces
def _add_data(sub) -> None:
    parser = sub.add_parser(
        "crop-faces",
        help="detect one face per photo with MTCNN and save square crops to one .npz",
        description=(
            "Detect faces with MTCNN, keep one per photo (the most confident, or the largest), cut a "
            "square around it and resize it to SIZE x SIZE. Writes OUT.npz (images uint8 "
            "(N,S,S,3), filenames, boxes, crop_boxes, confidences) and OUT.skipped.csv listing every "
            "file that gave no crop and why. Interrupted runs resume from OUT.npz.parts/ when rerun "
            "with the same options. Needs the face extra: pip install 'gans[faces]'."
        ),
        epilog="Example: gans crop-faces data/img_align_celeba celeba40.npz --size 40 --limit 50000",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("src", metavar="SRC", help="folder of photos (searched recursively)")
    parser.add_argument("out", metavar="OUT.npz", help="the .npz file to write")
    parser.add_argument("--size", type=_count(), default=40, help="side of the square crops in pixels (thesis: 40)")
    parser.add_argument("--limit", type=_count(), default=None, help="only the first N files, sorted by name")
    parser.add_argument("--margin", type=_number("margin", 0), default=0.0,
                        help="border on each side of the face, as a fraction of the face box's longer side")
    parser.add_argument("--min-confidence", type=_number("min confidence", 0, 1), default=0.9,
                        help="ignore faces the detector scores lower (0-1)")
    parser.add_argument("--min-face-size", type=_count(0), default=20,
                        help="ignore faces whose shorter side is smaller, in source pixels")
    parser.add_argument("--select", choices=("confidence", "largest"), default="confidence",
                        help="which face to keep when a photo has several")
    parser.add_argument("--max-side", type=_count(), default=1024,
                        help="shrink larger photos to this longest side for detection (crops use full resolution)")
    parser.add_argument("--max-pixels", type=_count(), default=50_000_000,
                        help="skip photos with more pixels than this (read from the file's header, before "
                             "decoding), as 'too_large' in the manifest: a 20000x20000 PNG would take 1.2 GB")
    parser.add_argument("--batch-size", type=_count(), default=128,
                        help="images per detector call (images of equal size are batched)")
    parser.add_argument("--chunk-size", type=_count(), default=512,
                        help="files per resumable chunk (an interruption loses at most one chunk)")
    parser.add_argument("--restart", action="store_true", help="discard an interrupted run's work instead of resuming")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT.npz if it exists")
    parser.add_argument("--device", default="CPU:0", help="TensorFlow device for MTCNN, e.g. CPU:0 or GPU:0")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=_lazy("gans.datasets.commands:cmd_crop_faces"))


# ---------------------------------------------------------------------- fid, report, diagnose
def _add_evaluation(sub) -> None:
    p = sub.add_parser(
        "fid", help="FID (and KID) between two sets of images, statistics or generators",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Frechet distance between the feature statistics of A and B (Heusel et al. 2017), and the\n"
                    "kernel inception distance of the same features (Binkowski et al. 2018; not for a statistics .npz).\n"
                    "A and B may each be: an .npz of images (array 'images', or MNIST's x_train/x_test),\n"
                    "a folder of image files or of MNIST IDX files, a statistics .npz (--save-stats),\n"
                    "or a generator .h5/.keras checkpoint (N images are generated from it). Every\n"
                    "figure names its extractor; statistics from another extractor are refused.",
        epilog="examples:\n"
               "  gans fid runs/exp03/checkpoints/generator_step_030000.h5 mnist.npz --extractor lenet\n"
               "  gans fid fakes/ reals/ --inception-weights ~/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5\n"
               "  gans fid reals.npz --save-stats stats/ --extractor lenet   # statistics only\n"
               "  gans fid generator.h5 stats/reals_lenet5-..._n5000.npz --extractor lenet",
    )
    p.add_argument("a", metavar="A", help="images .npz, image folder, statistics .npz or generator .h5")
    p.add_argument("b", metavar="B", nargs="?", help="the same kinds as A (omit with --save-stats to only "
                   "compute A's statistics)")
    p.add_argument("--extractor", choices=EXTRACTORS, default="inception",
                   help="inception: InceptionV3 pool features, as the thesis (needs the ImageNet weights); "
                        "lenet: an MNIST LeNet-5 trained once and cached, works offline (default inception)")
    p.add_argument("--n", type=_count(2), default=5000, metavar="N",
                   help="images drawn from each image source or generated (default 5000, as the thesis)")
    p.add_argument("--save-stats", metavar="DIR",
                   help="also write the statistics of A and B into DIR as .npz, to reuse as A or B later")
    p.add_argument("--inception-weights", metavar="PATH",
                   help="local InceptionV3 no-top weights .h5 (for machines without network)")
    p.add_argument("--lenet-data", metavar="PATH",
                   help="MNIST .npz or IDX folder to train the LeNet extractor on (first use only)")
    p.add_argument("--resize", choices=RESIZE_CHOICES, default="bilinear",
                   help="interpolation when resizing to the extractor's input (default bilinear)")
    p.add_argument("--method", choices=FRECHET_METHODS, default="eigh",
                   help="eigh: exact symmetric-eigendecomposition route (fast, default); sqrtm: the "
                        "reference implementation's general matrix square root")
    p.add_argument("--batch-size", type=_count(), default=64, metavar="B", help="images per batch (default 64)")
    p.add_argument("--seed", type=_count(0), default=0, help="seed of image draws and latent vectors (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_lazy("gans.evaluation.commands:cmd_fid"))

    p = sub.add_parser(
        "report", help="FID tables (thesis Tables 4.6/4.7) and FID-over-steps figures for a folder of runs",
        description="Read fid.csv (and diagnostics) of every run folder under RUNS_DIR and write "
                    "fid_report.md, fid_report.csv and fid_over_steps.png: one table per data set and "
                    "extractor with experiment, data set, FID, extractor, steps and the run's verdict.",
    )
    p.add_argument("runs_dir", metavar="RUNS_DIR", help="folder holding run folders (searched recursively)")
    p.add_argument("--out", metavar="DIR", help="where to write the report (default RUNS_DIR)")
    p.set_defaults(func=_lazy("gans.evaluation.commands:cmd_report"))

    p = sub.add_parser(
        "diagnose", help="judge a run for mode collapse and non-convergence",
        description="Read losses.csv and diversity.csv of a run folder and write diagnostics.json, "
                    "diagnostics.md and diagnostics.png with the verdict, its evidence and the step it began.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'gans train'")
    p.set_defaults(func=_lazy("gans.evaluation.commands:cmd_diagnose"))


# ---------------------------------------------------------------------- train-classifier, generate-from-faces
def _add_attributes(sub) -> None:
    p = sub.add_parser(
        "train-classifier", help="train the CelebA attribute classifier (40 sigmoid outputs)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train the CelebA attributes paper's CNN (3 convolutions 32-64-128, dense 1024, dropout 0.3,\n"
                    "40 sigmoid outputs; binary cross-entropy, Adam 1e-3) on a 98/2 train/dev split. Writes\n"
                    "OUT/classifier.h5, epochs.csv (accuracy per epoch), attribute_accuracy.csv (dev accuracy\n"
                    "per attribute against always answering the majority class) and classifier.json.",
        epilog="example:\n"
               "  gans train-classifier celeba --data img_align_celeba --image-size 64 52 --epochs 5 --out clf",
    )
    p.add_argument("dataset", choices=("celeba",), help="the attribute data set")
    p.add_argument("--data", required=True, metavar="DIR",
                   help="CelebA image folder; list_attr_celeba.txt in it or beside it")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for classifier.h5 and its reports")
    p.add_argument("--image-size", type=_count(), nargs=2, metavar=("H", "W"),
                   help="resize the faces to H x W (default: their own size; the paper's is 218 178)")
    p.add_argument("--epochs", type=_count(), default=5, metavar="N", help="passes over the training faces (5)")
    p.add_argument("--limit", type=_count(2), metavar="N", help="use the first N faces of the attribute file only")
    p.add_argument("--batch-size", type=_count(), default=64, metavar="B", help="faces per update (64)")
    p.add_argument("--seed", type=_count(0), default=0, help="seed of the split, weights and shuffling (0)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT/classifier.h5 if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_lazy("gans.evaluation.commands:cmd_train_classifier"))

    p = sub.add_parser(
        "generate-from-faces", help="make a new face with the attributes of given faces",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read the faces with the attribute classifier, average its 40 outputs, overlay them on\n"
                    "160-d normal noise (equation 1, alpha and beta) and render a face with the generator.\n"
                    "Writes OUT (the new face), OUT's stem + '_with_inputs.png' (the input faces beside it) and\n"
                    "OUT's stem + '_attributes.csv' (each attribute: the vector used, and what the classifier\n"
                    "reads on the new face); prints the vector with the attribute names.",
        epilog="example:\n"
               "  gans generate-from-faces clf/classifier.h5 runs/attr/checkpoints/generator_step_003000.h5 \\\n"
               "      photos/a.jpg photos/b.jpg --crop --out new_face.png",
    )
    p.add_argument("classifier", metavar="CLASSIFIER", help="classifier .h5 from 'gans train-classifier'")
    p.add_argument("generator", metavar="GENERATOR", help="generator .h5 from 'gans train attribute'")
    p.add_argument("faces", metavar="FACE", nargs="+", help="face images (CelebA-like crops, or photos with --crop)")
    unit = _number("alpha and beta", 0, 1)
    p.add_argument("--alpha", type=unit, default=0.6, help="noise weight of the first two blocks, in [0, 1] (0.6)")
    p.add_argument("--beta", type=unit, default=0.8, help="noise weight of the last two blocks, in [0, 1] (0.8)")
    p.add_argument("--out", required=True, metavar="NEW_FACE.png", help="the image to write")
    p.add_argument("--crop", action="store_true",
                   help="find the face in each photo with MTCNN first (needs the faces extra)")
    p.add_argument("--margin", type=_number("margin", 0, 2), default=0.6,
                   help="with --crop: border around the face box, as a fraction of its longer side (0.6)")
    p.add_argument("--seed", type=_count(0), default=0, help="seed of the normal noise (0)")
    p.add_argument("--overwrite", action="store_true", help="replace the output files if they exist")
    p.set_defaults(func=_lazy("gans.sampling:cmd_generate_from_faces"))


# ---------------------------------------------------------------------- export, demo (the progressive GAN's app)
def _add_app(sub) -> None:
    p = sub.add_parser(
        "export", help="write a generator for an app: z -> image in [0, 255] (TFLite, SavedModel, .keras)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write a generator checkpoint (or a progressive run's generator of one resolution) as a model\n"
                    "that maps a latent vector to an image in [0, 255], for the seed's phone app.",
        epilog="examples:\n"
               "  gans export runs/pggan-32/checkpoints/generator_32x32_stable.h5 --format tflite --out face32.tflite\n"
               "  gans export runs/pggan-32 --resolution 16 --format savedmodel --out face16_savedmodel",
    )
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a generator .h5, or a progressive run folder")
    p.add_argument("--resolution", type=_count(4), metavar="R", help="run folder: the generator of resolution R")
    p.add_argument("--format", required=True, choices=("tflite", "savedmodel", "keras"))
    p.add_argument("--out", required=True, metavar="PATH", help="the .tflite / .keras file or SavedModel folder")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=_lazy("gans.export:cmd_export"))

    p = sub.add_parser(
        "demo", help="serve a local page: pick a resolution and a seed, see generated faces",
        description="Serve the seed's app as a local web page for a progressive run folder: choose a resolution "
                    "and a seed and see the faces its generator makes.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a progressive run folder (gans train pggan)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_count(0), default=8000, help="port (default 8000; 0 picks a free one)")
    p.set_defaults(func=_lazy("gans.demo:cmd_demo"))


# ---------------------------------------------------------------------- sweep
def _add_sweep(sub) -> None:
    p = sub.add_parser(
        "sweep", help="train a grid of configurations (Optuna study; resumable; several workers or machines)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train every combination of a grid, each as an ordinary run folder OUT/<values> (F1-D2-B64),\n"
                    "then write OUT/sweep.csv, OUT/sweep.md (values, final losses, FID/KID, agreement, verdict,\n"
                    "wall time) and OUT/sweep_losses.png (every configuration's loss curves).\n\n"
                    "The grid lives in an Optuna study: a SQLite file OUT/sweep.db by default, or any database URL\n"
                    "(--storage) that workers on several machines share. Run the same command again to resume:\n"
                    "finished runs are skipped, a killed run continues from its saved state.",
        epilog="grid axes: a config field (batch_size, latent_dim, n_critic, label_smoothing, label_flip, frozen_batchnorm,\n"
               "precision), lr / g_lr / d_lr / beta1, a builder option (capacity, or discriminator.depth for one network),\n"
               "a step option, or the MNIST paper's F (capacity), D (discriminator depth), B (batch size).\n\n"
               "examples:\n"
               "  gans sweep cgan --grid F=1,2,3 B=32,64,128 --steps 300 --workers 2 --out sweeps/fb\n"
               "  gans sweep ccgan-mnist-fdb --out sweeps/ccgan-fdb          # seed 004's 27-run grid\n"
               "  gans sweep 3 --grid batch_size=32,64,128 --scale-lr-with-batch 2e-4@32 --steps 2000\n"
               "  gans sweep cgan --grid lr=1e-4,2e-4 --storage postgresql://u:p@db/sweeps --out sweeps/lr"
               "   # on each machine",
    )
    p.add_argument("target", metavar="EXPERIMENT_OR_VARIANT",
                   help="a named sweep (dcgan-mnist-fdb, ccgan-mnist-fdb), a thesis experiment (1-20), a named "
                        "configuration (see 'gans list') or a variant")
    p.add_argument("--grid", nargs="+", metavar="NAME=V1,V2", help="grid axes (a named sweep has its own)")
    p.add_argument("--dataset", choices=DATASETS, help="data set of a VARIANT sweep")
    p.add_argument("--data", metavar="PATH", help="training data, as 'gans train --data' takes it")
    p.add_argument("--image-size", type=_count(), nargs=2, metavar=("H", "W"), help="resize the training images")
    p.add_argument("--limit", type=_count(), metavar="N", help="train on the first N images only")
    p.add_argument("--steps", type=_count(), metavar="S", help="iterations per run")
    p.add_argument("--epochs", type=_count(), metavar="E", help="passes over the data per run, instead of --steps")
    p.add_argument("--out", metavar="DIR", help="sweep folder (default sweeps/TARGET)")
    p.add_argument("--workers", type=_count(), default=1, metavar="K",
                   help="worker processes on this machine (default 1); each gets cores/K threads")
    p.add_argument("--storage", metavar="URL",
                   help="Optuna database URL shared by every machine (default sqlite:///OUT/sweep.db)")
    p.add_argument("--scale-lr-with-batch", metavar="LR@BATCH",
                   help="linear scaling rule (seed 000): lr = LR x batch / BATCH for both optimizers, e.g. 2e-4@64")
    p.add_argument("--fid-every", type=_count(), metavar="K",
                   help="steps between FID/KID measurements (default: once, at each run's last step, for MNIST "
                        "runs; other data sets measure only with --fid-every or --fid-extractor)")
    p.add_argument("--fid-n", type=_count(2), default=1000, metavar="N",
                   help="images per FID/KID measurement (default 1000; KID is unbiased at small counts)")
    p.add_argument("--fid-extractor", choices=EXTRACTORS, help="features for FID/KID (default: lenet for MNIST)")
    p.add_argument("--no-fid", action="store_true", help="no FID/KID")
    p.add_argument("--sample-every", type=_count(), metavar="K", help="steps between sample grids of each run")
    p.add_argument("--checkpoint-every", type=_count(), metavar="K", help="steps between checkpoints/states")
    p.add_argument("--seed", type=_count(0), default=0, help="random seed of every run (default 0)")
    p.add_argument("--execution", choices=("fused", "recipe"), default="fused", help="as for 'gans train'")
    p.add_argument("--jit", choices=("auto", "on", "off"), default="auto", help="as for 'gans train'")
    p.add_argument("--no-tensorboard", action="store_true", help="no TensorBoard events in the run folders")
    p.add_argument("--heartbeat", type=_number("heartbeat", 1), default=30.0, metavar="SECONDS",
                   help="seconds between worker heartbeats; a run silent for twice as long is resumed by another "
                        "worker (default 30)")
    p.add_argument("--report-only", action="store_true", help="only rewrite the table and figure of OUT")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_lazy("gans.studies.sweep:cmd_sweep"))


# ---------------------------------------------------------------------- CAAE: age progression and agreement
def _add_caae(sub) -> None:
    p = sub.add_parser(
        "age-progress", help="render one face at every age group with a trained CAAE",
        description="Encode a face with a CAAE run's encoder and render it across the 10 age groups (0-5 ... >70) "
                    "in one strip, one row per gender.",
        epilog="examples:\n"
               "  gans age-progress runs/caae-64 face.jpg --out strip.png\n"
               "  gans age-progress runs/caae-64/checkpoints/encoder_step_000390.h5 photo.jpg --crop --gender female "
               "--out strip.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", metavar="RUN_OR_CHECKPOINT",
                   help="a CAAE run folder (its latest encoder/generator pair) or one of the pair's .h5 files")
    p.add_argument("face", metavar="FACE", help="an image of one face (a cropped face, or a photo with --crop)")
    p.add_argument("--out", default="age_strip.png", help="output .png (default age_strip.png)")
    p.add_argument("--gender", choices=("both", "male", "female"), default="both",
                   help="render as male, female or both (one row each; default both)")
    p.add_argument("--crop", action="store_true",
                   help="find the face with the library's MTCNN crop first (for an uncropped photo)")
    p.set_defaults(func=_lazy("gans.training.caae:cmd_age_progress"))

    p = sub.add_parser(
        "train-age-classifier", help="train the UTKFace age-group classifier of the CAAE's age agreement",
        description="Train a small CNN that reads the CAAE's 10 age groups on the training split of UTKFace and "
                    "report its accuracy on the validation split (the same seeded split as 'gans train caae').",
        epilog="example: gans train-age-classifier --data crop_part1 --image-size 64 --epochs 8 --out age_clf",
    )
    p.add_argument("--data", required=True, metavar="DIR_OR_NPZ", help="UTKFace folder or .npz (age, gender)")
    p.add_argument("--image-size", type=_count(8), default=64, metavar="S", help="side of the faces (default 64)")
    p.add_argument("--limit", type=_count(2), metavar="N",
                   help="a fixed seeded sample of N faces only (the same as 'gans train caae --limit N')")
    p.add_argument("--validation-fraction", type=_number("validation fraction", 0, 1, low_open=True, high_open=True),
                   default=0.1, metavar="F", help="held-out share (default 0.1, as 'gans train caae')")
    p.add_argument("--epochs", type=_count(), default=8, help="passes over the training faces (default 8)")
    p.add_argument("--batch-size", type=_count(), default=64, help="faces per step (default 64)")
    p.add_argument("--seed", type=_count(0), default=0, help="seed of weights and shuffling (default 0)")
    p.add_argument("--out", required=True, metavar="DIR", help="writes DIR/age_classifier.h5 and .json")
    p.set_defaults(func=_lazy("gans.evaluation.age:cmd_train_age_classifier"))

    p = sub.add_parser(
        "age-agreement", help="how often the age classifier reads the asked age group in a CAAE's faces",
        description="Re-render validation faces at every age group with a CAAE run and count, per group, how often "
                    "the age classifier reads the group that was asked. Writes RUN/age_agreement.csv.",
        epilog="example: gans age-agreement runs/caae-64 --classifier age_clf/age_classifier.h5",
    )
    p.add_argument("run", metavar="RUN_OR_CHECKPOINT", help="a CAAE run folder or one of its checkpoint .h5 files")
    p.add_argument("--classifier", required=True, metavar="AGE_CLASSIFIER.h5", help="from 'gans train-age-classifier'")
    p.add_argument("--data", metavar="DIR_OR_NPZ", help="UTKFace data (default: the run's, from RUN/caae.json)")
    p.add_argument("--n", type=_count(), default=200, metavar="N",
                   help="validation faces to re-render, spread evenly over the split so every age is in (default 200)")
    p.add_argument("--out", metavar="CSV", help="table to write (default RUN/age_agreement.csv)")
    p.set_defaults(func=_lazy("gans.evaluation.age:cmd_age_agreement"))


# ---------------------------------------------------------------------- study: synthetic, pca (seed 004)
def _add_study(sub) -> None:
    study = sub.add_parser(
        "study", help="the MNIST paper's studies: LeNet trained on synthetic digits, PCA as a generator",
        description="Studies of seed 004 that use a trained conditional generator: 'synthetic' trains LeNet on "
                    "mixtures of real and generated digits (section 4); 'pca' scores per-class PCA generators "
                    "against a CCGAN (section 5).",
        epilog="Run 'gans study synthetic --help' or 'gans study pca --help'.")
    studies = study.add_subparsers(dest="study", metavar="STUDY")
    study.set_defaults(func=lambda args: study.print_help() or 2)

    p = studies.add_parser(
        "synthetic", help="train LeNet on real + generated digits; accuracy on held-out real digits",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="For each real fraction r, train LeNet-5 from scratch on r of the real training digits of\n"
                    "every class, filled up to the same total with digits the conditional generator draws for\n"
                    "that class (class proportions kept), and measure its accuracy on real digits no training\n"
                    "step saw. The same real digits alone are trained on too, as the control. With only the\n"
                    "MNIST test set available (as in ../shared/data/mnist), a seeded random --holdout of it\n"
                    "is held out and the rest is the real pool; the output says which. Writes synthetic.csv,\n"
                    "synthetic_fraction.png, confusion_rNNNN.png/.csv per fraction and synthetic.json.",
        epilog="example:\n"
               "  gans study synthetic runs/ccgan/checkpoints/generator_step_002500.h5 --real-fraction 0.1,0.25,0.5,1.0 \\\n"
               "      --class-fraction 0=0.4 --data ../shared/data/mnist --out studies/synthetic")
    p.add_argument("checkpoint", metavar="CHECKPOINT",
                   help="a class-conditional generator .h5 (gans train cgan -> RUN/checkpoints/generator_step_N.h5); "
                        "for a clean test, trained on the real pool only")
    p.add_argument("--real-fraction", default="0.1,0.25,0.5,1.0", metavar="R1,R2,...",
                   help="shares of the real training digits kept, each in (0, 1] (default 0.1,0.25,0.5,1.0)")
    p.add_argument("--class-fraction", action="append", metavar="CLASS=R",
                   help="the real fraction of one class instead of --real-fraction's (the paper: 0=0.4); "
                        "repeat or separate by commas")
    p.add_argument("--data", metavar="PATH", help="MNIST .npz or IDX folder (default: Keras' MNIST)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--holdout", type=_count(), default=2000, metavar="N",
                   help="held-out test digits when the data has one split only (default 2000)")
    p.add_argument("--split-seed", type=_count(0), default=0, metavar="S",
                   help="seed of that split (default 0; keep it to compare with a generator trained on the pool)")
    p.add_argument("--epochs", type=_count(), default=5, metavar="E",
                   help="LeNet training epochs per fraction (default 5, as the paper)")
    p.add_argument("--batch-size", type=_count(), default=32, metavar="B",
                   help="LeNet batch size (default 32, the paper's best)")
    p.add_argument("--lr", type=_number("learning rate", 0, low_open=True), default=1e-3,
                   help="LeNet Adam learning rate (default 1e-3, the paper's best)")
    p.add_argument("--seed", type=_count(0), default=0,
                   help="seed of the digit choice, generation and training (default 0)")
    p.add_argument("--no-real-only", action="store_true", help="skip the control (the real digits alone)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_lazy("gans.studies.synthetic:cmd_synthetic"))

    p = studies.add_parser(
        "pca", help="per-class PCA generators scored like the GANs, against a CCGAN checkpoint",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fit PCA to each class's real digits; for each component count k, draw digits as the class\n"
                    "mean plus Gaussian scores (the components' own variances) on the first k components, and\n"
                    "score them with the library's MNIST LeNet: the inception score and the conditional\n"
                    "agreement (how often LeNet reads the class drawn for). Real digits, and --checkpoint when\n"
                    "given, are scored the same way. Writes pca.csv, pca.png (scores against k, log x) and\n"
                    "samples/pca_kNNN.png.",
        epilog="example:\n"
               "  gans study pca --components 1,2,4,8,16,32,64,128 --data ../shared/data/mnist \\\n"
               "      --checkpoint runs/ccgan/checkpoints/generator_step_002500.h5 --out studies/pca")
    p.add_argument("--components", default="1,2,4,8,16,32,64,128", metavar="K1,K2,...",
                   help="principal components per class to try (default 1,2,...,128); at most the pixels of an "
                        "image and the digits of the smallest class minus one")
    p.add_argument("--data", metavar="PATH", help="MNIST .npz or IDX folder; every digit in it is fitted "
                   "(default: Keras' MNIST). The scoring LeNet is the library's, trained once for this data")
    p.add_argument("--checkpoint", metavar="G.h5", help="a class-conditional generator to draw as a horizontal line")
    p.add_argument("--n-per-class", type=_count(10), default=1000, metavar="N",
                   help="samples per class for each score (default 1000)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--seed", type=_count(0), default=0, help="seed of the samples (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_lazy("gans.studies.pca:cmd_pca"))


# ---------------------------------------------------------------------- entry point
def main(argv: list[str] | None = None) -> int:
    """Run one ``gans`` command; return its exit status.

    The one boundary between the library and the user: a :class:`~gans.errors.GansError` (a problem
    with the input or the environment, raised where the data enters) and an :class:`OSError` (a path
    that cannot be read or written) become one line, ``gans COMMAND: error: ...``, and exit status 2.
    Anything else is a bug and keeps its traceback.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or an argument error (2, already printed as one line)
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    warnings.showwarning = _show_warning
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except GansError as exc:
        print(f"gans {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # whoever read the output stopped reading (``gans list | head``): stop quietly
        _silence_stdout()
        return 141  # as a shell reports a command ended by SIGPIPE
    except OSError as exc:
        print(f"gans {args.command}: error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gans {args.command}: interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point standard output at the null device, so the interpreter's last flush of the closed pipe
    does not raise again at exit."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a captured or replaced stream: nothing to silence
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def os_error_message(exc: OSError) -> str:
    """An operating-system error as the user needs it: what went wrong, and with which path."""
    if exc.filename is None:
        return str(exc)
    paths = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 is not None else "")
    return f"{paths}: {exc.strerror or exc}"


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings meant for the user (e.g. the offline MNIST fallback) as one line, without source."""
    print(f"gans: warning: {message}", file=sys.stderr if file is None else file)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
