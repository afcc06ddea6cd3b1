"""``gans`` commands: train-classifier, generate-from-faces, attribute-agreement (the CelebA attributes paper)."""

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

    p = sub.add_parser(
        "attribute-agreement", help="how well an attribute GAN's faces carry the attributes put into their noise",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Draw N mixes of K real faces (seeded), average the classifier's 40 outputs over each mix as\n"
                    "'gans generate-from-faces' does, render each mix from equation 1's noise and from the same r\n"
                    "without the overlay, and read the faces back with the classifier. Per generator: the share\n"
                    "of attributes read on the asked side of 0.5 (agreement) and the correlation across faces\n"
                    "between asked and read values, over all 40 attributes and over the balanced ones (CelebA\n"
                    "base rate 10-90%), each beside its plain-noise figure. Every generator of one call sees the\n"
                    "same faces and r, so their rows compare pair by pair. Writes OUT (one row per generator),\n"
                    "OUT's stem + '_per_attribute.csv' and OUT's stem + '.png' (the last generator's attributes,\n"
                    "ranked). The training log (RUN/attributes.csv) measures 256 mixes of 2; this measures more,\n"
                    "or single faces, or checkpoints of several runs side by side. Two yardsticks on real faces come\n"
                    "with every table: each mix's first given face itself (what a generator that copied it would\n"
                    "score; 100% on single faces) and a random real face (one that ignored the attributes).",
        epilog="examples:\n"
               "  gans attribute-agreement runs/attr --data img_align_celeba\n"
               "  gans attribute-agreement runs/attr/checkpoints/generator_step_00{4,8}000.h5 runs/attr-proj \\\n"
               "      --data img_align_celeba --n 2048 --faces-per-mix 1 --out single_faces.csv",
    )
    p.add_argument("generators", metavar="GENERATOR_OR_RUN", nargs="+",
                   help="generator .h5 files from 'gans train attribute', or run folders (their latest generator)")
    p.add_argument("--data", required=True, metavar="DIR",
                   help="CelebA image folder with list_attr_celeba.txt in it or beside it: the faces mixed, and "
                        "the labels that give each attribute's base rate")
    p.add_argument("--classifier", metavar="CLASSIFIER.h5",
                   help="the attribute classifier (default: the one the first run trained with, from its config.json)")
    p.add_argument("--n", type=count(2), default=2048, metavar="N", help="mixes, each rendered twice (2048)")
    p.add_argument("--faces-per-mix", type=count(), default=2, metavar="K",
                   help="real faces averaged into each attribute vector (2, as the training log; 1: one given face)")
    p.add_argument("--limit", type=count(2), metavar="N", help="draw from the first N faces of the folder only")
    p.add_argument("--seed", type=count(0), default=1357, help="seed of the faces chosen and of r (1357)")
    unit = number("alpha and beta", 0, 1)
    p.add_argument("--alpha", type=unit, help="equation 1's alpha (default: each run's own, else 0.6)")
    p.add_argument("--beta", type=unit, help="equation 1's beta (default: each run's own, else 0.8)")
    p.add_argument("--out", metavar="TABLE.csv",
                   help="the table to write (default: in the first generator's run folder, "
                        "attribute_agreement_NxK_seedS.csv)")
    p.add_argument("--overwrite", action="store_true", help="replace the table and its companions if they exist")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=lazy("gans.attribute_faces:cmd_attribute_agreement"))
