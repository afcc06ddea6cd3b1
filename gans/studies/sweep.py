"""``gans sweep``: a grid of ordinary runs on Optuna, the existing hyperparameter engine.

Why Optuna (and not KerasTuner's distributed mode): a sweep here is a grid of whole runs, each one a
run folder with every artefact, resumable on its own. Optuna keeps the study in a database: a SQLite
file in the sweep folder by default (offline, nothing to start), any SQLAlchemy URL (PostgreSQL,
MySQL) when workers on several machines share it. Its trial queue hands each configuration to one
worker atomically, its heartbeats notice a worker that died, and its retry callback gives that
configuration back to the queue, where the next worker resumes the run from its saved state.
KerasTuner's distributed mode needs a chief process that every worker talks to over gRPC, and
it owns the training loop; Optuna only hands out the values and records the results.

How a sweep runs:

1. The first process creates the study (creation is atomic in the database; a second process
   starting at the same moment joins instead) and puts every grid point in Optuna's queue
   (``enqueue_trial``). The study records the sweep's definition; a process with a different one is
   refused, so two grids never mix in one study.
2. Each worker takes queued trials one at a time. A trial's configuration trains into
   ``OUT/<name>`` (``F1-D2-B64``) with :func:`gans.training.run.train`, resuming if that folder holds
   a saved state. Of two trials that carry the same values (a restart and a joining process can both
   queue a point), only the lower-numbered live one trains; the run folder's lock is a second guard.
3. A worker that is killed stops sending heartbeats; after the grace period Optuna fails its trial
   and queues the same values again, and a worker resumes that run. A restarted ``gans sweep`` queues
   every point that has neither finished nor is waiting or running, and waits for running ones.
4. When no point is left, the process writes ``sweep.csv``, ``sweep.md`` and ``sweep_losses.png``
   (:mod:`gans.studies.report`).

``--workers K`` starts K worker processes on this machine (each with ``cores / K`` TensorFlow
threads); another machine joins with the same command and ``--storage URL``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gans.config import GANConfig
from gans.errors import ConfigError, GansError
from gans.studies.grid import (Axis, apply_values, grid_points, point_key, point_name, point_states, resolve_axes,
                               run_length, scale_learning_rates)

log = logging.getLogger(__name__)

STUDY_NAME = "gans-sweep"
SPEC_FILE = "sweep.json"
DB_FILE = "sweep.db"
STORAGE_ENV = "GANS_SWEEP_STORAGE"  # how a local worker process gets the URL (kept out of files and ps)


@dataclass
class SweepSpec:
    """Everything that defines a sweep (recorded in the study and in ``OUT/sweep.json``).

    Attributes:
        config: the base configuration (a dict of :meth:`GANConfig.to_dict`).
        axes: axis name -> values, in the order given.
        steps / epochs: the length of every run (one of them).
        scale: (base lr, base batch) of ``--scale-lr-with-batch``, or None.
        data / image_size / limit: the training data, as ``gans train`` takes them.
        settings: :class:`~gans.training.run.RunSettings` fields for every run.
        points: the listed points of a sweep that is not a full grid (seed 000's Table 1 rows), each
            a dict of every axis's value; None: every combination of ``axes``.
        published: run name -> the values a paper published for that point (shown beside ours).
    """

    config: dict
    axes: dict[str, list]
    steps: int | None = None
    epochs: int | None = None
    scale: list | None = None
    data: str | None = None
    image_size: list | None = None
    limit: int | None = None
    settings: dict = field(default_factory=dict)
    points: list | None = None
    published: dict | None = None

    # What must agree for a process to join an existing study (settings such as the FID interval
    # may differ between machines; they do not change what is trained).
    IDENTITY = ("config", "axes", "points", "steps", "epochs", "scale", "image_size", "limit")
    FIELDS = ("config", "axes", "points", "published", "steps", "epochs", "scale", "data", "image_size", "limit",
              "settings")

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.FIELDS}

    @classmethod
    def from_dict(cls, data: dict) -> "SweepSpec":
        return cls(**{**{k: data.get(k) for k in cls.FIELDS}, "settings": data.get("settings") or {}})

    def grid(self, axes: list[Axis] | None = None) -> list[dict]:
        """Every point of the sweep, in table order."""
        return [dict(p) for p in self.points] if self.points else grid_points(axes or self.resolved_axes())

    def base_config(self) -> GANConfig:
        return GANConfig.from_dict(self.config)

    def resolved_axes(self) -> list[Axis]:
        return resolve_axes(self.base_config(), {k: tuple(v) for k, v in self.axes.items()}, listed=bool(self.points))

    def point_config(self, axes: list[Axis], values: dict[str, Any]) -> GANConfig:
        config = apply_values(self.base_config(), axes, values)
        if self.scale:
            config = scale_learning_rates(config, float(self.scale[0]), int(self.scale[1]))
        return config

    def identity(self) -> dict:
        # Through JSON, so tuples and lists compare equal as the database returns them.
        return json.loads(json.dumps({k: getattr(self, k) for k in self.IDENTITY}))


def make_spec(config: GANConfig, axes: dict[str, tuple], steps: int | None, epochs: int | None,
              scale: tuple[float, int] | None = None, data: str | None = None, image_size=None,
              limit: int | None = None, settings: dict | None = None, points: list[dict] | None = None,
              published: dict | None = None) -> SweepSpec:
    """A checked :class:`SweepSpec`: every axis resolves, every point is a valid configuration.

    ``points`` lists the points of a sweep that is not a full grid (each a dict over the same
    names); ``axes`` is then made from them when not given."""
    if steps is not None and epochs is not None:
        raise ConfigError("give --steps or --epochs, not both.")
    if points:
        names = list(points[0])
        if any(list(p) != names for p in points):
            raise ConfigError("every listed point of a sweep must give the same names, in the same order.")
        axes = axes or {n: tuple(dict.fromkeys(p[n] for p in points)) for n in names}
    resolved = resolve_axes(config, axes, listed=bool(points))
    if scale and any(a.target.startswith("optimizer:") and a.name != "beta1" for a in resolved):
        raise ConfigError("--scale-lr-with-batch sets the learning rates from the batch size; drop the learning-rate "
                          "axis, or drop --scale-lr-with-batch.")
    spec = SweepSpec(config=config.to_dict(), axes={a.name: list(a.values) for a in resolved},
                     steps=steps if steps is not None or epochs is not None else config.steps, epochs=epochs,
                     scale=list(scale) if scale else None, data=None if data is None else str(Path(data).resolve()),
                     image_size=list(image_size) if image_size else None, limit=limit, settings=dict(settings or {}),
                     points=[dict(p) for p in points] if points else None,
                     published=dict(published) if published else None)
    for values in spec.grid(resolved):  # every point is checked before any run starts
        spec.point_config(resolved, values)
    from gans.training.run import RunSettings

    RunSettings(**spec.settings)  # and how the runs go (--keep-every needs --keep-checkpoints)
    return spec


# ---------------------------------------------------------------------------- the engine
def open_storage(url: str, heartbeat: float = 30.0):
    """Optuna's RDB storage for ``url``, with heartbeats and a retry for trials whose worker died.

    Raises:
        ConfigError: the URL cannot be opened (the message names it and what to give instead).
    """
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    kwargs = {}
    if url.startswith("sqlite"):  # several local processes write one file: wait for the lock
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 120}}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for attempt in range(6):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna, and are how it notices a dead worker
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return RDBStorage(url, heartbeat_interval=max(1, int(heartbeat)),
                                  grace_period=max(2, int(2 * heartbeat)),
                                  heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3), **kwargs)
        except Exception as exc:  # SQLAlchemy's errors (bad URL, missing driver, unreachable server) vary
            # Two processes creating one new database at once: the second meets the first's half-made
            # tables (or its lock) for a moment. Wait and open it again.
            if type(exc).__name__ in ("OperationalError", "IntegrityError") and attempt < 5:
                time.sleep(0.5 * (attempt + 1))
                continue
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    raise ConfigError(f"cannot open the sweep storage {url!r}: {reason}. Give a database URL this machine can "
                      "open: sqlite:///PATH/sweep.db (the default, in --out), or postgresql://USER:PASS@HOST/DB "
                      "shared by every machine of the sweep.") from None


def create_or_join(storage, spec: SweepSpec):
    """The sweep's study in ``storage``: created with every grid point queued, or joined.

    Raises:
        ConfigError: the storage holds a sweep with another definition.
    """
    import optuna

    try:
        study = optuna.create_study(study_name=STUDY_NAME, storage=storage, direction="minimize")
        study.set_user_attr("spec", spec.to_dict())
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
        created = False
    if not created:
        saved = _wait_for_spec(study)
        theirs = SweepSpec.from_dict(saved).identity()
        mine = spec.identity()
        if theirs != mine:
            changed = [k for k in SweepSpec.IDENTITY if theirs.get(k) != mine.get(k)]
            raise ConfigError(f"the storage already holds another sweep (it differs in {', '.join(changed)}: "
                              f"{_short(theirs, changed)}). Join it with the same command, or give another "
                              "--out / --storage for a new sweep.")
    queue_missing(study, spec)
    return study


def _wait_for_spec(study, timeout: float = 60.0) -> dict:
    """The definition the creating process records right after creating the study."""
    deadline = time.monotonic() + timeout
    while True:
        saved = study.user_attrs.get("spec")
        if saved is not None:
            return saved
        if time.monotonic() > deadline:
            raise ConfigError("the sweep storage holds a study without a definition (its creator died before "
                              "recording it); give a new --out / --storage.")
        time.sleep(0.5)  # a Study reads its attributes and trials from the storage on every access


def _short(spec: dict, keys: list[str]) -> str:
    text = "; ".join(f"{k}={json.dumps(spec.get(k))}" for k in keys)
    return text if len(text) < 300 else text[:297] + "..."


def finished_points(study, spec: SweepSpec) -> int:
    """How many grid points already have a finished trial (a rerun keeps them)."""
    from optuna.trial import TrialState

    axes = spec.resolved_axes()
    states = point_states(study, axes, spec.grid(axes))
    return sum(any(t.state == TrialState.COMPLETE for t in states[point_key(v)]) for v in spec.grid(axes))


def queue_missing(study, spec: SweepSpec) -> int:
    """Queue every point that has no finished, waiting or running trial; return how many."""
    from optuna.trial import TrialState

    axes = spec.resolved_axes()
    live = (TrialState.COMPLETE, TrialState.WAITING, TrialState.RUNNING)
    states = point_states(study, axes, spec.grid(axes))
    queued = 0
    for values in spec.grid(axes):
        if not any(t.state in live for t in states[point_key(values)]):
            study.enqueue_trial(values, user_attrs={"point": point_key(values)})
            queued += 1
    return queued


@dataclass
class Worker:
    """One process taking grid points from the study's queue and training them."""

    study: Any
    spec: SweepSpec
    out: Path
    name: str = "worker"
    poll: float = 5.0
    trained: list = field(default_factory=list)

    def run(self) -> None:
        """Take queued points until none is queued or running anywhere."""
        import optuna
        from optuna.storages import fail_stale_trials
        from optuna.trial import TrialState

        axes = self.spec.resolved_axes()
        waiting_said = False
        while True:
            with warnings.catch_warnings():  # "experimental" since Optuna 2.9, and still the way
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                fail_stale_trials(self.study)  # a dead worker's trial goes back to the queue (heartbeats)
            waiting = self.study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
            if waiting:
                waiting_said = False
                self.study.optimize(lambda trial: self.objective(trial, axes), n_trials=1,
                                    catch=(GansError,), gc_after_trial=True)
                continue
            running = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if not running:
                return
            if not waiting_said:  # said once per wait, not every poll
                print(f"sweep: {self.name} waits for {len(running)} configuration(s) running in another worker. "
                      f"A worker that died is noticed once it has sent no heartbeat for {4 * self.poll:.0f} s, "
                      "and its run is then resumed here from its saved state.", flush=True)
                waiting_said = True
            time.sleep(self.poll)

    def objective(self, trial, axes: list[Axis]) -> float:
        import optuna
        from optuna.trial import TrialState

        if "point" not in trial.user_attrs:  # the queue emptied between our look and Optuna's ask: nothing to train
            trial.set_user_attr("surplus", True)
            raise optuna.TrialPruned("no queued configuration left")
        values = {a.name: trial.suggest_categorical(a.name, list(a.values)) for a in axes}
        name = point_name(axes, values)
        trial.set_user_attr("run", name)
        live = (TrialState.COMPLETE, TrialState.WAITING, TrialState.RUNNING)
        twins = [t for t in point_states(self.study, axes, self.spec.grid(axes))[point_key(values)]
                 if t.number < trial.number and t.state in live]
        if twins:  # a lower-numbered trial owns this point: it trains it (or has)
            trial.set_user_attr("duplicate_of", twins[0].number)
            raise optuna.TrialPruned(f"{name} belongs to trial {twins[0].number}")
        start = time.perf_counter()
        summary = train_point(self.spec, axes, values, self.out / name)
        seconds = time.perf_counter() - start
        trial.set_user_attr("seconds", round(seconds, 1))
        self.trained.append(name)
        print(f"[{self.name}] {name}: done in {seconds:.0f} s  ({_one_line(summary)})", flush=True)
        return objective_value(summary)


def train_point(spec: SweepSpec, axes: list[Axis], values: dict, run_dir: Path) -> dict:
    """Train one grid point's run folder (resuming its saved state, if any; a finished run only
    reports "nothing to do"); return its summary."""
    from gans.studies.report import summarize_run
    from gans.training.run import RunSettings, train

    config = spec.point_config(axes, values)
    settings = RunSettings(**{**spec.settings, "progress": False})
    steps, epochs = run_length(axes, values, spec.steps, spec.epochs)
    train(config, run_dir, data=_data(spec, config), steps=steps, epochs=epochs, settings=settings,
          resume=run_dir.exists())
    return summarize_run(run_dir)


def _data(spec: SweepSpec, config: GANConfig):
    """The training data of every run, as ``gans train`` would load it from the same options."""
    from gans.training.run import training_data

    size = None if spec.image_size is None else tuple(spec.image_size)
    return training_data(config, spec.data, size, spec.limit)


def objective_value(summary: dict) -> float:
    """What Optuna records as the trial's value: KID where measured, else FID, else the final
    generator-side loss (a sweep compares; it does not search)."""
    for key in ("kid", "fid"):
        if summary.get(key) not in (None, ""):
            return float(summary[key])
    losses = summary.get("losses") or {}
    return float(next(reversed(losses.values()))) if losses else 0.0


def _one_line(summary: dict) -> str:
    parts = [f"{k} {float(v):.4g}" for k, v in (summary.get("losses") or {}).items()]
    parts += [f"{k} {float(summary[k]):.4g}" for k in ("fid", "kid", "agreement") if summary.get(k) not in (None, "")]
    if summary.get("verdict"):
        parts.append(summary["verdict"])
    return ", ".join(parts)


# ---------------------------------------------------------------------------- entry points
def run_sweep(spec: SweepSpec, out: str | Path, storage: str | None = None, workers: int = 1,
              heartbeat: float = 30.0, progress: bool = True) -> dict:
    """Run (or resume, or join) a sweep into ``out`` and write its table and figure.

    Args:
        spec: the sweep (:func:`make_spec`).
        out: the sweep folder: one run folder per grid point, ``sweep.json``, the table, the figure
            and, by default, the study's database ``sweep.db``.
        storage: an SQLAlchemy URL shared by every machine of the sweep (default: ``sqlite:///out/sweep.db``).
        workers: worker processes on this machine (1: this process trains).
        heartbeat: seconds between a worker's heartbeats; a run whose worker is silent for twice as long
            is given to another worker, which resumes it.
        progress: show a progress bar of finished configurations.

    Returns:
        ``{"table": path, "markdown": path, "figure": path, "trained": [names trained here]}``.
    """
    from gans.studies.report import write_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    url = storage or f"sqlite:///{(out / DB_FILE).resolve()}"
    study = create_or_join(open_storage(url, heartbeat), spec)
    from gans.io import write_json

    write_json(out / SPEC_FILE, {**spec.to_dict(), "storage": "default" if storage is None else "given"})
    axes = spec.resolved_axes()
    total = len(spec.grid(axes))
    finished = finished_points(study, spec)
    shape = " x ".join(f"{len(a.values)} value{'s' if len(a.values) != 1 else ''} of {a.name}" for a in axes)
    print(f"sweep: {total} configurations ({shape}) in {out}; storage {_redact(url)}; {workers} worker(s) here",
          flush=True)
    if finished:
        print(f"sweep: {finished} of {total} configurations already finished: kept, not trained again", flush=True)
    trained: list[str] = []
    if workers <= 1:
        worker = Worker(study, spec, out, name="worker", poll=max(1.0, heartbeat / 2))
        worker.run()
        trained = worker.trained
    else:
        _run_workers(out, url, workers, heartbeat, study, axes, spec.grid(axes), progress)
    return {**write_report(out, study, spec), "trained": trained}


def _run_workers(out: Path, url: str, workers: int, heartbeat: float, study, axes, points, progress: bool) -> None:
    """Start ``workers`` worker processes on this machine, show their progress, wait for them."""
    from optuna.trial import TrialState

    threads = max(1, (os.cpu_count() or 1) // workers)
    env = {**os.environ, STORAGE_ENV: url, "TF_NUM_INTRAOP_THREADS": str(threads),
           "TF_NUM_INTEROP_THREADS": str(min(2, threads))}
    logs = out / "workers"
    logs.mkdir(exist_ok=True)
    procs = []
    for k in range(workers):
        log_file = open(logs / f"worker-{k}.log", "a", encoding="utf-8")
        procs.append((subprocess.Popen([sys.executable, "-m", "gans.studies.sweep", str(out), "--name", f"worker-{k}",
                                        "--heartbeat", str(heartbeat)], env=env, stdout=log_file,
                                       stderr=subprocess.STDOUT), log_file))
    bar = _progress_bar(len(points), progress)
    try:
        while any(p.poll() is None for p, _ in procs):
            time.sleep(2)
            done = sum(1 for trials in point_states(study, axes, points).values()
                       if any(t.state == TrialState.COMPLETE for t in trials))
            bar.update(done - bar.n)
    except KeyboardInterrupt:
        for p, _ in procs:
            p.terminate()
        raise
    finally:
        bar.close()
        for _, f in procs:
            f.close()
    failed = [(k, p.returncode) for k, (p, _) in enumerate(procs) if p.returncode != 0]
    if failed:
        tails = "; ".join(f"worker-{k} exit {rc} (log: {logs / f'worker-{k}.log'})" for k, rc in failed)
        raise GansError(f"sweep workers failed: {tails}.")


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="configurations", unit="run", disable=not enabled)


def _redact(url: str) -> str:
    """The URL without a password, for logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def worker_main(argv: list[str] | None = None) -> int:
    """A local worker process (started by :func:`run_sweep` with ``--workers K``)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gans.studies.sweep", description="one local sweep worker")
    parser.add_argument("out")
    parser.add_argument("--name", default="worker")
    parser.add_argument("--heartbeat", type=float, default=30.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out = Path(args.out)
    from gans.io import read_json

    spec = SweepSpec.from_dict(read_json(out / SPEC_FILE, what="a sweep's definition"))
    url = os.environ.get(STORAGE_ENV) or f"sqlite:///{(out / DB_FILE).resolve()}"
    import optuna

    study = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(url, args.heartbeat))
    try:
        Worker(study, spec, out, name=args.name, poll=max(1.0, args.heartbeat / 2)).run()
    except GansError as exc:
        print(f"{args.name}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(worker_main())


# ---------------------------------------------------------------------------- the command
def resolve_target(target: str, dataset: str | None = None):
    """``gans sweep TARGET``: a named sweep, a thesis experiment or named configuration, or a variant.
    Returns (config, the named sweep's :class:`~gans.experiments.studies.SweepPlan` or None)."""
    from gans import families
    from gans.experiments import EXPERIMENTS, NAMED, get_experiment, variant_config
    from gans.experiments.studies import sweep_plans

    plans = sweep_plans()
    key = str(target).strip().lower()
    if key in plans:
        return plans[key].config, plans[key]
    if key in families.names() and families.get(key).base is not None:
        return variant_config(key, dataset), None
    if key in NAMED or key.isdigit():
        return get_experiment(key), None
    raise ConfigError(f"unknown sweep target {target!r}; give a named sweep ({', '.join(plans)}), a thesis experiment "
                      f"(1-{max(EXPERIMENTS)}), a named configuration ({', '.join(NAMED)}) or a variant "
                      f"({', '.join(f for f in families.names() if families.get(f).base is not None)}).")


def _fid_every(config: GANConfig, args, length: int | None) -> int | None:
    """FID/KID at each run's last step by default where an offline extractor serves the data set
    (LeNet, for MNIST); elsewhere (InceptionV3 needs its ImageNet weights) only when asked."""
    from gans.evaluation.extractors import LENET_DATASETS

    if args.no_fid:
        return None
    if args.fid_every:
        return args.fid_every
    if config.dataset not in LENET_DATASETS and not args.fid_extractor:
        return None
    return length or 10**9  # 10**9: no interval falls inside the run; the last step is always measured


def cmd_sweep(args) -> int:
    """The handler of ``gans sweep`` (arguments in :mod:`gans.cli`)."""
    import sys as _sys

    from gans.studies.grid import parse_grid, parse_scale

    config, plan = resolve_target(args.target, args.dataset)
    axes = parse_grid(args.grid) if args.grid else (plan.axes if plan else None)
    points = published = None
    if plan is not None and not args.grid:
        points, published = (list(plan.points) if plan.points else None), plan.published
    if not axes:
        raise ConfigError(f"{args.target} is not a named sweep: give its axes with --grid NAME=V1,V2,... "
                          "(e.g. --grid lr=1e-4,2e-4 batch_size=32,64,128).")
    steps, epochs = args.steps, args.epochs
    if steps is not None and epochs is not None:
        raise ConfigError("give --steps or --epochs, not both.")
    if steps is None and epochs is None and plan is not None:
        epochs = plan.epochs
    out = Path(args.out or Path("sweeps") / str(args.target))
    if args.report_only:
        from gans.io import read_json
        from gans.studies.report import write_report

        spec = SweepSpec.from_dict(read_json(out / SPEC_FILE, what="a sweep's definition",
                                             fix="Run the sweep first (without --report-only)."))
        url = args.storage or f"sqlite:///{(out / DB_FILE).resolve()}"
        import optuna

        study = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(url, args.heartbeat))
        paths = write_report(out, study, spec)
    else:
        scale = parse_scale(args.scale_lr_with_batch) if args.scale_lr_with_batch else None
        length = steps if steps is not None else (None if epochs is not None else config.steps)
        settings = {"sample_every": args.sample_every, "checkpoint_every": args.checkpoint_every,
                    "keep_checkpoints": args.keep_checkpoints, "keep_every": args.keep_every, "seed": args.seed,
                    "fid_every": _fid_every(config, args, length),
                    "fid_extractor": args.fid_extractor, "fid_n": args.fid_n, "execution": args.execution,
                    "jit": args.jit, "tensorboard": not args.no_tensorboard}
        spec = make_spec(config, axes, steps, epochs, scale=scale, data=args.data, image_size=args.image_size,
                         limit=args.limit, settings=settings, points=points, published=published)
        paths = run_sweep(spec, out, storage=args.storage, workers=args.workers, heartbeat=args.heartbeat,
                          progress=not args.no_progress and _sys.stderr.isatty())
    print(f"table: {paths['table']}  ({paths['markdown']})\nfigure: {paths['figure']}")
    return 0
