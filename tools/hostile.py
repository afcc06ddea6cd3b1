"""Hostile inputs against the ``gans`` command, each in a real process.

Every case is one ``gans ...`` invocation on a prepared workspace: damaged or foreign files, pixel
values of every dtype and range, ambiguous shapes, run folders that a command must refuse to touch,
divergence, a locked run, more image files than the process may keep open. A case expects either

* a clear error: exit status 2 and exactly one line on stderr, ``gans COMMAND: error: ...``, holding
  the expected words, with no traceback (TensorFlow's own C++ start-up lines are set aside); or
* a correct result: exit status 0 and a check of what it produced (an FID of ~0 between the same
  digits stored two ways, a run trained on exactly the intended pixels, a skip that is listed).

A case that guards a run folder also checks that no file in it changed. Per case the script prints
what was expected and what came of it; the last line is::

    hostile_cases: N tried, C clear errors, S silent wrong results, K correct results, T tracebacks or unclear errors

S (a refused input that was accepted, a wrong result, a changed run folder) must be 0, and so must T.

Usage::

    python tools/hostile.py                      # every case; each in a fresh process (slow: ~10 min)
    python tools/hostile.py --mode fork          # one process imports TensorFlow, each case runs in a fork of it
    python tools/hostile.py --cases fid_ --mode fork   # the cases whose name starts with (or contains) fid_
    python tools/hostile.py --list

The tests (``tests/cli/test_hostile.py``) import this module and run its cases.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# TensorFlow's own lines on stderr (absl before its initialisation, CUDA probing, CPU features).
NATIVE_LOG = re.compile(r"^([IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\]|WARNING: All log messages before absl"
                        r"|To enable the following instructions|This TensorFlow binary is optimized)")
LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR) [\w.]+: ")
ERROR_LINE = re.compile(r"^gans( [\w-]+)?: error: ")
LENET = ["--extractor", "lenet", "--lenet-data", "{W}/D.npz", "--no-progress"]
# This checkout's gans, in the driver and in every command it starts: a script's own folder (tools/) leads
# its sys.path, not the checkout, so from a second worktree the installed gans (another checkout) would
# answer the cases.
CHECKOUT = str(Path(__file__).resolve().parents[1])
CHECKOUT_ENV = {"PYTHONPATH": os.pathsep.join(p for p in (CHECKOUT, os.environ.get("PYTHONPATH", "")) if p)}


@dataclass
class Case:
    """One hostile invocation.

    Attributes:
        name: unique; groups share a prefix (``train_``, ``fid_``, ...).
        argv: the ``gans`` arguments; ``{W}`` stands for the workspace.
        match: for an error, a regular expression its one line must match; None: the command must
            succeed (exit ``ok_status``) and ``check`` must pass.
        item: what it reproduces (the issue's item), for the listing.
        guard: a run folder (relative to the workspace) that no file of may change.
        setup: prepares the case's own files (a copy of a run to damage, ...) before it runs.
        check: for a success, returns a problem (a silently wrong result) or None.
        logs: an error after training started may be preceded by log lines (INFO/WARNING/ERROR).
        nofile: RLIMIT_NOFILE for the process.
        hold_lock: the driver holds the lock of this folder (relative) while the case runs.
        ok_status: the exit status of a success (``gans diagnose`` says 1 for an unhealthy run).
        needs_root_off: skipped when running as root (permissions do not bind root).
        hold_port: the driver listens on a free port of 127.0.0.1 while the case runs; ``{PORT}`` in
            ``argv`` stands for it.
    """

    name: str
    argv: list[str]
    match: str | None = None
    item: str = ""
    guard: str | None = None
    setup: Callable[[Path], None] | None = None
    check: Callable[[Path, "Result"], str | None] | None = None
    logs: bool = False
    nofile: int | None = None
    hold_lock: str | None = None
    ok_status: int = 0
    needs_root_off: bool = False
    hold_port: bool = False

    @property
    def command(self) -> str:
        return self.argv[0] if self.argv and not self.argv[0].startswith("-") else ""


@dataclass
class Result:
    name: str
    status: int
    stdout: str
    stderr: str
    seconds: float
    changed: list[str] = field(default_factory=list)
    verdict: str = ""  # "clear error", "correct result", "silent wrong", "traceback", "unclear error", "skipped"
    detail: str = ""

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip() and not NATIVE_LOG.match(line)]


# ---------------------------------------------------------------------------------------------- workspace
def _blobs(n: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:28, :28]
    centres = rng.uniform(8, 20, size=(n, 2))
    images = np.exp(-((yy[None] - centres[:, :1, None]) ** 2 + (xx[None] - centres[:, 1:, None]) ** 2) / 18.0)
    return (images * 255).astype(np.uint8), rng.integers(0, 10, n)


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "corrupt":  # keep the zip directory, spoil an entry's bytes: its CRC check fails
        middle = len(data) // 3
        path.write_bytes(data[:middle] + bytes(200) + data[middle + 200:])
    elif how == "text":
        path.write_text("this is not what the name says\n" * 20)
    elif how == "empty":
        path.write_bytes(b"")


def make_data(w: Path) -> None:
    """Every data file of the cases (numpy and PIL only)."""
    from PIL import Image

    w.mkdir(parents=True, exist_ok=True)
    x, y = _blobs()
    np.savez(w / "D.npz", x_train=x, y_train=y)
    np.savez(w / "Dcopy.npz", x_train=x, y_train=y)
    np.savez(w / "E.npz", x_train=x[::-1], y_train=y[::-1])
    np.savez(w / "images.npz", images=x[..., None])
    mnist = {
        "mnist_float01": x.astype(np.float32) / 255, "mnist_float_tanh": x.astype(np.float32) / 127.5 - 1,
        "mnist_int64": x.astype(np.int64), "mnist_uint16": x.astype(np.uint16) * 257,
        "mnist_int_wide": x.astype(np.int64) * 4, "mnist_uint16_8bit": x.astype(np.uint16),
        "mnist_bool": x > 128,
    }
    for name, array in mnist.items():
        np.savez(w / f"{name}.npz", x_train=array, y_train=y)
    nan = x.astype(np.float32) / 255
    nan[3, 4, 5] = np.nan
    np.savez(w / "mnist_nan.npz", x_train=nan, y_train=y)
    np.savez(w / "mnist_labels_short.npz", x_train=x, y_train=y[:10])
    np.savez(w / "mnist_labels_nan.npz", x_train=x, y_train=np.where(np.arange(len(y)) == 3, np.nan, y))
    np.savez(w / "mnist_32.npz", x_train=np.zeros((20, 32, 32), np.uint8))
    np.savez(w / "mnist_object.npz", x_train=np.array([{"a": 1}] * 4, dtype=object))
    for how in ("truncate", "corrupt", "text", "empty"):
        np.savez_compressed(w / f"mnist_{how}.npz", x_train=x, y_train=y)
        _damage(w / f"mnist_{how}.npz", how)
    np.save(w / "set.npy", x)
    np.save(w / "one_rgb.npy", np.repeat(x[0][..., None], 3, -1))
    np.savez(w / "two_channels.npz", images=np.zeros((8, 28, 28, 2), np.uint8))
    faces = np.random.default_rng(1).integers(0, 256, (24, 40, 40, 3)).astype(np.uint8)
    np.savez(w / "faces.npz", images=faces)
    np.savez(w / "faces_float01.npz", images=faces.astype(np.float32) / 255)
    # images for fid: every dtype and range
    fid = {
        "fid_f255": x.astype(np.float32), "fid_u16": x.astype(np.uint16) * 257, "fid_u16_8bit": x.astype(np.uint16),
        "fid_f01": x.astype(np.float64) / 255, "fid_wide": x.astype(np.int32) * 3 - 100,
    }
    for name, array in fid.items():
        np.savez(w / f"{name}.npz", images=array)
    for name, value in (("fid_inf", np.inf), ("fid_nan", np.nan)):
        bad = x.astype(np.float32) / 255
        bad[0, 1, 2] = value
        np.savez(w / f"{name}.npz", images=bad)
    np.savez(w / "fid_two_arrays.npz", a=x, b=x)
    np.savez(w / "fid_one_named_array.npz", digits=x)
    for how in ("truncate", "corrupt", "text", "empty"):
        np.savez_compressed(w / f"fid_{how}.npz", images=x)
        _damage(w / f"fid_{how}.npz", how)
    np.savez(w / "fid_object.npz", images=np.array([{"a": 1}] * 4, dtype=object))
    d = 4
    stats = {
        "stats_mu2d": dict(mu=np.zeros((d, d)), sigma=np.eye(d)),
        "stats_sigma_shape": dict(mu=np.zeros(d), sigma=np.eye(d + 1)),
        "stats_mu_text": dict(mu=np.array(["a"] * d), sigma=np.eye(d)),
        "stats_n_array": dict(mu=np.zeros(d), sigma=np.eye(d), n=np.array([1.5, 2]), extractor=np.str_("lenet")),
        "stats_extractor_int": dict(mu=np.zeros(d), sigma=np.eye(d), n=np.int64(10), extractor=np.arange(3)),
        "stats_nan": dict(mu=np.full(d, np.nan), sigma=np.eye(d), n=np.int64(10), extractor=np.str_("x")),
        "stats_ok_a": dict(mu=np.zeros(d), sigma=np.eye(d), n=np.int64(10), extractor=np.str_("x")),
        "stats_ok_b": dict(mu=np.ones(d), sigma=np.eye(d), n=np.int64(10), extractor=np.str_("y")),
    }
    for name, arrays in stats.items():
        np.savez(w / f"{name}.npz", **arrays)
    # image folders
    for folder in ("png8", "png16", "png_truncated", "png_sizes", "png_text", "many"):
        (w / folder).mkdir(exist_ok=True)
    for i in range(40):
        Image.fromarray(x[i]).save(w / "png8" / f"{i:03d}.png")
        Image.fromarray(x[i].astype(np.uint16) * 257).save(w / "png16" / f"{i:03d}.png")
        Image.fromarray(x[i]).save(w / "png_truncated" / f"{i:03d}.png")
        Image.fromarray(x[i] if i % 2 else np.zeros((30, 30), np.uint8)).save(w / "png_sizes" / f"{i:03d}.png")
        Image.fromarray(x[i]).save(w / "png_text" / f"{i:03d}.png")
    _damage(w / "png_truncated" / "007.png", "truncate")
    _damage(w / "png_text" / "011.png", "text")
    for i in range(400):  # more files than the 256 a case's process may keep open
        Image.fromarray(x[i % len(x)]).save(w / "many" / f"{i:04d}.png")
    (w / "notes").mkdir(exist_ok=True)
    (w / "notes" / "a.txt").write_text("not an image")
    (w / "notes.txt").write_text("not data")
    (w / "afile").write_text("a file where a folder belongs")
    (w / "afile.png").write_bytes(b"an existing output")
    (w / "adir.png").mkdir(exist_ok=True)
    (w / "text.h5").write_text("not a model")
    # photos for crop-faces
    photos = w / "photos"
    photos.mkdir(exist_ok=True)
    rng = np.random.default_rng(2)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (80, 80, 3)).astype(np.uint8)).save(photos / f"p{i}.png")
    Image.new("L", (3000, 3000)).save(photos / "huge.png")  # 9 megapixels: above --max-pixels 1000000


MODELS = """
import numpy as np, keras, gans
z = keras.Input((8,))
keras.Model(z, keras.layers.Dense(784)(z)).save("flat.h5")
x = keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="tanh")(z))
nan = keras.Model(z, x)
nan.set_weights([np.full(w.shape, np.nan, np.float32) for w in nan.get_weights()])
nan.save("nan_generator.h5")
label = keras.Input((10,), name="label")
zc = keras.Input((8,), name="z")
image = keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="tanh")(
    keras.layers.Concatenate()([zc, label])))
