"""The `gans` command as a user runs it: list, train (errors included), sample, kill -9 and resume."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gans.cli import main

from helpers import child_env, gans_argv, run_gans


def test_list_shows_variants_and_all_twenty_experiments(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for variant in ("gan", "dcgan", "lsgan", "wgan"):
        assert variant in out
    rows = [line for line in out.splitlines() if line.strip()[:2].strip().isdigit()]
    assert len(rows) == 20 and "52.4530" in out


@pytest.mark.parametrize("args, message", [
    (["train", "--experiment", "21"], "unknown experiment 21; the thesis has experiments 1-20"),
    (["train", "--experiment", "3", "--data", "/no/such/mnist.npz"], "does not exist"),
    (["train", "--experiment", "12"], "pass --data FACES.npz"),
    (["train"], "give either --experiment N or a VARIANT"),
    (["train", "dcgan", "--dataset", "mnist", "--lr", "-1"], "learning rate must be > 0"),
])
def test_bad_input_is_one_clear_line(args, message, capsys, tmp_path):
    assert main(args + ["--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_batch_larger_than_the_dataset(capsys, tmp_path):
    small = tmp_path / "small.npz"
    np.savez(small, x_train=np.zeros((10, 28, 28), np.uint8))
    assert main(["train", "--experiment", "3", "--data", str(small), "--out", str(tmp_path / "run")]) == 2
    assert "batch size 32 is larger than the dataset (10 images)" in capsys.readouterr().err


def test_experiment_1_writes_the_thesis_parameter_counts(digits_npz, tmp_path):
    out = tmp_path / "exp1"
    assert main(["train", "--experiment", "1", "--steps", "2", "--data", str(digits_npz), "--out", str(out),
                 "--no-progress"]) == 0
    summaries = {name: (out / f"{name}_modelsummary.txt").read_text() for name in ("discriminator", "generator", "gan")}
    assert "Total params: 533,505" in summaries["discriminator"]
    assert "Total params: 1,493,520" in summaries["generator"]
    assert "Total params: 2,027,025" in summaries["gan"]
    assert "Trainable params: 1,489,936" in summaries["gan"]  # D frozen inside the combined model


def test_checkpoint_loads_in_a_fresh_process_and_sample_works(digits_npz, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "lsgan", "--steps", "4", "--checkpoint-every", "2", "--sample-every", "2",
                 "--batch-size", "16", "--data", str(digits_npz), "--out", str(out), "--no-progress"]) == 0
    checkpoint = out / "checkpoints" / "generator_step_000004.h5"
    code = ("import sys, numpy as np, keras, gans\n"
            f"m = keras.models.load_model(r'{checkpoint}', compile=False)\n"
            "x = m.predict(np.random.default_rng(0).standard_normal((25, m.input_shape[-1])), verbose=0)\n"
            "assert x.shape == (25, 28, 28, 1) and x.min() >= -1 and x.max() <= 1, (x.shape, x.min(), x.max())\n"
            "print('ok', x.shape)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "ok (25, 28, 28, 1)" in done.stdout, done.stderr[-2000:]
    grid = tmp_path / "grid.png"
    result = run_gans("sample", checkpoint, "--n", "25", "--out", grid, "--npz", tmp_path / "s.npz")
    assert result.returncode == 0, result.stderr[-2000:]
    assert grid.stat().st_size > 1000
    with np.load(tmp_path / "s.npz", allow_pickle=False) as data:
        assert data["images"].shape == (25, 28, 28, 1) and data["images"].dtype == np.uint8


def test_kill_minus_nine_then_resume_continues_without_gaps(digits_npz, tmp_path):
    out = tmp_path / "run"
    args = ["train", "--experiment", "3", "--steps", "2000", "--checkpoint-every", "20", "--sample-every", "1000",
            "--batch-size", "16", "--data", digits_npz, "--out", out, "--no-progress"]
    proc = subprocess.Popen(gans_argv(*args), env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    losses = out / "losses.csv"
    deadline = time.time() + 240
    while time.time() < deadline:  # wait until a state exists and training has gone past it
        if (out / "state" / "state.npz").exists() and losses.exists() and len(losses.read_text().splitlines()) > 50:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = int(losses.read_text().splitlines()[-1].split(",")[0])
    assert killed_at < 2000
    result = run_gans(*args, "--steps", "60" if killed_at < 60 else killed_at + 20, "--resume")
    assert result.returncode == 0, result.stderr[-2000:]
    steps = np.loadtxt(losses, delimiter=",", skiprows=1)[:, 0]
    assert steps[0] == 1 and np.all(np.diff(steps) == 1), "the loss log has a gap or a duplicate"
    assert "resuming" in result.stderr


def test_celeba_experiment_trains_on_a_faces_npz(tmp_path, capsys):
    faces = tmp_path / "faces.npz"
    np.savez_compressed(faces, images=np.random.default_rng(0).integers(0, 256, (40, 40, 40, 3), dtype=np.uint8),
                        filenames=np.array([f"{i:06d}.jpg" for i in range(40)]))
    out = tmp_path / "exp17"
    assert main(["train", "--experiment", "17", "--steps", "2", "--batch-size", "8", "--data", str(faces),
                 "--out", str(out), "--no-progress"]) == 0
    assert "run folder" in capsys.readouterr().out
    import json

    config = json.loads((out / "config.json").read_text())
    assert config["image_shape"] == [40, 40, 3] and config["dataset"] == "celeba"
    assert (out / "checkpoints" / "generator_step_000002.h5").exists()
    bad = tmp_path / "gray.npz"
    np.savez(bad, images=np.zeros((4, 40, 40, 2), np.uint8))
    assert main(["train", "--experiment", "17", "--data", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert "C = 1 or 3" in capsys.readouterr().err
