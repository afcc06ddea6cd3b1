"""``gans`` commands: sweep: a grid of runs in one study database."""

from __future__ import annotations

import argparse

from gans.cli.types import count, lazy, number
from gans.config import DATASETS
from gans.evaluation.extractors import EXTRACTORS


def register(sub) -> None:
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
    p.add_argument("--image-size", type=count(), nargs=2, metavar=("H", "W"), help="resize the training images")
    p.add_argument("--limit", type=count(), metavar="N", help="train on the first N images only")
    p.add_argument("--steps", type=count(), metavar="S", help="iterations per run")
    p.add_argument("--epochs", type=count(), metavar="E", help="passes over the data per run, instead of --steps")
    p.add_argument("--out", metavar="DIR", help="sweep folder (default sweeps/TARGET)")
    p.add_argument("--workers", type=count(), default=1, metavar="K",
                   help="worker processes on this machine (default 1); each gets cores/K threads")
    p.add_argument("--storage", metavar="URL",
                   help="Optuna database URL shared by every machine (default sqlite:///OUT/sweep.db)")
    p.add_argument("--scale-lr-with-batch", metavar="LR@BATCH",
                   help="linear scaling rule (seed 000): lr = LR x batch / BATCH for both optimizers, e.g. 2e-4@64")
    p.add_argument("--fid-every", type=count(), metavar="K",
                   help="steps between FID/KID measurements (default: once, at each run's last step, for MNIST "
                        "runs; other data sets measure only with --fid-every or --fid-extractor)")
    p.add_argument("--fid-n", type=count(2), default=1000, metavar="N",
                   help="images per FID/KID measurement (default 1000; KID is unbiased at small counts)")
    p.add_argument("--fid-extractor", choices=EXTRACTORS, help="features for FID/KID (default: lenet for MNIST)")
    p.add_argument("--no-fid", action="store_true", help="no FID/KID")
    p.add_argument("--sample-every", type=count(), metavar="K", help="steps between sample grids of each run")
    p.add_argument("--checkpoint-every", type=count(), metavar="K", help="steps between checkpoints/states")
    p.add_argument("--keep-checkpoints", type=count(), metavar="N", help="as for 'gans train': keep each run's "
                   "last N .h5 checkpoints only (default: all)")
    p.add_argument("--keep-every", type=count(), metavar="K", help="as for 'gans train': with --keep-checkpoints, "
                   "also every K-th")
    p.add_argument("--seed", type=count(0), default=0, help="random seed of every run (default 0)")
    p.add_argument("--execution", choices=("fused", "recipe"), default="fused", help="as for 'gans train'")
    p.add_argument("--jit", choices=("auto", "on", "off"), default="auto", help="as for 'gans train'")
    p.add_argument("--no-tensorboard", action="store_true", help="no TensorBoard events in the run folders")
    p.add_argument("--heartbeat", type=number("heartbeat", 1), default=30.0, metavar="SECONDS",
                   help="seconds between worker heartbeats; a run silent for twice as long is resumed by another "
                        "worker (default 30)")
    p.add_argument("--report-only", action="store_true", help="only rewrite the table and figure of OUT")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=lazy("gans.studies.sweep:cmd_sweep"))
