"""Training on several devices with tf.distribute: two logical CPU devices in one process, and two worker
processes on 127.0.0.1, each matching a one-device run of the same seed.

Logical devices and the multi-worker runtime must be set up before TensorFlow starts, so the runs
happen in child processes (this file, run as a script). Dropout is off in these runs: each replica
draws its own dropout bits, so with dropout a replicated run is a different (equally valid) run.
The optimizers are plain SGD, so that a wrongly scaled gradient sum would show.
Batch norm likewise normalizes each replica's share of the batch on its own (Keras' BatchNormalization
is not synchronized across replicas), so the LSGAN of experiment 3 trains here without it.
"""

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

from helpers import child_env, labelled_images, tiny_config

STEPS = 3


# ---------------------------------------------------------------------- the children's side
def _train(out: str, distribute: str):
    import keras

    from gans.config import NetworkSpec, OptimizerSpec
    from gans.datasets.base import ImageDataset
    from gans.training import RunSettings, train
    from gans.training.steps import Step

    original = Step.use_execution

    def without_dropout(self, execution):  # before the first iteration, on every replica's copy
        for model in self.models.values():
            for layer in model._flatten_layers():
                if isinstance(layer, keras.layers.Dropout):
                    layer.rate = 0.0
        original(self, execution)

    Step.use_execution = without_dropout
    # Plain SGD: its updates are proportional to the gradients, so a wrongly scaled sum over replicas
    # shows (Adam's normalized steps would hide a factor of 2, and amplify 1e-9 float differences).
    sgd = OptimizerSpec("sgd", 0.05, None)
    config = tiny_config(3).replace(batch_size=8, optimizer=sgd, discriminator_optimizer=sgd)
    config = config.replace(generator=NetworkSpec(config.generator.builder,
                                                  {**config.generator.options, "use_batchnorm": False}))
    trainer = train(config, out, data=ImageDataset(labelled_images().images), steps=STEPS,
                    settings=RunSettings(progress=False, seed=4, sample_every=0, checkpoint_every=STEPS,
                                         distribute=distribute, tensorboard=False))
    arrays = {f"{name}/{i}": v.numpy() for name, m in trainer.step_obj.models.items() for i, v in enumerate(m.variables)}
    np.savez(Path(trainer.run_dir) / "final.npz", **arrays)
    replicas = trainer.step_obj.execution.describe().get("replicas", 1)
    (Path(trainer.run_dir) / "replicas.json").write_text(json.dumps(replicas))


def child_two_devices(out: str):
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    _train(str(Path(out) / "mirrored"), "mirrored")
    _train(str(Path(out) / "single"), "none")
    odd_batch(Path(out))


def odd_batch(out: Path):
    """``gans train --distribute mirrored --batch-size 7`` on two replicas: its exit status and stderr."""
    import contextlib
    import io

    from gans.cli import main

    np.savez(out / "digits.npz", images=labelled_images().images)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["train", "--experiment", "3", "--steps", "2", "--batch-size", "7", "--data", str(out / "digits.npz"),
                     "--out", str(out / "odd"), "--distribute", "mirrored", "--no-progress"])
    (out / "odd_batch.json").write_text(json.dumps({"code": code, "stderr": err.getvalue()}))


def child_single(out: str):
    _train(out, "none")


def child_worker(out: str):
    _train(out, "multi-worker")


# ---------------------------------------------------------------------- the test's side
def run_child(*args, env=None, wait=True):
    # The children import the gans of this checkout (the repository root and tests/ first on the path), so
    # a copy of the repository tests its own code, not an installed one.
    process = subprocess.Popen([sys.executable, __file__, *map(str, args)], env=child_env(env or {}),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not wait:
        return process
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-4000:]
    return process


def finish(process):
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-4000:]


def load(folder: Path) -> dict:
    with np.load(folder / "final.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def assert_close(a: dict, b: dict, atol: float):
    assert a and a.keys() == b.keys()
    differ = {k: float(np.abs(a[k] - b[k]).max()) for k in a if not np.allclose(a[k], b[k], rtol=0, atol=atol)}
    assert not differ, f"{len(differ)} of {len(a)} variables differ: {sorted(differ.items())[:6]}"


def losses(folder: Path) -> np.ndarray:
    return np.loadtxt(folder / "losses.csv", delimiter=",", skiprows=1)


def test_two_mirrored_cpu_devices_match_one_device(tmp_path):
    run_child("child_two_devices", tmp_path)
    assert json.loads((tmp_path / "mirrored" / "replicas.json").read_text()) == 2
    record = json.loads((tmp_path / "mirrored" / "config.json").read_text())["run"]["execution"]
    assert record["replicas"] == 2
    mirrored, single = load(tmp_path / "mirrored"), load(tmp_path / "single")
    moved = [k for k in single if k.startswith("generator/")]
    assert moved
    assert_close(mirrored, single, atol=1e-5)
    np.testing.assert_allclose(losses(tmp_path / "mirrored"), losses(tmp_path / "single"), rtol=1e-4, atol=1e-6)
    odd = json.loads((tmp_path / "odd_batch.json").read_text())
    errors = [line for line in odd["stderr"].splitlines() if "error:" in line]
    assert odd["code"] == 2 and len(errors) == 1, odd["stderr"][-2000:]
    assert "batch size 7 does not split evenly across 2 replicas" in errors[0] and "--batch-size 6 or 8" in errors[0]
    assert not (tmp_path / "odd" / "losses.csv").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_worker_processes_on_localhost_match_one_device(tmp_path):
    workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    processes = [run_child("child_worker", tmp_path / "multi", wait=False, env={"TF_CONFIG": json.dumps(
        {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})}) for i in (0, 1)]
    for process in processes:
        finish(process)
    run_child("child_single", tmp_path / "single")
    chief, other, single = tmp_path / "multi", tmp_path / "multi" / "worker-1", tmp_path / "single"
    assert json.loads((chief / "replicas.json").read_text()) == 2
    assert (chief / "checkpoints").is_dir() and (other / "losses.csv").is_file()  # each writes its own folder
    assert_close(load(chief), load(other), atol=0)  # the workers hold one model
    assert_close(load(chief), load(single), atol=1e-5)
    np.testing.assert_allclose(losses(chief), losses(single), rtol=1e-4, atol=1e-6)


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
