"""``gans sweep``: grid axes, the Optuna-backed queue, resume after a kill, workers sharing one study,
the table and the figure."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import time

import pytest

from gans.cli import main
from gans.errors import ConfigError
from gans.studies.grid import apply_values, grid_points, parse_grid, point_name, resolve_axes, scale_learning_rates

from helpers import gans_argv, stand_in_lenet, sweep_env, tiny_cgan, tiny_config, trained_lines
from helpers import read_csv as read_table  # the name this file has always used

TF_NOISE = ("I0000", "WARNING: All", "E0000", "oneDNN", "cuda", "To enable")


def tiny_lsgan(**changes):
    return tiny_config(3, **changes)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(TF_NOISE)]


# ---------------------------------------------------------------------------- axes
def test_short_names_and_dotted_options_reach_the_right_networks():
    cfg = tiny_cgan()
    axes = resolve_axes(cfg, parse_grid(["F=1,2", "D=1,3", "B=8,16", "g_lr=1e-3,5e-4", "generator.momentum=0.9"]))
    points = grid_points(axes)
    assert len(points) == 2 * 2 * 2 * 2 * 1
    values = {"F": 2, "D": 3, "B": 16, "g_lr": 5e-4, "generator.momentum": 0.9}
    changed = apply_values(cfg, axes, values)
    assert point_name(axes, values) == "F2-D3-B16-g_lr0.0005-generator.momentum0.9"
    assert changed.generator.options["capacity"] == 2 and changed.discriminator.options["capacity"] == 2
    assert changed.discriminator.options["depth"] == 3 and "depth" not in changed.generator.options
    assert changed.batch_size == 16
    assert changed.optimizer.learning_rate == 5e-4
    assert changed.discriminator_optimizer.learning_rate == cfg.discriminator_optimizer.learning_rate
    assert changed.generator.options["momentum"] == 0.9
    assert changed.generator.options["filters"] == cfg.generator.options["filters"]  # the rest is kept


def test_unknown_axis_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="not a config field.*valid axes: .*batch_size.*lr"):
        resolve_axes(tiny_lsgan(), {"colour": (1, 2)})
    with pytest.raises(ConfigError, match="takes no option 'depth'"):
        resolve_axes(tiny_lsgan(), {"generator.depth": (1, 2)})
    with pytest.raises(ConfigError, match="no values"):
        parse_grid(["lr="])


def test_an_axis_the_family_does_not_read_is_refused():
    # issue 24: --grid result_id=3,10 trained one LSGAN twice and listed it as two configurations
    with pytest.raises(ConfigError, match="'result_id' only names the listed points of a named sweep"):
        resolve_axes(tiny_lsgan(), parse_grid(["result_id=3,10"]))
    caae = tiny_lsgan().replace(variant="caae")  # its gans train refuses n_critic and label smoothing
    for axis in ("n_critic=1,2", "label_smoothing=0,0.1"):
        with pytest.raises(ConfigError, match="the caae family does not read"):
            resolve_axes(caae, parse_grid([axis]))
    assert resolve_axes(tiny_lsgan(), parse_grid(["n_critic=1,2"]))[0].target == "config:n_critic"
    listed = resolve_axes(tiny_lsgan(), {"result_id": (3, 10), "lr": (1e-4, 2e-4)}, listed=True)
    assert [a.target for a in listed] == ["label:result_id", "optimizer:lr"]


def test_linear_scaling_rule_gives_4e_4_at_batch_128_from_2e_4_at_64():
    cfg = tiny_lsgan()
    scaled = scale_learning_rates(cfg.replace(batch_size=128), 2e-4, 64)
    assert scaled.optimizer.learning_rate == pytest.approx(4e-4)
    assert scaled.discriminator_optimizer.learning_rate == pytest.approx(4e-4)
    assert scale_learning_rates(cfg.replace(batch_size=32), 2e-4, 64).optimizer.learning_rate == pytest.approx(1e-4)


# ---------------------------------------------------------------------------- one process
def tiny_spec(digits_npz, axes, steps=4, **settings):
    from gans.studies.sweep import make_spec

    cfg = tiny_lsgan()
    return make_spec(cfg, axes, steps=steps, epochs=None, data=str(digits_npz),
                     settings={"sample_every": 2, "checkpoint_every": 2, "tensorboard": False, **settings})


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory, digits_npz):
    """A finished 2 x 2 sweep of 4-step tiny runs with FID (LeNet replaced by an untrained stand-in),
    trained once for the module: (its folder, its spec, what run_sweep returned, what it printed)."""
    from gans.studies.sweep import run_sweep

    folder = tmp_path_factory.mktemp("sweep")
    spec = tiny_spec(digits_npz, {"batch_size": (8, 16), "latent_dim": (4, 6)}, fid_every=4, fid_n=32)
    said = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(said):
        stand_in_lenet(patch)
        paths = run_sweep(spec, folder, workers=1, heartbeat=2, progress=False)
    return folder, spec, paths, said.getvalue()


def test_sweep_trains_each_point_once_writes_table_and_figure_and_resumes_without_retraining(
        tiny_sweep, tiny_lenet, capsys):
    from gans.studies.sweep import run_sweep

    tmp_path, spec, paths, said = tiny_sweep
    assert "4 configurations (2 values of batch_size x 2 values of latent_dim)" in said  # not "batch_size=2"
    assert "already finished" not in said
    names = ["batch_size8-latent_dim4", "batch_size8-latent_dim6", "batch_size16-latent_dim4",
             "batch_size16-latent_dim6"]
    assert paths["trained"] == names
    rows = read_table(paths["table"])
    assert [r["run"] for r in rows] == names
    for row in rows:
        record = json.loads((tmp_path / row["run"] / "config.json").read_text())
        assert record["batch_size"] == int(row["batch_size"]) and record["latent_dim"] == int(row["latent_dim"])
        assert row["status"] == "complete" and row["step"] == "4"
        log = read_table(tmp_path / row["run"] / "losses.csv")
        assert [int(r["step"]) for r in log] == [1, 2, 3, 4]
        assert float(row["g_loss"]) == pytest.approx(float(log[-1]["g_loss"]), rel=1e-4)
        assert float(row["fid"]) > 0 and row["kid"] != "" and row["verdict"]
        assert float(row["wall_s"]) > 0
    assert paths["figure"].stat().st_size > 10_000
    assert "| batch_size | latent_dim | run |" in paths["markdown"].read_text()

    before = {n: (tmp_path / n / "losses.csv").stat().st_mtime_ns for n in names}
    again = run_sweep(spec, tmp_path, workers=1, heartbeat=2, progress=False)
    assert again["trained"] == []  # every point finished: nothing trains, nothing is rewritten
    assert "4 of 4 configurations already finished: kept, not trained again" in capsys.readouterr().out
    assert {n: (tmp_path / n / "losses.csv").stat().st_mtime_ns for n in names} == before


def test_a_storage_with_another_grid_is_refused(tmp_path, digits_npz):
    from gans.studies.sweep import create_or_join, open_storage

    storage = open_storage(f"sqlite:///{tmp_path / 'sweep.db'}")
    create_or_join(storage, tiny_spec(digits_npz, {"batch_size": (8, 16)}))
    with pytest.raises(ConfigError, match="another sweep.*axes"):
        create_or_join(storage, tiny_spec(digits_npz, {"batch_size": (8, 32)}))


# ---------------------------------------------------------------------------- the command line
def cli_command(out, *extra, steps=6, checkpoint_every=2):
    # The tiny networks of tests/helpers.py are not reachable from the command line; experiment 3's
    # own networks on the test's tiny digits keep each run to seconds.
    return gans_argv("sweep", "3", "--grid", "latent_dim=4,6", "batch_size=8,16", "--steps", steps, "--out", out,
                     "--no-fid", "--no-tensorboard", "--sample-every", steps, "--checkpoint-every", checkpoint_every,
                     "--heartbeat", "1", *extra)


def test_two_processes_started_at_once_share_the_grid_and_train_no_point_twice(tmp_path, digits_npz):
    out = tmp_path / "sweep"
    command = cli_command(out, "--data", str(digits_npz))
    procs = [subprocess.Popen(command, env=sweep_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1][-2000:] for r in results]
    trained = trained_lines(*(r[0] for r in results))
    assert trained, "no configuration was trained"
    assert sorted(trained) == sorted(set(trained)), f"a configuration ran twice: {trained}"
    assert len(trained) == 4
    rows = read_table(out / "sweep.csv")
    assert [r["status"] for r in rows] == ["complete"] * 4
    for row in rows:
        log = read_table(out / row["run"] / "losses.csv")
        assert [int(r["step"]) for r in log] == list(range(1, 7))
        assert json.loads((out / row["run"] / "config.json").read_text())["run"]["resumed"] is False


@pytest.mark.slow  # the two-process test above covers concurrent workers in the default run
def test_workers_option_runs_local_worker_processes(tmp_path, digits_npz):
    out = tmp_path / "sweep"
    result = subprocess.run(cli_command(out, "--data", str(digits_npz), "--workers", "2"),
                            env=sweep_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    logs = sorted((out / "workers").glob("worker-*.log"))
    assert [p.name for p in logs] == ["worker-0.log", "worker-1.log"]
    trained = trained_lines(*(p.read_text() for p in logs))
    assert sorted(trained) == sorted(set(trained)) and len(trained) == 4
    assert (out / "sweep_losses.png").is_file()
    assert [r["status"] for r in read_table(out / "sweep.csv")] == ["complete"] * 4


STEPS = 150  # long enough to kill the second run between its first saved state and its end


def test_a_killed_sweep_resumes_its_interrupted_run_and_skips_finished_ones(tmp_path, digits_npz):
    out = tmp_path / "sweep"
    command = cli_command(out, "--data", str(digits_npz), steps=STEPS, checkpoint_every=10)
    proc = subprocess.Popen(command, env=sweep_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    first = out / "latent_dim4-batch_size8"
    second = out / "latent_dim4-batch_size16"
    deadline = time.monotonic() + 400
    try:  # kill it once the first run has finished and the second has saved a state
        while time.monotonic() < deadline and proc.poll() is None:
            if (second / "state" / "state.npz").exists() and (first / "losses.csv").exists():
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the sweep ended before it could be killed"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert len(read_table(first / "losses.csv")) == STEPS
    finished_at = (first / "losses.csv").stat().st_mtime_ns
    from gans.training.run import saved_state_step

    killed_at = saved_state_step(second)
    assert killed_at is not None and 0 < killed_at < STEPS

    result = subprocess.run(command, env=sweep_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    trained = trained_lines(result.stdout)
    assert "latent_dim4-batch_size8" not in trained and len(trained) == 3
    assert (first / "losses.csv").stat().st_mtime_ns == finished_at
    record = json.loads((second / "config.json").read_text())
    assert record["run"]["resumed"] is True  # continued from its state, not restarted
    assert [int(r["step"]) for r in read_table(second / "losses.csv")] == list(range(1, STEPS + 1))
    assert [r["status"] for r in read_table(out / "sweep.csv")] == ["complete"] * 4


@pytest.mark.parametrize("extra, message", [
    (["--grid", "colour=1,2"], "grid axis 'colour' is not a config field"),
    (["--grid", "lr="], "grid axis 'lr' has no values"),
    (["--grid", "lr=1e-4", "--storage", "nosuchdb://x/y"], "cannot open the sweep storage 'nosuchdb://x/y'"),
    (["--grid", "lr=1e-4,2e-4", "--scale-lr-with-batch", "2e-4@64"], "drop the learning-rate axis"),
    (["--grid", "batch_size=8", "--scale-lr-with-batch", "fast"], "is not BASE_LR@BASE_BATCH"),
])
def test_bad_sweep_input_is_one_line_and_exit_2(tmp_path, capsys, extra, message):
    status = main(["sweep", "3", "--steps", "2", "--out", str(tmp_path / "s"), *extra])
    err = error_lines(capsys.readouterr().err)
    assert status == 2
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "s" / "sweep.csv").exists()


def test_named_grid_of_the_mnist_paper_is_runnable_by_name():
    from gans.experiments.studies import sweep_plans
    from gans.studies.sweep import resolve_target

    plans = sweep_plans()
    assert {"dcgan-mnist-fdb", "ccgan-mnist-fdb"} <= set(plans)
    for name in ("dcgan-mnist-fdb", "ccgan-mnist-fdb"):
        config, plan = resolve_target(name)
        resolved = resolve_axes(config, plan.axes)
        points = grid_points(resolved)
        assert len(points) == 27 and plan.epochs == 20
        corner = apply_values(config, resolved, {"F": 3, "D": 2, "B": 128})
        assert corner.generator.options["capacity"] == 3 and corner.discriminator.options["depth"] == 2
        assert point_name(resolved, {"F": 3, "D": 2, "B": 128}) == "F3-D2-B128"
    assert resolve_target("ccgan-mnist-fdb")[0].num_classes == 10
    assert resolve_target("dcgan-mnist-fdb")[0].num_classes is None
    assert resolve_target("ccgan-mnist-fdb")[0].optimizer.learning_rate == 1e-4


def test_studies_notebook_shows_the_table_and_figures_of_a_tiny_sweep(tiny_sweep, tmp_path):
    from notebook_runner import execute_notebook

    text, figures = execute_notebook("studies.ipynb", {"GANS_SWEEP_DIR": str(tiny_sweep[0]),
                                                       "GANS_SYNTHETIC_DIR": str(tmp_path / "none"),
                                                       "GANS_PCA_DIR": str(tmp_path / "none")})
    assert "4 configurations over ['batch_size', 'latent_dim']; 4 complete" in text
    assert "batch_size8-latent_dim4" in text and "batch_size16-latent_dim6" in text  # the table
    assert figures == 2  # the loss grid and the KID/FID bars
    assert "has no synthetic.csv" in text and "has no pca.csv" in text


def test_caae_table1_plan_lists_the_seeds_points_with_their_own_lengths_and_published_losses(tmp_path):
    from gans.studies.grid import run_length
    from gans.studies.report import write_report
    from gans.studies.sweep import make_spec, resolve_target

    config, plan = resolve_target("caae-utkface-table1")
    spec = make_spec(config, plan.axes, None, None, points=list(plan.points), published=plan.published)
    axes = spec.resolved_axes()
    points = spec.grid(axes)
    assert [p["result_id"] for p in points] == [3, *range(10, 22)]
    by_id = {p["result_id"]: p for p in points}
    assert point_name(axes, by_id[14]) == "result_id14"
    assert run_length(axes, by_id[14], spec.steps, spec.epochs) == (None, 13)
    c14 = spec.point_config(axes, by_id[14])
    assert c14.batch_size == 128 and c14.optimizer.learning_rate == 4e-4 == c14.discriminator_optimizer.learning_rate
    rows = read_table(write_report(tmp_path, None, spec)["table"])  # nothing trained yet: the seed's values only
    assert [r["run"] for r in rows][:2] == ["result_id3", "result_id10"]
    assert rows[0]["published_eg"] == "0.0758" and rows[0]["published_valid"] == "0.1165"
    assert rows[0]["status"] == "not started"
