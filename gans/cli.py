"""The ``gans`` command: every subcommand's arguments, declared here in one place.

Each handler below imports its library code when it runs, so parsing (``--help``, argument errors)
needs no TensorFlow model, data or extractor. The handlers live beside the code they drive:
:mod:`gans.training.commands` (list, train), :mod:`gans.sampling` (sample),
:mod:`gans.datasets.commands` (crop-faces) and :mod:`gans.evaluation.commands` (fid, report,
diagnose). Nothing in the library imports this module.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import warnings

from gans.config import DATASETS
from gans.errors import GansError
from gans.evaluation.extractors import EXTRACTORS, RESIZE_CHOICES
from gans.evaluation.frechet import FRECHET_METHODS
from gans.models import VARIANTS


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line, ``gans COMMAND: error: ...``, like every other error of the command."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help').\n")


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
    return parser


# ---------------------------------------------------------------------- list, train, sample
def _add_training(sub) -> None:
    p = sub.add_parser("list", help="list the variants and the thesis's 20 experiments",
                       description="List the GAN variants and the thesis's experiments (Tables 4.1-4.7).")
    p.set_defaults(func=_list)

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
               "  gans train --experiment 18 --data faces.npz   # CelebA experiments need face crops",
    )
    p.add_argument("variant", nargs="?", choices=VARIANTS,
                   help="train this variant with the defaults of its first configuration (thesis experiments "
                        "1-4; cgan: the MNIST paper's ccgan-mnist)")
    p.add_argument("--experiment", "-e", metavar="N|NAME",
                   help="thesis experiment number (1-20) or a named configuration (ccgan-mnist); see 'gans list'")
    p.add_argument("--dataset", choices=DATASETS, help="data set of a VARIANT run (default mnist)")
    p.add_argument("--data", metavar="PATH",
                   help="MNIST: mnist.npz or a folder of IDX .gz files (labels included); faces: an .npz of crops")
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
    p.add_argument("checkpoint", metavar="CHECKPOINT.h5")
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


def _list(args):
    from gans.training.commands import cmd_list

    return cmd_list(args)


def _train(args):
    from gans.training.commands import cmd_train

    return cmd_train(args)


def _sample(args):
    from gans.sampling import cmd_sample

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
    parser.set_defaults(func=_crop_faces)


def _crop_faces(args):
    from gans.datasets.commands import cmd_crop_faces

    return cmd_crop_faces(args)


# ---------------------------------------------------------------------- fid, report, diagnose
def _add_evaluation(sub) -> None:
    p = sub.add_parser(
        "fid", help="FID between two sets of images, statistics or generators",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Frechet distance between the feature statistics of A and B (Heusel et al. 2017).\n"
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
    p.set_defaults(func=_fid)

    p = sub.add_parser(
        "report", help="FID tables (thesis Tables 4.6/4.7) and FID-over-steps figures for a folder of runs",
        description="Read fid.csv (and diagnostics) of every run folder under RUNS_DIR and write "
                    "fid_report.md, fid_report.csv and fid_over_steps.png: one table per data set and "
                    "extractor with experiment, data set, FID, extractor, steps and the run's verdict.",
    )
    p.add_argument("runs_dir", metavar="RUNS_DIR", help="folder holding run folders (searched recursively)")
    p.add_argument("--out", metavar="DIR", help="where to write the report (default RUNS_DIR)")
    p.set_defaults(func=_report)

    p = sub.add_parser(
        "diagnose", help="judge a run for mode collapse and non-convergence",
        description="Read losses.csv and diversity.csv of a run folder and write diagnostics.json, "
                    "diagnostics.md and diagnostics.png with the verdict, its evidence and the step it began.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'gans train'")
    p.set_defaults(func=_diagnose)


def _fid(args):
    from gans.evaluation.commands import cmd_fid

    return cmd_fid(args)


def _report(args):
    from gans.evaluation.commands import cmd_report

    return cmd_report(args)


def _diagnose(args):
    from gans.evaluation.commands import cmd_diagnose

    return cmd_diagnose(args)


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
    except OSError as exc:
        print(f"gans {args.command}: error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gans {args.command}: interrupted", file=sys.stderr)
        return 130


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
