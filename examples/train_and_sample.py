"""Train thesis experiment 3 (LSGAN on MNIST) briefly, then sample from its last checkpoint.

    python examples/train_and_sample.py --steps 1000 --out runs/example

Everything here is library calls: the registry gives the experiment, `train` runs the thesis's loop
and writes the artefacts, `load_generator` reads the .h5 back with safe mode on.
"""

import argparse
from pathlib import Path

import numpy as np

from gans.experiments import get_experiment
from gans.models import load_generator
from gans.training import RunSettings, train
from gans.visualize import save_image_grid

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--steps", type=int, default=1000, help="training iterations (the thesis ran 30,000)")
parser.add_argument("--data", help="mnist.npz or a folder of MNIST IDX files (default: Keras download or offline)")
parser.add_argument("--out", default="runs/example", help="run folder")
args = parser.parse_args()

config = get_experiment(3)
trainer = train(config, args.out, data=args.data, steps=args.steps,
                settings=RunSettings(sample_every=args.steps // 4, checkpoint_every=args.steps // 2))

checkpoint = sorted(Path(args.out, "checkpoints").glob("generator_step_*.h5"))[-1]
generator = load_generator(checkpoint)
z = np.random.default_rng(0).standard_normal((25, config.latent_dim)).astype("float32")
images = generator.predict(z, verbose=0)
grid = save_image_grid(images, Path(args.out) / "example_grid.png", rows=5, cols=5)
print(f"trained {trainer.step} steps; 25 samples from {checkpoint.name} in [{images.min():.2f}, {images.max():.2f}]"
      f" -> {grid}")
