"""The `gans` command in a real process, as a shell sees it: exit status, stdout, stderr.

`--help` of every command, and `gans diagnose`'s exit status (0 healthy, 1 failed run, 2 user error),
which scripts and CI rely on. `--help` answers before Keras loads (well under a second); `gans
diagnose` loads it (a few seconds), so it runs three times only.
"""

import json

import pytest

from helpers import collapsing_losses, gans_argv, healthy_losses, write_run
from helpers import run_gans as gans  # ``gans ARGS`` in a fresh process: (status, stdout, stderr)

COMMANDS = ("list", "train", "sample", "crop-faces", "fid", "report", "diagnose", "train-classifier",
            "generate-from-faces", "attribute-agreement", "export", "demo", "age-progress", "train-age-classifier",
            "age-agreement", "sweep", "study", "reproduce")


def subparsers():
    import argparse

    from gans.cli import build_parser

    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1
    return actions[0].choices


def test_every_command_is_covered_here():
    assert set(subparsers()) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command_exits_0_and_shows_its_usage_and_options(command):
    status, out, err = gans(command, "--help")
    assert status == 0 and "Traceback" not in err, err
    assert out.startswith(f"usage: gans {command}")
    options = [s for action in subparsers()[command]._actions for s in action.option_strings if s.startswith("--")]
    assert "--help" in options
    missing = [s for s in options if s not in out]
    assert not missing, f"gans {command} --help does not show {missing}"


def test_gans_without_a_command_lists_the_commands():
    status, out, err = gans("--help")
    assert status == 0 and "Traceback" not in err
    assert all(command in out for command in COMMANDS)
    status, out, err = gans()
    assert status == 2 and all(command in out for command in COMMANDS)


def test_diagnose_exits_1_on_a_failed_run_and_0_on_a_healthy_one(tmp_path):
    steps, d, g = collapsing_losses(onset=1000)
    write_run(tmp_path / "failed", steps, d, g, diversity=[(500, 0.9), (1000, 0.8), (1500, 0.2), (2000, 0.1)])
    write_run(tmp_path / "healthy", *healthy_losses(), diversity=[(1000, 0.9), (2000, 0.92)])

    status, out, err = gans("diagnose", tmp_path / "failed")
    assert status == 1 and "Traceback" not in err, err
    assert "mode collapse and non-convergence" in out and "1001" in out
    saved = json.loads((tmp_path / "failed" / "diagnostics.json").read_text())
    assert not saved["healthy"] and saved["began_at_step"] == 1001

    status, out, err = gans("diagnose", tmp_path / "healthy")
    assert status == 0 and "Traceback" not in err, err
    assert "healthy" in out and json.loads((tmp_path / "healthy" / "diagnostics.json").read_text())["healthy"]

    status, out, err = gans("diagnose", tmp_path / "no-such-run")
    assert status == 2 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.strip()] == [line for line in err.splitlines()
                                                                  if line.startswith("gans diagnose: error:")]


def test_list_names_every_thesis_experiment_with_its_published_fid():
    status, out, err = gans("list")
    from gans.experiments import EXPERIMENTS

    assert status == 0 and EXPERIMENTS, err
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for n, experiment in EXPERIMENTS.items():
        assert f"{experiment.published_fid:.4f}" in rows[str(n)], n


def test_a_reader_that_stops_reading_ends_the_command_quietly():
    """`gans list | head -1`: the closed pipe ends the command with the shell's SIGPIPE status (141) and
    no error message or traceback."""
    import subprocess

    child = subprocess.Popen(gans_argv("list"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141 and err == "", err