keras.Model([zc, label], image, name="generator").save("conditional.h5")
"""


def make_workspace(w: Path, mode: str = "spawn", driver=None) -> None:
    """Data files, two generator files and the trained run ``R`` every run case copies or guards."""
    w = Path(w)
    make_data(w)
    env = {**os.environ, **CHECKOUT_ENV, "TF_CPP_MIN_LOG_LEVEL": "3"}
    # The models and the crop parts in processes of their own, beside the training: the fork driver's
    # process must start no TensorFlow or OpenCV threads before it forks.
    helpers = [subprocess.Popen([sys.executable, "-c", MODELS], cwd=w, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE),
               subprocess.Popen([sys.executable, __file__, "--make-crop-parts", str(w)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)]
    argv = ["train", "--experiment", "3", "--data", "D.npz", "--steps", "20", "--checkpoint-every", "10",
            "--sample-every", "10", "--out", "R", "--no-progress"]
    result = (driver or run_spawn)(Case("workspace_R", argv), w)
    if result.status != 0:
        raise RuntimeError(f"could not train the workspace's run: {result.stderr[-2000:]}")
    for helper in helpers:
        _, err = helper.communicate()
        if helper.returncode != 0:
            raise RuntimeError(f"could not make the workspace's models or crop parts: {err.decode()[-2000:]}")


def make_crop_parts(w: Path) -> None:
    """The parts folder of a crop run (``crop.npz.parts``), for the crop-faces cases to damage."""
    try:
        import cv2  # noqa: F401  (crop-faces needs the face extra)
    except ImportError:
        return
    from gans.datasets.faces import crop_faces

    class NoFaces:
        def detect_faces(self, images, **kwargs):
            return [[] for _ in images]

    # A finished run that kept its parts; without crop.npz the command resumes from them.
    crop_faces(w / "photos", w / "crop.npz", 24, chunk_size=2, batch_size=2, detector=NoFaces(), progress=False,
               keep_parts=True)
    (w / "crop.npz").unlink()


def _copy_run(name: str, damage: Callable[[Path], None] | None = None, source: str = "R"):
    def setup(w: Path) -> None:
        target = w / "runs" / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(w / source, target)
        if damage is not None:
            damage(target)

    return setup


# A progressive run to 16x16 with one step per phase (4 faces of the workspace's 24, 4 filters).
PGGAN = ["train", "pggan", "--data", "{W}/faces.npz", "--images-per-phase", "4", "--latent-dim", "4", "--no-tensorboard",
         "--no-progress"]


def _pggan(target: int) -> list[str]:
    """PGGAN to ``target``, with one batch size and one filter count (4) per resolution from 4x4."""
    n = target.bit_length() - 2  # 4 -> 1, 8 -> 2, 16 -> 3, 32 -> 4
    return [*PGGAN, "--target-resolution", str(target), "--batch-sizes", *["4"] * n, "--filters", *["4"] * n]


def _pggan_run(w: Path) -> None:
    """Train the app cases' progressive run ``P`` (once per workspace), in a process of its own: the
    fork driver's process must start no TensorFlow threads before it forks."""
    if (w / "P" / "checkpoints" / "generator_16x16_stable.h5").is_file():
        return
    shutil.rmtree(w / "P", ignore_errors=True)
    argv = [a.replace("{W}", str(w)) for a in (*_pggan(16), "--out", "{W}/P")]
    done = subprocess.run([sys.executable, "-m", "gans.cli", *argv], cwd=w, capture_output=True, text=True,
                          env={**os.environ, **CHECKOUT_ENV, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if done.returncode != 0:
        raise RuntimeError(f"could not train the app cases' progressive run: {done.stderr[-2000:]}")


def _gans_setup(w: Path, what: str, *argvs: list[str]) -> None:
    """Run set-up ``gans`` commands for a group of cases, each in a process of its own (the fork
    driver's process must start no TensorFlow threads before it forks)."""
    for argv in argvs:
        done = subprocess.run([sys.executable, "-m", "gans.cli", *(a.replace("{W}", str(w)) for a in argv)], cwd=w,
                              capture_output=True, text=True,
                              env={**os.environ, **CHECKOUT_ENV, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if done.returncode != 0:
            raise RuntimeError(f"could not make {what}: gans {' '.join(argv)}: {done.stderr[-2000:]}")


def _utk_faces(w: Path) -> None:
    """60 faces with UTKFace names (ages 1-90, both genders), smooth enough for a CAAE to start on."""
    from PIL import Image

    folder = w / "utk"
    if folder.is_dir():
        return
    folder.mkdir()
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:40, :40]
    for i in range(60):
        age = 1 + (i * 37) % 90
        face = np.stack([np.full((40, 40), 40 + 2 * age), 128 + 60 * np.sin(xx / (3 + i % 5)),
                         128 + 60 * np.cos(yy / (3 + i % 7))], -1) + rng.normal(0, 5, (40, 40, 3))
        Image.fromarray(np.clip(face, 0, 255).astype(np.uint8)).save(
            folder / f"{age}_{i % 2}_{i % 5}_201701{i:02d}000000000.jpg.chip.jpg")


def _caae_runs(w: Path) -> None:
    """A one-epoch CAAE run ``C`` on the UTKFace-named faces and two age classifiers: one on a 40-face
    sample (so it saw some of C's validation faces) and one trained with --hold-out C (once per workspace)."""
    if (w / "agec_held" / "age_classifier.h5").is_file():
        return
    _utk_faces(w)
    for name in ("C", "agec_l40", "agec_held"):
        shutil.rmtree(w / name, ignore_errors=True)
    age = ["train-age-classifier", "--data", "{W}/utk", "--image-size", "32", "--epochs", "1"]
    _gans_setup(w, "the age-agreement cases' CAAE run and age classifiers",
                ["train", "caae", "--data", "{W}/utk", "--image-size", "32", "--epochs", "1", "--encoder-filters", "4",
                 "--generator-filters", "32", "--batch-size", "8", "--no-progress", "--no-tensorboard", "--out", "{W}/C"],
                [*age, "--limit", "40", "--out", "{W}/agec_l40"], [*age, "--hold-out", "{W}/C", "--out", "{W}/agec_held"])


def _attribute_run(w: Path) -> None:
    """A two-step attribute GAN run ``A`` and its classifier ``clfA`` on the CelebA root (once per workspace)."""
    if (w / "A" / "checkpoints").is_dir() and any((w / "A" / "checkpoints").glob("generator_*.h5")):
        return
    _celeba_root(w)
    for name in ("A", "clfA"):
        shutil.rmtree(w / name, ignore_errors=True)
    _gans_setup(w, "the attribute run",
                ["train-classifier", "celeba", "--data", "{W}/celeba_root", "--epochs", "1", "--image-size", "16", "16",
                 "--no-progress", "--out", "{W}/clfA"],
                ["train", "attribute", "--data", "{W}/celeba_root", "--classifier", "{W}/clfA/classifier.h5",
                 "--image-size", "16", "16", "--steps", "2", "--batch-size", "4", "--no-progress", "--no-tensorboard",
                 "--out", "{W}/A"])


def _no_overlap_note(w: Path, r: "Result") -> str | None:
    if "training set" in r.stdout + r.stderr:
        return "a classifier trained with --hold-out was said to have seen validation faces"
    return None if (w / "agree_held.csv").is_file() else "agree_held.csv was not written"


def _read_only(w: Path) -> None:
    (w / "read_only").mkdir(exist_ok=True)
    os.chmod(w / "read_only", 0o555)


def _copy_parts(name: str, damage: Callable[[Path], None]):
    def setup(w: Path) -> None:
        source = w / "crop.npz.parts"
        target = w / f"{name}.npz.parts"
        if target.exists():
            shutil.rmtree(target)
        if source.exists():
            shutil.copytree(source, target)
            damage(target)

    return setup


# ---------------------------------------------------------------------------------------------- checks
def _fid_about_zero(w: Path, r: Result) -> str | None:
    found = re.search(r"FID (\S+)", r.stdout)
    if not found:
        return f"no FID printed: {r.stdout[-200:]!r}"
    return None if abs(float(found.group(1))) < 1e-3 else f"FID {found.group(1)} where the images are the same"


def _trained_on_d(labels: bool = True):
    """The run's images are exactly D.npz's digits: its config.json records their SHA-1 (with the labels)."""

    def check(w: Path, r: Result) -> str | None:
        config = json.loads((w / "runs" / r.name / "config.json").read_text())
        x, y = _blobs()
        digest = hashlib.sha1(np.ascontiguousarray(x[..., None]).data)
        if labels:
            digest.update(np.ascontiguousarray(y.astype(np.int64)).data)
        got = config["run"].get("data_sha1")
        return None if got == digest.hexdigest() else f"trained on other pixels than the digits (fingerprint {got})"

    return check


def _config_steps(steps: int):
    def check(w: Path, r: Result) -> str | None:
        config = json.loads((w / "runs" / r.name / "config.json").read_text())
        return None if config["steps"] == steps else f"config.json says {config['steps']} steps, expected {steps}"

    return check


def _diverged_at(step: int):
    def check(w: Path, r: Result) -> str | None:
        path = w / "runs" / r.name / "diagnostics.json"
        if not path.exists():
            return "no diagnostics.json"
        found = json.loads(path.read_text())
        if found["verdict"] != "diverged" or found["began_at_step"] != step:
            return f"diagnosed {found['verdict']!r} from step {found['began_at_step']}, not diverged at {step}"
        return None

    return check


def _report_lists_skips(count: int):
    def check(w: Path, r: Result) -> str | None:
        report = (w / r.name / "fid_report.md").read_text()
        if f"Skipped: {count} run folder" not in report:
            return f"fid_report.md does not list {count} skipped run folder(s)"
        if r.stderr.count("skipped") < count:
            return "the skips are not said on stderr"
        return None

    return check


def _report_setup(kind: str):
    def setup(w: Path) -> None:
        root = w / f"report_{kind}"
        if root.exists():
            shutil.rmtree(root)
        for run in ("good", "bad"):
            (root / run).mkdir(parents=True)
            (root / run / "config.json").write_text(json.dumps({"experiment": 3, "dataset": "mnist"}))
            (root / run / "fid.csv").write_text("step,fid,extractor\n10,50.5,lenet\n20,40.25,lenet\n")
        bad = root / "bad"
        if kind == "config":
            (bad / "config.json").write_text('{"experiment": 3, "dataset": ')
        elif kind == "config_list":
            (bad / "config.json").write_text("[1, 2]")
        elif kind == "fid_number":
            (bad / "fid.csv").write_text("step,fid,extractor\n10,fifty,lenet\n")
        elif kind == "fid_columns":
            (bad / "fid.csv").write_text("step,value\n10,50\n")
        elif kind == "diagnosis":
            (bad / "diagnostics.json").write_text("{broken")

    return setup


def _manifest_has(reason: str, output: str):
    def check(w: Path, r: Result) -> str | None:
        manifest = w / f"{output}.skipped.csv"
        if not manifest.exists():
            return f"no manifest {manifest.name}"
        return None if reason in manifest.read_text() else f"{manifest.name} has no {reason!r} row"

    return check


def _file_exists(name: str):
    return lambda w, r: None if (w / name).is_file() else f"{name} was not written"


def _stdout_has(text: str):
    return lambda w, r: None if text in r.stdout else f"stdout lacks {text!r}"


def _static_contract(relative: str, resolution: int):
    """The export and its contract exist, and the contract declares static shapes [1, 4] -> [1, R, R, 3]."""

    def check(w: Path, r: Result) -> str | None:
        contract = w / f"{relative}.json"
        if not (w / relative).exists() or not contract.is_file():
            return f"{relative} or its contract was not written"
        found = json.loads(contract.read_text())
        shapes = found["input"]["shape"], found["output"]["shape"]
        return None if shapes == ([1, 4], [1, resolution, resolution, 3]) else f"the contract declares {shapes}"

    return check


def _grown(old: int, new: int):
    """The grown run reached ``new`` with a generator to show for it, and config.json records the growth."""

    def check(w: Path, r: Result) -> str | None:
        run = w / "runs" / r.name
        growth = json.loads((run / "config.json").read_text())["run"].get("growth")
        if not growth or (growth[-1]["from"], growth[-1]["to"]) != (old, new):
            return f"config.json records the growth as {growth}"
        stable = run / "checkpoints" / f"generator_{new}x{new}_stable.h5"
        return None if stable.is_file() else f"no {stable.name}"

    return check


def _damage_state(how: str):
    def damage(run: Path) -> None:
        state = run / "state" / "state.npz"
        if how == "meta":
            np.savez(state, meta=np.array("{not json"))
        else:
            _damage(state, how)

    return damage


def _celeba_root(w: Path) -> None:
    """A CelebA root as the release and torchvision lay it out: img_align_celeba/ and list_attr_celeba.txt."""
    from PIL import Image

    root = w / "celeba_root"
    (root / "img_align_celeba").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    rows = []
    for i in range(1, 7):
        Image.fromarray(rng.integers(0, 256, (20, 16, 3)).astype(np.uint8)).save(root / "img_align_celeba" / f"{i:06d}.jpg")
        rows.append(f"{i:06d}.jpg " + " ".join("1" if (i + k) % 3 == 0 else "-1" for k in range(40)))
    names = " ".join(f"attr_{k}" for k in range(40))
    (root / "list_attr_celeba.txt").write_text("\r\n".join(["6", names, *rows]))


def _unmeasured_runs(w: Path) -> None:
    """A folder of one run that measured no FID (config.json, no fid.csv)."""
    run = w / "report_unmeasured" / "run"
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps({"experiment": 3, "dataset": "mnist"}))


def _nothing_written(folder: str, names: set[str]):
    def check(w: Path, r: Result) -> str | None:
        found = {p.name for p in (w / folder).iterdir()} - names
        return f"wrote {sorted(found)}" if found else None

    return check


def _write(relative: str, text: str):
    return lambda run: (run / relative).write_text(text)


def _used(name: str, *files: str | tuple[str, str]):
    """Setup: ``ow/NAME`` holding ``files`` (relative paths, or (path, text) pairs), as an earlier run of a
    command left them."""
    def setup(w: Path) -> None:
        folder = w / "ow" / name
        shutil.rmtree(folder, ignore_errors=True)
        for file in files:
            relative, text = file if isinstance(file, tuple) else (file, "an earlier result")
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)

    return setup


def _only_files(folder: str, names: list[str]):
    """Check: ``folder`` holds exactly ``names`` (relative paths): no file of the earlier run stayed."""
    def check(w: Path, r: Result) -> str | None:
        found = sorted(p.relative_to(w / folder).as_posix() for p in (w / folder).rglob("*") if p.is_file())
        return None if found == sorted(names) else f"{folder} holds {found}, expected {sorted(names)}"

    return check


def _stale_lock(run: Path) -> None:
    (run / "run.lock").write_text(json.dumps({"pid": 999999, "host": "gone", "started": "earlier",
                                              "command": "gans train (killed)"}))


# ---------------------------------------------------------------------------------------------- the cases
T3 = ["train", "--experiment", "3", "--no-progress"]
ORIGINAL = [*T3, "--data", "{W}/D.npz", "--steps", "20", "--checkpoint-every", "10", "--sample-every", "10"]


def _run(name: str) -> list[str]:
    return ["--out", f"{{W}}/runs/{name}"]


def cases() -> list[Case]:
    """Every hostile case (about 120)."""
    c: list[Case] = []
    add = c.append
    # ---- arguments: answered by the parser before Keras loads
    for name, argv, match in [
        ("args_epochs_zero", ["train", "--epochs", "0"], r"--epochs: must be >= 1, got 0"),
        ("args_steps_negative", ["train", "--steps", "-5"], r"--steps: must be >= 1"),
        ("args_lr_inf", ["train", "--lr", "inf"], r"learning rate must be > 0 and finite"),
        ("args_lr_nan", ["train", "--lr", "nan"], r"learning rate must be > 0 and finite"),
        ("args_d_lr_negative", ["train", "--d-lr", "-1"], r"learning rate must be > 0"),
        ("args_beta1_one", ["train", "--beta1", "1"], r"beta1 must be >= 0 and < 1"),
        ("args_fid_n_one", ["train", "--fid-n", "1"], r"--fid-n: must be >= 2"),
        ("args_batch_zero", ["train", "--batch-size", "0"], r"--batch-size: must be >= 1"),
        ("args_seed_negative", ["train", "--seed", "-1"], r"--seed: must be >= 0"),
        ("args_smoothing_inf", ["train", "--label-smoothing", "inf"], r"label smoothing must be finite"),
        ("args_steps_text", ["train", "--steps", "many"], r"expected a whole number"),
        ("args_fid_n_one_fid", ["fid", "a", "b", "--n", "1"], r"--n: must be >= 2"),
        ("args_sample_n_zero", ["sample", "g.h5", "--n", "0"], r"--n: must be >= 1"),
        ("args_crop_size_zero", ["crop-faces", "src", "out.npz", "--size", "0"], r"--size: must be >= 1"),
        ("args_crop_confidence", ["crop-faces", "src", "out.npz", "--min-confidence", "2"], r"min confidence must"),
        ("args_unknown_command", ["nosuch"], r"invalid choice"),
        ("args_missing_source", ["fid"], r"required: A"),
        ("args_frozen_batchnorm_unknown", ["train", "--frozen-batchnorm", "running"],
         r"--frozen-batchnorm: invalid choice: 'running'"),
        ("args_precision_unknown", ["train", "--precision", "float16"],
         r"--precision: invalid choice: 'float16' \(choose from 'float32', 'mixed_float16', 'mixed_bfloat16'\)"),
    ]:
        add(Case(name, argv, match, item="smaller: argument checks"))
    add(Case("args_steps_and_epochs", ["train", "-e", "3", "--steps", "5", "--epochs", "2"], "not both",
             item="smaller: argument checks"))
    add(Case("args_no_experiment", ["train"], "give either --experiment N or a VARIANT", item="argument checks"))
    add(Case("args_experiment_unknown", ["train", "-e", "99"], "unknown experiment 99", item="argument checks"))

    # ---- training data: every image entry point checks dtype, range and shape in one function
    data_errors = [
        ("train_data_text", "mnist_text.npz", "not a NumPy .npz or .npy file", "MNIST .npz that is a text file"),
        ("train_data_truncated", "mnist_truncate.npz", "not a complete .npz archive", "truncated MNIST .npz"),
        ("train_data_corrupt", "mnist_corrupt.npz", "is damaged", "corrupt MNIST .npz"),
        ("train_data_empty", "mnist_empty.npz", "is an empty file", "empty MNIST .npz"),
        ("train_data_object", "mnist_object.npz", "object arrays", "MNIST .npz holding objects"),
        ("train_data_int_wide", "mnist_int_wide.npz", "outside 0-255", "item 4: wide integers wrapped"),
        ("train_data_uint16_8bit", "mnist_uint16_8bit.npz", "8-bit pixels stored as 16-bit", "item 4: uint16"),
        ("train_data_bool", "mnist_bool.npz", "not pixels", "item 4: booleans"),
        ("train_data_nan", "mnist_nan.npz", "NaN or infinite", "item 4/6: NaN pixels"),
        ("train_data_labels_short", "mnist_labels_short.npz", "one class label", "labels that do not fit"),
        ("train_data_labels_nan", "mnist_labels_nan.npz", "one class label", "NaN labels"),
        ("train_data_not_28", "mnist_32.npz", "28x28", "MNIST of another size"),
        ("train_data_one_rgb_image", "one_rgb.npy", "one 28x28 image with 3 channels", "item 5: (H, W, 3)"),
        ("train_data_two_channels", "two_channels.npz", "C = 1 or 3", "two channels"),
        ("train_data_missing", "nothing.npz", "does not exist", "missing data"),
        ("train_data_txt", "notes.txt", "neither a folder of IDX files nor an .npz", "a text file as data"),
    ]
    for name, data, match, item in data_errors:
        add(Case(name, [*T3, "--steps", "2", "--data", f"{{W}}/{data}", *_run(name)], match, item=item))
    for name, data, item in [
        ("train_data_float01", "mnist_float01.npz", "item 4: floats in [0, 1] were cast to zeros"),
        ("train_data_float_tanh", "mnist_float_tanh.npz", "item 4: floats in [-1, 1]"),
        ("train_data_int64", "mnist_int64.npz", "item 4: int64 within 0-255"),
        ("train_data_uint16", "mnist_uint16.npz", "item 4: full-range uint16 (divided by 257)"),
        ("train_data_npy", "set.npy", "smaller: load_images takes .npy, the CLI refused it"),
    ]:
        add(Case(name, [*T3, "--steps", "2", "--data", f"{{W}}/{data}", *_run(name)], None, item=item,
                 check=_trained_on_d(labels=not data.endswith(".npy"))))
    add(Case("train_faces_float01", ["train", "-e", "17", "--steps", "2", "--batch-size", "8", "--no-progress",
                                     "--data", "{W}/faces_float01.npz", *_run("train_faces_float01")], None,
             item="item 4: float face crops", check=_file_exists("runs/train_faces_float01/config.json")))
    add(Case("train_faces_text", ["train", "-e", "17", "--data", "{W}/fid_text.npz", *_run("train_faces_text")],
             "not a NumPy", item="faces .npz that is a text file"))

    # ---- where the run goes
    add(Case("train_out_is_file", [*T3, "--steps", "2", "--data", "{W}/D.npz", "--out", "{W}/afile"],
             "is a file", item="--out that is a file"))
    add(Case("train_out_under_file", [*T3, "--steps", "2", "--data", "{W}/D.npz", "--out", "{W}/afile/run"],
             "Not a directory", item="--out inside a file"))
    add(Case("train_out_read_only", [*T3, "--steps", "2", "--data", "{W}/D.npz", "--out", "{W}/read_only/run"],
             "Permission denied", item="--out in a read-only folder", needs_root_off=True,
             setup=lambda w: ((w / "read_only").mkdir(exist_ok=True), os.chmod(w / "read_only", 0o555))))

    # ---- an existing run: refused commands change nothing; a resume changes nothing but the length
    refusals = [
        ("run_again_without_resume", [*T3, "--data", "{W}/D.npz", "--lr", "0.01", "--batch-size", "16",
                                      "--steps", "40"], "already holds a run", "item 1: a refused train"),
        ("run_resume_other_settings", [*T3, "--data", "{W}/D.npz", "--lr", "0.01", "--batch-size", "16",
                                       "--steps", "40", "--resume"], r"batch_size was 32, now 16",
         "item 1: resume with other settings"),
        ("run_resume_other_seed", [*ORIGINAL, "--resume", "--seed", "1"], r"run\.seed was 0, now 1", "item 2: seed"),
        ("run_resume_other_data", [*T3, "--data", "{W}/E.npz", "--steps", "20", "--checkpoint-every", "10",
                                   "--sample-every", "10", "--resume"], r"run\.data_source was", "item 2: data"),
        ("run_resume_other_batch_mode", [*ORIGINAL, "--resume", "--batch-mode", "epoch"],
         r"run\.batch_mode was \"random\", now \"epoch\"", "item 2: batch mode"),
        ("run_resume_other_interval", [*ORIGINAL, "--resume", "--sample-every", "7"], r"run\.sample_every was 10",
         "item 2: what the run records"),
        ("run_resume_other_frozen_batchnorm", [*ORIGINAL, "--resume", "--frozen-batchnorm", "batch"],
         r"frozen_batchnorm was \"moving\", now \"batch\"", "frozen batch norm: another setting is another run"),
        ("run_resume_other_precision", [*ORIGINAL, "--resume", "--precision", "mixed_bfloat16"],
         r"precision was \"float32\", now \"mixed_bfloat16\"", "precision: another dtype policy is another run"),
        ("run_resume_fewer_steps", [*ORIGINAL[:-6], "--steps", "10", "--checkpoint-every", "10", "--sample-every",
                                    "10", "--resume"], "can only extend", "smaller: --resume --steps 10 at step 20"),
    ]
    for name, argv, match, item in refusals:
        add(Case(name, [*argv, *_run(name)], match, item=item, guard=f"runs/{name}", setup=_copy_run(name)))
    add(Case("run_resume_nothing_to_do", [*ORIGINAL, "--resume", *_run("run_resume_nothing_to_do")], None,
             item="item 1: the original with --resume is accepted", guard="runs/run_resume_nothing_to_do",
             setup=_copy_run("run_resume_nothing_to_do")))
    add(Case("run_resume_extends", [*ORIGINAL[:-6], "--steps", "24", "--checkpoint-every", "10", "--sample-every",
                                    "10", "--resume", *_run("run_resume_extends")], None,
             item="item 2: --steps may extend", setup=_copy_run("run_resume_extends"), check=_config_steps(24)))
    add(Case("run_resume_default_length", [*T3, "--data", "{W}/D.npz", "--checkpoint-every", "10", "--sample-every",
                                           "10", "--resume", *_run("run_resume_default_length")], None,
             item="a resume without --steps keeps the run's length", guard="runs/run_resume_default_length",
             setup=_copy_run("run_resume_default_length")))
    add(Case("run_resume_moved_data", [*T3, "--data", "{W}/Dcopy.npz", "--steps", "24", "--checkpoint-every", "10",
                                       "--sample-every", "10", "--resume", *_run("run_resume_moved_data")], None,
             item="item 2: the same digits under another path", setup=_copy_run("run_resume_moved_data"),
             check=_config_steps(24)))
    damaged = [
        ("run_state_truncated", _damage_state("truncate"), "is damaged", True),
        ("run_state_corrupt", _damage_state("corrupt"), "is damaged", True),
        ("run_state_text", _damage_state("text"), "is damaged", True),
        ("run_state_empty", _damage_state("empty"), "is damaged", True),
        ("run_state_meta", _damage_state("meta"), "not a training state", True),
        ("run_state_truncated_no_resume", _damage_state("truncate"), "is damaged", False),
        ("run_config_corrupt", _write("config.json", '{"steps": 2'), "cannot read .*config.json", True),
        ("run_config_list", _write("config.json", "[1, 2]"), "not a run's config.json", True),
    ]
    for name, damage, match, resume in damaged:
        add(Case(name, [*ORIGINAL, *(["--resume"] if resume else []), *_run(name)], match,
                 item="a damaged run folder", guard=f"runs/{name}", setup=_copy_run(name, damage)))
    add(Case("run_locked", [*ORIGINAL, "--resume", "--steps", "24", *_run("run_locked")], r"in use by process \d+",
             item="item 3: two processes in one run folder", guard="runs/run_locked", setup=_copy_run("run_locked"),
             hold_lock="runs/run_locked"))
    add(Case("run_stale_lock", [*ORIGINAL[:-6], "--steps", "24", "--checkpoint-every", "10", "--sample-every", "10",
                                "--resume", *_run("run_stale_lock")], None,
             item="item 3: a lock left by a killed process is taken over",
             setup=_copy_run("run_stale_lock", _stale_lock), check=_config_steps(24)))
    for name, lr, step in (("run_diverges_at_1", "1e30", 1), ("run_diverges_later", "1e4", 2)):
        add(Case(name, ["train", "lsgan", "--lr", lr, "--d-lr", lr, "--steps", "30", "--batch-size", "16",
                        "--sample-every", "5", "--data", "{W}/D.npz", "--no-progress", *_run(name)],
                 rf"training diverged at step {step}", item="items 8, 9: a diverged run", logs=True,
                 check=_diverged_at(step)))

    # ---- fid: every loader
    fid_errors = [
        ("fid_u16_8bit", "fid_u16_8bit.npz", "8-bit pixels stored as 16-bit", "uint16 holding 8-bit values"),
        ("fid_inf", "fid_inf.npz", "NaN or infinite", "item 6: infinite pixels"),
        ("fid_nan", "fid_nan.npz", "NaN or infinite", "item 6: NaN pixels"),
        ("fid_wide", "fid_wide.npz", "outside 0-255", "integers outside 0-255"),
        ("fid_truncated", "fid_truncate.npz", "not a complete .npz archive", "truncated .npz"),
        ("fid_corrupt", "fid_corrupt.npz", "is damaged", "corrupt .npz"),
        ("fid_text", "fid_text.npz", "not a NumPy .npz or .npy file", "text file named .npz"),
        ("fid_empty", "fid_empty.npz", "is an empty file", "empty .npz"),
        ("fid_object", "fid_object.npz", "object arrays", ".npz of objects"),
        ("fid_two_arrays", "fid_two_arrays.npz", "name the image array 'images'", "no images array"),
        ("fid_one_rgb_image", "one_rgb.npy", "one 28x28 image with 3 channels", "item 5: (H, W, 3) .npy"),
        ("fid_stats_mu2d", "stats_mu2d.npz", "do not describe one Gaussian", "statistics: mu 2-d"),
        ("fid_stats_sigma", "stats_sigma_shape.npz", "do not describe one Gaussian", "statistics: sigma shape"),
        ("fid_stats_text", "stats_mu_text.npz", "do not describe one Gaussian", "statistics: text mu"),
        ("fid_stats_n", "stats_n_array.npz", "n must be one whole number", "statistics: n an array"),
        ("fid_stats_extractor", "stats_extractor_int.npz", "extractor must be the extractor's name",
         "statistics: extractor"),
        ("fid_stats_nan", "stats_nan.npz", "NaN or infinite", "statistics: NaN mu"),
        ("fid_png_truncated", "png_truncated", "cannot read image .*007.png", "a truncated PNG in a folder"),
        ("fid_png_text", "png_text", "cannot read image .*011.png", "a text file named .png"),
        ("fid_png_sizes", "png_sizes", "different sizes", "images of different sizes"),
        ("fid_no_images", "notes", "no image files", "a folder without images"),
        ("fid_txt", "notes.txt", "cannot compute an FID from a .txt file", "a text file"),
        ("fid_missing", "nothing.npz", "does not exist", "a missing file"),
        ("fid_generator_text", "text.h5", "cannot load .*text.h5 as a Keras model", "a text file named .h5"),
        ("fid_generator_nan", "nan_generator.h5", "NaN or infinite", "item 6: a generator of NaN pixels"),
    ]
    for name, source, match, item in fid_errors:  # (a generator's images are checked after LeNet loads)
        add(Case(name, ["fid", f"{{W}}/{source}", "{W}/D.npz", "--n", "50", *LENET], match, item=item,
                 logs=source.endswith(".h5")))
    add(Case("fid_second_source_bad", ["fid", "{W}/D.npz", "{W}/fid_text.npz", "--n", "50", *LENET],
             "not a NumPy", item="the second source is checked before features are computed"))
    add(Case("fid_stats_mixed", ["fid", "{W}/stats_ok_a.npz", "{W}/stats_ok_b.npz"],
             "different extractors", item="statistics of two extractors"))
    add(Case("fid_save_stats_file", ["fid", "{W}/D.npz", "--save-stats", "{W}/afile", *LENET], "is a file",
             item="--save-stats that is a file"))
    for name, source, item in [
        ("fid_float255", "fid_f255.npz", "float [0, 255] (was a traceback)"),
        ("fid_float01", "fid_f01.npz", "floats in [0, 1]"),
        ("fid_uint16", "fid_u16.npz", "uint16 (was a traceback)"),
        ("fid_png16", "png16", "item 7: 16-bit PNGs scaled, not clipped (FID 17.9 before)"),
        ("fid_npy", "set.npy", "an .npy of images"),
    ]:
        add(Case(name, ["fid", f"{{W}}/{source}", f"{{W}}/{'png8' if 'png' in source else 'D.npz'}", "--n", "50",
                        *LENET], None, item=item, check=_fid_about_zero))
    add(Case("fid_many_files", ["fid", "{W}/many", "{W}/many", "--n", "400", *LENET], None, nofile=256,
             item="resources: a folder of more files than the open-file limit", check=_fid_about_zero))

    # ---- report
    for kind, count, item in [("config", 1, "corrupt config.json"), ("config_list", 1, "config.json not an object"),
                              ("fid_number", 1, "smaller: a malformed fid.csv is a listed skip"),
                              ("fid_columns", 1, "fid.csv with other columns")]:
        name = f"report_{kind}"
        add(Case(name, ["report", f"{{W}}/{name}"], None, item=item, setup=_report_setup(kind),
                 check=_report_lists_skips(count)))
    add(Case("report_diagnosis", ["report", "{W}/report_diagnosis"], None, item="a corrupt diagnostics.json",
             setup=_report_setup("diagnosis"), check=_file_exists("report_diagnosis/fid_report.md")))
    add(Case("report_out_file", ["report", "{W}/R", "--out", "{W}/afile"], "is a file", item="report --out a file"))
    add(Case("report_missing", ["report", "{W}/nothing"], "is not a folder", item="report of a missing folder"))

    # ---- sample
    g = "{W}/R/checkpoints/generator_step_000020.h5"
    for name, argv, match, item in [
        ("sample_out_folder", [g, "--out", "{W}/adir.png"], "is a folder", "sample --out a folder"),
        ("sample_out_jpg", [g, "--out", "{W}/grid.jpg"], "must end in .png", "smaller: PNG written as .jpg"),
        ("sample_out_exists", [g, "--out", "{W}/afile.png"], "already exists; pass --overwrite",
         "smaller: --out overwrote any file"),
        ("sample_out_under_file", [g, "--out", "{W}/afile/grid.png"], "afile is a file", "--out inside a file"),
        ("sample_npz_exists", [g, "--out", "{W}/s1.png", "--npz", "{W}/fid_f255.npz"], "already exists",
         "--npz overwrote any file"),
        ("sample_flat_model", ["{W}/flat.h5", "--out", "{W}/flat.png"], r"outputs \(None, 784\), not images",
         "a model with a flat output"),
        ("sample_text_model", ["{W}/text.h5", "--out", "{W}/t.png"], "cannot load", "a text file named .h5"),
        ("sample_missing_model", ["{W}/nothing.h5", "--out", "{W}/t.png"], "does not exist", "a missing checkpoint"),
        ("sample_labels_unconditional", [g, "--label", "3", "--out", "{W}/l.png"], "not conditional",
         "labels for an unconditional generator"),
    ]:
        add(Case(name, ["sample", *argv], match, item=item))
    add(Case("sample_out_new_folder", ["sample", g, "--n", "4", "--out", "{W}/new/folder/grid.png"], None,
             item="sample --out in a missing folder", check=_file_exists("new/folder/grid.png")))
    add(Case("sample_overwrite", ["sample", g, "--n", "4", "--out", "{W}/over.png", "--overwrite"], None,
             item="--overwrite replaces", setup=lambda w: (w / "over.png").write_bytes(b"old"),
             check=lambda w, r: None if (w / "over.png").stat().st_size > 100 else "over.png not replaced"))

    # ---- crop-faces: a damaged parts folder is refused before anything is built; huge photos skipped
    crop = ["--size", "24", "--chunk-size", "2", "--batch-size", "2", "--no-progress"]
    for name, damage, match in [
        ("crop_state_corrupt", lambda p: (p / "state.json").write_text("{not json"), "cannot read .*state.json"),
        ("crop_chunk_truncated", lambda p: _damage(p / "chunk_00000.npz", "truncate"), "chunk_00000.npz"),
        ("crop_chunk_text", lambda p: _damage(p / "chunk_00000.npz", "text"), "chunk_00000.npz"),
        ("crop_chunk_foreign", lambda p: np.savez(p / "chunk_00000.npz", images=np.zeros((1, 24, 24, 3), np.uint8)),
         "not a chunk of a crop run"),
    ]:
        add(Case(name, ["crop-faces", "{W}/photos", f"{{W}}/{name}.npz", *crop], match,
                 item="crop-faces: a damaged parts folder", setup=_copy_parts(name, damage)))
    add(Case("crop_src_file", ["crop-faces", "{W}/notes.txt", "{W}/c.npz"], "is a file", item="crop-faces SRC a file"))
    add(Case("crop_out_not_npz", ["crop-faces", "{W}/photos", "{W}/c.png"], "must end in .npz", item="OUT not .npz"))
    add(Case("crop_too_many_pixels", ["crop-faces", "{W}/photos", "{W}/crop_too_many_pixels.npz", "--max-pixels",
                                      "1000000", *crop], None, ok_status=1,  # no face in noise: exit 1
             item="resources: a huge photo is skipped before decoding",
             check=_manifest_has("too_large", "crop_too_many_pixels")))

    # ---- the app: gans export and gans demo on a tiny progressive run P (4x4 to 16x16), and growing it
    BEFORE = {"tflite": ("", "; a Flex-op traceback before"), "keras": ("", ""),
              "savedmodel": ("; TensorFlow's PermissionDeniedError traceback before", "")}
    for fmt, name in (("tflite", "face.tflite"), ("savedmodel", "face_savedmodel"), ("keras", "face.keras")):
        export = ["export", "{W}/P", "--resolution", "8", "--format", fmt, "--out"]
        add(Case(f"app_export_read_only_{fmt}", [*export, f"{{W}}/read_only/{name}"],
                 r"cannot write in .*read_only \(Permission denied\)", item=f"a read-only output folder ({fmt})",
                 needs_root_off=True, setup=lambda w: (_pggan_run(w), _read_only(w))))
        add(Case(f"app_export_system_{fmt}", [*export, f"/sys/gans-hostile/{name}"],
                 r"cannot write in /sys/gans-hostile",  # refused before the run is read: no P needed
                 item=f"an output where nobody may write, root included ({fmt}{BEFORE[fmt][0]})"))
        add(Case(f"app_export_16_{fmt}", ["export", "{W}/P", "--resolution", "16", "--format", fmt, "--out",
                                          f"{{W}}/app/{name}", "--overwrite"], None, setup=_pggan_run,
                 item=f"a 16x16 export ({fmt}{BEFORE[fmt][1]})",
                 check=_static_contract(f"app/{name}", 16)))
    add(Case("app_export_resolution_not_reached", ["export", "{W}/P", "--resolution", "32", "--format", "tflite",
                                                   "--out", "{W}/app/face32.tflite"],
             "has no generator at 32x32; it has 4x4, 8x8, 16x16", item="a resolution the run never reached",
             setup=_pggan_run))
    add(Case("app_demo_port_range", ["demo", "{W}/P", "--port", "70000"],
             r"--port must be a whole number from 0 to 65535 \(0 picks a free port\), got 70000",
             item="a port out of range (an OverflowError traceback before)"))
    add(Case("app_demo_port_taken", ["demo", "{W}/P", "--port", "{PORT}"],
             r"port \d+ on 127\.0\.0\.1 is already in use by another program; pass another --port, or --port 0",
             item="a port another program listens on", hold_port=True, setup=_pggan_run))
    add(Case("app_demo_not_a_run", ["demo", "{W}/notes", "--port", "0"], "is not a run folder",
             item="demo of a folder that is no progressive run"))
    add(Case("app_grow_below", [*_pggan(8), "--resume", *_run("app_grow_below")],
             "--target-resolution 8: this run trains to 16x16, and a run can only grow", item="a run shrunk",
             guard="runs/app_grow_below", logs=True, setup=lambda w: (_pggan_run(w), _copy_run("app_grow_below", source="P")(w))))
    add(Case("app_grow_to_32", [*_pggan(32), "--resume", *_run("app_grow_to_32")], None,
             item="a finished run grown from 16x16 to 32x32 by a second --resume",
             setup=lambda w: (_pggan_run(w), _copy_run("app_grow_to_32", source="P")(w)), check=_grown(16, 32)))

    # ---- issue 24: silent wrong results and errors that named the wrong problem
    for name, argv, match, item in [
        ("i24_sweep_label_axis", ["sweep", "3", "--grid", "result_id=3,10", "--steps", "2", "--out", "{W}/sw_label"],
         r"grid axis 'result_id' only names the listed points", "item 2: an axis the family does not read "
         "(two identical runs listed as two configurations before)"),
        ("i24_sweep_refused_axis", ["sweep", "pggan", "--grid", "B=4,8", "--steps", "2", "--out", "{W}/sw_pggan"],
         r"the pggan family does not read batch_size \(use --batch-sizes", "item 2: a setting the family refuses"),
        ("i24_sweep_caae_n_critic", ["sweep", "caae", "--grid", "n_critic=1,2", "--out", "{W}/sw_caae"],
         r"the caae family does not read n_critic", "item 2: n_critic for a family without a critic loop"),
        ("i24_fid_one_named_array", ["fid", "{W}/fid_one_named_array.npz", "{W}/D.npz", "--n", "50", *LENET],
         r"holds \['digits'\]; name the image array 'images'", "item 6: fid took any single array, train did not"),
        ("i24_pggan_extra_batch_sizes", [*PGGAN, "--target-resolution", "8", "--batch-sizes", "4", "4", "4",
                                         "--out", "{W}/runs/i24_pggan_extra_batch_sizes"],
         r"give one batch size per resolution \[4, 8\] \(2 values\), got 3", "item 6: extra values were ignored"),
        ("i24_export_tflite_as_keras", ["export", "{W}/P", "--resolution", "8", "--format", "tflite", "--out",
                                        "{W}/x.keras"], r"must end in \.tflite", "item 6: a TFLite file named .keras"),
        ("i24_export_savedmodel_as_tflite", ["export", "{W}/P", "--resolution", "8", "--format", "savedmodel",
                                             "--out", "{W}/x.tflite"], r"writes a folder, and a folder named x\.tflite",
         "item 6's class: a SavedModel folder named like a .tflite file"),
        ("i24_train_classifier_npz", ["train-classifier", "celeba", "--data", "{W}/faces.npz", "--out", "{W}/clf"],
         r"faces\.npz is a file; CelebA is read from its image folder", "said the folder does not exist"),
    ]:
        add(Case(name, argv, match, item=item, setup=_pggan_run if "{W}/P" in argv else None))
    add(Case("i24_export_conditional", ["export", "{W}/conditional.h5", "--format", "keras", "--out", "{W}/c.keras"],
             r"is a conditional generator \(inputs z, label\); an app export maps z alone", logs=True,
             item="exporting a CCGAN generator asked for a generator checkpoint"))
    add(Case("i24_export_resolution_of_a_file", ["export", "{W}/P/checkpoints/generator_8x8_stable.h5", "--resolution",
                                                 "4", "--format", "keras", "--out", "{W}/r4.keras"],
             r"--resolution picks a generator from a run folder", setup=_pggan_run,
             item="said to train a pggan (already fixed on main)"))
    add(Case("i24_generate_from_faces_missing", ["generate-from-faces", "{W}/nothing.h5", "{W}/nothing_run",
                                                 "{W}/notes.txt", "--out", "{W}/new.png"],
             r"does not exist", item="generate-from-faces names the missing file"))
    add(Case("i24_resume_other_family", [*ORIGINAL, "--resume", *_run("i24_resume_other_family")],
             r"i24_resume_other_family is a pggan run, not lsgan: resume it with 'gans train pggan",
             item="twenty field differences instead of the family", guard="runs/i24_resume_other_family",
             setup=lambda w: (_pggan_run(w), _copy_run("i24_resume_other_family", source="P")(w))))
    add(Case("i24_report_unmeasured", ["report", "{W}/report_unmeasured"], r"has an FID to report \(1 skipped",
             item="item 6: report of runs without fid.csv exited 0 with empty files", setup=_unmeasured_runs,
             check=_nothing_written("report_unmeasured", {"run"})))
    add(Case("i24_celeba_root", ["train-classifier", "celeba", "--data", "{W}/celeba_root", "--epochs", "1",
                                 "--limit", "6", "--image-size", "16", "16", "--no-progress", "--overwrite", "--out",
                                 "{W}/clf_root"], None, setup=_celeba_root, check=_file_exists("clf_root/classifier.h5"),
             item="the standard CelebA root (img_align_celeba/ + list_attr_celeba.txt) was refused"))
    add(Case("i24_age_agreement_overlap", ["age-agreement", "{W}/C", "--classifier", "{W}/agec_l40/age_classifier.h5",
                                           "--overwrite", "--out", "{W}/agree_l40.csv"], None, setup=_caae_runs,
             check=_stdout_has("were in the age classifier's training set"),
             item="item 1: age-agreement scored with a classifier trained on the run's own validation faces"))
    add(Case("i24_age_agreement_held_out", ["age-agreement", "{W}/C", "--classifier",
                                            "{W}/agec_held/age_classifier.h5", "--overwrite", "--out",
                                            "{W}/agree_held.csv"], None, setup=_caae_runs, check=_no_overlap_note,
             item="item 1: a classifier trained with --hold-out RUN scores every validation face"))
    add(Case("i24_generate_from_faces_run_folder", ["generate-from-faces", "{W}/clfA/classifier.h5", "{W}/A",
                                                    "{W}/celeba_root/img_align_celeba/000001.jpg",
                                                    "{W}/celeba_root/img_align_celeba/000002.jpg", "--overwrite",
                                                    "--out", "{W}/gff_run.png"], None, setup=_attribute_run,
             check=_file_exists("gff_run_explained.png"),
             item="generate-from-faces with a RUN_FOLDER said the generator does not exist"))
    aa = ["attribute-agreement", "{W}/A", "--data", "{W}/celeba_root", "--no-progress"]
    add(Case("aa_single_faces", [*aa, "--n", "6", "--faces-per-mix", "1", "--overwrite", "--out", "{W}/aa.csv"], None,
             setup=_attribute_run, check=lambda w, r: _file_exists("aa.csv")(w, r) or _stdout_has(
                 "real: a given face itself")(w, r), item="attribute-agreement on a run: its table and yardsticks"))
    for name, argv, match, item in [
        ("aa_data_npz", ["attribute-agreement", "{W}/A", "--data", "{W}/faces.npz", "--out", "{W}/aa_npz.csv"],
         r"faces\.npz is a file; CelebA is read from its image folder", "the faces as an .npz, not a CelebA folder"),
        ("aa_generator_text", ["attribute-agreement", "{W}/text.h5", "--data", "{W}/celeba_root", "--classifier",
                               "{W}/clfA/classifier.h5", "--out", "{W}/aa_text.csv"],
         r"cannot load .*text\.h5 as a Keras model", "a text file named .h5 as the generator"),
        ("aa_mnist_generator", ["attribute-agreement", "{W}/R/checkpoints/generator_step_000020.h5", "--data",
                                "{W}/celeba_root", "--classifier", "{W}/clfA/classifier.h5", "--out", "{W}/aa_r.csv"],
         r"equation 1 makes 160-d noise", "an MNIST generator measured as an attribute generator"),
        ("aa_classifier_is_generator", ["attribute-agreement", "{W}/A", "--data", "{W}/celeba_root", "--classifier",
                                        "{W}/A/checkpoints/generator_step_000002.h5", "--out", "{W}/aa_clf.csv"],
         r"takes \[\(None, 160\)\], not one image .*gans train-classifier", "the generator passed as the classifier"),
        ("aa_n_one", ["attribute-agreement", "{W}/nothing.h5", "--data", "{W}/nothing", "--n", "1"], r"--n",
         "one mix has no correlation"),
        ("aa_out_folder", ["attribute-agreement", "{W}/nothing.h5", "--data", "{W}/nothing", "--out", "{W}/notes"],
         r"--out .*must end in \.csv", "a folder as the table"),
    ]:
        needs_run = "{W}/A" in argv or "clfA" in str(argv)  # the run A or its classifier
        add(Case(name, argv, match, item=item, setup=_attribute_run if needs_run else None))

    # ---- overwrites: every command that writes refuses an existing output without --overwrite, before
    # its work (the inputs named here are often missing: the refusal must come first); a study owns its folder
    exists = "already exists; pass --overwrite"
    for name, argv, files, item in [
        ("ow_age_progress", ["age-progress", "{W}/R", "{W}/png8/000.png", "--out", "{W}/ow/ow_age_progress/strip.png"],
         ["strip.png"], "age-progress --out replaced silently"),
        ("ow_train_age_classifier", ["train-age-classifier", "--data", "{W}/nothing", "--out",
                                     "{W}/ow/ow_train_age_classifier"], ["age_classifier.json"],
         "train-age-classifier --out replaced silently"),
        ("ow_age_agreement", ["age-agreement", "{W}/R", "--classifier", "{W}/text.h5", "--out",
                              "{W}/ow/ow_age_agreement/agree.csv"], ["agree.png"], "age-agreement's figure replaced"),
        ("ow_train_classifier_reports", ["train-classifier", "celeba", "--data", "{W}/nothing", "--out",
                                         "{W}/ow/ow_train_classifier_reports"], ["epochs.csv"],
         "train-classifier replaced the reports of another classifier"),
        ("ow_fid_save_stats", ["fid", "{W}/stats_ok_a.npz", "--save-stats", "{W}/ow/ow_fid_save_stats"],
         ["stats_ok_a_x_n10.npz"], "fid --save-stats replaced saved statistics"),
        ("ow_study_pca", ["study", "pca", "--data", "{W}/D.npz", "--out", "{W}/ow/ow_study_pca"], ["pca.csv"],
         "re-running study pca in a used folder"),
        ("ow_study_synthetic", ["study", "synthetic", "{W}/nothing.h5", "--data", "{W}/D.npz", "--out",
                                "{W}/ow/ow_study_synthetic"], ["confusion_r0100.png"],
         "re-running study synthetic in a used folder"),
        ("ow_export", ["export", "{W}/R/checkpoints/generator_step_000020.h5", "--format", "keras", "--out",
                       "{W}/ow/ow_export/g.keras"], ["g.keras.json"], "export over another export's contract"),
        ("ow_crop_faces", ["crop-faces", "{W}/photos", "{W}/ow/ow_crop_faces/c.npz"], ["c.npz"],
         "crop-faces over an existing .npz"),
        ("ow_attribute_agreement", ["attribute-agreement", "{W}/text.h5", "--data", "{W}/nothing", "--out",
                                    "{W}/ow/ow_attribute_agreement/agree.csv"], ["agree_per_attribute.csv"],
         "attribute-agreement over an earlier table's per-attribute companion"),
        ("ow_generate_from_faces", ["generate-from-faces", "{W}/text.h5", "{W}/text.h5", "{W}/png8/000.png", "--out",
                                    "{W}/ow/ow_generate_from_faces/new.png"], ["new_with_inputs.png"],
         "generate-from-faces over the picture beside an earlier face"),
    ]:
        add(Case(name, argv, exists, item=item, guard=f"ow/{name}", setup=_used(name, *files)))
    add(Case("ow_report", ["report", "{W}/ow/ow_report"], exists, item="report replaced", guard="ow/ow_report",
             setup=_used("ow_report", "fid_report.csv", ("run/config.json", '{"experiment": 3, "dataset": "mnist"}'),
                         ("run/fid.csv", "step,fid,extractor\n10,40.5,lenet\n"))))
    add(Case("ow_study_foreign_files", ["study", "pca", "--data", "{W}/D.npz", "--out", "{W}/ow/ow_study_foreign_files",
                                        "--overwrite"], "holds files this command did not write \\(notes.txt\\)",
             item="study --overwrite in a folder with a file no study wrote", guard="ow/ow_study_foreign_files",
             setup=_used("ow_study_foreign_files", "pca.csv", "notes.txt")))
    add(Case("ow_study_pca_overwrite", ["study", "pca", "--data", "{W}/D.npz", "--components", "1,2", "--n-per-class",
                                        "10", "--holdout", "20", "--no-progress", "--out", "{W}/ow/ow_study_pca_overwrite",
                                        "--overwrite"],
             None, item="study --overwrite leaves no stale figure of the earlier run",
             setup=_used("ow_study_pca_overwrite", "pca.csv", "pca.png", "samples/pca_k064.png"),
             check=_only_files("ow/ow_study_pca_overwrite",
                               ["pca.csv", "pca.json", "pca.png", "pca_rebuilt.png", "samples/pca_k001.png",
                                "samples/pca_k002.png"])))
    add(Case("args_keep_every_alone", ["train", "lsgan", "--keep-every", "3", "--steps", "2"], "give --keep-checkpoints too",
             item="--keep-every without --keep-checkpoints"))

    # ---- diagnose
    add(Case("diagnose_not_a_run", ["diagnose", "{W}/notes"], "has no losses.csv", item="diagnose a non-run"))
    add(Case("diagnose_diverged", ["diagnose", "{W}/runs/run_diverges_at_1"], None, ok_status=1,
             item="item 8: the diagnosis of a diverged run", check=_stdout_has("Verdict: diverged")))
    return c


# ---------------------------------------------------------------------------------------------- running
def _argv(case: Case, w: Path) -> list[str]:
    return [a.replace("{W}", str(w)) for a in case.argv]


def _limit(nofile: int | None):
    if nofile is None:
        return None

    def preexec():
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(nofile, hard), hard))

    return preexec


