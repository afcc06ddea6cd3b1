"""Face cropping: the batched, streaming pipeline against a one-image-at-a-time loop.

Side by side, in one run:

* speed on ``../shared/data/photos`` (ordinary photos up to 4352x2903) and on CelebA aligned faces:
  :func:`gans.datasets.faces.crop_faces` against the loop most GAN repositories use (read a
  photo, ``detect_faces`` on it, crop the most confident face, resize, append to a list). Both use
  the same detector, built once and warmed up beforehand, and the same crop size.
* peak memory (max RSS) of the pipeline on 2,000 and on 8,000 CelebA images, each in its own
  subprocess so the two peaks are independent.

The last line is ``crop_speedup_vs_loop: <ratio>``: the smaller of the two data sets' speedups.

Usage: python benchmarks/crop_faces.py [--celeba-n 400] [--photos-n 40] [--rss-n 2000 8000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"


def _first(folder: Path, n: int) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file())[:n]


def _link_subset(files: list[Path], folder: Path) -> Path:
    """A folder of symlinks to ``files``, so both methods see exactly the same inputs."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f.name).symlink_to(f)
    return folder


def loop_baseline(files: list[Path], detector, size: int) -> tuple[int, float]:
    """The naive loop: one photo per detector call, every crop kept in a Python list."""
    import cv2

    crops = []
    start = time.perf_counter()
    for path in files:
        image = cv2.imread(str(path))
        if image is None:
            continue
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        found = detector.detect_faces(image)
        if not found:
            continue
        best = max(found, key=lambda f: f["confidence"])
        x, y, w, h = best["box"]
        x, y = max(0, x), max(0, y)
        face = image[y : y + h, x : x + w]
        if face.size:
            crops.append(cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA))
    return len(crops), time.perf_counter() - start


def pipeline(folder: Path, out: Path, detector, size: int) -> tuple[int, float]:
    from gans.datasets.faces import crop_faces

    start = time.perf_counter()
    summary = crop_faces(folder, out, size, detector=detector, progress=False, overwrite=True)
    return summary.kept, time.perf_counter() - start


def child_rss(n: int, size: int) -> None:
    """Run the pipeline on the first n CelebA images and print this process's peak RSS (MiB)."""
    from gans.datasets.faces import crop_faces

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = crop_faces(DATA / "celeba" / "img_align_celeba_half", Path(tmp) / "rss.npz", size, limit=n,
                             progress=False)
        elapsed = time.perf_counter() - start
    print(f"RSS {n} {summary.kept} {_peak_rss_kib() / 1024:.1f} {elapsed:.1f}")


def _peak_rss_kib() -> float:
    """This process's peak resident memory in KiB.

    Linux's VmHWM belongs to the running program alone. ``ru_maxrss`` is kept across fork and exec,
    so a child started by a parent that already held 2 GB would report the parent's peak instead.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--celeba-n", type=int, default=400, help="CelebA images for the speed comparison")
    parser.add_argument("--photos-n", type=int, default=40, help="photos for the speed comparison")
    parser.add_argument("--rss-n", type=int, nargs="*", default=[2000, 8000],
                        help="image counts for the peak-memory runs (each in a subprocess); none to skip")
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--child-rss", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_rss:
        child_rss(args.child_rss, args.size)
        return 0
    if not DATA.is_dir():
        print(f"no real data at {DATA}; this benchmark needs ../shared/data", file=sys.stderr)
        return 1

    # Memory first, while this process is still small.
    rss = {}
    for n in args.rss_n:
        result = subprocess.run([sys.executable, __file__, "--child-rss", str(n), "--size", str(args.size)],
                                capture_output=True, text=True, check=True)
        line = [ln for ln in result.stdout.splitlines() if ln.startswith("RSS ")][-1].split()
        rss[n] = float(line[3])
        print(f"peak RSS, {n} CelebA images: {rss[n]:.0f} MiB ({line[2]} crops in {line[4]} s, "
              f"{n / float(line[4]):.0f} img/s)")
    from gans.datasets.faces import build_detector

    detector = build_detector()
    warm = _first(DATA / "photos", 1)
    loop_baseline(warm, detector, args.size)  # first calls build TensorFlow's kernels: not timed

    sets = {
        "photos": _first(DATA / "photos", args.photos_n),
        "celeba": _first(DATA / "celeba" / "img_align_celeba_half", args.celeba_n),
    }
    speedups = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, files in sets.items():
            folder = _link_subset(files, Path(tmp) / name)
            kept_loop, t_loop = loop_baseline(files, detector, args.size)
            kept_pipe, t_pipe = pipeline(folder, Path(tmp) / f"{name}.npz", detector, args.size)
            speedups[name] = t_loop / t_pipe
            print(f"{name}: {len(files)} images | loop {len(files) / t_loop:7.1f} img/s ({kept_loop} crops) | "
                  f"pipeline {len(files) / t_pipe:7.1f} img/s ({kept_pipe} crops) | speedup {speedups[name]:.2f}x")

    if len(rss) >= 2:
        small, large = min(rss), max(rss)
        print(f"rss_ratio_{large}_vs_{small}: {rss[large] / rss[small]:.2f}")
    for name, value in speedups.items():
        print(f"crop_speedup_{name}: {value:.2f}")
    print(f"crop_speedup_vs_loop: {min(speedups.values()):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
