"""``gans`` commands: export, demo (the progressive GAN's app, seed 001)."""

from __future__ import annotations

import argparse

from gans.cli.types import count, lazy


def register(sub) -> None:
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
    p.add_argument("--resolution", type=count(4), metavar="R", help="run folder: the generator of resolution R")
    p.add_argument("--format", required=True, choices=("tflite", "savedmodel", "keras"))
    p.add_argument("--out", required=True, metavar="PATH", help="the .tflite / .keras file or SavedModel folder; "
                   "its contract (shapes, names, pixel range, source run and step) is written beside as PATH.json")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=lazy("gans.export:cmd_export"))

    p = sub.add_parser(
        "demo", help="serve a local page: pick a resolution and a seed, see generated faces",
        description="Serve the seed's app as a local web page for a progressive run folder: choose a resolution "
                    "and a seed and see the faces its generator makes.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a progressive run folder (gans train pggan)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only; "
                   "another address opens the page to the network, with a warning)")
    p.add_argument("--port", type=count(0), default=8000, help="port, 0-65535 (default 8000; 0 picks a free one)")
    p.set_defaults(func=lazy("gans.demo:cmd_demo"))
