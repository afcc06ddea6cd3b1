"""Resume is exact: a run stopped (or killed) and resumed ends with the same network variables,
optimizer variables, random state and loss log as one uninterrupted run, for every family.

"The same" is bit-identical, not close: any difference is lost state (an optimizer slot, a dropout
seed, the rng), which a tolerance would hide. The state file holds ``model.variables``, so dropout
layers' seed-generator states come back too (the dcgan and wgan critics have dropout 0.25).

The runs happen in child processes with one TensorFlow thread (``TF_NUM_INTRAOP_THREADS=1``,
``TF_NUM_INTEROP_THREADS=1``). With TensorFlow's default thread pools its CPU kernels are not
bit-reproducible under load: with other processes competing for the cores, even two *uninterrupted*
runs in one process differed (3 of 24 six-step WGAN runs, by up to 2.5e-6; Adam and RMSprop can
amplify a round-off sign flip of a near-zero gradient to 1e-3), with or without oneDNN and with
``tf.config.experimental.enable_op_determinism()``. With one thread, 24 of 24 agreed bit for bit.

Run as a script, this file is the child: ``python test_resume.py MODE ARGS`` (see the end). The
stopped-and-resumed run of every family, which tests/training/test_precision.py repeats under a mixed
policy, is ``helpers.run_stopped_and_resumed``.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gans.callbacks import Callback
from gans.datasets.base import ImageDataset
from gans.training import RunSettings, train
from gans.training.state import read_meta

from helpers import (ONE_THREAD, RESUME_CASES, TINY_FAMILIES, Losses, assert_same_run, child_env, child_process,
                     gans_argv, labelled_images, log_steps, random_images, run_script, run_stopped_and_resumed,
                     save_run, tiny_config)

KILLED_SETTINGS = RunSettings(checkpoint_every=10, progress=False, seed=5, deterministic=True)


# ---------------------------------------------------------------------- the child's side
class SignalAt(Callback):
    """Sends the process a signal at ``step``, as Ctrl-C or ``kill`` from outside would arrive mid-run."""

    def __init__(self, step: int, signum: int):
        self.step, self.signum = step, signum

    def on_step_end(self, trainer, step, logs):
        if step == self.step:
            os.kill(os.getpid(), self.signum)


def child_interrupted(signame: str, out: str) -> None:
    """A 6-step DCGAN run (dropout in D) uninterrupted; one that receives ``signame`` at step 4 (states
    every 3 steps, so not at a checkpoint), then resumed to 6."""
    from gans.errors import TrainingInterrupted

    out, config, data = Path(out), tiny_config(2), labelled_images(64)
    settings = RunSettings(checkpoint_every=3, sample_every=3, progress=False, seed=5, deterministic=True)
    losses = Losses()
    save_run(train(config, out / "full", data=data, steps=6, settings=settings, extra_callbacks=[losses]),
             out, "full", losses)
    try:
        train(config, out / "split", data=data, steps=6, settings=settings,
              extra_callbacks=[SignalAt(4, getattr(signal, signame))])
    except TrainingInterrupted as exc:
        (out / "stopped.json").write_text(json.dumps({
            "saved_step": read_meta(out / "split" / "state" / "state.npz")["step"], "step": exc.step,
            "message": str(exc), "logged_steps": log_steps(out / "split" / "losses.csv")}))
    losses = Losses()
    save_run(train(config, out / "split", data=data, steps=6, settings=settings, resume=True, extra_callbacks=[losses]),
             out, "resumed", losses)


def child_killed(run: str) -> None:
    """A DCGAN run (dropout in D) that goes on until it is killed."""
    train(tiny_config(2), run, data=ImageDataset(random_images()), steps=100_000, settings=KILLED_SETTINGS)


def child_resume_killed(run: str, target: str, out: str) -> None:
    """Resume the killed run to ``target`` steps, and train the same run uninterrupted beside it."""
    out, target = Path(out), int(target)
    for name, folder, resume in (("resumed", Path(run), True), ("full", out / "full", False)):
        losses = Losses()
        trainer = train(tiny_config(2), folder, data=ImageDataset(random_images()), steps=target,
                        settings=KILLED_SETTINGS, resume=resume, extra_callbacks=[losses])
        save_run(trainer, out, name, losses)


# ---------------------------------------------------------------------- the test's side
def child(*args, **popen) -> subprocess.Popen:
    return child_process(__file__, *args, **popen)


def run_child(*args) -> None:
    run_script(__file__, *args)


def tensorboard_loss_steps(run: Path) -> dict[str, list[int]]:
    """Per loss tag, the steps of the run's TensorBoard events, in file order (duplicates kept, as
    TensorBoard would draw them)."""
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    steps: dict[str, list[int]] = {}
    for path in sorted((run / "tensorboard").glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.tag.startswith("loss/"):
                    steps.setdefault(value.tag, []).append(int(event.step))
    return steps


def test_the_families_under_test_include_dropout_and_batch_norm():
    import keras

    layers = [type(layer) for make in TINY_FAMILIES.values() for role, spec in make().networks.items()
              for layer in spec.build(role, latent_dim=8, image_shape=(28, 28, 1), num_classes=10).layers]
    assert keras.layers.Dropout in layers and any(issubclass(t, keras.layers.BatchNormalization) for t in layers)
    critic = tiny_config(2).discriminator.build("discriminator", image_shape=(28, 28, 1))
    rates = [layer.rate for layer in critic.layers if isinstance(layer, keras.layers.Dropout)]
    assert rates and min(rates) > 0  # the dcgan case resumes through active dropout


@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_a_stopped_and_resumed_run_equals_an_uninterrupted_one(case, tmp_path):
    run_stopped_and_resumed(case, tmp_path)
    stopped = json.loads((tmp_path / "stopped.json").read_text())
    assert stopped == {"saved_step": 3, "logged_steps": [1, 2, 3, 4, 5]}  # steps 4 and 5 are cut back and redone
    full, resumed = assert_same_run(tmp_path)
    assert full["step"] == 6 and resumed["losses"] == full["losses"][3:]  # floats, not only 6 printed digits
    assert (tmp_path / "split" / "losses.csv").read_text() == (tmp_path / "full" / "losses.csv").read_text()
    assert log_steps(tmp_path / "split" / "losses.csv") == [1, 2, 3, 4, 5, 6]
    # TensorBoard too: the stopped run's events after step 3 are cut out, each step is there once
    board = tensorboard_loss_steps(tmp_path / "split")
    assert board and board == tensorboard_loss_steps(tmp_path / "full")
    assert all(steps == [1, 2, 3, 4, 5, 6] for steps in board.values()), board


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_saves_the_state_of_the_current_step_and_the_resume_is_exact(signame, tmp_path):
    """The signal at step 4 (the last checkpoint at 3): the run finishes step 4, saves its state there and
    says so; resumed, it ends bit for bit as the uninterrupted run (nothing from step 4 is lost)."""
    run_child("interrupted", signame, tmp_path)
    stopped = json.loads((tmp_path / "stopped.json").read_text())
    assert stopped["saved_step"] == stopped["step"] == 4 and stopped["logged_steps"] == [1, 2, 3, 4]
    assert signame in stopped["message"] and "--resume continues from step 5" in stopped["message"]
    full, resumed = assert_same_run(tmp_path)
    assert full["step"] == 6 and resumed["losses"] == full["losses"][4:]
    assert (tmp_path / "split" / "losses.csv").read_text() == (tmp_path / "full" / "losses.csv").read_text()


def test_a_second_ctrl_c_stops_at_once_and_the_handlers_come_back():
    from gans.training.trainer import StopRequests

    before = signal.getsignal(signal.SIGINT)
    with StopRequests() as stop:
        assert signal.getsignal(signal.SIGINT) is not before
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert stop.requested == "SIGINT"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is before


def test_gans_train_says_where_the_resume_continues_after_ctrl_c(tmp_path, digits_npz):
    """A real gans train process, Ctrl-C while it trains: exit status 130, one line naming the step, and
    the saved state is at that step."""
    run = tmp_path / "run"
    losses = run / "losses.csv"
    argv = gans_argv("train", "--experiment", "1", "--steps", "100000", "--batch-size", "8",
                     "--checkpoint-every", "100000", "--data", str(digits_npz), "--out", str(run), "--no-progress",
                     "--no-tensorboard")
    process = subprocess.Popen(argv, env=child_env(ONE_THREAD), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and process.poll() is None:
            if losses.exists() and len(losses.read_text().splitlines()) > 5:
                break
            time.sleep(0.05)
        assert process.poll() is None, process.stderr.read()[-3000:]
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err[-3000:]
    step = read_meta(run / "state" / "state.npz")["step"]
    assert step >= 5 and log_steps(losses)[-1] == step  # the state holds the last logged step, not step 0
    assert f"after step {step}" in err and f"--resume continues from step {step + 1}" in err
    assert "Traceback" not in err


def test_a_run_killed_with_sigkill_resumes_in_another_process_to_the_uninterrupted_result(tmp_path):
    """kill -9 a DCGAN run (dropout in D); resumed in a new process, it reaches its last step with
    exactly the state and the loss log of a run that was never interrupted."""
    run = tmp_path / "killed"
    losses, state = run / "losses.csv", run / "state" / "state.npz"
    with open(tmp_path / "child.err", "w") as stderr:
        killed = child("killed", run, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.time() + 300
        try:
            while time.time() < deadline and killed.poll() is None:
                if state.exists() and losses.exists() and len(losses.read_text().splitlines()) > 16:
                    break  # a state exists and training has gone past it
                time.sleep(0.05)
            assert killed.poll() is None, (tmp_path / "child.err").read_text()[-3000:]
        finally:
            killed.send_signal(signal.SIGKILL)
            killed.wait()
    saved = read_meta(state)["step"]
    complete = [line for line in losses.read_text().splitlines()[1:] if len(line.split(",")) == 5]
    killed_at = int(complete[-1].split(",")[0])
    assert saved % 10 == 0 and saved < killed_at
    target = killed_at + 3

    run_child("resume-killed", run, target, tmp_path)
    full, resumed = assert_same_run(tmp_path)
    assert resumed["step"] == target and log_steps(losses) == list(range(1, target + 1))
    assert resumed["losses"] == full["losses"][saved:]
    assert losses.read_text() == (tmp_path / "full" / "losses.csv").read_text()


def test_resuming_a_finished_run_changes_nothing_and_repeats_its_diagnosis(tmp_path, digits_npz, capsys):
    from gans.cli import main

    out = tmp_path / "run"
    args = ["train", "--experiment", "3", "--steps", "4", "--checkpoint-every", "2", "--sample-every", "2",
            "--batch-size", "16", "--data", str(digits_npz), "--out", str(out), "--no-progress"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    verdict = json.loads((out / "diagnostics.json").read_text())["verdict"]
    assert "(step 4 of 4)" in printed and f"diagnosis: {verdict}" in printed
    files = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.rglob("*")) if p.is_file()}
    assert out / "state" / "state.npz" in files and out / "diagnostics.md" in files

    assert main(args + ["--resume"]) == 0
    again = capsys.readouterr().out
    assert "(step 4 of 4)" in again and f"diagnosis: {verdict}" in again
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.rglob("*")) if p.is_file()} == files


def test_a_resume_by_a_version_that_logs_another_loss_keeps_every_earlier_row(tmp_path, caplog):
    """losses.csv written before a loss was added (the CAAE's "eg_total"): the resumed log keeps the
    rows up to the state, with the new column empty (nan) there and filled from then on, and says so."""
    import csv
    import logging
    from types import SimpleNamespace

    from gans.training.callbacks import LossLog

    (tmp_path / "losses.csv").write_text("step,eg,dz\n1,0.5,1.0\n2,0.4,0.9\n3,0.3,0.8\n")
    trainer = SimpleNamespace(run_dir=tmp_path, step=2, total_steps=4, title="t",
                              step_obj=SimpleNamespace(loss_names=("eg", "dz", "eg_total"), plot_losses=("eg", "dz")))
    log = LossLog(every=None)
    with caplog.at_level(logging.WARNING):
        log.on_train_begin(trainer)
    log.on_step_end(trainer, 3, {"eg": 0.2, "dz": 0.7, "eg_total": 0.25})
    log.on_train_end(trainer)
    with open(tmp_path / "losses.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["step"], r["eg"], r["eg_total"]) for r in rows] == [("1", "0.5", "nan"), ("2", "0.4", "nan"),
                                                                  ("3", "0.2", "0.25")]
    assert "no column eg_total before step 2" in caplog.text


if __name__ == "__main__":  # the child: python test_resume.py interrupted SIG OUT | killed RUN | resume-killed RUN TARGET OUT
    {"interrupted": child_interrupted, "killed": child_killed,
     "resume-killed": child_resume_killed}[sys.argv[1]](*sys.argv[2:])


def test_a_folder_of_another_family_is_named_in_one_line(tmp_path):
    # issue 24: resuming a progressive run with gans train -e 3 listed twenty field differences
    from gans.errors import ConfigError
    from gans.training.run import check_family

    with pytest.raises(ConfigError, match=r"^\S*run is a pggan run, not lsgan: resume it with 'gans train pggan"):
        check_family(tmp_path / "run", {"variant": "pggan", "steps": 3}, "lsgan")
    check_family(tmp_path / "run", {"variant": "lsgan"}, "lsgan")
    check_family(tmp_path / "run", None, "lsgan")
