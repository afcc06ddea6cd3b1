"""The conditional GAN end to end: class-by-row grids, the conditional metrics, `gans sample --label`,
and one clear line (exit status 2) for every bad label or data set, in a real process."""

import csv
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from gans.evaluation.callbacks import ConditionalMetrics, confusion_matrix
from gans.training import RunSettings, train

from helpers import labelled_images, run_gans, stand_in_lenet, tiny_cgan


def one_clear_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("gans")]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    """A 4-step tiny CCGAN run on labelled random images (LeNet replaced by an untrained stand-in)."""
    run = tmp_path_factory.mktemp("cgan") / "run"
    with pytest.MonkeyPatch.context() as patch:
        stand_in_lenet(patch, info={})
        train(tiny_cgan(), run, data=labelled_images(300), steps=4,
              settings=RunSettings(sample_every=2, checkpoint_every=4, progress=False))
    return run


def test_a_conditional_run_writes_class_grids_and_the_conditional_metrics(cgan_run):
    import matplotlib.image

    grid = matplotlib.image.imread(cgan_run / "samples" / "step_000004.png")
    assert grid.shape[:2] == (((28 + 1) * 10 + 1) * 4, ((28 + 1) * 10 + 1) * 4)  # 10 rows (classes) x 10
    with open(cgan_run / "conditional.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["2", "4"]
    assert list(rows[0]) == ["step", "agreement"] + [f"class_{c}" for c in range(10)]
    with open(cgan_run / "confusion_matrix.csv", newline="") as f:
        matrix = np.array([[int(v) for k, v in r.items() if k != "asked"] for r in csv.DictReader(f)])
    assert matrix.shape == (10, 10) and (matrix.sum(axis=1) == 100).all()
    assert float(rows[-1]["agreement"]) == pytest.approx(np.trace(matrix) / matrix.sum(), abs=1e-4)
    with open(cgan_run / "fid_per_class.csv", newline="") as f:
        fids = list(csv.DictReader(f))
    assert [int(r["class"]) for r in fids] == list(range(10)) and all(float(r["fid"]) >= 0 for r in fids)
    for name in ("conditional_agreement.png", "confusion_matrix.png", "diagnostics.png", "loss_plot.png"):
        assert (cgan_run / name).stat().st_size > 1000, name


class IntensityReader:
    """A classifier that reads the class from the mean brightness (class c drawn at grey level c / 9)."""

    def predict_on_batch(self, x):
        level = np.clip(np.rint((np.asarray(x).mean(axis=(1, 2, 3)) + 1) / 2 * 9), 0, 9).astype(int)
        return np.eye(10)[level]


class StandIn:
    def __init__(self, obeys: bool, run_dir: Path):
        self.obeys, self.run_dir, self.step, self.total_steps, self.title = obeys, run_dir, 0, 10, "stand-in"
        self.step_obj = SimpleNamespace(num_classes=10)

    def generate(self, n, seed=0, batch_size=256, labels=None):
        classes = labels if self.obeys else np.random.default_rng(seed).integers(0, 10, n)
        return np.repeat(classes / 9 * 2 - 1, 28 * 28).reshape(n, 28, 28, 1).astype(np.float32)


@pytest.mark.parametrize("obeys, expected", [(True, 1.0), (False, 0.1)])
def test_conditional_agreement_measures_whether_the_asked_class_is_drawn(obeys, expected, tmp_path):
    callback = ConditionalMetrics(5, n_per_class=50)
    callback.classifier = IntensityReader()
    trainer = StandIn(obeys, tmp_path)
    callback.on_train_begin(trainer)
    callback.run(trainer, 5)
    assert float(callback.rows[-1]["agreement"]) == pytest.approx(expected, abs=0.05)
    if obeys:
        np.testing.assert_array_equal(callback.confusion, np.diag(np.full(10, 50)))


def test_confusion_matrix_counts_asked_against_read():
    m = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 0], [1, 0, 0]])


def test_sample_a_class_and_a_class_grid_from_a_conditional_checkpoint(cgan_run, tmp_path):
    checkpoint = cgan_run / "checkpoints" / "generator_step_000004.h5"
    code, out, err = run_gans("sample", checkpoint, "--label", 7, "--n", 6, "--out", tmp_path / "sevens.png",
                              "--npz", tmp_path / "sevens.npz")
    assert code == 0, err
    with np.load(tmp_path / "sevens.npz", allow_pickle=False) as saved:
        assert saved["images"].shape == (6, 28, 28, 1) and saved["labels"].tolist() == [7] * 6
    code, out, err = run_gans("sample", checkpoint, "--labels", "all", "--n", 3, "--out", tmp_path / "all.png")
    assert code == 0, err
    import matplotlib.image

    assert matplotlib.image.imread(tmp_path / "all.png").shape[:2] == ((29 * 10 + 1) * 4, (29 * 3 + 1) * 4)


@pytest.mark.parametrize("args, message", [
    ([], "this generator is conditional (10 classes): say which with --label K (0-9) or --labels all"),
    (["--label", "12"], "label 12 is out of range: this generator has 10 classes (0-9)"),
    (["--labels", "1,2,3", "--n", "5"], "--labels lists 3 classes but --n asks for 5 images"),
    (["--labels", "1,x"], "--labels takes 'all' or classes separated by commas"),
])
def test_bad_labels_for_a_conditional_checkpoint_are_one_clear_line(cgan_run, tmp_path, args, message):
    checkpoint = cgan_run / "checkpoints" / "generator_step_000004.h5"
    code, out, err = run_gans("sample", checkpoint, "--out", tmp_path / "x.png", *args)
    assert code == 2 and message in one_clear_line(err)
    assert not (tmp_path / "x.png").exists()


def test_training_on_data_whose_classes_disagree_with_the_model_is_one_clear_line(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "digits.npz", x_train=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
             y_train=np.arange(64) % 12)
    code, out, err = run_gans("train", "cgan", "--data", tmp_path / "digits.npz", "--steps", 2,
                              "--out", tmp_path / "run")
    assert code == 2
    assert "the data's classes run 0-11, the model has 10 (0-9)" in one_clear_line(err)
    assert not (tmp_path / "run").exists()


def test_cgan_notebook_shows_class_rows_agreement_confusion_and_fresh_digits(cgan_run):
    from notebook_runner import execute_notebook

    text, figures = execute_notebook("cgan_mnist.ipynb", {"GANS_RUN_DIR": str(cgan_run), "GANS_DIGIT": "3"})
    assert "cgan on mnist: 10 classes" in text and "class grids; the latest is step_000004.png" in text
    assert "last measurement, iteration 4: conditional agreement" in text
    assert "of 1000 generated digits read as asked" in text
    table = [line.split() for line in text.splitlines() if line.strip().endswith("tiny_lenet")]
    assert [int(row[0]) for row in table] == list(range(10))  # the per-class FID table, one row per digit
    assert figures == 4  # class grid, agreement curves, confusion matrix, fresh samples
