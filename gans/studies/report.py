"""A sweep's results, read back from its run folders and its study: ``sweep.csv``, ``sweep.md`` and
``sweep_losses.png`` (every configuration's loss curves in one grid, titled ``F1-D2-B64``).

Each row is one grid point: its values, whether it finished, its final losses (the last row of
``losses.csv``), its last FID and KID (``fid.csv``), its conditional agreement (``conditional.csv``),
the verdict of its diagnosis (``diagnostics.json``) and its wall time (the training time of every
attempt; an attempt killed before it finished counts until its trial was failed).
"""

from __future__ import annotations

import math
from pathlib import Path

from gans.io import markdown_header, markdown_row, read_json, read_rows_until, write_rows, write_text

METRICS = ("fid", "kid", "kid_std", "agreement")
_LAST = 2**62  # read_rows_until: every row


def summarize_run(run_dir: str | Path) -> dict:
    """The end of one run folder: ``{"step", "losses": {name: value}, "fid", "kid", "kid_std",
    "agreement", "verdict", "extractor"}`` (a missing file leaves its keys out)."""
    run_dir = Path(run_dir)
    summary: dict = {}
    rows = read_rows_until(run_dir / "losses.csv", _LAST)
    if rows:
        last = rows[-1]
        summary["step"] = int(float(last["step"]))
        summary["losses"] = {k: float(v) for k, v in last.items() if k != "step"}
    fid = read_rows_until(run_dir / "fid.csv", _LAST)
    if fid:
        for key in ("fid", "kid", "kid_std", "extractor"):
            if key in fid[-1]:
                summary[key] = fid[-1][key] if key == "extractor" else float(fid[-1][key])
    conditional = read_rows_until(run_dir / "conditional.csv", _LAST)
    if conditional:
        summary["agreement"] = float(conditional[-1]["agreement"])
    diagnosis = run_dir / "diagnostics.json"
    if diagnosis.is_file():
        summary["verdict"] = read_json(diagnosis, what="a run's diagnosis").get("verdict", "")
    return summary


def sweep_rows(out: Path, study, spec) -> tuple[list[str], list[dict]]:
    """The table's columns and one row per grid point, in grid order."""
    from optuna.trial import TrialState

    from gans.studies.grid import point_key, point_name, point_states

    axes = spec.resolved_axes()
    points = spec.grid(axes)
    states = point_states(study, axes, points) if study is not None else {}
    rows, loss_names, published = [], [], []
    for values in points:
        name = point_name(axes, values)
        trials = states.get(point_key(values), [])
        summary = summarize_run(out / name) if (out / name).is_dir() else {}
        for loss in summary.get("losses", {}):
            if loss not in loss_names:
                loss_names.append(loss)
        row = {**values, "run": name, "status": _status(trials), "step": summary.get("step", ""),
               **{k: _fmt(v) for k, v in summary.get("losses", {}).items()},
               **{k: _fmt(summary.get(k)) for k in METRICS}, "verdict": summary.get("verdict", ""),
               "wall_s": _fmt(_seconds(trials, TrialState), 1)}
        for key, value in ((spec.published or {}).get(name) or {}).items():  # the paper's, beside ours
            row[f"published_{key}"] = value
            if f"published_{key}" not in published:
                published.append(f"published_{key}")
        rows.append(row)
    columns = ([a.name for a in axes] + ["run", "status", "step"] + loss_names + published + list(METRICS)
               + ["verdict", "wall_s"])
    for row in rows:
        for column in columns:
            row.setdefault(column, "")
    return columns, rows


def _status(trials) -> str:
    states = {t.state.name.lower() for t in trials if not t.user_attrs.get("duplicate_of")
              and not t.user_attrs.get("surplus")}
    for state in ("complete", "running", "waiting", "fail"):
        if state in states:
            return "failed" if state == "fail" else state
    return "not started"


def _seconds(trials, TrialState) -> float | None:
    total, seen = 0.0, False
    for t in trials:
        if "seconds" in t.user_attrs:
            total += float(t.user_attrs["seconds"])
            seen = True
        elif t.state == TrialState.FAIL and t.datetime_start and t.datetime_complete:
            total += (t.datetime_complete - t.datetime_start).total_seconds()
            seen = True
    return total if seen else None


def _fmt(value, digits: int = 5) -> str:
    if value is None or value == "":
        return ""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}" if digits > 1 else f"{value:.1f}"


def write_report(out: str | Path, study, spec) -> dict:
    """Write ``sweep.csv``, ``sweep.md`` and ``sweep_losses.png`` into ``out``; return their paths."""
    out = Path(out)
    columns, rows = sweep_rows(out, study, spec)
    write_rows(out / "sweep.csv", columns, rows)
    config = spec.base_config()
    length = f"{spec.epochs} epochs" if spec.epochs else f"{spec.steps} steps"
    what = (f"thesis experiment {config.experiment}" if isinstance(config.experiment, int)
            else config.experiment or config.variant)
    header = (f"# Sweep: {what} on {config.dataset}, {length} per run\n\n"
              f"{len(rows)} configurations over {', '.join(f'{k}={v}' for k, v in spec.axes.items())}"
              + (f"; learning rates scaled linearly from {spec.scale[0]:g} at batch {spec.scale[1]}" if spec.scale
                 else "") + ".\n\n")
    lines = markdown_header(columns)
    lines += [markdown_row(row[c] for c in columns) for row in rows]
    write_text(out / "sweep.md", header + "\n".join(lines) + "\n")
    figure = plot_sweep(out, rows, spec)
    return {"table": out / "sweep.csv", "markdown": out / "sweep.md", "figure": figure}


def plot_sweep(out: Path, rows: list[dict], spec) -> Path:
    """Every configuration's loss curves, one panel each, titled with its name (seed 004 Figs. 2-6)."""
    import numpy as np

    from gans.training.steps import step_class
    from gans.visualize import pyplot, draw_losses, save_figure

    shown = step_class(spec.base_config().variant).plot_losses
    n = len(rows)
    cols = math.ceil(math.sqrt(n))
    grid_rows = math.ceil(n / cols)
    plt = pyplot()
    fig, axes = plt.subplots(grid_rows, cols, figsize=(3.2 * cols, 2.4 * grid_rows), dpi=100, squeeze=False,
                             sharex=True)
    for ax, row in zip(axes.flat, rows):
        log = read_rows_until(out / row["run"] / "losses.csv", _LAST)
        if log:
            names = [k for k in log[0] if k != "step" and (shown is None or k in shown)]
            steps = np.array([float(r["step"]) for r in log])
            draw_losses(ax, steps, {k: np.array([float(r[k]) for r in log]) for k in names}, title=row["run"],
                        legend=ax is axes.flat[0])
        else:
            ax.set_title(f"{row['run']} ({row['status']})")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return save_figure(fig, out / "sweep_losses.png")
