"""``gans`` commands: fid, report, diagnose."""

from __future__ import annotations

import argparse

from gans.cli.types import count, lazy
from gans.evaluation.extractors import EXTRACTORS, RESIZE_CHOICES
from gans.evaluation.frechet import FRECHET_METHODS


def register(sub) -> None:
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
    p.add_argument("--n", type=count(2), default=5000, metavar="N",
                   help="images drawn from each image source or generated (default 5000, as the thesis)")
    p.add_argument("--save-stats", metavar="DIR",
                   help="also write the statistics of A and B into DIR as .npz, to reuse as A or B later")
    p.add_argument("--overwrite", action="store_true", help="replace statistics files already in --save-stats DIR")
    p.add_argument("--inception-weights", metavar="PATH",
                   help="local InceptionV3 no-top weights .h5 (for machines without network)")
    p.add_argument("--lenet-data", metavar="PATH",
                   help="MNIST .npz or IDX folder to train the LeNet extractor on (first use only)")
    p.add_argument("--resize", choices=RESIZE_CHOICES, default="bilinear",
                   help="interpolation when resizing to the extractor's input (default bilinear)")
    p.add_argument("--method", choices=FRECHET_METHODS, default="eigh",
                   help="eigh: exact symmetric-eigendecomposition route (fast, default); sqrtm: the "
                        "reference implementation's general matrix square root")
    p.add_argument("--batch-size", type=count(), default=64, metavar="B", help="images per batch (default 64)")
    p.add_argument("--seed", type=count(0), default=0, help="seed of image draws and latent vectors (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=lazy("gans.evaluation.commands:cmd_fid"))

    p = sub.add_parser(
        "report", help="FID tables (thesis Tables 4.6/4.7) and FID-over-steps figures for a folder of runs",
        description="Read fid.csv (and diagnostics) of every run folder under RUNS_DIR and write "
                    "fid_report.md, fid_report.csv and fid_over_steps.png: one table per data set and "
                    "extractor with experiment, data set, FID, extractor, steps and the run's verdict.",
    )
    p.add_argument("runs_dir", metavar="RUNS_DIR", help="folder holding run folders (searched recursively)")
    p.add_argument("--out", metavar="DIR", help="where to write the report (default RUNS_DIR)")
    p.add_argument("--overwrite", action="store_true", help="replace a report already in the folder")
    p.set_defaults(func=lazy("gans.evaluation.commands:cmd_report"))

    p = sub.add_parser(
        "diagnose", help="judge a run for mode collapse and non-convergence",
        description="Read losses.csv and diversity.csv of a run folder and write diagnostics.json, "
                    "diagnostics.md and diagnostics.png with the verdict, its evidence and the step it began.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'gans train'")
    p.set_defaults(func=lazy("gans.evaluation.commands:cmd_diagnose"))
