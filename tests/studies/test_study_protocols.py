"""The seed 004 studies run the paper's own protocols (issue 26, item 3).

- PCA (section 5.1): held-out digits are rebuilt from components fitted on the training part only, and
  that curve comes first; :func:`gans.studies.pca.saturation_point` finds where it stops improving.
- Synthetic data (section 4.1): the real-only control takes as many gradient steps as the mixture.

The block "digits", their generator and their reader are the ones of ``test_studies.py``: functions in
helpers.py, fixtures (``block_npz``, ``block_checkpoint``, ``gans_cli``) in conftest.py.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gans.errors import DataError

from helpers import BlockReader, block_digits, read_csv


# ---------------------------------------------------------------------- PCA: reconstruction of held-out digits
def test_pca_rebuilds_held_out_digits_from_components_fitted_on_the_training_part_only(tmp_path):
    """Fitted on the held-out digits themselves, k >= their count per class would rebuild them exactly
    (error ~0); fitted on the training part, the error is the one computed here from that part alone."""
    from gans.datasets.scaling import scale_images
    from gans.studies.pca import fit_pca_generators, run_pca_study
    from gans.studies.synthetic import split_digits

    parts = split_digits(*block_digits(40), "blocks", holdout=60, seed=3)
    per_class = np.bincount(parts["y_test"], minlength=10)
    assert per_class.max() <= 12  # so 12 components span every class's held-out digits
    rows = run_pca_study(parts, [2, 12], tmp_path, BlockReader(), n_per_class=50, seed=0, progress=False)
    rebuilt = [r for r in rows if r["source"] == "pca_reconstruction"]
    assert [int(r["components"]) for r in rebuilt] == [2, 12]
    assert all(int(r["n_scored"]) == 60 for r in rebuilt)  # every held-out digit (fewer than 50 per class)

    models = fit_pca_generators(parts["x_train"], parts["y_train"], 12)
    held = {c: scale_images(parts["x_test"][parts["y_test"] == c]).reshape(-1, 784).astype(np.float64)
            for c in range(10)}
    for r in rebuilt:
        k = int(r["components"])
        expected = np.mean(np.concatenate([((models[c].reconstruct(h, k) - h) ** 2).ravel() for c, h in held.items()]))
        assert float(r["reconstruction_error"]) == pytest.approx(expected, rel=1e-4), r
    assert float(rebuilt[1]["reconstruction_error"]) > 1e-3  # the held-out noise is not in the training components

    info = json.loads((tmp_path / "pca.json").read_text())
    assert info["split"] == {"kind": "seeded", "seed": 3, "n_train": 340, "n_test": 60}
    assert info["n_fit"] == 340 and info["n_held_out"] == 60 and info["n_rebuilt"] == 60
    assert sum(info["fit_per_class"].values()) == 340 and "held out" in info["protocol"]
    # The held-out digits are the real line: the same digits that were rebuilt.
    real = next(r for r in rows if r["source"] == "real")
    assert int(real["n_scored"]) == 60


def test_pca_csv_keeps_its_columns_and_puts_the_reconstruction_curve_first(tmp_path):
    from gans.studies.pca import run_pca_study
    from gans.studies.synthetic import split_digits

    parts = split_digits(*block_digits(30), "blocks", holdout=50)
    run_pca_study(parts, [1, 4], tmp_path, BlockReader(), n_per_class=20, progress=False)
    table = read_csv(tmp_path / "pca.csv")
    assert list(table[0])[:7] == ["source", "components", "inception_score", "inception_score_std", "agreement",
                                  "explained_variance", "n_per_class"]
    assert [r["source"] for r in table] == ["pca_reconstruction"] * 2 + ["pca"] * 2 + ["real"]


def test_pca_refuses_held_out_classes_the_training_part_lacks(tmp_path):
    from gans.studies.pca import run_pca_study

    images, labels = block_digits(20)
    parts = {"x_train": images[labels < 9], "y_train": labels[labels < 9], "x_test": images[labels == 9],
             "y_test": labels[labels == 9], "protocol": "made by hand"}
    with pytest.raises(DataError, match=r"held-out classes \[9\] have no digit in the training part"):
        run_pca_study(parts, [1], tmp_path / "out", BlockReader(), n_per_class=10, progress=False)
    assert not (tmp_path / "out").exists()


def test_pca_command_fits_the_training_part_and_prints_the_saturation_point(tmp_path, block_npz, gans_cli,
                                                                            monkeypatch):
    import gans.evaluation.classifier as classifier

    monkeypatch.setattr(classifier, "load_or_train_lenet", lambda *a, **k: (BlockReader(), {"protocol": "blocks"}))
    status, out, err = gans_cli("study", "pca", "--components", "1,2,8", "--data", block_npz, "--holdout", "100",
                                "--split-seed", "5", "--n-per-class", "10", "--no-progress", "--out", tmp_path / "p")
    assert status == 0, err
    assert "fitted on the 200 training digits" in out and "seed 5" in out
    assert "saturation of the rebuilt held-out digits' agreement: k = " in out
    assert "saturation of the rebuilt held-out digits' inception score: k = " in out
    info = json.loads((tmp_path / "p" / "pca.json").read_text())
    assert info["split"] == {"kind": "seeded", "seed": 5, "n_train": 200, "n_test": 100}
    assert set(info["saturation"]) >= {"rule", "agreement", "inception_score"}


# ---------------------------------------------------------------------- PCA: the saturation rule
def curve(values, source="pca_reconstruction", key="agreement", ks=(1, 2, 4, 8, 16, 32, 64, 128)):
    return [{"source": source, "components": str(k), key: str(v)} for k, v in zip(ks, values)]


def test_saturation_point_is_where_no_larger_k_improves_by_more_than_the_tolerance():
    from functools import partial

    from gans.studies.pca import saturation_point

    at = partial(saturation_point, key="agreement")
    rising = curve([0.50, 0.70, 0.85, 0.93, 0.970, 0.982, 0.988, 0.990])
    # 1% of the best (0.990) is 0.0099: from 16 on, the later best gains 0.020 (> tol); from 32, 0.008.
    assert at(rising) == 32
    assert at(rising, tolerance=0.03) == 16
    assert at(rising, tolerance=0.0) == 128
    # A later dip does not move it: from 4 on, nothing improves on 0.99 by more than the tolerance.
    assert at(curve([0.6, 0.9, 0.99, 0.985, 0.98, 0.97, 0.97, 0.96])) == 4
    # A curve that only falls saturates at its first point; one that still climbs, at its last.
    assert at(curve([1.0, 0.999, 0.99, 0.99, 0.985, 0.98, 0.98, 0.97])) == 1
    assert at(curve([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])) == 128
    # The default score is the paper's, the inception score; the tolerance is relative (1% of 9.5 = 0.095):
    # from 16 the later best gains 0.12, from 32 0.05.
    scores = curve([8.9, 8.8, 8.9, 9.2, 9.38, 9.45, 9.49, 9.50], key="inception_score")
    assert saturation_point(scores) == saturation_point(scores, key="inception_score") == 32
    assert saturation_point(scores, tolerance=0.02) == 16
    # Other sources are ignored; rows as read back from pca.csv (strings, unordered) work; no curve: None.
    mixed = curve([0.1] * 8, source="pca") + rising[::-1] + [{"source": "real", "components": "", "agreement": "0.99"}]
    assert at(mixed) == 32
    assert at(mixed, source="pca") == 1
    assert at(curve([0.5, 0.9], source="pca")) is None


# ---------------------------------------------------------------------- synthetic data: the control's steps
def test_repeat_to_size_repeats_every_item_as_evenly_as_the_size_allows():
    from gans.studies.synthetic import repeat_to_size

    x = np.arange(7)[:, None] * np.ones((1, 3))
    xs, ys = repeat_to_size(x, np.arange(7), 30, seed=1)
    counts = np.bincount(ys, minlength=7)
    assert len(ys) == 30 and set(counts) == {4, 5} and counts.sum() == 30
    assert np.array_equal(xs[:, 0], ys)  # images and labels stay paired
    assert np.array_equal(repeat_to_size(x, np.arange(7), 30, seed=1)[1], ys)
    assert np.array_equal(repeat_to_size(x, np.arange(7), 7)[1], np.arange(7))
    with pytest.raises(DataError, match="cannot repeat 7 digits to 5"):
        repeat_to_size(x, np.arange(7), 5)


def test_real_only_control_takes_as_many_gradient_steps_as_the_mixture(tmp_path, block_npz, block_checkpoint):
    from gans.studies.synthetic import load_conditional_generator, run_synthetic_study, split_mnist

    parts = split_mnist(block_npz, holdout=100, seed=0)
    generator = load_conditional_generator(block_checkpoint, (28, 28, 1), 10)
    epochs, batch = 2, 16
    rows = run_synthetic_study(generator, parts, [0.1, 0.5, 1.0], tmp_path, epochs=epochs, batch_size=batch,
                               learning_rate=3e-3, seed=0, progress=False, source=block_checkpoint)
    total = len(parts["y_train"])
    for r in rows:
        n_real = int(r["n_real"])
        assert n_real + int(r["n_synthetic"]) == total
        # read from the optimizers: the mixture's steps, and the control's equal to them
        assert int(r["steps"]) == epochs * math.ceil(total / batch), r
        assert int(r["real_only_steps"]) == int(r["steps"]), r
        assert float(r["real_only_epochs"]) == pytest.approx(epochs * total / n_real, rel=1e-3)
        assert 0 <= float(r["same_epochs_accuracy"]) <= 1
    assert int(rows[0]["n_real"]) < int(rows[1]["n_real"]) < int(rows[2]["n_real"]) == total
    table = read_csv(tmp_path / "synthetic.csv")
    assert list(table[0])[:7] == ["real_fraction", "n_real", "n_synthetic", "accuracy", "real_only_accuracy",
                                  "n_test", "class_fractions"]
    assert [r["real_only_steps"] for r in table] == [str(r["steps"]) for r in rows]
    info = json.loads((tmp_path / "synthetic.json").read_text())
    assert info["split"] == {"kind": "seeded", "seed": 0, "n_train": 200, "n_test": 100}
    assert "as many gradient steps" in info["control"]


def test_synthetic_command_prints_real_counts_and_both_steps(tmp_path, block_npz, block_checkpoint, gans_cli):
    status, out, err = gans_cli("study", "synthetic", block_checkpoint, "--data", block_npz, "--holdout", "100",
                                "--real-fraction", "0.25,1", "--epochs", "1", "--batch-size", "50", "--no-progress",
                                "--out", tmp_path / "s")
    assert status == 0, err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["real", "n_real", "n_synth"])
    first = lines[header + 1].split()
    # 25%: the real digits' count, the mixture's 4 steps (200 digits, batch 50) and the control's 4
    assert first[0] == "25%" and int(first[1]) == sum(round(0.25 * n) for n in np.bincount(
        split_counts(block_npz))) and first[3] == "4" and first[6] == "4", lines[header:header + 3]
    assert "as many gradient steps as the mixture" in out


def split_counts(path):
    from gans.studies.synthetic import split_mnist

    return split_mnist(path, holdout=100)["y_train"]
