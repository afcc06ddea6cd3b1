"""``gans report`` tables and figures, and the ``gans fid`` command on files."""

from __future__ import annotations

import csv
import io
import json
import warnings

import numpy as np
import pytest

from gans.cli import main
from gans.evaluation.fid import activation_statistics
from gans.evaluation.report import collect_runs, write_report


def make_run(folder, experiment, dataset, rows, published=None):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"experiment": experiment, "variant": "gan", "dataset": dataset,
                                                     "steps": 1000, "published_fid": published}))
    lines = ["step,fid,extractor,n,seconds"] + [f"{s},{f},{e},5000,1.0" for s, f, e in rows]
    (folder / "fid.csv").write_text("\n".join(lines) + "\n")


def test_report_tables_never_mix_extractors(tmp_path):
    make_run(tmp_path / "exp01", 1, "mnist", [(500, 40.0, "lenet5:a"), (1000, 20.5, "lenet5:a"),
                                              (1000, 55.1, "inception_v3:imagenet")], published=53.7039)
    make_run(tmp_path / "exp03", 3, "mnist", [(500, 30.0, "lenet5:a"), (1000, 12.25, "lenet5:a")])
    make_run(tmp_path / "nested" / "exp12", 12, "celeba", [(200, 9.0, "inception_v3:imagenet")], published=18.5712)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.json").write_text("{}")  # a run without fid.csv is skipped

    results = collect_runs(tmp_path)
    assert {(r.experiment, r.extractor) for r in results} == {
        ("1", "lenet5:a"), ("3", "lenet5:a"), ("1", "inception_v3:imagenet"), ("12", "inception_v3:imagenet")}
    paths = write_report(tmp_path)
    md = paths["markdown"].read_text()
    sections = [s for s in md.split("## ")[1:] if not s.startswith("Skipped")]
    assert len(sections) == 3  # MNIST/lenet, MNIST/inception, CelebA/inception
    assert "## Skipped: 1 run folder" in md and "empty: no fid.csv" in md  # listed, not silently left out
    for section in sections:
        extractor = section.split("(extractor: ")[1].split(")")[0]
        table_rows = [line for line in section.splitlines() if line.startswith("| ") and "Experiment" not in line]
        assert table_rows and all(f"| {extractor} |" in line for line in table_rows)
    assert "Table 4.6" in md and "Table 4.7" in md
    lenet = next(s for s in sections if "lenet5:a" in s.splitlines()[0])
    assert "| 1 | MNIST | 20.5000 | lenet5:a | 1000 |" in lenet and "Thesis FID" not in lenet
    assert "53.7039" in next(s for s in sections if "Table 4.6" in s and "inception" in s.splitlines()[0])

    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text())))
    assert len(rows) == 4 and {r["extractor"] for r in rows} == {"lenet5:a", "inception_v3:imagenet"}
    assert paths["figure"].stat().st_size > 1000
    assert (tmp_path / "exp01" / "fid_plot.png").is_file() and (tmp_path / "exp01" / "fid_plot_2.png").is_file()


def test_report_command_and_missing_folder(tmp_path, capsys):
    make_run(tmp_path / "runA", None, "mnist", [(100, 3.5, "lenet5:a")])
    assert main(["report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| runA | MNIST | 3.5000 | lenet5:a | 100 |" in out
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_fid_command_with_statistics_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        a = activation_statistics(rng.normal(size=(64, 4)), "lenet5:a")
        b = activation_statistics(rng.normal(size=(64, 4)) + 1.0, "lenet5:a")
        c = activation_statistics(rng.normal(size=(64, 4)), "inception_v3:imagenet")
    for name, st in (("a", a), ("b", b), ("c", c)):
        st.save(tmp_path / f"{name}.npz")
    # Two statistics files need no extractor at all (nothing is built or downloaded).
    assert main(["fid", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--save-stats", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "[lenet5:a, n=64 vs 64]" in out and len(list((tmp_path / "out").glob("*.npz"))) == 2
    value = float(out.strip().splitlines()[-1].split()[1])
    assert value > 3.0  # each of the 4 means moved by 1
    assert main(["fid", str(tmp_path / "a.npz"), str(tmp_path / "c.npz")]) == 2
    assert "different extractors" in capsys.readouterr().err
    assert main(["fid", str(tmp_path / "a.npz")]) == 2  # one source needs --save-stats
    assert main(["fid", str(tmp_path / "a.txt"), str(tmp_path / "b.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_report_of_runs_without_fid_is_refused_and_writes_nothing(tmp_path):
    # issue 24, item 6: a folder with no fid.csv exited 0 and wrote empty files
    import argparse

    from gans.errors import DataError
    from gans.evaluation.commands import cmd_report

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text('{"experiment": 3, "dataset": "mnist"}')
    with pytest.raises(DataError, match="no run folder under .* has an FID to report .*1 skipped.*no fid.csv"):
        cmd_report(argparse.Namespace(runs_dir=str(tmp_path), out=None, overwrite=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
