"""The seed 004 studies: LeNet trained on synthetic digits and PCA as a generator.

Tiny and fast: a few hundred "digits" whose class is where a bright block sits, a conditional generator
built by hand that draws exactly those blocks (saved and loaded like a run's checkpoint), and a
classifier that reads the block's position. The real-data runs are in the report (docs/); one test
runs the PCA study on real MNIST when ../shared/data/mnist is present. The block digits, their generator
and their reader are in helpers.py (test_study_protocols.py uses them too), their fixtures in conftest.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from gans.errors import ConfigError, DataError

from helpers import BlockReader, block_digits, read_csv


# ---------------------------------------------------------------------- synthetic data: the pieces
def test_holdout_split_is_seeded_disjoint_and_complete():
    from gans.studies.synthetic import holdout_split

    pool, held = holdout_split(100, holdout=20, seed=3)
    assert len(held) == 20 and len(pool) == 80
    assert not set(pool) & set(held) and set(pool) | set(held) == set(range(100))
    again = holdout_split(100, holdout=20, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip((pool, held), again))
    assert not np.array_equal(held, holdout_split(100, holdout=20, seed=4)[1])
    with pytest.raises(ConfigError, match="--holdout"):
        holdout_split(10, holdout=10)


def test_split_mnist_uses_both_splits_when_there_are_two_and_a_seeded_split_otherwise(tmp_path, block_npz):
    from gans.studies.synthetic import split_mnist

    one = split_mnist(block_npz, holdout=50, seed=0)
    assert len(one["y_test"]) == 50 and len(one["y_train"]) == 250
    assert "held out for testing" in one["protocol"] and "seed 0" in one["protocol"]
    # No held-out digit is in the pool (the blocks are all distinct, so compare the pixels).
    pool = {img.tobytes() for img in one["x_train"]}
    assert not any(img.tobytes() in pool for img in one["x_test"])

    images, labels = block_digits(10, seed=1)
    both = tmp_path / "both.npz"
    np.savez(both, x_train=images[:70, ..., 0], y_train=labels[:70], x_test=images[70:, ..., 0], y_test=labels[70:])
    two = split_mnist(both, holdout=50)
    assert len(two["y_train"]) == 70 and len(two["y_test"]) == 30 and "test split" in two["protocol"]


def test_mixture_keeps_size_and_class_proportions_and_takes_class_overrides():
    from gans.studies.synthetic import build_mixture, mixture_counts

    images, labels = block_digits(20)
    labels = labels.copy()
    labels[labels == 9] = 8  # uneven classes: 40 eights, no nine
    counts = mixture_counts(labels, 0.25, {0: 0.5}, num_classes=10)
    assert counts[0] == (10, 10) and counts[8] == (10, 30) and counts[9] == (0, 0) and counts[3] == (5, 15)
    synthetic = {c: np.full((n_fake, 28, 28, 1), c / 10, np.float32) for c, (_, n_fake) in counts.items()}
    x, y, is_real = build_mixture(images, labels, synthetic, counts, seed=0)
    assert x.dtype == np.float32 and x.min() >= -1 and x.max() <= 1
    assert np.array_equal(np.bincount(y, minlength=10), np.bincount(labels, minlength=10))  # proportions kept
    assert is_real.sum() == sum(r for r, _ in counts.values())
    for c in range(9):
        fakes = x[(y == c) & ~is_real]
        assert len(fakes) == counts[c][1] and np.allclose(fakes, c / 10)  # class c's generated digits, labelled c
        reals = x[(y == c) & is_real]
        real_c = (images[labels == c].astype(np.float32) / 127.5 - 1).reshape(-1, 784)
        assert all((np.abs(real_c - r.reshape(1, -1)).max(axis=1) < 1e-6).any() for r in reals)  # real digits of c
    with pytest.raises(DataError, match="class 3 needs 15 generated digits"):
        build_mixture(images, labels, {**synthetic, 3: synthetic[3][:2]}, counts)


@pytest.mark.parametrize("text", ["0", "1.5", "-0.2", "nan", "0.1,2", ""])
def test_real_fractions_outside_zero_one_are_refused(text):
    from gans.studies.synthetic import parse_fractions

    with pytest.raises(ConfigError, match="real fraction|lists no fraction|numbers"):
        parse_fractions(text)


def test_fractions_and_class_fractions_parse():
    from gans.studies.synthetic import parse_class_fractions, parse_fractions

    assert parse_fractions("1.0,0.1,0.25") == [0.1, 0.25, 1.0]
    assert parse_class_fractions(["0=0.4", "3=0.2,5=1"]) == {0: 0.4, 3: 0.2, 5: 1.0}
    for bad in (["0=0"], ["10=0.5"], ["zero=0.4"], ["0:0.4"]):
        with pytest.raises(ConfigError, match="--class-fraction"):
            parse_class_fractions(bad)


def test_a_checkpoint_that_is_not_a_conditional_generator_is_refused(tmp_path, block_checkpoint):
    import keras

    from gans.studies.synthetic import load_conditional_generator
    from gans.training.callbacks import save_h5

    assert load_conditional_generator(block_checkpoint, (28, 28, 1), 10).name == "block_generator"
    inputs = keras.Input((4,), name="z")
    plain = keras.Model(inputs, keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="tanh")(inputs)))
    save_h5(plain, tmp_path / "plain.h5")
    with pytest.raises(ConfigError, match="not a conditional generator"):
        load_conditional_generator(tmp_path / "plain.h5", (28, 28, 1), 10)
    with pytest.raises(ConfigError, match="classes"):
        load_conditional_generator(block_checkpoint, (28, 28, 1), 5)
    with pytest.raises(ConfigError, match=r"\(28, 28, 1\) images, the data has \(32, 32, 1\)"):
        load_conditional_generator(block_checkpoint, (32, 32, 1), 10)


# ---------------------------------------------------------------------- synthetic data: a whole run
def test_synthetic_study_learns_from_generated_digits(tmp_path, block_npz, block_checkpoint):
    from gans.studies.synthetic import load_conditional_generator, run_synthetic_study, split_mnist

    parts = split_mnist(block_npz, holdout=100, seed=0)
    # as gans study synthetic calls it: the generator loaded (and checked) first, its file named beside it
    generator = load_conditional_generator(block_checkpoint, (28, 28, 1), 10)
    rows = run_synthetic_study(generator, parts, [0.05, 1.0], tmp_path, {0: 1.0}, epochs=4, batch_size=16,
                               learning_rate=3e-3, seed=0, progress=False, source=block_checkpoint)
    assert [r["real_fraction"] for r in rows] == ["0.05", "1"]
    for r in rows:
        assert int(r["n_real"]) + int(r["n_synthetic"]) == 200 and int(r["n_test"]) == 100
    assert int(rows[1]["n_synthetic"]) == 0 and rows[1]["accuracy"] == rows[1]["real_only_accuracy"]
    # 5% real: one or two digits of classes 1-9, every real digit of class 0 (its override). The generated
    # blocks carry the training; mislabelled or missing synthetic digits would leave LeNet near chance here.
    counts = np.bincount(parts["y_train"], minlength=10)
    assert int(rows[0]["n_real"]) == counts[0] + sum(max(1, round(0.05 * n)) for n in counts[1:])
    assert float(rows[0]["accuracy"]) >= 0.9
    # The real digits alone for as many epochs (fewer steps) do worse; for as many steps (the control,
    # issue 26) these easy blocks need no generated digit: tests/studies/test_study_protocols.py checks the steps.
    assert float(rows[0]["accuracy"]) > float(rows[0]["same_epochs_accuracy"])
    assert read_csv(tmp_path / "synthetic.csv") == [{k: str(v) for k, v in r.items()} for r in rows]
    for name in ("confusion_r0050", "confusion_r1000"):
        table = read_csv(tmp_path / f"{name}.csv")
        matrix = np.array([[int(v) for k, v in row.items() if k != "true"] for row in table])
        assert matrix.shape == (10, 10) and matrix.sum() == 100
        assert (tmp_path / f"{name}.png").stat().st_size > 5000
    assert np.trace(matrix) / 100 == pytest.approx(float(rows[1]["accuracy"]))
    assert (tmp_path / "synthetic_fraction.png").stat().st_size > 10000
    import json

    info = json.loads((tmp_path / "synthetic.json").read_text())
    assert info["n_test"] == 100 and info["class_fractions"] == {"0": 1.0} and "held out" in info["protocol"]
    assert info["checkpoint"] == str(block_checkpoint)  # issue 24, item 4: it said "generator", the model's name


def test_synthetic_command_bad_inputs_are_one_line_and_exit_2(tmp_path, block_npz, gans_cli):
    status, _, err = gans_cli("study", "synthetic", tmp_path / "missing.h5", "--real-fraction", "0.1,1.5",
                              "--out", tmp_path / "out")
    assert status == 2 and len(err) == 1 and "real fraction 1.5 is outside (0, 1]" in err[0], err

    import keras

    from gans.training.callbacks import save_h5

    inputs = keras.Input((4,), name="z")
    save_h5(keras.Model(inputs, keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784)(inputs))),
            tmp_path / "plain.h5")
    status, _, err = gans_cli("study", "synthetic", tmp_path / "plain.h5", "--data", block_npz, "--holdout", "50",
                              "--out", tmp_path / "out")
    assert status == 2 and len(err) == 1 and "is not a conditional generator" in err[0], err
    assert not (tmp_path / "out").exists()  # refused before anything was written


# ---------------------------------------------------------------------- PCA as a generator
def test_class_pca_recovers_a_low_dimensional_class_and_samples_with_its_variances():
    from gans.studies.pca import fit_class_pca

    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(784, 2)))[0].T  # two orthonormal directions
    mean = rng.uniform(-0.3, 0.3, 784)
    # Scores that are centred and uncorrelated, with standard deviations 0.8 and 0.3: the principal
    # axes are then exactly the two directions.
    centred = rng.normal(size=(500, 2))
    centred -= centred.mean(axis=0)
    scores = np.linalg.qr(centred)[0] * np.sqrt(499) * [0.8, 0.3]
    images = (mean + scores @ basis).reshape(500, 28, 28, 1)
    pca = fit_class_pca(images, 4)
    assert np.allclose(pca.mean, mean, atol=1e-9)
    assert np.allclose(np.abs(pca.components[:2] @ basis.T), np.eye(2), atol=1e-6)  # the same two directions
    assert pca.variances[:2] == pytest.approx([0.64, 0.09], rel=1e-6)
    assert pca.variances[2:].max() < 1e-10 and pca.explained(2) == pytest.approx(1.0)
    assert pca.explained(1) == pytest.approx(pca.variances[0] / pca.variances.sum(), rel=1e-6)
    drawn = pca.sample(4000, 2, np.random.default_rng(1))
    projected = (drawn - pca.mean) @ pca.components[:2].T
    assert projected.std(axis=0) == pytest.approx(np.sqrt(pca.variances[:2]), rel=0.05)
    assert np.abs(drawn - pca.mean - projected @ pca.components[:2]).max() < 1e-6  # nothing off the 2-d plane
    assert np.allclose(pca.reconstruct(images[:5], 2), images[:5].reshape(5, -1), atol=1e-9)  # in the plane
    assert np.allclose(pca.reconstruct(images[:5], 1) - pca.mean, np.outer(scores[:5, 0], basis[0]) * np.sign(
        pca.components[0] @ basis[0]) ** 2, atol=1e-9)  # only the first direction kept
    one = pca.sample(10, 1, np.random.default_rng(1))
    assert np.abs((one - pca.mean) @ pca.components[1]).max() < 1e-8  # k=1 uses the first direction only


def test_component_counts_are_checked_against_pixels_and_class_sizes():
    from gans.studies.pca import check_components, parse_components

    images, labels = block_digits(30)
    assert check_components([8, 2, 2, 1], images, labels) == [1, 2, 8]
    with pytest.raises(ConfigError, match="more than the 784 pixels"):
        check_components([800], images, labels)
    with pytest.raises(ConfigError, match="class .* has 30 digits, so at most 29 components"):
        check_components([30], images, labels)
    with pytest.raises(ConfigError, match="at least 1"):
        check_components([0, 4], images, labels)
    with pytest.raises(ConfigError, match="whole numbers"):
        parse_components("1,two")


def test_pca_study_scores_samples_grids_and_the_checkpoint(tmp_path, block_checkpoint):
    from gans.studies.pca import run_pca_study
    from gans.studies.synthetic import split_digits

    parts = split_digits(*block_digits(100), "blocks", holdout=500, seed=0)  # 50 held-out digits per class
    rows = run_pca_study(parts, [1, 4, 16], tmp_path, BlockReader(), checkpoint=block_checkpoint,
                         n_per_class=50, seed=0, progress=False)
    # The paper's protocol (held-out digits rebuilt) first, then the sampled digits.
    assert [r["source"] for r in rows] == ["pca_reconstruction"] * 3 + ["pca"] * 3 + ["real", "ccgan"]
    pca = rows[3:6]
    assert [r["components"] for r in rows[:3]] == [r["components"] for r in pca]
    assert [int(r["components"]) for r in pca] == [1, 4, 16]
    explained = [float(r["explained_variance"]) for r in pca]
    assert 0 < explained[0] < explained[1] < explained[2] <= 1
    # Every source draws the asked class's block: LeNet's stand-in reads it, and the 10 classes are used
    # evenly with confident readings, so the inception score is near its maximum of 10 (not ~1: the
    # score's splits must each mix the classes).
    for r in rows:
        assert float(r["agreement"]) > 0.97, r
        assert 8.5 < float(r["inception_score"]) <= 10.0, r
    assert read_csv(tmp_path / "pca.csv") == [{k: str(v) for k, v in r.items()} for r in rows]
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["pca_k001.png", "pca_k004.png", "pca_k016.png"]
    assert (tmp_path / "pca.png").stat().st_size > 10000 and (tmp_path / "pca_rebuilt.png").is_file()


def test_pca_scores_fall_when_the_classes_are_mixed_up(tmp_path):
    """The agreement is the share of samples read as the class they were drawn for: PCA fitted to
    shuffled labels draws class averages that match no block."""
    from gans.studies.pca import run_pca_study

    from gans.studies.synthetic import split_digits

    images, labels = block_digits(40)
    shuffled = np.random.default_rng(0).permutation(labels)
    rows = run_pca_study(split_digits(images, shuffled, "blocks", holdout=100), [2], tmp_path, BlockReader(),
                         n_per_class=50, progress=False)
    assert float(next(r for r in rows if r["source"] == "pca")["agreement"]) < 0.4


def test_pca_command_bad_inputs_are_one_line_and_exit_2(tmp_path, block_npz, gans_cli):
    status, _, err = gans_cli("study", "pca", "--components", "1,2,1000", "--data", block_npz, "--holdout", "50",
                              "--out", tmp_path)
    assert status == 2 and len(err) == 1 and "more than the 784 pixels" in err[0], err
    status, _, err = gans_cli("study", "pca", "--components", "8,64", "--data", block_npz, "--holdout", "50",
                              "--out", tmp_path)
    assert status == 2 and len(err) == 1 and "digits, so at most" in err[0], err  # of the training part
    assert not (tmp_path / "pca.csv").exists()


def test_study_help_explains_each_option(gans_cli):
    for study, options in (("synthetic", ("--real-fraction", "--class-fraction", "--holdout", "--data", "--out")),
                           ("pca", ("--components", "--checkpoint", "--n-per-class", "--data", "--out"))):
        status, out, _ = gans_cli("study", study, "--help")
        assert status == 0 and all(o in out for o in options), out


@pytest.mark.slow
def test_pca_study_on_real_mnist(tmp_path, mnist_dir):
    """Real digits: more components explain more variance; the real digits score near LeNet's accuracy."""
    from gans.evaluation.classifier import load_or_train_lenet
    from gans.studies.pca import run_pca_study
    from gans.studies.synthetic import split_mnist

    classifier, _ = load_or_train_lenet(mnist_dir, progress=False)
    rows = run_pca_study(split_mnist(mnist_dir), [1, 16], tmp_path, classifier, n_per_class=200, progress=False)
    real = rows[-1]
    assert real["source"] == "real" and float(real["agreement"]) > 0.97 and float(real["inception_score"]) > 8.5
    sampled = [r for r in rows if r["source"] == "pca"]
    rebuilt = [r for r in rows if r["source"] == "pca_reconstruction"]
    assert len(sampled) == len(rebuilt) == 2
    assert float(sampled[0]["explained_variance"]) < float(sampled[1]["explained_variance"])
    assert all(float(r["inception_score"]) > 7.0 and float(r["agreement"]) > 0.9 for r in sampled + rebuilt)
    # Rebuilt from 16 components, real digits score close to the real digits themselves.
    assert float(rebuilt[1]["inception_score"]) > float(rebuilt[0]["inception_score"])


