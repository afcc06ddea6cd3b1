"""FID tables in the thesis's form (Tables 4.6 and 4.7) and FID-over-steps figures for a folder of runs.

A run folder is any folder holding ``config.json``; its FID history is ``fid.csv`` (written by
:class:`gans.evaluation.callbacks.FIDCallback`). One table is made per data set and extractor: FIDs
from different extractors measure different things and never share a table or an axis.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from gans.errors import ConfigError, DataError, DataNotFoundError
from gans.io import markdown_header, markdown_row, read_json

log = logging.getLogger(__name__)

THESIS_TABLES = {"mnist": "Table 4.6", "celeba": "Table 4.7"}
CSV_COLUMNS = ("run", "experiment", "dataset", "fid", "extractor", "steps", "thesis_fid", "verdict")


@dataclass
class RunFID:
    """The final FID of one run under one extractor, and its history.

    Attributes:
        run: the run folder's path relative to the reported folder.
        experiment: the thesis's experiment number, or the run's name for a custom run.
        dataset: the data set's name.
        extractor: the extractor's name.
        fid: the FID at the last evaluated step.
        steps: that step.
        history: (step, fid) pairs in step order.
        thesis_fid: the FID the thesis publishes for this experiment (InceptionV3), if any.
        verdict: the diagnostics verdict, or "" when the run has no losses.csv.
    """

    run: str
    experiment: str
    dataset: str
    extractor: str
    fid: float
    steps: int
    history: list[tuple[int, float]]
    thesis_fid: float | None = None
    verdict: str = ""


def _verdict(run_dir: Path) -> str:
    from gans.evaluation.diagnostics import diagnose_run

    saved = run_dir / "diagnostics.json"
    if saved.is_file():
        try:
            data = read_json(saved, "a diagnosis")
            if data.get("healthy", True):
                return data["verdict"]
            return f"{data['verdict']} (from step {data['began_at_step']})"
        except (DataError, AttributeError, KeyError, TypeError) as exc:
            log.warning("ignoring %s (%s): diagnosing the run again", saved, exc)
    if (run_dir / "losses.csv").is_file():
        try:
            return diagnose_run(run_dir).summary()
        except ValueError as exc:  # a malformed losses.csv should not stop the whole report
            log.warning("cannot diagnose %s: %s", run_dir, exc)
    return ""


@dataclass(frozen=True)
class Skipped:
    """A run folder the report left out, and why (no fid.csv, a damaged config.json or fid.csv)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def collect_runs(runs_dir: str | Path, skipped: list[Skipped] | None = None) -> list[RunFID]:
    """Every (run, extractor) with at least one FID row under ``runs_dir`` (searched recursively).

    A run whose ``config.json`` or ``fid.csv`` cannot be read is left out of the tables, never
    silently: it is appended to ``skipped`` (or logged as a warning when no list is given).

    Raises:
        DataNotFoundError: ``runs_dir`` does not exist.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise DataNotFoundError(f"{runs_dir} is not a folder; pass the folder that holds your run folders "
                                "(e.g. runs/).")
    results = []
    for config_path in sorted(runs_dir.rglob("config.json")):
        run_dir = config_path.parent
        fid_path = run_dir / "fid.csv"
        try:
            if not fid_path.is_file():  # a listed skip, so a report of unmeasured runs is never silently empty
                raise DataError("no fid.csv: the run measured no FID (train with --fid-every K)")
            config = read_json(config_path, "a run's config.json")
            if not isinstance(config, dict):
                raise DataError(f"{config_path} is not a run's config.json (not a JSON object)")
            by_extractor = read_fid_log(fid_path)
        except DataError as exc:
            skip = Skipped(run_dir, str(exc).rstrip("."))
            if skipped is None:
                log.warning("report: skipped %s", skip)
            else:
                skipped.append(skip)
            continue
        verdict = _verdict(run_dir)
        rel = str(run_dir.relative_to(runs_dir))  # "." when runs_dir is itself a run folder
        for extractor, history in by_extractor.items():
            history.sort()
            thesis = config.get("published_fid") if extractor.startswith("inception_v3:imagenet") else None
            results.append(RunFID(rel, str(config.get("experiment") or run_dir.name), str(config.get("dataset", "?")),
                                  extractor, history[-1][1], history[-1][0], history, thesis, verdict))
    return sorted(results, key=lambda r: (r.dataset, r.extractor, _experiment_order(r.experiment), r.run))


def read_fid_log(path: Path) -> dict[str, list[tuple[int, float]]]:
    """``fid.csv`` as extractor -> [(step, fid)], or a DataError naming the first bad row and why."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path} is not a CSV file: {exc}") from exc
    by_extractor: dict[str, list[tuple[int, float]]] = {}
    for line, row in enumerate(rows, start=2):
        try:
            step, fid = int(float(row["step"])), float(row["fid"])
            extractor = row["extractor"]
            if not extractor or not math.isfinite(fid):
                raise ValueError(f"extractor {extractor!r}, fid {fid}")
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path} line {line} is malformed ({type(exc).__name__}: {exc}); expected the "
                            "columns step, fid, extractor with a number, a finite FID and a name") from exc
        by_extractor.setdefault(extractor, []).append((step, fid))
    if not by_extractor:
        raise DataError(f"{path} has no FID rows")
    return by_extractor


def _experiment_order(experiment: str):
    return (0, int(experiment), "") if experiment.isdigit() else (1, 0, experiment)