def run_spawn(case: Case, w: Path, timeout: int = 600) -> Result:
    """The case in a fresh ``python -m gans.cli`` process."""
    env = {**os.environ, **CHECKOUT_ENV, "TF_CPP_MIN_LOG_LEVEL": "3", "GANS_CACHE_DIR": str(w / "cache")}
    start = time.time()
    done = subprocess.run([sys.executable, "-m", "gans.cli", *_argv(case, w)], capture_output=True, text=True,
                          cwd=w, env=env, timeout=timeout, preexec_fn=_limit(case.nofile))
    return Result(case.name, done.returncode, done.stdout, done.stderr, time.time() - start)


class ForkDriver:
    """Runs cases in forks of one process that has imported TensorFlow and the library once.

    Each fork is a real process: its own exit status, its own stdout and stderr (files), its own
    file limit; an exception that escapes ``gans.cli.main`` prints its traceback as Python does.
    """

    def __init__(self):
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import keras  # noqa: F401  (imported once, before any fork; no TensorFlow op runs here)

        import gans.cli  # noqa: F401
        import gans.datasets.faces  # noqa: F401
        import gans.evaluation.fid  # noqa: F401
        import gans.training.run  # noqa: F401

    def __call__(self, case: Case, w: Path, timeout: int = 600) -> Result:
        argv = _argv(case, w)
        with tempfile.TemporaryDirectory() as tmp:
            out, err = Path(tmp) / "out", Path(tmp) / "err"
            start = time.time()
            pid = os.fork()
            if pid == 0:  # pragma: no cover  (the child)
                _child(argv, w, out, err, case.nofile)
            deadline = start + timeout
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                if time.time() > deadline:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    status = 137 << 8
                    break
                time.sleep(0.05)
            return Result(case.name, os.waitstatus_to_exitcode(status), out.read_text(errors="replace"),
                          err.read_text(errors="replace"), time.time() - start)


