"""Milliseconds per training iteration of each execution, against a hand-written step, side by side.

Two cases of the thesis, with their exact networks: experiment 3 (LSGAN, fully connected: the
overhead-bound case) and experiment 2 (DCGAN, convolutional: the compute-bound case). For each, the
same iteration (D on a real batch, D on a separate generated batch, G through the frozen D) runs in
five loops built from the same seed:

- ``recipe``: the library's recipe execution (one ``train_on_batch`` per update);
- ``fused``: the library's fused execution (the three Keras train steps in one ``tf.function``);
- ``fused_xla``: the same, XLA-compiled;
- ``hand``: a hand-written ``tf.function`` with three GradientTape updates, the fastest way to
  write the iteration by hand;
- ``hand_xla``: the same with ``jit_compile=True`` (the limit the issue names).

``default`` is what ``gans train`` uses (``--execution fused --jit auto``). The rounds are
interleaved (recipe, fused, ..., recipe, ...) so load changes on a shared machine hit every loop
alike; medians are reported.

Headlines (the last two lines):

- ``mlp_fused_vs_limit``: the default execution's ms per iteration on experiment 3 over the
  hand-written XLA step's (lower is better; 1.0 is the limit);
- ``train_loop_vs_fused``: on DCGAN, the faster hand-written step's ms per iteration over the default
  execution's (higher is better; >= 1.0 means the library is at least as fast as writing it by hand).

Run: python benchmarks/train_loop.py [--rounds 7] [--steps 40] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's gans, not an installed one

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import gans  # noqa: E402,F401
from gans.experiments import get_experiment  # noqa: E402
from gans.training.data import BatchSource  # noqa: E402
from gans.training.execution import Fused, Recipe, make_execution  # noqa: E402
from gans.training.freeze import set_trainable  # noqa: E402
from gans.training.steps import make_step  # noqa: E402

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
CASES = {"mlp": 3, "dcgan": 2}


def load_images() -> np.ndarray:
    from gans.datasets.mnist import load_mnist

    if SHARED_MNIST.exists():
        return load_mnist(SHARED_MNIST, split="all").images
    return load_mnist(allow_download=False).images


def build(experiment: int, batch_size: int, seed: int = 0, precision: str = "float32"):
    config = get_experiment(experiment).replace(batch_size=batch_size, precision=precision)
    keras.utils.set_random_seed(seed)
    return make_step(config)


class LibraryLoop:
    """The library's step under one execution (``None``: the default, ``--execution fused --jit auto``),
    driven as the Trainer drives it, its networks in the dtype policy ``precision``."""

    def __init__(self, name, experiment, images, batch_size, execution=None, precision="float32"):
        self.name = name
        self.step_obj = build(experiment, batch_size, precision=precision)
        if execution is None:
            execution = make_execution("fused", "auto", models=self.step_obj.models.values())
        self.step_obj.use_execution(execution)
        self.data = BatchSource(images, batch_size)
        self.rng = np.random.default_rng(0)
        self.i = 0

    def run(self, n):
        for _ in range(n):
            self.i += 1
            self.step_obj.train_step(self.i, self.data, self.rng)


class HandLoop:
    """Three GradientTape updates in one tf.function, written by hand with the step's networks, losses
    and optimizer settings: what a practitioner would write for speed."""

    def __init__(self, name, experiment, images, batch_size, jit):
        self.name = name
        step_obj = build(experiment, batch_size)
        config = get_experiment(experiment)
        g, d = step_obj.generator, step_obj.discriminator
        d_loss, g_loss = step_obj.discriminator_loss.make(), step_obj.loss.make()
        d_opt, g_opt = config.discriminator_optimizer.build(), config.optimizer.build()
        set_trainable(d, True)
        d_opt.build(d.trainable_variables)
        g_opt.build(g.trainable_variables)
        real_t = tf.constant(step_obj.discriminator_loss.labels(batch_size, real=True))
        fake_t = tf.constant(step_obj.discriminator_loss.labels(batch_size, real=False))
        g_t = tf.constant(step_obj.loss.labels(batch_size, real=True))

        # D's BatchNorm in inference mode but its dropout active during the G update: Keras' semantics
        # for a frozen model called with training=True, as in the library's combined model. The
        # trainable flag is read while tracing, so it is toggled inside the traced function.
        def iteration(real, z1, z2):
            set_trainable(d, True)
            fake = g(z1, training=False)
            for images, target in ((real, real_t), (fake, fake_t)):
                with tf.GradientTape() as tape:
                    loss = d_loss(target, d(images, training=True))
                d_opt.apply_gradients(zip(tape.gradient(loss, d.trainable_variables), d.trainable_variables))
            set_trainable(d, False)
            with tf.GradientTape() as tape:
                loss = g_loss(g_t, d(g(z2, training=True), training=True))
            g_opt.apply_gradients(zip(tape.gradient(loss, g.trainable_variables), g.trainable_variables))
            return loss

        self.step = tf.function(iteration, jit_compile=jit)
        self.data = BatchSource(images, batch_size)
        self.rng = np.random.default_rng(0)
        self.b, self.latent = batch_size, step_obj.latent_dim
        self.i = 0

    def run(self, n):
        for _ in range(n):
            real = self.data.batch(self.i, self.rng).images
            self.i += 1
            z1 = self.rng.standard_normal((self.b, self.latent), dtype=np.float32)
            z2 = self.rng.standard_normal((self.b, self.latent), dtype=np.float32)
            float(self.step(real, z1, z2))  # wait for the result, as the library's loop does


def interleaved_medians(loops, args) -> dict[str, float]:
    """Median milliseconds per iteration of each loop: ``args.warmup`` untimed iterations each (the traces),
    then ``args.rounds`` rounds of ``args.steps`` iterations, the loops taking turns within each round."""
    for loop in loops:
        loop.run(args.warmup)
    times = {loop.name: [] for loop in loops}
    for _ in range(args.rounds):
        for loop in loops:
            start = time.perf_counter()
            loop.run(args.steps)
            times[loop.name].append(1000 * (time.perf_counter() - start) / args.steps)
    return {name: statistics.median(values) for name, values in times.items()}


def measure(case: str, images, args) -> dict[str, float]:
    experiment = CASES[case]
    loops = [
        LibraryLoop("recipe", experiment, images, args.batch_size, Recipe()),
        LibraryLoop("fused", experiment, images, args.batch_size, Fused(jit=False)),
        LibraryLoop("fused_xla", experiment, images, args.batch_size, Fused(jit=True)),
        HandLoop("hand", experiment, images, args.batch_size, jit=False),
        HandLoop("hand_xla", experiment, images, args.batch_size, jit=True),
    ]
    med = interleaved_medians(loops, args)
    default = make_execution("fused", "auto", models=loops[0].step_obj.models.values())
    med["default"] = med["fused_xla" if default.jit else "fused"]
    print(f"{case} (experiment {experiment}, batch {args.batch_size}): "
          + "  ".join(f"{name} {value:.2f}" for name, value in med.items())
          + f"  ms/iteration  [default = fused{' + XLA' if default.jit else ''}: {default.jit_reason}]")
    print(f"  {case}: recipe/default {med['recipe'] / med['default']:.2f}x; 30,000 iterations take "
          f"{30000 * med['default'] / 60000:.1f} min (default) vs {30000 * med['recipe'] / 60000:.1f} min (recipe)")
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds per loop")
    parser.add_argument("--steps", type=int, default=40, help="iterations per round")
    parser.add_argument("--warmup", type=int, default=5, help="untimed iterations before the rounds")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--only", choices=sorted(CASES), help="measure one case (no headline lines)")
    args = parser.parse_args()

    images = load_images()
    print(f"{len(images)} MNIST images; device: {tf.config.list_logical_devices()[-1].device_type}; "
          f"{args.rounds} rounds x {args.steps} iterations per loop; medians")
    if args.only:
        measure(args.only, images, args)
        return
    mlp = measure("mlp", images, args)
    dcgan = measure("dcgan", images, args)
    print(f"mlp_fused_vs_limit: {mlp['default'] / mlp['hand_xla']:.3f}")
    print(f"train_loop_vs_fused: {min(dcgan['hand'], dcgan['hand_xla']) / dcgan['default']:.3f}")


if __name__ == "__main__":
    main()
