"""Images per second of the library's train-on-batch loop against two baselines, side by side.

DCGAN (thesis experiment 2) on MNIST at batch 32 and 64. Three loops run the same models and the
same iteration (D on a real batch, D on a generated batch, G through the frozen D):

- ``library``: :class:`gans.training.steps.AdversarialStep` driven as the Trainer drives it;
- ``fused``: one ``tf.function`` with three GradientTape updates, the fastest way to write it;
- ``classic``: the Keras-GAN habit: ``generator.predict``, two ``D.train_on_batch``, one combined
  ``train_on_batch``, numpy fancy indexing.

The rounds are interleaved (library, fused, classic, library, ...) so load changes on a shared
machine hit every loop alike; medians are reported. Last line: ``train_loop_vs_fused: <ratio>``, the
library's median images/s over the fused loop's, at the worst of the batch sizes.

Run: python benchmarks/train_loop.py [--rounds 5] [--steps 30] [--batch-sizes 32 64]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import gans  # noqa: E402,F401
from gans.datasets.scaling import scale_images  # noqa: E402
from gans.experiments import get_experiment  # noqa: E402
from gans.training.data import BatchSource  # noqa: E402
from gans.training.freeze import set_trainable  # noqa: E402
from gans.training.steps import make_step  # noqa: E402

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def load_images() -> np.ndarray:
    from gans.datasets.mnist import load_mnist

    if SHARED_MNIST.exists():
        return load_mnist(SHARED_MNIST, split="all").images
    return load_mnist(allow_download=False).images


def build(batch_size: int, seed: int = 0):
    config = get_experiment(2).replace(batch_size=batch_size)
    keras.utils.set_random_seed(seed)
    return config, make_step(config)


class LibraryLoop:
    name = "library"

    def __init__(self, images, batch_size):
        _, self.step_obj = build(batch_size)
        self.data = BatchSource(images, batch_size)
        self.rng = np.random.default_rng(0)
        self.i = 0

    def run(self, n):
        for _ in range(n):
            self.i += 1
            self.step_obj.train_step(self.i, self.data, self.rng)


class ClassicLoop:
    name = "classic"

    def __init__(self, images, batch_size):
        _, step_obj = build(batch_size)
        self.g, self.d, self.gan = step_obj.generator, step_obj.discriminator, step_obj.combined
        self.x = scale_images(images)
        self.b = batch_size
        self.valid, self.fake = np.ones((batch_size, 1), "float32"), np.zeros((batch_size, 1), "float32")

    def run(self, n):
        for _ in range(n):
            idx = np.random.randint(0, self.x.shape[0], self.b)
            z = np.random.normal(0, 1, (self.b, 100)).astype("float32")
            gen = self.g.predict(z, verbose=0)
            set_trainable(self.d, True)  # without it Keras 3 would train nothing (see gans.training.freeze)
            self.d.train_on_batch(self.x[idx], self.valid)
            self.d.train_on_batch(gen, self.fake)
            set_trainable(self.d, False)
            self.gan.train_on_batch(np.random.normal(0, 1, (self.b, 100)).astype("float32"), self.valid)


class FusedLoop:
    name = "fused"

    def __init__(self, images, batch_size):
        _, step_obj = build(batch_size)
        g, d = step_obj.generator, step_obj.discriminator
        set_trainable(d, True)
        bce = keras.losses.BinaryCrossentropy()
        d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        d_opt.build(d.trainable_variables)
        g_opt.build(g.trainable_variables)
        self.data = BatchSource(images, batch_size)
        self.rng = np.random.default_rng(0)
        self.b = batch_size
        ones, zeros = tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))

        # The same iteration as the library's: D's BatchNorm in inference mode but its dropout active
        # during the G update (Keras' semantics for a frozen model called with training=True). The
        # trainable flag is read while tracing, so it is toggled inside the traced function.
        @tf.function
        def step(real, z1, z2):
            set_trainable(d, True)
            fake = g(z1, training=False)
            for images, target in ((real, ones), (fake, zeros)):
                with tf.GradientTape() as tape:
                    loss = bce(target, d(images, training=True))
                d_opt.apply_gradients(zip(tape.gradient(loss, d.trainable_variables), d.trainable_variables))
            set_trainable(d, False)
            with tf.GradientTape() as tape:
                loss = bce(ones, d(g(z2, training=True), training=True))
            g_opt.apply_gradients(zip(tape.gradient(loss, g.trainable_variables), g.trainable_variables))
            return loss

        self.step = step
        self.i = 0

    def run(self, n):
        for _ in range(n):
            real = self.data.batch(self.i, self.rng).images
            self.i += 1
            z1 = self.rng.standard_normal((self.b, 100), dtype=np.float32)
            z2 = self.rng.standard_normal((self.b, 100), dtype=np.float32)
            float(self.step(real, z1, z2))  # wait for the result, as train_on_batch does


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per loop")
    parser.add_argument("--steps", type=int, default=30, help="iterations per round")
    parser.add_argument("--warmup", type=int, default=5, help="untimed iterations before the rounds")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64])
    args = parser.parse_args()

    images = load_images()
    print(f"DCGAN (experiment 2) on {len(images)} MNIST images; device: "
          f"{tf.config.list_logical_devices()[-1].device_type}; {args.rounds} rounds x {args.steps} steps")
    ratios = []
    for batch_size in args.batch_sizes:
        loops = [cls(images, batch_size) for cls in (LibraryLoop, FusedLoop, ClassicLoop)]
        for loop in loops:
            loop.run(args.warmup)
        rates = {loop.name: [] for loop in loops}
        for _ in range(args.rounds):
            for loop in loops:
                start = time.perf_counter()
                loop.run(args.steps)
                rates[loop.name].append(args.steps * batch_size / (time.perf_counter() - start))
        med = {name: statistics.median(values) for name, values in rates.items()}
        ratio = med["library"] / med["fused"]
        ratios.append(ratio)
        print(f"batch {batch_size:>3}: " + "  ".join(f"{n} {v:8.1f} img/s" for n, v in med.items())
              + f"  | library/fused {ratio:.3f}  library/classic {med['library'] / med['classic']:.3f}")
    print(f"train_loop_vs_fused: {min(ratios):.3f}")


if __name__ == "__main__":
    main()
