"""Milliseconds per training iteration under each dtype policy (``--precision``), side by side.

The thesis's experiment 3 (LSGAN, fully connected; XLA on by ``--jit auto``) and experiment 2 (DCGAN,
convolutional; XLA off) run the default execution (``gans train``: fused, ``--jit auto``) with their
networks in float32, mixed_float16 (with its dynamic loss scale) and mixed_bfloat16, from the same
seed. The rounds are interleaved (float32, mixed_float16, mixed_bfloat16, float32, ...) so load on a
shared machine hits each policy alike; medians are reported, and each mixed policy's speedup over
float32 (above 1: faster).

Mixed precision is for accelerators with half-precision matrix units (GPU tensor cores, TPUs); a
CPU may run half-precision kernels slower than float32, and this script says by how much.

Run: python benchmarks/precision.py [--rounds 5] [--steps 20] [--batch-size 32]
The last lines are ``<policy>_speedup_exp<N>: <float32 ms / policy ms>``.
"""

from __future__ import annotations

import argparse
import time

from train_loop import LibraryLoop, interleaved_medians, load_images

import tensorflow as tf  # noqa: E402  (after train_loop, which sets TensorFlow's log level)

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
EXPERIMENTS = {3: "LSGAN, fully connected", 2: "DCGAN, convolutional"}


def measure(experiment: int, images, args) -> tuple[dict[str, float], set[str]]:
    """Median ms per iteration of each policy, and the policies too slow to time in rounds: a policy whose
    first iteration (its trace) and then its second both take longer than ``--probe-limit`` seconds is
    reported by the second alone (mixed_float16 convolutions on a CPU without half-precision kernels)."""
    loops = [LibraryLoop(policy, experiment, images, args.batch_size, precision=policy) for policy in POLICIES]
    once = {}
    for loop in loops:
        for _ in range(2):  # the first call traces (and XLA-compiles): a second says what an iteration costs
            start = time.perf_counter()
            loop.run(1)
            once[loop.name] = time.perf_counter() - start
            if once[loop.name] <= args.probe_limit:
                break
    probed = {name for name, seconds in once.items() if seconds > args.probe_limit}
    med = interleaved_medians([loop for loop in loops if loop.name not in probed], args)
    med.update({name: 1000 * once[name] for name in probed})
    jit = loops[0].step_obj.execution.jit
    print(f"experiment {experiment} ({EXPERIMENTS[experiment]}, batch {args.batch_size}, fused{' + XLA' if jit else ''}): "
          + "  ".join(f"{name} {med[name]:.2f}{'*' if name in probed else ''}" for name in POLICIES) + "  ms/iteration")
    for name in sorted(probed):
        print(f"  * {name}: one iteration after its trace took {once[name]:.1f} s (over --probe-limit "
              f"{args.probe_limit:g} s), so it was timed once, not in rounds")
    return med, probed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per policy")
    parser.add_argument("--steps", type=int, default=20, help="iterations per round")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations before the rounds (tracing)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--probe-limit", type=float, default=10.0,
                        help="seconds one iteration may take for a policy to be timed in rounds; a slower one is "
                             "timed once (default 10)")
    args = parser.parse_args()

    images = load_images()
    print(f"{len(images)} MNIST images; device: {tf.config.list_logical_devices()[-1].device_type}; "
          f"{args.rounds} rounds x {args.steps} iterations per policy; medians")
    results = {experiment: measure(experiment, images, args) for experiment in EXPERIMENTS}
    for experiment, (med, probed) in results.items():
        for policy in POLICIES[1:]:
            bound = " (one iteration, see *)" if policy in probed else ""
            print(f"{policy}_speedup_exp{experiment}: {med['float32'] / med[policy]:.3g}{bound}")


if __name__ == "__main__":
    main()