def _child(argv: list[str], w: Path, out: Path, err: Path, nofile: int | None) -> None:  # pragma: no cover
    status = 1
    try:
        os.chdir(w)
        os.environ["GANS_CACHE_DIR"] = str(w / "cache")
        for fd, path in ((1, out), (2, err)):
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(handle, fd)
            os.close(handle)
        if nofile is not None:
            _limit(nofile)()
        sys.argv = ["gans", *argv]
        from gans.cli import main

        status = main(argv)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # what Python does with an uncaught exception: the traceback, status 1
        traceback.print_exc()
        status = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-1 of every file under ``folder``."""
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@contextlib.contextmanager
def _held_lock(folder: Path | None):
    """This process holds the run folder's lock (as a training would: flock on run.lock, holder recorded)."""
    if folder is None:
        yield
        return
    import fcntl

    fd = os.open(folder / "run.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, json.dumps({"pid": os.getpid(), "command": "tools/hostile.py"}).encode())
        yield
    finally:
        os.unlink(folder / "run.lock")
        os.close(fd)


@contextlib.contextmanager
def _held_port(hold: bool):
    """This process listens on a free port of 127.0.0.1 (yielded) while the block runs, as another
    program would; None when ``hold`` is False."""
    if not hold:
        yield None
        return
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def run_case(case: Case, w: Path, driver=None) -> Result:
    """Prepare, run and judge one case."""
    if case.needs_root_off and os.geteuid() == 0:
        return Result(case.name, -1, "", "", 0.0, verdict="skipped", detail="permissions do not bind root")
    outputs = [w / "runs" / case.name]
    if case.command == "crop-faces":
        outputs += [w / f"{case.name}.npz", w / f"{case.name}.npz.parts", w / f"{case.name}.skipped.csv"]
    for leftover in outputs:
        if leftover.is_dir():  # what an earlier run of the case wrote (a workspace can be reused)
            shutil.rmtree(leftover)
        elif leftover.exists():
            leftover.unlink()
    if case.setup is not None:
        case.setup(w)
    before = snapshot(w / case.guard) if case.guard else {}
    with _held_lock(w / case.hold_lock if case.hold_lock else None), _held_port(case.hold_port) as port:
        if port is not None:
            case = dataclasses.replace(case, argv=[a.replace("{PORT}", str(port)) for a in case.argv])
        result = (driver or run_spawn)(case, w)
    if case.guard:
        after = snapshot(w / case.guard)
        result.changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    judge(case, result, w)
    return result


def judge(case: Case, r: Result, w: Path) -> None:
    """Set ``r.verdict`` and ``r.detail``."""
    lines = [line for line in r.lines if not (case.logs and LOG_LINE.match(line))]
    errors = [line for line in lines if ERROR_LINE.match(line)]
    if r.changed:
        r.verdict, r.detail = "silent wrong", f"changed files of {case.guard}: {r.changed[:5]}"
        return
    if "Traceback (most recent call last)" in r.stderr:
        tail = [line for line in r.stderr.splitlines() if line.strip()][-1:]
        r.verdict, r.detail = "traceback", f"exit {r.status}: {tail[0] if tail else ''}"
        return
    if case.match is not None:
        if r.status == 0:
            r.verdict, r.detail = "silent wrong", "accepted: exit 0"
        elif r.status == 2 and len(lines) == 1 and errors and re.search(case.match, errors[0]):
            problem = case.check(w, r) if case.check else None
            r.verdict, r.detail = ("silent wrong", problem) if problem else ("clear error", errors[0][:160])
        elif r.status == 2 and len(errors) == 1 and re.search(case.match, errors[0]):
            r.verdict, r.detail = "unclear error", f"{len(lines)} lines on stderr: {lines[:3]}"
        else:
            r.verdict, r.detail = "unclear error", f"exit {r.status}: {(lines or [''])[-1][:200]}"
        return
    if r.status != case.ok_status:
        r.verdict, r.detail = "unclear error", f"exit {r.status}: {(lines or [''])[-1][:200]}"
        return
    problem = case.check(w, r) if case.check else None
    r.verdict, r.detail = ("silent wrong", problem) if problem else ("correct result", r.stdout.strip()[-120:])


def summary(results: list[Result]) -> str:
    count = {v: sum(r.verdict == v for r in results) for v in
             ("clear error", "silent wrong", "correct result", "traceback", "unclear error", "skipped")}
    tried = len(results) - count["skipped"]
    return (f"hostile_cases: {tried} tried, {count['clear error']} clear errors, {count['silent wrong']} silent wrong "
            f"results, {count['correct result']} correct results, {count['traceback'] + count['unclear error']} "
            "tracebacks or unclear errors")


def select(names: str | None) -> list[Case]:
    chosen = cases()
    if names:
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        chosen = [c for c in chosen if any(c.name == n or c.name.startswith(n) for n in wanted)]
    # the diagnosis of a diverged run reads the folder its training case writes
    names_in = {c.name for c in chosen}
    if "diagnose_diverged" in names_in and "run_diverges_at_1" not in names_in:
        chosen.insert(0, next(c for c in cases() if c.name == "run_diverges_at_1"))
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("spawn", "fork"), default="spawn",
                        help="spawn: each case in a fresh python process (default); fork: forks of one process")
    parser.add_argument("--cases", help="comma-separated case names or name prefixes (default: all)")
    parser.add_argument("--workspace", help="reuse or keep this workspace folder (default: a temporary one)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--make-crop-parts", metavar="W", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if CHECKOUT not in sys.path:  # the fork driver imports gans in this process
        sys.path.insert(0, CHECKOUT)
    if args.make_crop_parts:
        make_crop_parts(Path(args.make_crop_parts))
        return 0
    chosen = select(args.cases)
    if args.list:
        for case in chosen:
            print(f"{case.name:<32} {'error' if case.match else 'result'}: {case.item}")
        return 0
    driver = ForkDriver() if args.mode == "fork" else run_spawn
    with contextlib.ExitStack() as stack:
        w = Path(args.workspace) if args.workspace else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        w = w.resolve()
        if not (w / "R" / "config.json").exists():
            make_workspace(w, args.mode, driver)
        results = []
        for case in chosen:
            result = run_case(case, w, driver)
            results.append(result)
            expected = f"error /{case.match}/" if case.match else f"exit {case.ok_status} and a correct result"
            print(f"{case.name:<32} expected: {expected}\n{'':<32} got: {result.verdict} ({result.seconds:.1f}s)"
                  f" - {result.detail}", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=1))
        line = summary(results)
        print(line)
        bad = [r for r in results if r.verdict in ("silent wrong", "traceback", "unclear error")]
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
