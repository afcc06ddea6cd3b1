"""``gans`` commands: train-classifier, generate-from-faces (the CelebA attributes paper)."""

from __future__ import annotations

import argparse

from gans.cli.types import count, lazy, number


def register(sub) -> None:
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
    p.add_argument("--image-size", type=count(), nargs=2, metavar=("H", "W"),
                   help="resize the faces to H x W (default: their own size; the paper's is 218 178)")
    p.add_argument("--epochs", type=count(), default=5, metavar="N", help="passes over the training faces (5)")
    p.add_argument("--limit", type=count(2), metavar="N", help="use the first N faces of the attribute file only")
    p.add_argument("--batch-size", type=count(), default=64, metavar="B", help="faces per update (64)")
    p.add_argument("--seed", type=count(0), default=0, help="seed of the split, weights and shuffling (0)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT/classifier.h5 if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=lazy("gans.evaluation.attributes:cmd_train_classifier"))

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
    p.add_argument("generator", metavar="GENERATOR",
                   help="generator .h5 from 'gans train attribute', or its run folder (its latest generator)")
    p.add_argument("faces", metavar="FACE", nargs="+", help="face images (CelebA-like crops, or photos with --crop)")
    unit = number("alpha and beta", 0, 1)
    p.add_argument("--alpha", type=unit, default=0.6, help="noise weight of the first two blocks, in [0, 1] (0.6)")
    p.add_argument("--beta", type=unit, default=0.8, help="noise weight of the last two blocks, in [0, 1] (0.8)")
    p.add_argument("--out", required=True, metavar="NEW_FACE.png", help="the image to write")
    p.add_argument("--crop", action="store_true",
                   help="find the face in each photo with MTCNN first (needs the faces extra)")
    p.add_argument("--margin", type=number("margin", 0, 2), default=0.6,
                   help="with --crop: border around the face box, as a fraction of its longer side (0.6)")
    p.add_argument("--seed", type=count(0), default=0, help="seed of the normal noise (0)")
    p.add_argument("--overwrite", action="store_true", help="replace the output files if they exist")
    p.set_defaults(func=lazy("gans.attribute_faces:cmd_generate_from_faces"))
