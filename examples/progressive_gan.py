"""The CelebA-HQ paper (seed 001): grow a progressive GAN from 4x4, sample every resolution, export the
generator for a phone app.

    python examples/progressive_gan.py --data ../shared/data/celeba/img_align_celeba_half --out runs/pggan-32
    python examples/progressive_gan.py --data faces.npz --out runs/pggan-32     # crops from 'gans crop-faces'

`pggan_config` states the run: 4x4 up to 32x32 (the seed went to 256x256 on a GPU), fade-in and
stable phases of 20,000 images each, the seed's stable recipe (least squares, no batch norm) with the
PGGAN paper's pixel norm, equalized learning rate and minibatch standard deviation. The run writes,
at the end of every phase, that phase's generator (`checkpoints/generator_RxR_stable.h5`) and its
samples, and `phases.csv` with the seconds per 1,000 images. The script then draws the same z through
every resolution's generator (one row each, enlarged to the top resolution) and exports the top one
as TFLite (z -> image in [0, 255], the app's model), checked against Keras on the same z.

Real size: seven phases of 20,000 images up to 32x32, not timed end to end here. By the seconds per
1,000 images measured at each resolution on 2 CPU cores (4x4 2.6, 8x8 about 8, 16x16 27-38, 32x32
about 105; README), about 1.5 hours, and about 20 minutes with --images-per-phase 4000.
"""

import argparse
from pathlib import Path

import numpy as np

from gans.datasets.scaling import unscale_images
from gans.evaluation.fid import generate_images
from gans.experiments.pggan import pggan_config
from gans.export import app_model, export_generator, run_tflite
from gans.models import load_generator
from gans.training import RunSettings, train
from gans.training.progressive import available_resolutions, phase_checkpoint
from gans.visualize import save_image_grid

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--data", required=True, help="a CelebA image folder, or an .npz of face crops ('images')")
parser.add_argument("--images-per-phase", type=int, default=20_000, help="real images shown per phase")
parser.add_argument("--out", help="run folder (default runs/pggan-32, or runs/pggan-smoke)")
parser.add_argument("--smoke", action="store_true", help="a tiny run: 4x4 to 8x8, 8 filters, 24 images per phase")
args = parser.parse_args()

if args.smoke:
    config = pggan_config(target_resolution=8, images_per_phase=24, batch_sizes=8, filters=8, latent_dim=8)
    settings = RunSettings(sample_every=3, checkpoint_every=3, tensorboard=False)
else:
    config = pggan_config(target_resolution=32, images_per_phase=args.images_per_phase)
    settings = RunSettings()
out = Path(args.out or ("runs/pggan-smoke" if args.smoke else "runs/pggan-32"))

# 1. Grow: 4x4 stable, then a fade-in and a stable phase per resolution, all in one run.
trainer = train(config, out, data=args.data, settings=settings, resume=True)

# 2. The same z through the generator of every resolution, one row each, enlarged to the top size.
top = max(available_resolutions(out))
rows = []
for resolution in available_resolutions(out):
    images = unscale_images(generate_images(phase_checkpoint(out, resolution), 8, seed=0))
    rows.append(images.repeat(top // resolution, axis=1).repeat(top // resolution, axis=2))
grid = save_image_grid(np.concatenate(rows), out / "growth.png", rows=len(rows), cols=8)

# 3. The top generator for the app: TFLite, run by the TFLite interpreter on the same z as Keras.
generator = load_generator(phase_checkpoint(out, top))
tflite = export_generator(generator, "tflite", out / f"generator_{top}x{top}.tflite")
z = np.random.default_rng(1).standard_normal((4, config.latent_dim)).astype("float32")
on_phone = run_tflite(tflite, z)
in_keras = np.asarray(app_model(generator)(z))
print(f"{trainer.step} iterations in {out}, phase {trainer.step_obj.phase.label}; phases.csv has their speed")
print(f"the same z at {', '.join(f'{r}x{r}' for r in available_resolutions(out))} -> {grid}")
print(f"TFLite app model {tflite} ({tflite.stat().st_size:,} bytes): z -> {on_phone.shape[1:]} in [0, 255], "
      f"largest difference from Keras {np.abs(on_phone - in_keras).max():.2f} of 255")
