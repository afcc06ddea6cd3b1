"""The UTKFace paper (seed 000): train the conditional adversarial autoencoder, then show one face at
every age group.

    python examples/caae_age_progression.py --data ../shared/data/utkface/crop_part1 --out runs/caae-64
    python examples/caae_age_progression.py --data UTKFace --out runs/caae-64 --face me.jpg

The CAAE of Zhang, Song and Qi (2017), with the reference code's networks and loss weights and the
seed's Adam(2e-4, 0.5), batch 64. `load_caae_data` reads a UTKFace folder (age and gender from the
file names, duplicates dropped) or an .npz and holds out a seeded 10% for validation; the run writes,
besides every run's artefacts, per-epoch losses (`epochs.csv`, the seed's Figure 3) and validation
faces beside their reconstructions (`validation.png`, its Figure 4). The script then loads the last
encoder and generator, encodes one face once and renders it at the ten age groups, as a man and as a
woman (`age_strip.png`, what `gans age-progress` writes).

Real size: 64x64 with a CPU-sized network (encoder 32 filters, generator seed 256 channels; the
reference's 64/1024 cost about 16x more in the generator), 60 epochs of the 8,636 training faces of
crop_part1: 83 minutes on 2 CPU cores (measured). The seed trained 100 epochs at 128x128 on a GPU.
"""

import argparse
from pathlib import Path

from gans.experiments.caae import caae_config
from gans.models.caae import load_pair
from gans.training import RunSettings, train
from gans.training.caae import age_progression, load_caae_data, read_face, save_age_strip

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--data", required=True, help="a UTKFace folder (age_gender_race_date.jpg names) or an .npz "
                    "with 'images', 'age' (or 'age_group') and 'gender'")
parser.add_argument("--epochs", type=int, default=60, help="passes over the training faces")
parser.add_argument("--face", help="a photo of a face, already cropped (default: a validation face)")
parser.add_argument("--out", help="run folder (default runs/caae-64, or runs/caae-smoke)")
parser.add_argument("--smoke", action="store_true", help="a tiny run: 16x16, 40 faces, 2 epochs, narrow networks")
args = parser.parse_args()

size, batch, limit, epochs = (16, 8, 40, 2) if args.smoke else (64, 64, None, args.epochs)
widths = {"encoder": {"filters": 4}, "generator": {"filters": 16}} if args.smoke else \
    {"encoder": {"filters": 32}, "generator": {"filters": 256}}
out = Path(args.out or ("runs/caae-smoke" if args.smoke else "runs/caae-64"))

# 1. The faces, split into training and validation, and the configuration for their number.
faces, validation = load_caae_data(args.data, size, limit)
config = caae_config(size, batch_size=batch, steps_per_epoch=len(faces) // batch, **widths)

# 2. Train: E, G, D_z and D_img, one update of each per step; artefacts every epoch.
trainer = train(config, out, data=faces, epochs=epochs, settings=RunSettings(tensorboard=not args.smoke),
                resume=True)

# 3. One face through the last encoder and generator, at every age group, as male and as female.
encoder, generator = load_pair(out)
face = read_face(args.face, size) if args.face else validation.images[len(validation) // 2]
strip = age_progression(encoder, generator, face, genders=(0, 1))
picture = save_age_strip(face, strip, out / "age_strip.png", genders=(0, 1), title="one face, ten age groups")
print(f"{trainer.step} steps ({epochs} epochs of {len(faces)} faces, {len(validation)} held out) in {out}")
print(f"per-epoch losses: {out / 'epochs.csv'}; reconstructions: {out / 'validation.png'}; age strip: {picture}")
