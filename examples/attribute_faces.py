"""The CelebA attributes paper (seed 002): an attribute classifier, a GAN whose noise carries the
attributes of real faces, and a new face with the attributes of given faces.

    python examples/attribute_faces.py --data ../shared/data/celeba/img_align_celeba_half --out runs/attribute

Three steps, as the paper has them. The classifier (three convolutions, 40 sigmoid outputs) learns
CelebA's 40 attributes; its report sets the dev accuracy beside always answering the majority class.
The GAN (`attribute-celeba`: G Adam 4e-4, D Adam 2e-4, 16 faces a step, label flipping 0.05) draws
each face from equation 1's noise, 160 normal draws overlaid with the classifier's outputs on a real
face (alpha 0.6, beta 0.8); the run logs how well the classifier reads those attributes back
(`attributes.csv`). Last, the classifier reads two given faces, the mean of their attributes goes
into the noise, and the generator renders the new face (what `gans generate-from-faces` does).

Real size: the classifier 8 epochs on the 10,000 shared half-size faces (109x89, 88.2% mean dev
accuracy against 79.6% for the majority class, about 9 minutes on 2 CPU cores, measured); the GAN at
64x52 for the paper's 3,500 iterations (8,000 took 21 minutes, measured).
"""

import argparse
from pathlib import Path

import numpy as np

from gans.config import NetworkSpec
from gans.datasets.celeba import load_celeba
from gans.datasets.scaling import unscale_images
from gans.evaluation.attributes import (CLASSIFIER_FILE, attribute_agreement, load_attribute_classifier,
                                        train_celeba_classifier)
from gans.experiments import get_experiment
from gans.models import load_generator
from gans.attribute_faces import face_from_faces
from gans.training import RunSettings, train
from gans.training.steps import run_generator
from gans.visualize import save_image_grid

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--data", required=True, help="a CelebA image folder with list_attr_celeba.txt in or beside it")
parser.add_argument("--out", help="folder of the classifier/ and the gan/ run (default runs/attribute, or "
                    "runs/attribute-smoke)")
parser.add_argument("--smoke", action="store_true", help="a tiny run: 40 faces, 24x20, narrow networks, 4 steps")
args = parser.parse_args()
out = Path(args.out or ("runs/attribute-smoke" if args.smoke else "runs/attribute"))

config = get_experiment("attribute-celeba")
if args.smoke:
    limit, classifier_size, gan_size, epochs, steps = 40, (16, 16), (24, 20), 1, 4
    g, d = config.generator.options, config.discriminator.options  # the same networks, narrow
    config = config.replace(batch_size=8,
                            generator=NetworkSpec("attribute", {**g, "filters": (8, 4), "base_filters": 8}),
                            discriminator=NetworkSpec("attribute", {**d, "filters": (4, 8)}))
    settings = RunSettings(sample_every=2, checkpoint_every=2, tensorboard=False)
else:
    limit, classifier_size, gan_size, epochs, steps = None, None, (64, 52), 8, config.steps
    settings = RunSettings()

# 1. The attribute classifier (trained once; a rerun of the script reuses it).
classifier_path = out / "classifier" / CLASSIFIER_FILE
if not classifier_path.exists():
    report = train_celeba_classifier(args.data, classifier_path.parent, classifier_size, epochs=epochs, limit=limit)
    print(f"attribute classifier: {report.summary()}")

# 2. The GAN, its noise built from the classifier's outputs on the training faces.
config = config.replace(step_options={**config.step_options, "classifier": str(classifier_path.resolve())})
faces = load_celeba(args.data, limit=limit, size=gan_size)
trainer = train(config, out / "gan", data=faces, steps=steps, settings=settings, resume=True)

# 3. A new face from the attributes of two given faces.
classifier = load_attribute_classifier(classifier_path)
generator = load_generator(run_generator(out / "gan"))  # the run's latest generator checkpoint
given = faces.images[:2]
made = face_from_faces(classifier, generator, given, alpha=0.6, beta=0.8)
shown = np.concatenate([given, unscale_images(made["image"][None])])
picture = save_image_grid(shown, out / "new_face.png", rows=1, cols=3)
read_back = attribute_agreement(made["used"][None], made["read"][None])["agreement"]
names = faces.meta["attribute_names"]
print(f"{trainer.step} iterations in {out / 'gan'}; attribute agreement over training in {out / 'gan/attributes.csv'}")
print(f"two given faces and the new one -> {picture}; the classifier reads {read_back:.0%} of the 40 attributes "
      "on the new face as in the vector used")
for k in np.argsort(-np.abs(made["used"] - 0.5))[:5]:  # the attributes the given faces say most clearly
    print(f"  {names[k]:<20} used {made['used'][k]:.2f}   read on the new face {made['read'][k]:.2f}")
