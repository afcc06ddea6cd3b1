"""``gans`` commands: study synthetic, study pca (the MNIST paper's studies, seed 004)."""

from __future__ import annotations

import argparse

from gans.cli.types import count, lazy, number


def register(sub) -> None:
    study = sub.add_parser(
        "study", help="the MNIST paper's studies: LeNet trained on synthetic digits, PCA as a generator",
        description="Studies of seed 004 that use a trained conditional generator: 'synthetic' trains LeNet on "
                    "mixtures of real and generated digits (section 4); 'pca' scores per-class PCA generators "
                    "against a CCGAN (section 5).",
        epilog="Run 'gans study synthetic --help' or 'gans study pca --help'.")
    studies = study.add_subparsers(dest="study", metavar="STUDY")
    study.set_defaults(func=lambda args: study.print_help() or 2)

    p = studies.add_parser(
        "synthetic", help="train LeNet on real + generated digits; accuracy on held-out real digits",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="For each real fraction r, train LeNet-5 from scratch on r of the real training digits of\n"
                    "every class, filled up to the same total with digits the conditional generator draws for\n"
                    "that class (class proportions kept), and measure its accuracy on real digits no training\n"
                    "step saw. The same real digits alone are trained on too, as the control, for as many\n"
                    "gradient steps as the mixture (repeated to its size). The real pool is the MNIST training\n"
                    "split when the data has one (60,000 digits from Keras); with only the test set (as in\n"
                    "../shared/data/mnist), a seeded random --holdout of it is held out and the rest is the\n"
                    "real pool; the output says which. Writes synthetic.csv, synthetic_fraction.png,\n"
                    "confusion_rNNNN.png/.csv per fraction and synthetic.json.",
        epilog="example:\n"
               "  gans study synthetic runs/ccgan/checkpoints/generator_step_002500.h5 --real-fraction 0.1,0.25,0.5,1.0 \\\n"
               "      --class-fraction 0=0.4 --data ../shared/data/mnist --out studies/synthetic")
    p.add_argument("checkpoint", metavar="CHECKPOINT",
                   help="a class-conditional generator .h5 (gans train cgan -> RUN/checkpoints/generator_step_N.h5); "
                        "for a clean test, trained on the real pool only")
    p.add_argument("--real-fraction", default="0.1,0.25,0.5,1.0", metavar="R1,R2,...",
                   help="shares of the real training digits kept, each in (0, 1] (default 0.1,0.25,0.5,1.0)")
    p.add_argument("--class-fraction", action="append", metavar="CLASS=R",
                   help="the real fraction of one class instead of --real-fraction's (the paper: 0=0.4); "
                        "repeat or separate by commas")
    p.add_argument("--data", metavar="PATH", help="MNIST .npz or IDX folder (default: Keras' MNIST)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (new or empty; see --overwrite)")
    add_split_options(p)
    p.add_argument("--epochs", type=count(), default=5, metavar="E",
                   help="LeNet training epochs per fraction (default 5, as the paper)")
    p.add_argument("--batch-size", type=count(), default=32, metavar="B",
                   help="LeNet batch size (default 32, the paper's best)")
    p.add_argument("--lr", type=number("learning rate", 0, low_open=True), default=1e-3,
                   help="LeNet Adam learning rate (default 1e-3, the paper's best)")
    p.add_argument("--seed", type=count(0), default=0,
                   help="seed of the digit choice, generation and training (default 0)")
    p.add_argument("--no-real-only", action="store_true", help="skip the control (the real digits alone)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier study in DIR: its files are removed first, so none of its figures stay")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=lazy("gans.studies.synthetic:cmd_synthetic"))

    p = studies.add_parser(
        "pca", help="per-class PCA generators scored like the GANs, against a CCGAN checkpoint",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fit PCA to each class's training digits; for each component count k, rebuild held-out\n"
                    "digits from their class's first k components (the paper's protocol, section 5.1) and draw\n"
                    "digits as the class mean plus Gaussian scores (the components' own variances) on them, and\n"
                    "score both with the library's MNIST LeNet: the inception score and the conditional\n"
                    "agreement (how often LeNet reads the class). The held-out digits are MNIST's test split\n"
                    "when the data has both splits, else a seeded random --holdout (the synthetic study's\n"
                    "split). The held-out real digits, and --checkpoint when given, are scored the same way.\n"
                    "Prints where the rebuilt digits' curve saturates. Writes pca.csv, pca.json (the split),\n"
                    "pca.png (scores against k, log x), pca_rebuilt.png and samples/pca_kNNN.png.",
        epilog="example:\n"
               "  gans study pca --components 1,2,4,8,16,32,64,128 --data ../shared/data/mnist \\\n"
               "      --checkpoint runs/ccgan/checkpoints/generator_step_002500.h5 --out studies/pca")
    p.add_argument("--components", default="1,2,4,8,16,32,64,128", metavar="K1,K2,...",
                   help="principal components per class to try (default 1,2,...,128); at most the pixels of an "
                        "image and the digits of the smallest class minus one")
    p.add_argument("--data", metavar="PATH", help="MNIST .npz or IDX folder (default: Keras' MNIST); its training "
                   "part is fitted. The scoring LeNet is the library's, trained once for this data")
    add_split_options(p)
    p.add_argument("--checkpoint", metavar="G.h5", help="a class-conditional generator to draw as a horizontal line")
    p.add_argument("--n-per-class", type=count(10), default=1000, metavar="N",
                   help="held-out digits rebuilt and samples drawn per class for each score (default 1000)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (new or empty; see --overwrite)")
    p.add_argument("--seed", type=count(0), default=0, help="seed of the samples (default 0)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier study in DIR: its files are removed first, so none of its figures stay")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=lazy("gans.studies.pca:cmd_pca"))


def add_split_options(p) -> None:
    """The held-out split both studies use (gans.studies.synthetic.split_mnist)."""
    p.add_argument("--holdout", type=count(), default=2000, metavar="N",
                   help="held-out test digits when the data has one split only (default 2000)")
    p.add_argument("--split-seed", type=count(0), default=0, metavar="S",
                   help="seed of that split (default 0; keep it to compare with a generator trained on the pool)")
