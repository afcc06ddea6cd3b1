"""``gans`` commands: crop-faces: MTCNN face crops into one .npz."""

from __future__ import annotations

import argparse

from gans.cli.types import count, lazy, number


def register(sub) -> None:
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
    parser.add_argument("--size", type=count(), default=40, help="side of the square crops in pixels (thesis: 40)")
    parser.add_argument("--limit", type=count(), default=None, help="only the first N files, sorted by name")
    parser.add_argument("--margin", type=number("margin", 0), default=0.0,
                        help="border on each side of the face, as a fraction of the face box's longer side")
    parser.add_argument("--min-confidence", type=number("min confidence", 0, 1), default=0.9,
                        help="ignore faces the detector scores lower (0-1)")
    parser.add_argument("--min-face-size", type=count(0), default=20,
                        help="ignore faces whose shorter side is smaller, in source pixels")
    parser.add_argument("--select", choices=("confidence", "largest", "only"), default="confidence",
                        help="which face to keep when a photo has several: the most confident, the largest, or "
                             "'only' (skip a photo of several people, listed as several_faces)")
    parser.add_argument("--max-side", type=count(), default=1024,
                        help="shrink larger photos to this longest side for detection (crops use full resolution)")
    parser.add_argument("--max-pixels", type=count(), default=50_000_000,
                        help="skip photos with more pixels than this (read from the file's header, before "
                             "decoding), as 'too_large' in the manifest: a 20000x20000 PNG would take 1.2 GB")
    parser.add_argument("--batch-size", type=count(), default=128,
                        help="images per detector call (images of equal size are batched)")
    parser.add_argument("--chunk-size", type=count(), default=512,
                        help="files per resumable chunk (an interruption loses at most one chunk)")
    parser.add_argument("--restart", action="store_true", help="discard an interrupted run's work instead of resuming")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT.npz if it exists")
    parser.add_argument("--device", default="CPU:0", help="TensorFlow device for MTCNN, e.g. CPU:0 or GPU:0")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=lazy("gans.datasets.commands:cmd_crop_faces"))
