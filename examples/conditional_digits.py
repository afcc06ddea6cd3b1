"""Train the MNIST paper's class-conditional GAN and draw the digits you ask for.

    python examples/conditional_digits.py --steps 2000 --data ../shared/data/mnist --digits 0,7,7,3

Trains `ccgan-mnist` (F=1, D=1, B=64, label smoothing; gans.experiments.NAMED), then loads its last
checkpoint as a fresh user would and generates one image per requested digit.
"""

import argparse
from pathlib import Path

import numpy as np

from gans.experiments import get_experiment
from gans.models import load_generator
from gans.models.cgan import label_inputs
from gans.training import RunSettings, train
from gans.visualize import save_image_grid

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--steps", type=int, default=2000, help="training iterations (the paper ran about 18,750)")
parser.add_argument("--data", help="mnist.npz or a folder of MNIST IDX files, with labels (default: Keras or offline)")
parser.add_argument("--digits", default="0,1,2,3,4,5,6,7,8,9", help="the digits to draw, comma-separated")
parser.add_argument("--out", default="runs/ccgan-example", help="run folder")
args = parser.parse_args()

trainer = train(get_experiment("ccgan-mnist"), args.out, data=args.data, steps=args.steps,
                settings=RunSettings(sample_every=max(1, args.steps // 4), checkpoint_every=max(1, args.steps // 2)))
checkpoint = sorted(Path(args.out, "checkpoints").glob("generator_step_*.h5"))[-1]
generator = load_generator(checkpoint)
digits = np.array([int(d) for d in args.digits.split(",")])
z = np.random.default_rng(0).standard_normal((len(digits), generator.inputs[0].shape[-1])).astype("float32")
images = generator.predict([z, label_inputs(generator, digits)], verbose=0)
grid = save_image_grid(images, Path(args.out) / "asked_digits.png", rows=1, cols=len(digits))
print(f"trained {trainer.step} steps; digits {args.digits} from {checkpoint.name} -> {grid}")
