"""KID: against the formula written out here, its expected behaviour, and its place beside FID."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from gans.evaluation.kid import KIDResult, kernel_inception_distance, mmd2_unbiased

from helpers import StandInTrainer, read_csv, tiny_extractor


def reference_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with k(a, b) = (a.b/d + 1)^3, as sums over index pairs (Binkowski et al. 2018, eq. 3)."""
    m, n, d = len(x), len(y), x.shape[1]

    def k(a, b):
        return (sum(float(a[t]) * float(b[t]) for t in range(d)) / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2.0 * xy


def test_mmd2_matches_the_formula_written_out():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, (23, 6))
    y = rng.normal(0.4, 1.3, (17, 6))  # different sizes: the two within-set normalisations differ
    expected = reference_mmd2(x, y)
    assert expected > 0.01  # a real difference, not a figure near zero where relative error means little
    assert mmd2_unbiased(x, y) == pytest.approx(expected, rel=1e-6)
    assert mmd2_unbiased(y, x) == pytest.approx(expected, rel=1e-6)  # symmetric


def test_kid_over_subsets_matches_the_formula_on_the_same_subsets():
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, (40, 5))
    b = rng.normal(0.3, 1.0, (30, 5))
    result = kernel_inception_distance(a, b, extractor="toy", subsets=4, subset_size=12, seed=7)
    # The same draws as the implementation documents: per subset, A's indices then B's, without replacement.
    draw = np.random.default_rng(7)
    values = [reference_mmd2(a[draw.choice(40, 12, replace=False)], b[draw.choice(30, 12, replace=False)])
              for _ in range(4)]
    assert isinstance(result, KIDResult)
    assert result.kid == pytest.approx(np.mean(values), rel=1e-6)
    assert result.std == pytest.approx(np.std(values), rel=1e-6)
    assert (result.subsets, result.subset_size, result.n_a, result.n_b, result.extractor) == (4, 12, 40, 30, "toy")
    assert "KID" in str(result) and "toy" in str(result)


def test_kid_caps_the_subset_size_and_reports_no_spread_for_one_whole_subset():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(50, 4)) + 1.0
    result = kernel_inception_distance(a, b, subsets=100, subset_size=1000)
    assert result.subset_size == 50 and result.subsets == 1  # every subset would be both whole sets
    assert result.kid == pytest.approx(reference_mmd2(a, b), rel=1e-6)
    assert math.isnan(result.std)
    capped = kernel_inception_distance(a, b[:30], subsets=10, subset_size=1000)
    assert capped.subset_size == 30 and capped.subsets == 10 and capped.std > 0


def test_kid_is_near_zero_for_two_halves_of_one_set_and_clearly_positive_against_noise():
    rng = np.random.default_rng(3)
    # Features with structure (a few correlated directions), like a network's, not white noise.
    mixing = rng.normal(size=(8, 32))
    real = np.maximum(rng.normal(size=(2000, 8)) @ mixing, 0)
    halves = kernel_inception_distance(real[:1000], real[1000:], subsets=20, subset_size=500)
    noise = rng.uniform(0, real.max(), (1000, 32))
    against_noise = kernel_inception_distance(real[:1000], noise, subsets=20, subset_size=500)
    assert abs(halves.kid) < 3 * halves.std + 1e-9  # unbiased: zero within its spread
    assert against_noise.kid > 100 * max(abs(halves.kid), halves.std)
    assert against_noise.kid > 20 * against_noise.std


def test_kid_refuses_bad_features():
    from gans.errors import ConfigError, DataError

    good = np.zeros((5, 3))
    with pytest.raises(DataError, match="same extractor"):
        kernel_inception_distance(good, np.zeros((5, 4)))
    with pytest.raises(DataError, match="NaN"):
        kernel_inception_distance(good, np.full((5, 3), np.nan))
    with pytest.raises(DataError, match="at least 2"):
        kernel_inception_distance(good[:1], good)
    with pytest.raises(ConfigError, match="subsets"):
        kernel_inception_distance(good, good, subsets=0)


@pytest.mark.slow
def test_kid_of_real_digits_with_the_lenet_extractor(mnist_dir):
    """Real MNIST through the library's LeNet: two halves agree, noise does not (slow on first use:
    the LeNet is trained and cached once)."""
    from gans.datasets.mnist import load_mnist
    from gans.evaluation.classifier import lenet_extractor
    from gans.evaluation.kid import kid_from_arrays

    images = load_mnist(mnist_dir, split="test").images[:2000]
    extractor = lenet_extractor(data_path=mnist_dir, progress=False)
    halves = kid_from_arrays(images[:1000], images[1000:], extractor, subsets=20, subset_size=500, progress=False)
    noise = np.random.default_rng(0).integers(0, 256, (1000, 28, 28, 1), dtype=np.uint8)
    against_noise = kid_from_arrays(images[:1000], noise, extractor, subsets=20, subset_size=500, progress=False)
    assert halves.extractor == against_noise.extractor == extractor.name
    assert abs(halves.kid) < 0.05 * against_noise.kid
    assert against_noise.kid > 10 * against_noise.std


