"""``gans`` commands of the CAAE (seed 000): age-progress, train-age-classifier, age-agreement."""

from __future__ import annotations

import argparse
from pathlib import Path

from gans.cli.types import count, lazy, number


def register(sub) -> None:
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
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=cmd_age_progress)

    p = sub.add_parser(
        "train-age-classifier", help="train the UTKFace age-group classifier of the CAAE's age agreement",
        description="Train a small CNN that reads the CAAE's 10 age groups on the training split of UTKFace and "
                    "report its accuracy on the validation split (the same seeded split as 'gans train caae').",
        epilog="example: gans train-age-classifier --data crop_part1 --image-size 64 --epochs 8 --out age_clf",
    )
    p.add_argument("--data", required=True, metavar="DIR_OR_NPZ", help="UTKFace folder or .npz (age, gender)")
    p.add_argument("--image-size", type=count(8), default=64, metavar="S", help="side of the faces (default 64)")
    p.add_argument("--limit", type=count(2), metavar="N",
                   help="a fixed seeded sample of N faces only (the same as 'gans train caae --limit N')")
    p.add_argument("--validation-fraction", type=number("validation fraction", 0, 1, low_open=True, high_open=True),
                   default=0.1, metavar="F", help="held-out share (default 0.1, as 'gans train caae')")
    p.add_argument("--epochs", type=count(), default=8, help="passes over the training faces (default 8)")
    p.add_argument("--batch-size", type=count(), default=64, help="faces per step (default 64)")
    p.add_argument("--seed", type=count(0), default=0, help="seed of weights and shuffling (default 0)")
    p.add_argument("--hold-out", action="append", metavar="CAAE_RUN",
                   help="leave a CAAE run's validation faces out of the training faces, so 'gans age-agreement' can "
                        "score all of them (repeatable; without it, it scores only the faces the classifier never saw)")
    p.add_argument("--out", required=True, metavar="DIR", help="writes DIR/age_classifier.h5 and .json")
    p.add_argument("--overwrite", action="store_true", help="replace an age classifier already in DIR")
    p.set_defaults(func=lazy("gans.evaluation.age:cmd_train_age_classifier"))

    p = sub.add_parser(
        "age-agreement", help="how often the age classifier reads the asked age group in a CAAE's faces",
        description="Re-render validation faces at every age group with a CAAE run and count, per group, how often "
                    "the age classifier reads the group that was asked. Writes RUN/age_agreement.csv.",
        epilog="example: gans age-agreement runs/caae-64 --classifier age_clf/age_classifier.h5",
    )
    p.add_argument("run", metavar="RUN_OR_CHECKPOINT", help="a CAAE run folder or one of its checkpoint .h5 files")
    p.add_argument("--classifier", required=True, metavar="AGE_CLASSIFIER.h5", help="from 'gans train-age-classifier'")
    p.add_argument("--data", metavar="DIR_OR_NPZ", help="UTKFace data (default: the run's, from RUN/caae.json)")
    p.add_argument("--n", type=count(), default=200, metavar="N",
                   help="validation faces to re-render, spread evenly over the split so every age is in (default 200)")
    p.add_argument("--out", metavar="CSV", help="table to write, and its figure beside it as .png "
                   "(default RUN/age_agreement.csv)")
    p.add_argument("--overwrite", action="store_true", help="replace the table and figure if they exist")
    p.set_defaults(func=lazy("gans.evaluation.age:cmd_age_agreement"))


def cmd_age_progress(args) -> int:
    """``gans age-progress RUN_OR_CHECKPOINT face.jpg --out strip.png [--gender both] [--crop]``."""
    from gans.io import check_output
    from gans.models.caae import load_pair
    from gans.training.caae import age_progression, gender_ids, read_face, save_age_strip

    out = check_output(args.out, ".png", "--out", args.overwrite)  # before any model is loaded
    genders = gender_ids(args.gender)
    encoder, generator = load_pair(args.checkpoint)
    size = int(encoder.inputs[0].shape[1])
    face = read_face(args.face, size, crop=args.crop)
    strip = age_progression(encoder, generator, face, genders)
    out = save_age_strip(face, strip, out, genders, title=f"{Path(args.face).name}: age groups")
    print(f"age strip: {Path(out).resolve()} ({len(genders)} row(s) of {strip.shape[1]} age groups at {size}x{size})")
    return 0
