"""What the tests share: one runner for ``gans`` in a real process, one tiny configuration per family,
the labelled-image factories, the exact-resume check (a run stopped and resumed in a child process
against an uninterrupted one), one model-saving check and the executions' equality check.

A plain module (not a test module, not a conftest): ``pytest.ini`` puts ``tests/`` on ``sys.path``, so
every test folder says ``from helpers import ...``; a child process gets the same path from
``child_env()``. Fixtures stay in ``conftest.py``. No test module imports another test module
(``tests/test_layering.py`` fails when one does).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from gans.callbacks import Callback
from gans.config import NetworkSpec

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# ---------------------------------------------------------------------- child processes
# One TensorFlow thread per child: two cores are shared by the suite, its children and other work, and
# with one thread TensorFlow's CPU kernels are bit-reproducible under load (see training/test_resume.py).
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}


def child_env(*extra: dict[str, str]) -> dict[str, str]:
    """The environment of a child process: this checkout's ``gans`` and ``tests/`` first on the path
    (never an installed copy), TensorFlow's C++ log quiet, and ``extra`` (``ONE_THREAD``, ...) on top."""
    path = os.pathsep.join(filter(None, [str(ROOT), str(TESTS), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for more in extra:
        env.update(more)
    return env


def gans_argv(*args) -> list[str]:
    """``gans ARGS`` as an argument vector for ``subprocess`` (this checkout's command)."""
    return [sys.executable, "-m", "gans.cli", *map(str, args)]


class Done(NamedTuple):
    """A finished process: unpacks as ``(returncode, stdout, stderr)``."""

    returncode: int
    stdout: str
    stderr: str


def run_gans(*args, cwd=None, env: dict[str, str] | None = None, timeout: float = 300) -> Done:
    """``gans ARGS`` in a fresh process with one TensorFlow thread, as a shell runs it: exit status, stdout
    and stderr (``env``: more environment variables)."""
    done = subprocess.run(gans_argv(*args), capture_output=True, text=True, cwd=cwd,
                          env=child_env(ONE_THREAD, env or {}), timeout=timeout)
    return Done(done.returncode, done.stdout, done.stderr)


def sweep_env() -> dict[str, str]:
    """The environment of a ``gans sweep`` worker process (``child_env``, TensorFlow's warnings shown)."""
    return child_env({"TF_CPP_MIN_LOG_LEVEL": "2"})


def trained_lines(*outputs: str) -> list[str]:
    """The configurations a sweep worker says it trained ('[worker ...] NAME: done ...'), from its outputs."""
    return [line.split("]", 1)[1].split(":", 1)[0].strip() for text in outputs for line in text.splitlines()
            if line.startswith("[worker")]


def read_csv(path) -> list[dict[str, str]]:
    """The rows of a CSV file a run or a command wrote, as dicts of strings."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------------- images
def random_images(n=64, shape=(28, 28, 1), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def labelled_images(n=64, seed=0):
    """Random digits-shaped images with class labels 0-9 (unconditional families ignore the labels)."""
    from gans.datasets.base import ImageDataset

    rng = np.random.default_rng(seed)
    return ImageDataset(random_images(n, seed=seed), labels=rng.integers(0, 10, n))


def smooth_faces(n=48, side=16, seed=0):
    """Smooth random 'faces': real structure at every scale (4x4 colour blocks plus noise), so each
    resolution of the progressive GAN has something to learn."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (n, 4, 4, 3)).astype(np.float32)
    return np.clip(small.repeat(side // 4, 1).repeat(side // 4, 2) + rng.normal(0, 8, (n, side, side, 3)),
                   0, 255).astype(np.uint8)


def labelled_faces(n=40, size=32, seed=0):
    """Random faces with the CAAE's labels: an age group (of 10) and a gender, each one-hot in +-1."""
    from gans.datasets.base import ImageDataset
    from gans.datasets.utkface import one_hot_pm1

    rng = np.random.default_rng(seed)
    images = rng.integers(0, 255, (n, size, size, 3), dtype=np.uint8)
    ages, genders = rng.integers(0, 10, n), rng.integers(0, 2, n)
    labels = np.concatenate([one_hot_pm1(ages, 10), one_hot_pm1(genders, 2)], axis=1)
    return ImageDataset(images, labels, source="synthetic faces", meta={"age_group": ages, "gender": genders})


ATTRIBUTE_SHAPE = (24, 20, 3)  # a small non-square face, as the attribute GAN's paper's 218 x 178


def attribute_faces(n=48, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *ATTRIBUTE_SHAPE), dtype=np.uint8)


def celeba_folder(root: Path, n: int = 40, seed: int = 4, size: tuple[int, int] = (44, 36)) -> Path:
    """A CelebA-layout folder: ``n`` random JPEG faces of ``size`` (height, width) and
    list_attr_celeba.txt (the official 40 attribute names, random +-1 values) beside them. Returns the
    images' folder. Needs OpenCV."""
    cv2 = pytest.importorskip("cv2")
    from gans.datasets.celeba import ATTRIBUTE_NAMES

    images = root / "img_align_celeba"
    images.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    lines = [str(n), " ".join(ATTRIBUTE_NAMES)]
    for i in range(1, n + 1):
        cv2.imwrite(str(images / f"{i:06d}.jpg"), rng.integers(0, 256, (*size, 3), dtype=np.uint8))
        lines.append(f"{i:06d}.jpg " + " ".join(rng.choice(["1", "-1"], len(ATTRIBUTE_NAMES))))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    return images


def utkface_folder(folder: Path, n: int = 48, seed: int = 1) -> Path:
    """A UTKFace-layout folder: ``n`` 40x40 JPEG faces named AGE_GENDER_RACE_DATE.jpg.chip.jpg (ages
    1-90, both genders, all five races), smooth enough to be learnable (the red channel grows with
    the age). Returns ``folder``. Needs OpenCV."""
    cv2 = pytest.importorskip("cv2")
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:40, :40]
    for i in range(n):
        age = 1 + (i * 37) % 90
        face = np.stack([np.full((40, 40), 40 + 2 * age), 128 + 60 * np.sin(xx / (3 + i % 5)),
                         128 + 60 * np.cos(yy / (3 + i % 7))], axis=-1) + rng.normal(0, 5, (40, 40, 3))
        cv2.imwrite(str(folder / f"{age}_{i % 2}_{i % 5}_201701{i:02d}000000000.jpg.chip.jpg"),
                    np.clip(face, 0, 255).astype(np.uint8))
    return folder


# ---------------------------------------------------------------------- one tiny configuration per family
TINY = {
    "gan": {"generator": {"units": (16, 32)}, "discriminator": {"units": (32, 16)}},
    "lsgan": {"generator": {"units": (16, 32)}, "discriminator": {"units": (32, 16)}},
    "dcgan": {"generator": {"filters": (8, 4), "base_filters": 8}, "discriminator": {"filters": (4, 8, 8, 8)}},
    "wgan": {"generator": {"filters": (8, 4), "base_filters": 8}, "discriminator": {"filters": (4, 8, 8, 8)}},
}


def tiny_config(experiment: int, **changes):
    """A thesis experiment (gan, dcgan, lsgan, wgan) with narrow layers, so a step takes milliseconds."""
    from gans.experiments import get_experiment

    cfg = get_experiment(experiment)
    sizes = TINY[cfg.variant]
    return cfg.replace(
        generator=NetworkSpec(cfg.generator.builder, {**cfg.generator.options, **sizes["generator"]}),
        discriminator=NetworkSpec(cfg.discriminator.builder, {**cfg.discriminator.options, **sizes["discriminator"]}),
        **{"latent_dim": 8, "batch_size": 8, **changes})


def tiny_cgan(**changes):
    """The MNIST paper's CCGAN with narrow layers, so a step takes milliseconds."""
    from gans.config import GANConfig, OptimizerSpec

    return GANConfig(
        variant="cgan", dataset="mnist", steps=4, latent_dim=8, batch_size=8,
        loss="binary_crossentropy", optimizer=OptimizerSpec("adam", 1e-3, 0.5),
        discriminator_loss="binary_crossentropy", discriminator_optimizer=OptimizerSpec("adam", 1e-3, 0.5),
        networks={"generator": NetworkSpec("cgan", {"dense_units": 16, "base_filters": 8, "filters": (4,)}),
                  "discriminator": NetworkSpec("cgan", {"filters": (4, 8)})},
        image_shape=(28, 28, 1), num_classes=10, label_smoothing=0.1, **changes)


def tiny_mnist_dcgan(**changes):
    """The MNIST paper's unconditional DCGAN (its F x D x B sweep's base) with narrow layers."""
    from gans.experiments.studies import sweep_plans

    base = sweep_plans()["dcgan-mnist-fdb"].config
    return base.replace(networks={"generator": NetworkSpec("mnist_dcgan", {"dense_units": 16, "base_filters": 8,
                                                                           "filters": (4,), "momentum": 0.8}),
                                  "discriminator": NetworkSpec("mnist_dcgan", {"filters": (4, 8), "pooling": False,
                                                                               "use_batchnorm": False})},
                        latent_dim=8, batch_size=8, **changes)


def tiny_pggan(**changes):
    """4x4 -> 8x8 -> 16x16 with 8 filters, 24 images (3 steps of 8) per phase: 15 steps, 5 phases."""
    from gans.experiments.pggan import pggan_config

    options = dict(target_resolution=16, images_per_phase=24, batch_sizes=8, filters=8, latent_dim=8)
    options.update(changes)
    return pggan_config(**options)


TINY_CAAE = {"encoder": {"filters": 4}, "generator": {"filters": 32}}


def tiny_caae(size=32, batch=8, **options):
    """The CAAE at ``size`` with a 4-filter encoder and a 32-channel generator seed, 5 steps an epoch."""
    from gans.experiments.caae import caae_config

    return caae_config(size, batch_size=batch, steps_per_epoch=5, step_options=options, **TINY_CAAE)


def tiny_attribute(classifier, **changes):
    """The attribute GAN's configuration (its paper's) with narrow networks, 4 steps on 24x20 faces, its
    latents drawn through ``classifier`` (an .h5 attribute classifier)."""
    from gans.experiments import NAMED

    cfg = NAMED["attribute-celeba"]
    return cfg.replace(
        generator=NetworkSpec("attribute", {"filters": (8, 4), "base_filters": 8}),
        discriminator=NetworkSpec("attribute", {"filters": (4, 8)}),
        step_options={**cfg.step_options, "classifier": str(classifier)}, steps=4, image_shape=ATTRIBUTE_SHAPE,
        **changes)


# The projection discriminator (num_attributes=40) at tiny_attribute's width: the other attribute D.
ATTRIBUTE_PROJECTION = NetworkSpec("attribute", {"filters": (4, 8), "num_attributes": 40})


def save_attribute_classifier(path: Path) -> Path:
    """An untrained, narrow attribute classifier for ``ATTRIBUTE_SHAPE`` faces (seed 11), saved at
    ``path`` as a run would save it, for ``tiny_attribute``. Returns ``path``."""
    import keras

    from gans.models.attribute import build_classifier

    keras.utils.set_random_seed(11)
    build_classifier(image_shape=ATTRIBUTE_SHAPE, filters=(4, 8, 8), dense_units=16).save(path)
    return path


# Every family that trains from its configuration alone, at tiny sizes. dcgan and wgan have dropout 0.25 in
# D (thesis Table 4.5), and batch normalization in both networks; cgan is the conditional step. (pggan,
# caae and attribute need their own data or a classifier: tiny_pggan, tiny_caae, tiny_attribute.)
TINY_FAMILIES = {"gan": lambda: tiny_config(1), "dcgan": lambda: tiny_config(2), "lsgan": lambda: tiny_config(3),
                 "wgan": lambda: tiny_config(4), "cgan": tiny_cgan, "mnist_dcgan": tiny_mnist_dcgan}

# Families whose tiny discriminator has batch normalization: the frozen D's "batch" setting
# (normalize with the batch's statistics in the G step) is tested on them, "moving" on every family.
BATCHNORM_D_FAMILIES = ("cgan", "dcgan", "wgan")
FREEZE_CASES = [(f, "moving") for f in sorted(TINY_FAMILIES)] + [(f, "batch") for f in BATCHNORM_D_FAMILIES]


def tiny_classifier(num_classes: int = 10, shape=(28, 28, 1)):
    """A LeNet stand-in with the same interface (a "features" layer, softmax over classes), untrained."""
    import keras

    inputs = keras.Input(shape)
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(8, activation="relu", name="features",
                           kernel_initializer=keras.initializers.RandomNormal(seed=1))(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x), name="tiny_lenet")


def stand_in_lenet(patch, info: dict | None = None):
    """Runs that would load (or train) the cached MNIST LeNet get an untrained ``tiny_classifier()``
    instead, with ``info`` as its record (default: source "tiny stand-in"). ``patch``: a pytest
    MonkeyPatch. Returns the stand-in."""
    import gans.evaluation.classifier as classifier

    model = tiny_classifier()
    record = {"source": "tiny stand-in"} if info is None else info
    patch.setattr(classifier, "load_or_train_lenet", lambda *a, **k: (model, record))
    return model


# ---------------------------------------------------------------------- an exact resume, in a child process
# case -> (family, batch mode, images). With 20 images and batches of 8, "epoch" mode starts a new
# permutation every 2 steps, so the resumed steps 4-6 begin in the middle of an epoch.
RESUME_CASES = {**{family: (family, "random", 64) for family in TINY_FAMILIES}, "lsgan-epochs": ("lsgan", "epoch", 20)}


def child_process(script, *args, **popen) -> subprocess.Popen:
    """``python SCRIPT ARGS`` started with one TensorFlow thread and ``child_env()``'s path (``popen``:
    more ``subprocess.Popen`` arguments)."""
    return subprocess.Popen([sys.executable, str(script), *map(str, args)], env=child_env(ONE_THREAD), **popen)


def run_script(script, *args, timeout: float = 600) -> None:
    """``python SCRIPT ARGS`` to its end; fails the test with the end of its output unless it exits 0."""
    done = child_process(script, *args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = done.communicate(timeout=timeout)
    assert done.returncode == 0, output[-4000:]


def run_stopped_and_resumed(case: str, out: Path, precision: str = "float32") -> None:
    """In a child process (this file run as ``python helpers.py stopped CASE OUT PRECISION``): the tiny
    run of ``RESUME_CASES[case]`` in the dtype policy ``precision``, 6 steps uninterrupted, and stopped at
    step 5 (its state saved at 3), then resumed to 6. ``out`` receives ``stopped.json`` (the saved and the
    logged steps when it stopped) and both runs' variables, which ``assert_same_run`` compares."""
    run_script(__file__, "stopped", case, out, precision)


def _child_stopped(case: str, out: str, precision: str) -> None:
    from gans.training import RunSettings, train
    from gans.training.state import read_meta

    stand_in_lenet(pytest.MonkeyPatch())  # for this child process's whole life
    family, batch_mode, n = RESUME_CASES[case]
    out, config, data = Path(out), TINY_FAMILIES[family]().replace(precision=precision), labelled_images(n)
    settings = RunSettings(sample_every=3, checkpoint_every=3, progress=False, seed=5, batch_mode=batch_mode,
                           deterministic=True)
    losses = Losses()
    save_run(train(config, out / "full", data=data, steps=6, settings=settings, extra_callbacks=[losses]),
             out, "full", losses)
    try:
        train(config, out / "split", data=data, steps=6, settings=settings, extra_callbacks=[StopAt(5)])
    except Stop:
        (out / "stopped.json").write_text(json.dumps({
            "saved_step": read_meta(out / "split" / "state" / "state.npz")["step"],
            "logged_steps": log_steps(out / "split" / "losses.csv")}))
    losses = Losses()
    save_run(train(config, out / "split", data=data, steps=6, settings=settings, resume=True, extra_callbacks=[losses]),
             out, "resumed", losses)


class Stop(Exception):
    """Stands in for Ctrl-C in the middle of a run."""


class StopAt(Callback):
    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, trainer, step, logs):
        if step == self.step:  # after the loss log, before the state checkpoint (it always runs last)
            raise Stop(step)


class Losses(Callback):
    """Every step's losses as floats (losses.csv keeps 6 printed digits)."""

    def __init__(self):
        self.rows = []

    def on_step_end(self, trainer, step, logs):
        self.rows.append([step] + [logs[k] for k in trainer.step_obj.loss_names])


def save_run(trainer, out: Path, name: str, losses: Losses) -> None:
    """Every variable of every network and optimizer, keyed by role and position (variable names differ
    between two builds in one process), plus their names, the rng state and the losses as floats."""
    import keras

    arrays, names = {}, {}
    for kind, group in (("model", trainer.step_obj.models), ("optimizer", trainer.step_obj.optimizers)):
        for role, owner in group.items():
            for i, variable in enumerate(owner.variables):
                arrays[f"{kind}/{role}/{i}"] = np.asarray(variable.numpy())
                names[f"{kind}/{role}/{i}"] = variable.path
    layers = [layer for model in trainer.step_obj.models.values() for layer in model.layers]
    np.savez(out / f"{name}.npz", **arrays)
    (out / f"{name}.json").write_text(json.dumps({
        "step": trainer.step, "names": names, "rng": trainer.rng.bit_generator.state, "losses": losses.rows,
        "dropout": any(isinstance(layer, keras.layers.Dropout) and layer.rate > 0 for layer in layers)}))


def load_run(out: Path, name: str) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(out / f"{name}.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, json.loads((out / f"{name}.json").read_text())


def assert_same_run(out: Path) -> tuple[dict, dict]:
    """The uninterrupted and the resumed run of ``out``: bit-identical variables and random generator."""
    (full, full_meta), (resumed, resumed_meta) = load_run(out, "full"), load_run(out, "resumed")
    assert full.keys() == resumed.keys() and any(key.startswith("optimizer/") for key in full)
    has_seeds = any("seed_generator" in path for path in full_meta["names"].values())
    assert has_seeds == full_meta["dropout"], "the dropout layers' seed states must be among what is compared"
    differ = [f"{key} ({full_meta['names'][key]}): max |difference| {np.abs(full[key] - resumed[key]).max():.3g}"
              for key in full if not np.array_equal(full[key], resumed[key])]
    assert not differ, f"{len(differ)} of {len(full)} variables differ after the resume:\n" + "\n".join(differ[:12])
    assert resumed_meta["rng"] == full_meta["rng"], "the run's random generator differs"
    assert resumed_meta["step"] == full_meta["step"]
    return full_meta, resumed_meta


def log_steps(path: Path) -> list[int]:
    """The steps of a losses.csv, in file order."""
    return [int(line.split(",")[0]) for line in path.read_text().splitlines()[1:]]


# ---------------------------------------------------------------------- saving a model
def check_model_saving(model, inputs, folder: Path, formats=(".h5", ".keras"), atol: float = 0.0) -> dict:
    """The round trip every model and custom layer must survive (keras-hub's ``run_model_saving_test``).

    What ``model`` computes on ``inputs`` (in inference) comes back from a clone rebuilt with
    ``from_config(get_config())`` and given its weights (to 1e-6 relative), and from the model saved in
    each of ``formats`` and loaded with safe mode on, compile off (within ``atol``: 0 is bit for bit).

    Returns:
        The reloaded models by format suffix, for the checks only the caller knows.
    """
    import keras

    expected = np.asarray(model(inputs, training=False))
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(clone(inputs, training=False)), expected, rtol=1e-6, atol=atol,
                               err_msg=f"{model.name}: from_config(get_config())")
    reloaded = {}
    for suffix in formats:
        path = Path(folder) / f"{model.name}{suffix}"
        model.save(path)
        loaded = keras.models.load_model(path, compile=False, safe_mode=True)
        np.testing.assert_allclose(np.asarray(loaded(inputs, training=False)), expected, rtol=0, atol=atol,
                                   err_msg=f"{model.name}: saved as {suffix} and loaded")
        reloaded[suffix] = loaded
    return reloaded


# ---------------------------------------------------------------------- the executions' equality check
ITERATIONS = 4
# Measured: 0.0 (bit for bit) on an idle machine, with the trace-dependent graph rewrites off as
# train_iterations() turns them off; up to 1.5e-5 (WGAN's RMSprop slots) with the default CPU thread
# pools under load, where two runs of the recipe alone are not bit-reproducible either (see
# --deterministic). The broken executions of training/test_execution.py differ by orders of magnitude more.
EQUAL = 5e-5


def tiny_run(family, tmp_path, config=None, data=None, **changes):
    """A prepared trainer of ``family`` on tiny networks (or of ``config`` on ``data``); the config's own
    options changed by ``changes``."""
    import keras

    from gans.training import RunSettings, prepare

    cfg = (config or TINY_FAMILIES[family]()).replace(**changes)
    keras.utils.set_random_seed(3)
    return prepare(cfg, tmp_path, labelled_images() if data is None else data,
                   RunSettings(progress=False, seed=3, tensorboard=False))


def train_iterations(family, tmp_path, execution, iterations=ITERATIONS, prepare_step=None, config=None, data=None,
                     **changes):
    """``iterations`` of a tiny run under ``execution``: (losses, every model and optimizer variable, step).

    Grappler's trace-dependent rewrites are off meanwhile (``trace_independent_rewrites``): with them
    on, 6 traces in 10 of the fused WGAN iteration rounded differently, which RMSprop amplified up
    to 2e-3 apart from the recipe (the measurement is at ``TRACE_DEPENDENT_REWRITES``).
    """
    from gans.training.execution import trace_independent_rewrites

    trainer = tiny_run(family, tmp_path, config=config, data=data, **changes)
    step = trainer.step_obj
    if prepare_step is not None:
        prepare_step(step)
    step.use_execution(execution)
    with trace_independent_rewrites():
        losses = [step.train_step(i, trainer.data, trainer.rng) for i in range(1, iterations + 1)]
    # keyed by position: layer names are numbered per process, so two builds name them differently
    state = {f"{name}/{i} ({v.path})": v.numpy() for name, m in step.models.items() for i, v in enumerate(m.variables)}
    state.update({f"optimizer {name}/{i} ({v.path})": v.numpy()
                  for name, o in step.optimizers.items() for i, v in enumerate(o.variables)})
    return losses, state, step


def assert_same(a, b, atol, what):
    """Two ``train_iterations`` results took the same updates: every variable and optimizer slot within
    ``atol``, the logged losses within ten times it."""
    (losses_a, state_a, _), (losses_b, state_b, _) = a, b
    assert state_a and len(state_a) == len(state_b)
    state_b = dict(zip(state_a, state_b.values()))
    assert any(k.startswith("optimizer") and "iteration" not in k for k in state_a), "optimizer slots must be compared"
    differ = {k: float(np.max(np.abs(state_a[k] - state_b[k]))) for k in state_a
              if not np.allclose(state_a[k], state_b[k], rtol=0, atol=atol)}
    assert not differ, f"{what}: {len(differ)} of {len(state_a)} variables differ: {sorted(differ.items())[:6]}"
    assert len(losses_a) == len(losses_b) == ITERATIONS and list(losses_a[0]) == list(losses_b[0])
    np.testing.assert_allclose([list(r.values()) for r in losses_a], [list(r.values()) for r in losses_b],
                               rtol=0, atol=atol * 10, err_msg=f"{what}: the logged losses differ")


# ---------------------------------------------------------------------- the block digits of the seed 004 studies
# A few hundred "digits" whose class is where a bright block sits, a conditional generator built by hand
# that draws exactly those blocks, and a classifier that reads the block's position (tests/studies).
CELLS = [(r, c) for r in (2, 15) for c in (1, 6, 11, 16, 21)]  # the top-left corner of each class's block


def templates() -> np.ndarray:
    """(10, 28, 28) pre-activation templates: +3 inside the class's 10x6 block, -3 elsewhere."""
    t = np.full((10, 28, 28), -3.0, np.float32)
    for k, (r, c) in enumerate(CELLS):
        t[k, r:r + 10, c:c + 6] = 3.0
    return t


def block_digits(n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (n, 28, 28, 1) "digits" of 10 classes: the class's block, shifted by up to 1 pixel, with noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), n_per_class)
    images = np.zeros((len(labels), 28, 28), np.float32)
    for i, k in enumerate(labels):
        r, c = CELLS[k]
        dr, dc = rng.integers(-1, 2, 2)
        images[i, r + dr:r + dr + 10, max(c + dc, 0):c + dc + 6] = rng.uniform(0.7, 1.0)
    images = np.clip(images + rng.normal(0, 0.08, images.shape), 0, 1)
    order = rng.permutation(len(labels))
    return (images[order, ..., None] * 255).astype(np.uint8), labels[order]


class BlockReader:
    """A classifier (Keras' predict_on_batch interface) that reads the class from the block's position."""

    def __init__(self):
        masks = np.zeros((10, 28, 28), np.float32)
        for k, (r, c) in enumerate(CELLS):
            masks[k, r + 2:r + 8, c + 1:c + 5] = 1.0
        self.masks = masks.reshape(10, -1)

    def predict_on_batch(self, x):
        brightness = (np.asarray(x).reshape(len(x), -1) + 1) / 2 @ self.masks.T / self.masks.sum(axis=1)
        logits = 30 * brightness
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def block_generator(latent_dim: int = 4, noise: float = 0.3):
    """A conditional generator (inputs "z" and a one-hot "label", as the CCGAN's) that draws the class's block."""
    import keras

    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((10,), name="label")
    shape = keras.layers.Dense(784, use_bias=False, name="class_template")(label)
    wiggle = keras.layers.Dense(784, use_bias=False, name="noise",
                                kernel_initializer=keras.initializers.RandomNormal(stddev=noise, seed=1))(z)
    x = keras.layers.Activation("tanh")(keras.layers.Add()([shape, wiggle]))
    model = keras.Model([z, label], keras.layers.Reshape((28, 28, 1))(x), name="block_generator")
    model.get_layer("class_template").set_weights([templates().reshape(10, 784)])
    return model


# ---------------------------------------------------------------------- stand-ins for evaluation
def tiny_extractor():
    """A 5-d feature extractor on 8x8 grayscale images: a cheap stand-in for InceptionV3."""
    import keras

    from gans.evaluation.fid import FeatureExtractor

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, keras.layers.Dense(5, kernel_initializer=keras.initializers.RandomNormal(seed=3))(x))
    return FeatureExtractor(model, "tiny", (8, 8), 1, batch_size=32)


class StandInTrainer:
    """The attributes and method the callbacks rely on; the generator blends noise into real images
    as training goes on, so its FID falls step by step."""

    def __init__(self, run_dir: Path, total_steps: int, collapse: bool = False):
        from types import SimpleNamespace

        rng = np.random.default_rng(0)
        self.run_dir = run_dir
        self.step = 0
        self.total_steps = total_steps
        self.config = SimpleNamespace(experiment=None, variant="gan", dataset="toy", latent_dim=4)
        self.data = SimpleNamespace(images=rng.integers(0, 256, (400, 8, 8, 1), dtype=np.uint8))
        self.collapse = collapse
        self.title = "stand-in"

    def generate(self, n, seed=0, batch_size=256):
        rng = np.random.default_rng(seed)
        real = self.data.images[rng.integers(0, len(self.data.images), n)].astype(np.float32) / 127.5 - 1
        if self.collapse and self.step > self.total_steps // 2:
            return np.clip(np.repeat(real[:1], n, axis=0) + 0.01 * rng.standard_normal(real.shape), -1, 1).astype(np.float32)
        t = self.step / self.total_steps
        noise = rng.uniform(-1, 1, real.shape).astype(np.float32)
        return (t * real + (1 - t) * noise).astype(np.float32)

    def diagnostic_images(self, n, seed=0):  # what the collapse check judges: here the samples
        return self.generate(n, seed=seed)

    def fit(self, callbacks, until):
        for cb in callbacks:
            cb.on_train_begin(self)
        for step in range(self.step + 1, until + 1):
            self.step = step
            for cb in callbacks:
                cb.on_step_end(self, step, {})
        for cb in callbacks:
            cb.on_train_end(self)


def healthy_losses(steps=2000, seed=0):
    rng = np.random.default_rng(seed)
    s = np.arange(1, steps + 1)
    return s, 0.6 + 0.05 * rng.standard_normal(steps), 0.9 + 0.15 * rng.standard_normal(steps)


def collapsing_losses(onset=600, steps=2000, seed=0, climb=True):
    """D loss decays to ~0.005 after ``onset`` while G loss climbs to ~7 (or swings widely)."""
    s, d, g = healthy_losses(steps, seed)
    rng = np.random.default_rng(seed + 1)
    after = s > onset
    d[after] = 0.005 + 0.002 * rng.random(after.sum())
    g[after] = (np.linspace(3.5, 7, after.sum()) if climb else 1.5 + 2.5 * np.sign(np.sin(s[after] / 3))) \
        + 0.2 * rng.standard_normal(after.sum())
    return s, d, g


def write_run(run_dir, steps, d, g, variant="dcgan", loss="binary_crossentropy", diversity=None):
    """A run folder as training leaves it (config.json, losses.csv, diversity.csv) for the diagnosis."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps({"experiment": 2, "variant": variant, "dataset": "mnist",
                                                      "discriminator_loss": loss, "loss": loss}))
    rows = ["step,d_loss_real,d_loss_fake,d_loss,g_loss"] + [
        f"{int(a)},{b:.6g},{b:.6g},{b:.6g},{c:.6g}" for a, b, c in zip(steps, d, g)]
    (run_dir / "losses.csv").write_text("\n".join(rows) + "\n")
    if diversity is not None:
        lines = ["step,diversity,real_diversity,ratio"] + [f"{s},{r * 10},10,{r}" for s, r in diversity]
        (run_dir / "diversity.csv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":  # the child of run_stopped_and_resumed: python helpers.py stopped CASE OUT PRECISION
    {"stopped": _child_stopped}[sys.argv[1]](*sys.argv[2:])
