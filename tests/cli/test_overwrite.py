"""Every command that writes refuses an existing output without ``--overwrite`` (one rule,
:func:`gans.io.refuse_existing`), before its work starts; a folder a command owns is claimed with
:func:`gans.io.claim_folder`. The studies' own cases are in tests/studies/test_studies.py, the run
folder's (``gans train`` without ``--resume``) in tests/training/test_resume.py."""

from __future__ import annotations

import numpy as np
import pytest

from gans.cli import main
from gans.errors import ConfigError
from gans.io import claim_folder, refuse_existing


def one_error(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_refuse_existing_names_the_path_and_the_fix(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    refuse_existing([tmp_path / "b.png"], "--out", overwrite=False)
    refuse_existing([tmp_path / "a.png"], "--out", overwrite=True)
    with pytest.raises(ConfigError, match=r"--out .*a.png already exists; pass --overwrite"):
        refuse_existing([tmp_path / "b.png", tmp_path / "a.png"], "--out", overwrite=False)


def test_claim_folder_removes_only_its_own_files_and_empty_folders(tmp_path):
    out = tmp_path / "study"
    assert not claim_folder(out, "--out", False, ("x.csv",), remove=False).exists()  # a check creates nothing
    assert claim_folder(out, "--out", False, ("x.csv",)).is_dir()  # new: created
    assert claim_folder(out, "--out", False, ("x.csv",)) == out  # empty: taken as it is
    (out / "x.csv").write_text("1")
    (out / "grids").mkdir()
    (out / "grids" / "k1.png").write_bytes(b"1")
    with pytest.raises(ConfigError, match="already exists; pass --overwrite"):
        claim_folder(out, "--out", False, ("x.csv", "grids/k*.png"))
    claim_folder(out, "--out", True, ("x.csv", "grids/k*.png"))
    assert list(out.iterdir()) == []
    (tmp_path / "afile").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        claim_folder(tmp_path / "afile", "--out", True, ())


@pytest.mark.parametrize("argv, existing", [
    (["age-progress", "{T}/missing_run", "{T}/face.png", "--out", "{T}/strip.png"], "strip.png"),
    (["train-age-classifier", "--data", "{T}/missing", "--out", "{T}/clf"], "clf/age_classifier.h5"),
    (["train-age-classifier", "--data", "{T}/missing", "--out", "{T}/clf"], "clf/age_classifier.json"),
    (["train-classifier", "celeba", "--data", "{T}/missing", "--out", "{T}/attr"], "attr/epochs.csv"),
])
def test_a_command_refuses_an_existing_output_before_its_work(tmp_path, capsys, argv, existing):
    """The inputs named here do not exist: the refusal comes first, so nothing was read or trained."""
    target = tmp_path / existing
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"earlier result")
    assert main([a.replace("{T}", str(tmp_path)) for a in argv]) == 2
    assert "already exists; pass --overwrite" in one_error(capsys)
    assert target.read_bytes() == b"earlier result"


def test_report_and_saved_statistics_are_replaced_only_with_overwrite(tmp_path, capsys):
    stats = tmp_path / "a.npz"
    np.savez(stats, mu=np.zeros(3), sigma=np.eye(3), n=np.int64(10), extractor=np.str_("x"))
    assert main(["fid", str(stats), "--save-stats", str(tmp_path / "s")]) == 0
    saved = next((tmp_path / "s").iterdir())
    before = saved.read_bytes()
    assert main(["fid", str(stats), "--save-stats", str(tmp_path / "s")]) == 2
    assert "already exists; pass --overwrite" in one_error(capsys) and saved.read_bytes() == before
    assert main(["fid", str(stats), "--save-stats", str(tmp_path / "s"), "--overwrite"]) == 0

    run = tmp_path / "runs" / "runA"
    run.mkdir(parents=True)
    (run / "config.json").write_text('{"experiment": 3, "dataset": "mnist"}')
    (run / "fid.csv").write_text("step,fid,extractor\n10,40.5,lenet\n")
    assert main(["report", str(tmp_path / "runs")]) == 0
    assert main(["report", str(tmp_path / "runs")]) == 2
    assert "fid_report.md already exists; pass --overwrite" in one_error(capsys)
    assert main(["report", str(tmp_path / "runs"), "--overwrite"]) == 0
