"""The handler of ``gans crop-faces`` (its arguments are declared in :mod:`gans.cli`).

Nothing heavy is imported here: OpenCV, mtcnn and TensorFlow load only when the command runs.
"""

from __future__ import annotations

import os
import sys


def cmd_crop_faces(args) -> int:
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
        max_pixels=args.max_pixels,
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