# ---------------------------------------------------------------------- beside FID: callback and command
def noisy_trainer(run_dir, total_steps):
    """The callbacks' stand-in trainer, whose generator draws real images plus noise that fades with
    training: its distance to the real images falls at every step, for any feature map."""
    class Fading(StandInTrainer):
        def generate(self, n, seed=0, batch_size=256):
            rng = np.random.default_rng(seed)
            real = self.data.images[rng.integers(0, len(self.data.images), n)].astype(np.float32) / 127.5 - 1
            amount = 1.5 * (1 - self.step / self.total_steps) + 0.1
            return np.clip(real + amount * rng.standard_normal(real.shape), -1, 1).astype(np.float32)

    trainer = Fading(run_dir, total_steps)
    # Dark images with one bright square each: pictures with structure, which noise visibly spoils.
    rng = np.random.default_rng(0)
    images = np.zeros((400, 8, 8, 1), np.uint8)
    for image, (y, x) in zip(images, rng.integers(0, 6, (400, 2))):
        image[y:y + 3, x:x + 3] = 255
    trainer.data.images = images
    return trainer


class Recorder:
    """A callback that keeps what the others publish."""

    def __init__(self):
        self.published = []

    def on_measure(self, trainer, step, scalars, images):
        self.published.append((step, scalars))

    def on_train_begin(self, trainer): ...

    def on_step_end(self, trainer, step, logs): ...

    def on_train_end(self, trainer): ...


def test_fid_callback_writes_kid_columns_and_resumes_an_old_fid_csv(tmp_path):
    from gans.evaluation.callbacks import FIDCallback
    from gans.io import read_npz

    trainer = noisy_trainer(tmp_path, total_steps=50)
    ext = tiny_extractor()
    recorder = Recorder()
    trainer.callbacks = [recorder]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        trainer.fit([FIDCallback(20, extractor=ext, n=300, batch_size=50, kid_subsets=10, kid_subset_size=100),
                     recorder], until=50)
    rows = read_csv(tmp_path / "fid.csv")
    assert rows and [int(r["step"]) for r in rows] == [20, 40, 50]
    kids = [float(r["kid"]) for r in rows]
    stds = [float(r["kid_std"]) for r in rows]
    assert kids[0] > kids[1] > kids[2]  # the stand-in generator improves, KID sees it as FID does
    assert kids[0] > 2 * stds[0] and all(s > 0 for s in stds)
    # The row's KID is the KID of exactly those generated features against the saved reference features.
    reference = read_npz(tmp_path / "fid_reference_features.npz", ("features", "extractor"))[0]
    assert str(reference["extractor"]) == "tiny" and reference["features"].shape == (300, 5)
    fake = ext(trainer.generate(300, seed=0, batch_size=50))  # trainer.step is 50, the last row's
    expected = kernel_inception_distance(fake, reference["features"], "tiny", subsets=10, subset_size=100)
    assert kids[2] == pytest.approx(expected.kid, rel=1e-3)
    published = [s for _, s in recorder.published if "kid/tiny" in s]
    assert len(published) == 3 and all("fid/tiny" in s for s in published)
    assert [s["kid/tiny"] for s in published] == pytest.approx(kids, rel=1e-4)

    # A fid.csv from before KID existed: resumed, its old rows kept (KID "nan"), new rows measured.
    (tmp_path / "fid.csv").write_text("step,fid,extractor,n,seconds\n20,5.5,tiny,300,0.1\n40,4.4,tiny,300,0.1\n")
    trainer.step = 40
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        trainer.fit([FIDCallback(20, extractor=ext, n=300, batch_size=50, kid_subsets=10, kid_subset_size=100)],
                    until=50)
    rows = read_csv(tmp_path / "fid.csv")
    assert [(r["step"], r["fid"], r["kid"]) for r in rows[:2]] == [("20", "5.5", "nan"), ("40", "4.4", "nan")]
    assert int(rows[2]["step"]) == 50 and float(rows[2]["kid"]) == pytest.approx(kids[2], rel=1e-4)


def test_fid_command_reports_kid_beside_fid(tmp_path, capsys, tiny_lenet):
    from gans.cli import main

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (120, 28, 28, 1), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", images=a)
    np.savez(tmp_path / "b.npz", images=(a // 2).astype(np.uint8))
    assert main(["fid", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--extractor", "lenet", "--n", "120",
                 "--no-progress", "--save-stats", str(tmp_path / "stats")]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("FID ") and "; KID " in line and "lenet5:tiny stand-in" in line.split("; KID ")[1]
    kid = float(line.split("; KID ")[1].split()[0])
    assert kid > 0
    stats = sorted((tmp_path / "stats").glob("*.npz"))
    assert len(stats) == 2
    assert main(["fid", str(stats[0]), str(tmp_path / "b.npz"), "--extractor", "lenet", "--n", "120",
                 "--no-progress"]) == 0
    assert "KID not computed" in capsys.readouterr().out.strip().splitlines()[-1]
