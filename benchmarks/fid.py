"""FID speed, side by side with the reference implementation and with the machine's compute limit.

1. The Frechet distance on 2048-d statistics (InceptionV3's pool features): the reference algorithm
   (``scipy.linalg.sqrtm`` of sigma1 @ sigma2, as TTUR / pytorch-fid do it) against the library's
   exact symmetric-eigendecomposition route, uncached (two eigenvalue problems) and against a
   reference that keeps the square root of its covariance (:meth:`ActivationStatistics.sigma_root`:
   one eigenvalue problem, eigenvalues only; what FID over training steps and ``gans fid`` against a
   saved statistics file do). The three are timed in interleaved rounds, so load on a shared machine
   hits each alike; medians, their ratios, and the largest relative difference from sqrtm.
2. Feature extraction in images per second: InceptionV3 (random weights: the speed is the same as
   with ImageNet weights, and nothing is downloaded) on 28x28 grayscale digits resized to 299x299, beside
   its compute limit: the network's FLOPs per image (every convolution and dense layer, counted from
   its shapes) against this machine's measured float32 matmul throughput, in the same process. Each
   setting (batch size, TensorFlow's thread pools, XLA) runs in a process of its own, since thread
   pools are fixed when TensorFlow starts. The offline LeNet-5 extractor too.

Usage::

    python benchmarks/fid.py                 # about 6 minutes on two busy CPU cores
    python benchmarks/fid.py --repeats 5 --images 256 --settings default,b16,b64,xla,intra1

The last lines are ``frechet_speedup_vs_sqrtm: <ratio>`` (uncached) and
``frechet_cached_speedup_vs_sqrtm: <ratio>`` (against a reference holding its root).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Extractor settings tried, each in its own process: batch size, intra-op and inter-op threads (0: TensorFlow's
# default, one per core), XLA (None: Keras' default, on where a GPU is present, off on a CPU-only machine).
# "default" is what inception_extractor() does.
SETTINGS = {
    "default": {"batch": 32, "intra": 0, "inter": 0, "xla": None},
    "b16": {"batch": 16, "intra": 0, "inter": 0, "xla": None},
    "b64": {"batch": 64, "intra": 0, "inter": 0, "xla": None},
    "xla": {"batch": 32, "intra": 0, "inter": 0, "xla": True},
    "inter1": {"batch": 32, "intra": 0, "inter": 1, "xla": None},
}


def reference_frechet(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """The reference implementation's algorithm, written out here so the baseline is independent."""
    from scipy import linalg

    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"imaginary component {np.max(np.abs(covmean.imag))}")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def synthetic_statistics(dim: int, n: int, seed: int):
    """Statistics of ``n`` correlated, non-negative ``dim``-d features (like ReLU pool outputs)."""
    from gans.evaluation.statistics import ActivationStatistics

    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    features = np.maximum(rng.normal(size=(n, dim)) @ mixing + 0.3, 0.0)
    return ActivationStatistics(features.mean(axis=0), np.cov(features, rowvar=False), n, "synthetic")


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def frechet_section(args) -> tuple[float, float]:
    """Times and agreement of the three routes; returns (uncached speedup, cached speedup)."""
    from gans.evaluation.fid import fid_from_statistics
    from gans.evaluation.frechet import frechet_distance

    print(f"# Frechet distance on {args.dim}-d statistics from {args.n} samples, {args.repeats} interleaved rounds")
    fake, reference = synthetic_statistics(args.dim, args.n, seed=1), synthetic_statistics(args.dim, args.n, seed=2)
    np.linalg.eigh(np.eye(64))  # LAPACK's first call sets up its threads: not part of any timing
    root_seconds, _ = timed(reference.sigma_root)  # once, as a reference cache entry holds it
    routes = {
        "sqrtm": lambda: reference_frechet(fake.mu, fake.sigma, reference.mu, reference.sigma),
        "eigh": lambda: frechet_distance(fake.mu, fake.sigma, reference.mu, reference.sigma),
        "cached": lambda: fid_from_statistics(fake, reference).fid,
    }
    times = {name: [] for name in routes}
    values = {}
    for _ in range(args.repeats):
        for name, fn in routes.items():
            seconds, values[name] = timed(fn)
            times[name].append(seconds)
    med = {name: statistics.median(t) for name, t in times.items()}
    rel = {name: abs(values[name] - values["sqrtm"]) / abs(values["sqrtm"]) for name in ("eigh", "cached")}
    print(f"reference sqrtm (scipy.linalg.sqrtm)       median {med['sqrtm']:8.3f} s   FID {values['sqrtm']:.10f}")
    print(f"gans eigh, uncached (two eigenproblems)    median {med['eigh']:8.3f} s   FID {values['eigh']:.10f}")
    print(f"gans eigh, reference root kept (one, values only) median {med['cached']:8.3f} s   FID {values['cached']:.10f}"
          f"   (the root itself: {root_seconds:.3f} s, once per reference)")

    if not args.skip_rank_deficient:  # fewer samples than dimensions, as with a small FID sample
        few = max(2, args.dim // 2)
        small = synthetic_statistics(args.dim, few, seed=3)
        expected = reference_frechet(small.mu, small.sigma, reference.mu, reference.sigma)
        rel["eigh, rank-deficient"] = abs(frechet_distance(small.mu, small.sigma, reference.mu, reference.sigma)
                                          - expected) / expected
        rel["cached, rank-deficient"] = abs(fid_from_statistics(small, reference).fid - expected) / expected
    for name, value in rel.items():
        print(f"relative difference from sqrtm, {name + ':':24s} {value:.3e}")
    print(f"frechet_max_relative_difference_vs_sqrtm: {max(rel.values()):.3e}")
    return med["sqrtm"] / med["eigh"], med["sqrtm"] / med["cached"]


# ---------------------------------------------------------------------- feature extraction
def conv_dense_flops(model) -> int:
    """Floating-point operations of one image through ``model``: 2 per multiply-add of every
    convolution and dense layer (the work a matmul-bound network does; batch norm, activations and
    pooling add a few percent and are left out)."""
    import keras

    total = 0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)) and layer.built:
            out = layer.output.shape
            positions = int(np.prod(out[1:-1])) if len(out) > 2 else 1
            total += 2 * positions * int(np.prod(layer.kernel.shape))
    return total


