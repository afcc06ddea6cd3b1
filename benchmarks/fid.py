"""FID speed, side by side with the reference implementation.

1. The Frechet distance on 2048-d statistics (InceptionV3's pool features): the reference algorithm
   (``scipy.linalg.sqrtm`` of sigma1 @ sigma2, as TTUR / pytorch-fid do it) against the library's
   exact symmetric-eigendecomposition route; median time of each, their ratio, and how closely the
   two values agree.
2. Feature extraction in images per second: InceptionV3 (random weights: the speed is the same as
   with ImageNet weights, and nothing is downloaded) on 28x28 grayscale digits resized to 299x299, and
   the offline LeNet-5 extractor.

Usage::

    python benchmarks/fid.py                 # a few minutes on two CPU cores
    python benchmarks/fid.py --repeats 5 --images 512

The last line is ``frechet_speedup_vs_sqrtm: <ratio>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


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
    """Mean and covariance of ``n`` correlated, non-negative ``dim``-d features (like ReLU pool outputs)."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    features = np.maximum(rng.normal(size=(n, dim)) @ mixing + 0.3, 0.0)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def time_median(fn, repeats: int):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def images_per_second(extractor, images, batch_size: int, repeats: int) -> float:
    extractor(images[:batch_size], batch_size=batch_size)  # trace and warm up once
    seconds, _ = time_median(lambda: extractor(images, batch_size=batch_size), repeats)
    return len(images) / seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dim", type=int, default=2048, help="feature dimension (default 2048)")
    parser.add_argument("--n", type=int, default=5000, help="samples behind each covariance (default 5000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per method (default 3)")
    parser.add_argument("--images", type=int, default=128, help="images per extraction timing (default 128)")
    parser.add_argument("--batch-size", type=int, default=32, help="InceptionV3 batch size (default 32)")
    args = parser.parse_args(argv)

    from gans.evaluation.frechet import frechet_distance

    print(f"# Frechet distance on {args.dim}-d statistics from {args.n} samples, median of {args.repeats}")
    mu1, s1 = synthetic_statistics(args.dim, args.n, seed=1)
    mu2, s2 = synthetic_statistics(args.dim, args.n, seed=2)
    t_ref, v_ref = time_median(lambda: reference_frechet(mu1, s1, mu2, s2), args.repeats)
    t_eigh, v_eigh = time_median(lambda: frechet_distance(mu1, s1, mu2, s2, method="eigh"), args.repeats)
    print(f"reference sqrtm (scipy.linalg.sqrtm)  median {t_ref:8.3f} s   FID {v_ref:.10f}")
    print(f"gans method='eigh'  (default)         median {t_eigh:8.3f} s   FID {v_eigh:.10f}")
    rel = abs(v_eigh - v_ref) / abs(v_ref)
    print(f"relative difference eigh vs reference: {rel:.3e} (required < 1e-6)")

    # Rank-deficient statistics (fewer samples than dimensions), as with a small FID sample.
    few = max(2, args.dim // 2)
    mu3, s3 = synthetic_statistics(args.dim, few, seed=3)
    ref_def = reference_frechet(mu1, s1, mu3, s3)
    rel_def = abs(frechet_distance(mu1, s1, mu3, s3) - ref_def) / ref_def
    print(f"relative difference eigh vs reference, rank-deficient ({few} samples): {rel_def:.3e}")

    print(f"\n# Feature extraction, {args.images} MNIST-sized images (28x28x1), median of {args.repeats}")
    from gans.evaluation.classifier import build_lenet5, lenet_extractor
    from gans.evaluation.inception import inception_extractor

    images = np.random.default_rng(0).integers(0, 256, (args.images, 28, 28, 1), dtype=np.uint8)
    inception = inception_extractor(weights=None, batch_size=args.batch_size)
    ips_inception = images_per_second(inception, images, args.batch_size, args.repeats)
    print(f"InceptionV3 (resize to 299, batch {args.batch_size}): {ips_inception:8.1f} images/s")
    lenet = lenet_extractor(build_lenet5(), name="lenet5:untrained")
    many = np.tile(images, (max(1, 4096 // len(images)), 1, 1, 1))
    ips_lenet = images_per_second(lenet, many, 512, args.repeats)
    print(f"LeNet-5 features (batch 512):             {ips_lenet:8.1f} images/s")
    print(f"time for the thesis's 5,000 + 5,000 images: InceptionV3 {10000 / ips_inception:.0f} s, "
          f"LeNet-5 {10000 / ips_lenet:.1f} s")

    print(f"\nfrechet_speedup_vs_sqrtm: {t_ref / t_eigh:.2f}")


if __name__ == "__main__":
    main()
