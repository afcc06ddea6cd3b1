"""Diagnostics: non-convergence and mode collapse verdicts from recorded losses and diversity."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gans.errors import DataNotFoundError
from gans.evaluation.diagnostics import (check_diversity, check_losses, diagnose_run, mean_pairwise_distance,
                                         write_diagnosis)

from helpers import collapsing_losses, healthy_losses, write_run


def test_healthy_losses_pass():
    finding = check_losses(*healthy_losses(), loss="minimax")
    assert not finding.flagged and not finding.transient and finding.began_at_step is None


@pytest.mark.parametrize("climb", [True, False], ids=["climbing", "oscillating"])
def test_discriminator_collapse_flagged_with_onset(climb):
    finding = check_losses(*collapsing_losses(onset=600, climb=climb), loss="minimax")
    assert finding.flagged and finding.check == "non_convergence"
    assert 600 <= finding.began_at_step <= 700  # the window after the onset (windows are 100 steps)
    assert ("climbing" if climb else "oscillating") in finding.evidence


def test_overshooting_discriminator_flagged():
    """A discriminator learning rate far too high: D swings between zero and large losses, G stays huge."""
    s, d, g = healthy_losses()
    rng = np.random.default_rng(5)
    bad = s > 200
    d[bad] = np.where(rng.random(bad.sum()) < 0.35, 1e-6, rng.uniform(0.2, 5, bad.sum()))
    g[bad] = rng.lognormal(4, 0.8, bad.sum())  # median ~55, as such a run records
    finding = check_losses(s, d, g, loss="minimax")
    assert finding.flagged and finding.began_at_step == 201
    assert "the discriminator wins" in finding.evidence and "high" in finding.evidence


def test_recovered_spell_is_transient_not_failure():
    s, d, g = healthy_losses()
    spell = (s > 500) & (s <= 800)
    d[spell], g[spell] = 0.01, 5.0
    finding = check_losses(s, d, g, loss="minimax")
    assert not finding.flagged and finding.transient and finding.began_at_step == 501


def test_least_squares_thresholds_and_wasserstein_not_applicable():
    s, d, g = collapsing_losses()
    lsgan = check_losses(s, d / 2, g / 8, loss="least_squares")  # g ~0.45-0.9: climbs past 0.6
    assert lsgan.flagged
    assert not check_losses(s, d, g, loss="wasserstein").flagged
    assert "not applicable" in check_losses(s, d, g, loss="wasserstein").evidence


def test_diversity_collapse_onset_and_recovery():
    steps = np.arange(200, 4001, 200)
    ratio = np.full(len(steps), 0.95)
    ratio[steps >= 2400] = 0.12
    finding = check_diversity(steps, ratio * 10, np.full(len(steps), 10.0))
    assert finding.flagged and finding.began_at_step == 2400
    dip = np.full(len(steps), 0.95)
    dip[5:7] = 0.3
    recovered = check_diversity(steps, dip, np.ones(len(steps)))
    assert not recovered.flagged and recovered.transient


def test_mean_pairwise_distance():
    assert mean_pairwise_distance(np.ones((5, 3))) == 0.0
    assert mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)


def test_diagnose_and_write_run_folder(tmp_path):
    s, d, g = collapsing_losses(onset=1000)
    write_run(tmp_path / "bad", s, d, g, diversity=[(500, 0.9), (1000, 0.8), (1500, 0.2), (2000, 0.1)])
    diagnosis = write_diagnosis(tmp_path / "bad")
    assert diagnosis.verdict == "mode collapse and non-convergence"
    assert diagnosis.began_at_step == 1001 and diagnosis.steps == 2000
    saved = json.loads((tmp_path / "bad" / "diagnostics.json").read_text())
    assert saved["verdict"] == diagnosis.verdict and not saved["healthy"]
    assert "began at step 1001" in (tmp_path / "bad" / "diagnostics.md").read_text()
    assert (tmp_path / "bad" / "diagnostics.png").stat().st_size > 1000

    write_run(tmp_path / "good", *healthy_losses(), diversity=[(1000, 0.9), (2000, 0.92)])
    good = diagnose_run(tmp_path / "good")
    assert good.verdict == "healthy" and good.summary() == "healthy"

    write_run(tmp_path / "ls", s, d / 2, g / 8, variant="lsgan", loss="mse")
    ls = diagnose_run(tmp_path / "ls")
    assert ls.verdict == "non-convergence"
    assert "not measured" in ls.findings[1].evidence  # no diversity.csv

    with pytest.raises(DataNotFoundError):
        diagnose_run(tmp_path / "missing")


def test_label_entropy_counts_the_classes_read():
    from gans.evaluation.diagnostics import label_entropy

    eye = np.eye(10)
    assert label_entropy(np.tile(eye, (5, 1))) == pytest.approx(1.0)
    assert label_entropy(np.tile(eye[3], (50, 1))) == 0.0
    assert 0.25 < label_entropy(np.tile(eye[:2], (10, 1))) < 0.35  # two classes of ten: log 2 / log 10


# Measured on real runs (LeNet label entropy of a fixed 512-z batch, from their checkpoints):
EXP02_COLLAPSE = ([200, 600, 1000, 1400, 1600, 1800], [0.88, 0.92, 0.86, 0.85, 0.50, 0.30])
EXP03_HEALTHY = ([500, 1000, 3000, 8000], [0.13, 0.62, 0.86, 0.96])


def test_class_coverage_flags_a_loss_of_classes_not_a_slow_start():
    from gans.evaluation.diagnostics import check_label_coverage

    collapse = check_label_coverage(*EXP02_COLLAPSE)
    assert collapse.flagged and collapse.check == "mode_collapse" and collapse.began_at_step == 1600
    assert "peak 0.92 at step 600" in collapse.evidence
    assert not check_label_coverage(*EXP03_HEALTHY).flagged  # early samples in few classes is no collapse
    recovered = check_label_coverage([1, 2, 3, 4], [0.9, 0.4, 0.85, 0.9])
    assert not recovered.flagged and recovered.transient


def test_diagnose_run_reads_coverage_csv(tmp_path):
    s, d, g = healthy_losses()
    (tmp_path / "losses.csv").write_text("step,d_loss_real,d_loss_fake,d_loss,g_loss\n" + "".join(
        f"{a},{b},{b},{b},{c}\n" for a, b, c in zip(s, d, g)))
    (tmp_path / "coverage.csv").write_text("step,label_entropy,classes\n" + "".join(
        f"{a},{b},3\n" for a, b in zip(*EXP02_COLLAPSE)))
    diagnosis = diagnose_run(tmp_path)
    assert diagnosis.verdict == "mode collapse" and diagnosis.began_at_step == 1600


def test_the_figure_draws_every_familys_losses(tmp_path, recwarn):
    """diagnostics.png draws the losses a run logged: D and G for the thesis's families, the CAAE's
    eg, dz, di and valid (it once said "no losses recorded" beside a full losses.csv); an empty log is
    said so, without a legend warning."""
    from gans.evaluation.diagnostics import Diagnosis, loss_curves, plot_diagnosis, read_table

    (tmp_path / "caae").mkdir()
    (tmp_path / "caae" / "losses.csv").write_text(
        "step,eg,dz,di,valid\n" + "".join(f"{i},{1 / i},{1.3},{0.5 / i},{0.4}\n" for i in range(1, 30)))
    drawn = loss_curves(read_table(tmp_path / "caae" / "losses.csv"))
    assert [name for name, _ in drawn] == ["eg", "dz", "di", "valid"]
    (tmp_path / "gan").mkdir()
    (tmp_path / "gan" / "losses.csv").write_text(
        "step,d_loss_real,d_loss_fake,d_loss,g_loss\n" + "".join(f"{i},0.6,0.7,0.65,0.8\n" for i in range(1, 30)))
    assert loss_curves(read_table(tmp_path / "gan" / "losses.csv")) == [("d_loss", "discriminator"),
                                                                        ("g_loss", "generator")]
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "losses.csv").write_text("step,eg,dz,di\n")
    assert loss_curves(read_table(tmp_path / "empty" / "losses.csv")) == []
    for run in ("caae", "gan", "empty"):  # the CAAE's verdict comes from its diversity (gans.training.caae)
        plot_diagnosis(tmp_path / run, Diagnosis("healthy", steps=29), tmp_path / run / "diagnostics.png", run)
        assert (tmp_path / run / "diagnostics.png").stat().st_size > 1000
    assert not [w for w in recwarn if "No artists with labels" in str(w.message)]