def matmul_flops_per_second(size: int = 2048, repeats: int = 7) -> float:
    """This process's measured float32 matmul throughput (TensorFlow, its thread pools as configured)."""
    import tensorflow as tf

    a, b = tf.random.normal((size, size)), tf.random.normal((size, size))
    matmul = tf.function(lambda x, y: tf.matmul(x, y))
    matmul(a, b).numpy()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        seconds.append(time.perf_counter() - start)
    return 2 * size ** 3 / statistics.median(seconds)


def extractor_child(setting: str, images: int, repeats: int) -> dict:
    """One extractor setting, measured in this process: images/s, matmul throughput, FLOPs per image."""
    import tensorflow as tf

    options = SETTINGS[setting]
    if options["intra"]:
        tf.config.threading.set_intra_op_parallelism_threads(options["intra"])
    if options["inter"]:
        tf.config.threading.set_inter_op_parallelism_threads(options["inter"])
    from gans.evaluation.inception import inception_extractor

    batch = options["batch"]
    images = -(-images // batch) * batch  # whole batches: a padded last batch would be counted as idle work
    extractor = inception_extractor(weights=None, batch_size=batch, jit=options["xla"])
    pictures = np.random.default_rng(0).integers(0, 256, (images, 28, 28, 1), dtype=np.uint8)
    extractor(pictures[:batch])  # trace (and compile) once
    rates, throughputs = [], []
    for _ in range(repeats):  # the matmul beside every timing: the limit under the same load
        throughputs.append(matmul_flops_per_second())
        seconds, _ = timed(lambda: extractor(pictures))
        rates.append(images / seconds)
    return {"setting": setting, **options, "images": images, "images_per_second": statistics.median(rates),
            "matmul_flops": statistics.median(throughputs), "flops_per_image": conv_dense_flops(extractor.model),
            "ratio": statistics.median(r * conv_dense_flops(extractor.model) / t for r, t in zip(rates, throughputs))}


def extraction_section(args) -> None:
    print(f"\n# Feature extraction, {args.images} MNIST-sized images (28x28x1; rounded up to whole batches) to "
          f"InceptionV3 (299x299x3), median of {args.repeats}; each setting in its own process")
    results = {}
    for setting in args.settings.split(","):
        done = subprocess.run([sys.executable, __file__, "--child-extractor", setting, "--images", str(args.images),
                               "--repeats", str(args.repeats)], capture_output=True, text=True)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode != 0 or not lines:
            print(f"{setting}: failed ({done.stderr.strip().splitlines()[-1:] or ['no output']})")
            continue
        r = results[setting] = json.loads(lines[-1])
        limit = r["matmul_flops"] / r["flops_per_image"]
        print(f"InceptionV3 [{setting:8s} batch {r['batch']:3d}, intra {r['intra'] or 'default'}, inter "
              f"{r['inter'] or 'default'}, XLA {'Keras default' if r['xla'] is None else 'on'}]: {r['images_per_second']:7.2f} images/s; "
              f"limit {limit:6.2f} images/s ({r['flops_per_image'] / 1e9:.2f} GFLOP per image at "
              f"{r['matmul_flops'] / 1e9:.1f} GFLOP/s matmul); {r['ratio']:.2f} of the limit")
    if "default" in results:
        best = max(results.values(), key=lambda r: r["ratio"])
        print(f"fastest setting: {best['setting']} ({best['ratio']:.2f} of the limit; default {results['default']['ratio']:.2f})")
        print(f"inception_images_per_second: {results['default']['images_per_second']:.2f}")
        print(f"inception_fraction_of_matmul_limit: {results['default']['ratio']:.2f}")

    from gans.evaluation.classifier import build_lenet5, lenet_extractor

    lenet = lenet_extractor(build_lenet5(), name="lenet5:untrained")
    many = np.random.default_rng(0).integers(0, 256, (4096, 28, 28, 1), dtype=np.uint8)
    lenet(many[:512], batch_size=512)
    rate = statistics.median(4096 / timed(lambda: lenet(many, batch_size=512))[0] for _ in range(args.repeats))
    print(f"LeNet-5 features (batch 512): {rate:8.1f} images/s")
    if "default" in results:
        print(f"time for the thesis's 5,000 + 5,000 images: InceptionV3 "
              f"{10000 / results['default']['images_per_second']:.0f} s, LeNet-5 {10000 / rate:.1f} s")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dim", type=int, default=2048, help="feature dimension (default 2048)")
    parser.add_argument("--n", type=int, default=5000, help="samples behind each covariance (default 5000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--images", type=int, default=96, help="images per extraction timing (default 96)")
    parser.add_argument("--settings", default="default,xla",
                        help=f"extractor settings to measure, of {','.join(SETTINGS)} (default: default,xla)")
    parser.add_argument("--skip-extraction", action="store_true", help="the Frechet distance only")
    parser.add_argument("--skip-rank-deficient", action="store_true",
                        help="leave out the agreement check on rank-deficient statistics (one more sqrtm)")
    parser.add_argument("--child-extractor", choices=sorted(SETTINGS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_extractor:
        print(json.dumps(extractor_child(args.child_extractor, args.images, args.repeats)))
        return
    uncached, cached = frechet_section(args)
    if not args.skip_extraction:
        extraction_section(args)
    print(f"\nfrechet_speedup_vs_sqrtm: {uncached:.2f}")
    print(f"frechet_cached_speedup_vs_sqrtm: {cached:.2f}")


if __name__ == "__main__":
    main()