def markdown_tables(results: list[RunFID], skipped: list[Skipped] = ()) -> str:
    """One Markdown table per (data set, extractor), in the thesis's columns plus extractor and steps,
    and the run folders left out with the reason for each."""
    notes = [f"## Skipped: {len(skipped)} run folder{'s' if len(skipped) != 1 else ''}", ""] + \
        [f"- {s}" for s in skipped] + [""] if skipped else []
    if not results:
        return "\n".join(["No run with a readable fid.csv was found.", ""] + notes)
    out = ["# FID scores", ""]
    groups: dict[tuple[str, str], list[RunFID]] = {}
    for r in results:
        groups.setdefault((r.dataset, r.extractor), []).append(r)
    for (dataset, extractor), rows in groups.items():
        label = THESIS_TABLES.get(dataset.lower())
        title = f"FID scores of {dataset.upper()} data set experiments"
        out += [f"## {label + ': ' if label else ''}{title} (extractor: {extractor})", ""]
        with_thesis = any(r.thesis_fid is not None for r in rows)
        header = ["Experiment", "Data set", "FID", "Extractor", "Steps"] + (["Thesis FID"] if with_thesis else []) + ["Verdict"]
        out += markdown_header(header)
        counts = {e: sum(r.experiment == e for r in rows) for e in {r.experiment for r in rows}}
        for r in rows:
            # Several runs of one experiment (seeds, changed settings): name the run folder as well.
            label = r.experiment if counts[r.experiment] == 1 else f"{r.experiment} ({r.run})"
            cells = [label, dataset.upper(), f"{r.fid:.4f}", extractor, str(r.steps)]
            if with_thesis:
                cells.append("" if r.thesis_fid is None else f"{r.thesis_fid:.4f}")
            cells.append(r.verdict or "n/a")
            out.append(markdown_row(cells))
        out.append("")
    return "\n".join(out + notes)


def csv_table(results: list[RunFID]) -> str:
    """All rows in one CSV; the extractor column keeps the figures apart."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in results:
        writer.writerow([r.run, r.experiment, r.dataset, f"{r.fid:.6g}", r.extractor, r.steps,
                         "" if r.thesis_fid is None else r.thesis_fid, r.verdict])
    return buffer.getvalue()


def plot_fid_over_steps(results: list[RunFID], out: Path) -> None:
    """FID against step, one line per run, one panel per extractor (never two extractors on an axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    extractors = sorted({r.extractor for r in results})
    fig, axes = plt.subplots(len(extractors), 1, figsize=(8, 3.6 * len(extractors)), squeeze=False)
    for ax, extractor in zip(axes[:, 0], extractors):
        for r in (r for r in results if r.extractor == extractor):
            steps, fids = zip(*r.history)
            ax.plot(steps, fids, marker="o", ms=3, label=f"{r.experiment} ({r.dataset})")
        ax.set_title(f"FID over training steps [{extractor}]", fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel("FID")
        ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    _save(fig, out)


def plot_run_fid(result: RunFID, out: Path) -> None:
    """One run's FID over steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps, fids = zip(*result.history)
    ax.plot(steps, fids, marker="o", ms=3)
    ax.set_title(f"{result.experiment}: FID over steps [{result.extractor}]", fontsize=10)
    ax.set_xlabel("step")
    ax.set_ylabel("FID")
    fig.tight_layout()
    _save(fig, out)


def _save(fig, out: Path) -> None:
    from gans.visualize import save_figure

    save_figure(fig, out, dpi=100)


def check_report_folder(runs_dir, out_dir=None, overwrite: bool = False) -> Path:
    """The folder a report goes to (``out_dir``, default ``runs_dir``), checked before any run is read.

    Raises:
        ConfigError: it is a file, or holds a report and ``overwrite`` is False.
    """
    from gans.io import refuse_existing

    out_dir = Path(out_dir) if out_dir else Path(runs_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is a file; pass a folder for the report.")
    refuse_existing([out_dir / name for name in ("fid_report.md", "fid_report.csv", "fid_over_steps.png")],
                    "--out:", overwrite)
    return out_dir


def write_report(runs_dir: str | Path, out_dir: str | Path | None = None, results: list[RunFID] | None = None,
                 skipped: list[Skipped] | None = None, overwrite: bool = False) -> dict[str, Path]:
    """Write ``fid_report.md``, ``fid_report.csv`` and ``fid_over_steps.png`` for a folder of runs.

    Each run folder also gets its own ``fid_plot.png`` (one per extractor, suffixed when several),
    drawn from its own ``fid.csv`` alone.

    Args:
        runs_dir: the folder holding run folders.
        out_dir: where to write the report (default ``runs_dir``).
        results: what :func:`collect_runs` found, when the caller already has it.
        skipped: the runs :func:`collect_runs` skipped, with it.
        overwrite: replace a report already in ``out_dir``.

    Returns:
        Paths of the files written, by kind ("markdown", "csv", "figure").

    Raises:
        ConfigError: ``out_dir`` is a file, or holds a report and ``overwrite`` is False.
    """
    from gans.io import write_text

    runs_dir = Path(runs_dir)
    out_dir = check_report_folder(runs_dir, out_dir, overwrite)
    if results is None:
        skipped = [] if skipped is None else skipped
        results = collect_runs(runs_dir, skipped)
    paths = {"markdown": out_dir / "fid_report.md", "csv": out_dir / "fid_report.csv"}
    write_text(paths["markdown"], markdown_tables(results, skipped or ()))
    write_text(paths["csv"], csv_table(results))
    if results:
        paths["figure"] = out_dir / "fid_over_steps.png"
        plot_fid_over_steps(results, paths["figure"])
        per_run: dict[str, list[RunFID]] = {}
        for r in results:
            per_run.setdefault(r.run, []).append(r)
        for run, items in per_run.items():
            for i, r in enumerate(items):
                plot_run_fid(r, runs_dir / run / ("fid_plot.png" if i == 0 else f"fid_plot_{i + 1}.png"))
    return paths