# ---------------------------------------------------------------------- a study owns its folder
def test_a_study_refuses_a_used_folder_and_overwrite_leaves_no_stale_figure(tmp_path, block_checkpoint):
    """Run 1 draws k = 1, 4, 16; run 2 (--overwrite) only k = 2: its folder holds run 2's grids alone,
    and a folder that also holds a file no study wrote is refused even with --overwrite."""
    from gans.studies.pca import run_pca_study
    from gans.studies.synthetic import split_digits

    parts = split_digits(*block_digits(40), "blocks", holdout=100)
    study = dict(n_per_class=50, seed=0, progress=False)
    run_pca_study(parts, [1, 4, 16], tmp_path, BlockReader(), checkpoint=block_checkpoint, **study)
    first = (tmp_path / "pca.csv").read_text()
    with pytest.raises(ConfigError, match="already exists; pass --overwrite"):
        run_pca_study(parts, [2], tmp_path, BlockReader(), **study)
    assert (tmp_path / "pca.csv").read_text() == first  # refused: nothing changed
    run_pca_study(parts, [2], tmp_path, BlockReader(), overwrite=True, **study)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "pca.csv", "pca.json", "pca.png", "pca_rebuilt.png", "samples/pca_k002.png"]
    assert "ccgan" not in (tmp_path / "pca.csv").read_text()
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"holds files this command did not write \(notes.txt\)"):
        run_pca_study(parts, [1], tmp_path, BlockReader(), overwrite=True, **study)
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "samples" / "pca_k002.png").is_file()


def test_synthetic_study_command_refuses_a_used_folder_before_any_training(tmp_path, block_npz, block_checkpoint,
                                                                          gans_cli):
    out = tmp_path / "study"
    out.mkdir()
    (out / "synthetic.csv").write_text("earlier\n")
    (out / "confusion_r0100.png").write_bytes(b"earlier")
    status, _, err = gans_cli("study", "synthetic", block_checkpoint, "--data", block_npz, "--holdout", "50",
                              "--real-fraction", "1.0", "--epochs", "1", "--no-progress", "--out", out)
    assert status == 2 and len(err) == 1 and "already exists; pass --overwrite" in err[0], err
    assert (out / "synthetic.csv").read_text() == "earlier\n"
    status, _, err = gans_cli("study", "synthetic", block_checkpoint, "--data", block_npz, "--holdout", "50",
                              "--real-fraction", "1.0", "--epochs", "1", "--no-progress", "--out", out, "--overwrite")
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["confusion_r1000.csv", "confusion_r1000.png", "synthetic.csv",
                                                     "synthetic.json", "synthetic_fraction.png"]
