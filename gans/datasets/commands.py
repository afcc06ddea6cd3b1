"""Data subcommands of ``gans``: ``crop-faces``.

Nothing heavy is imported here: OpenCV, mtcnn and TensorFlow load only when the command runs.
"""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers) -> None:
    """Add the data subcommands to the ``gans`` parser."""
    parser = subparsers.add_parser(
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
    parser.add_argument("--size", type=int, default=40, help="side of the square crops in pixels (thesis: 40)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N files, sorted by name")
    parser.add_argument("--margin", type=float, default=0.0,
                        help="border on each side of the face, as a fraction of the face box's longer side")
    parser.add_argument("--min-confidence", type=float, default=0.9,
                        help="ignore faces the detector scores lower (0-1)")
    parser.add_argument("--min-face-size", type=int, default=20,
                        help="ignore faces whose shorter side is smaller, in source pixels")
    parser.add_argument("--select", choices=("confidence", "largest"), default="confidence",
                        help="which face to keep when a photo has several")
    parser.add_argument("--max-side", type=int, default=1024,
                        help="shrink larger photos to this longest side for detection (crops use full resolution)")
    parser.add_argument("--batch-size", type=int, default=128,
                        help="images per detector call (images of equal size are batched)")
    parser.add_argument("--chunk-size", type=int, default=512,
                        help="files per resumable chunk (an interruption loses at most one chunk)")
    parser.add_argument("--restart", action="store_true", help="discard an interrupted run's work instead of resuming")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT.npz if it exists")
    parser.add_argument("--device", default="CPU:0", help="TensorFlow device for MTCNN, e.g. CPU:0 or GPU:0")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=_crop_faces)


def _crop_faces(args) -> int:
    # TensorFlow's C++ start-up chatter would bury the progress bar; keep the user's setting if any.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from gans.datasets.faces import crop_faces

    summary = crop_faces(
        args.src,
        args.out,
        args.size,
        limit=args.limit,
        margin=args.margin,
        min_confidence=args.min_confidence,
        min_face_size=args.min_face_size,
        select=args.select,
        max_side=args.max_side,
        batch_size=args.batch_size,
        chunk_size=args.chunk_size,
        restart=args.restart,
        overwrite=args.overwrite,
        device=args.device,
        progress=not args.no_progress,
    )
    for line in summary.lines():
        print(line)
    if summary.kept == 0:
        print(f"gans crop-faces: no face was kept; see {summary.manifest} for the reasons.", file=sys.stderr)
        return 1
    return 0

