"""``gans sweep`` on a real PostgreSQL server, as several machines share a study: two worker
processes take one grid from the server, one is killed with SIGKILL in the middle of a run, and every
grid point is trained exactly once, the killed one resumed from its saved state by the other.

The test starts its own server (``initdb`` and ``pg_ctl`` of Debian's ``postgresql`` package, which
``.ci/run`` installs where apt-get can; they need not be on PATH) in a temporary folder, on a free
port of 127.0.0.1, and stops it afterwards. It skips, saying why, where there is no server or no
Python driver (``psycopg2``, in the dev extra). PostgreSQL refuses to run as root: as root the server
runs as the system's ``postgres`` user.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from helpers import gans_argv, sweep_env, trained_lines
from helpers import read_csv as read_table  # the name test_sweep.py uses

STEPS = 60  # long enough to kill a run between its first saved state and its end


def server_binaries() -> dict[str, str] | None:
    """``initdb`` and ``pg_ctl``: on PATH, else the newest of Debian's /usr/lib/postgresql/*/bin."""
    found = {name: shutil.which(name) for name in ("initdb", "pg_ctl")}
    if all(found.values()):
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True):
        paths = {name: os.path.join(folder, name) for name in ("initdb", "pg_ctl")}
        if all(os.access(p, os.X_OK) for p in paths.values()):
            return paths
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of this test's own: yields its SQLAlchemy URL."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pytest.skip("no PostgreSQL driver: psycopg2 is missing (pip install -e '.[dev]' installs psycopg2-binary)")
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server: initdb/pg_ctl are neither on PATH nor in /usr/lib/postgresql/*/bin "
                    "(apt-get install postgresql; .ci/run installs it where it can)")
    as_user = None
    if os.geteuid() == 0:  # the server refuses root; run it as the package's system user
        try:
            as_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root, and there is no 'postgres' user to run the PostgreSQL server as")
    # Not under pytest's tmp_path: as root that lies in a folder (mode 700) the postgres user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="gans-postgres-"))
    data = root / "data"
    data.mkdir()
    if as_user is not None:
        for path in (root, data):
            os.chown(path, as_user.pw_uid, as_user.pw_gid)

    def drop_privileges():
        if as_user is not None:
            os.setgid(as_user.pw_gid)
            os.setuid(as_user.pw_uid)

    def run(*argv, timeout=120):
        done = subprocess.run([*argv], capture_output=True, text=True, timeout=timeout, preexec_fn=drop_privileges,
                              cwd=root, env={**os.environ, "LC_ALL": "C"})
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, argv))} failed: {(done.stdout + done.stderr)[-2000:]}")

    port = free_port()
    run(binaries["initdb"], "-D", data, "-U", "gans", "--auth=trust", "-E", "UTF8")
    run(binaries["pg_ctl"], "-D", data, "-l", root / "server.log", "-w", "-t", "60", "-o",
        f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c max_connections=50 -c fsync=off", "start")
    try:
        yield f"postgresql+psycopg2://gans@127.0.0.1:{port}/postgres"
    finally:
        try:
            run(binaries["pg_ctl"], "-D", data, "-m", "immediate", "-w", "stop", timeout=60)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def lock_holder(run: Path) -> int | None:
    """The process id in a run folder's lock (gans.io.folder_lock), while a process trains it."""
    try:
        return int(json.loads((run / "run.lock").read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def test_two_workers_share_a_grid_on_postgresql_and_a_killed_ones_run_is_resumed_by_the_other(
        tmp_path, digits_npz, postgres_url):
    from gans.training.run import saved_state_step

    out = tmp_path / "sweep"
    # Two points, one for each worker. --jit off: XLA's compile would take 10-20 s of every run here,
    # more than its training.
    command = gans_argv("sweep", "3", "--grid", "latent_dim=4,6", "--steps", STEPS, "--out", out, "--data", digits_npz,
                        "--storage", postgres_url, "--no-fid", "--no-tensorboard", "--sample-every", STEPS,
                        "--checkpoint-every", 5, "--jit", "off", "--heartbeat", 1)
    env = sweep_env()
    logs = [(tmp_path / f"worker{k}.out", tmp_path / f"worker{k}.err") for k in range(2)]
    procs = []
    for stdout, stderr in logs:  # files, not pipes: nobody reads a pipe while the test waits to kill
        with open(stdout, "w") as o, open(stderr, "w") as e:
            procs.append(subprocess.Popen(command, env=env, stdout=o, stderr=e, start_new_session=True))
    text = {p.pid: (out_file, err_file) for p, (out_file, err_file) in zip(procs, logs)}
    victim, victim_run, killed_at = None, None, None
    deadline = time.monotonic() + 300
    try:  # kill the worker of a run that has saved a state and is not finished
        while victim is None and time.monotonic() < deadline and all(p.poll() is None for p in procs):
            for run in sorted(out.glob("latent_dim*")) if out.is_dir() else ():
                step = saved_state_step(run) if (run / "state" / "state.npz").exists() else None
                holder = lock_holder(run)
                owner = next((p for p in procs if p.pid == holder), None)
                if step and step <= STEPS - 20 and owner is not None:
                    os.killpg(owner.pid, signal.SIGKILL)
                    victim, victim_run = owner, run
                    break
            time.sleep(0.05)
        assert victim is not None, "no worker could be killed in the middle of a run: " + " | ".join(
            text[p.pid][1].read_text()[-1500:] for p in procs)
        victim.wait()
        killed_at = saved_state_step(victim_run)
        survivor = next(p for p in procs if p is not victim)
        survivor.wait(timeout=600)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    output, errors = (path.read_text() for path in text[survivor.pid])
    assert survivor.returncode == 0, errors[-3000:]
    assert 0 < killed_at < STEPS
    trained = trained_lines(text[victim.pid][0].read_text(), output)
    assert sorted(trained) == sorted(set(trained)) and len(trained) == 2, trained  # each point finished once
    assert victim_run.name in trained_lines(output)  # finished by the survivor
    rows = read_table(out / "sweep.csv")
    assert [r["status"] for r in rows] == ["complete"] * 2
    for row in rows:  # every step of every run once: no run restarted from step 0, none trained twice
        assert [int(r["step"]) for r in read_table(out / row["run"] / "losses.csv")] == list(range(1, STEPS + 1))
        resumed = json.loads((out / row["run"] / "config.json").read_text())["run"]["resumed"]
        assert resumed is (row["run"] == victim_run.name), row["run"]

    import optuna
    from optuna.trial import TrialState

    study = optuna.load_study(study_name="gans-sweep", storage=postgres_url)
    complete = [t.user_attrs["point"] for t in study.get_trials(states=(TrialState.COMPLETE,))
                if "point" in t.user_attrs]
    assert len(complete) == 2 and len(set(complete)) == 2  # in the database, too: one finished trial per point
