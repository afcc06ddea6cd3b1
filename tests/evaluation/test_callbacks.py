"""FID and diagnostics callbacks: against a stand-in trainer, then inside a tiny real run."""

from __future__ import annotations

import json
import warnings

import keras
import numpy as np
import pytest

from gans.evaluation.callbacks import DiagnosticsCallback, FIDCallback
from gans.evaluation.fid import FeatureExtractor

from helpers import StandInTrainer, read_csv, tiny_extractor, write_run


def test_fid_callback_writes_rows_and_resumes(tmp_path):
    trainer = StandInTrainer(tmp_path, total_steps=50)
    ext = tiny_extractor()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        trainer.fit([FIDCallback(20, extractor=ext, n=100, batch_size=50)], until=50)
        rows = read_csv(tmp_path / "fid.csv")
        assert [int(r["step"]) for r in rows] == [20, 40, 50]  # every 20 steps and the last step
        assert all(r["extractor"] == "tiny" and r["n"] == "100" for r in rows)
        fids = [float(r["fid"]) for r in rows]
        assert fids[0] > fids[1] > fids[2]  # the stand-in improves with training
        assert (tmp_path / "fid_reference_stats.npz").is_file()

        # Resume from step 20 (say the state was saved there): later rows are measured again, not duplicated.
        trainer.step = 20
        trainer.fit([FIDCallback(20, extractor=ext, n=100, batch_size=50)], until=50)
    rows = read_csv(tmp_path / "fid.csv")
    assert [int(r["step"]) for r in rows] == [20, 40, 50]
    assert float(rows[1]["fid"]) == pytest.approx(fids[1], rel=1e-4)


def test_fid_callback_disabled_does_nothing(tmp_path):
    trainer = StandInTrainer(tmp_path, total_steps=10)
    trainer.fit([FIDCallback(0, extractor="inception")], until=10)  # never builds the extractor
    assert not (tmp_path / "fid.csv").exists()


def test_diagnostics_callback_flags_collapse(tmp_path):
    trainer = StandInTrainer(tmp_path, total_steps=400, collapse=True)
    noise = np.random.default_rng(1).standard_normal((400, 2))
    write_run(tmp_path, range(1, 401), 0.6 + 0.05 * noise[:, 0], 0.9 + 0.1 * noise[:, 1], variant="gan")
    trainer.fit([DiagnosticsCallback(50, n=64)], until=400)
    rows = read_csv(tmp_path / "diversity.csv")
    assert [int(r["step"]) for r in rows] == list(range(50, 401, 50))
    ratios = [float(r["ratio"]) for r in rows]
    assert min(ratios[:4]) > 0.5 and max(ratios[4:]) < 0.1
    report = json.loads((tmp_path / "diagnostics.json").read_text())
    assert report["verdict"] == "mode collapse" and report["began_at_step"] == 250
    assert "mode collapse" in (tmp_path / "diagnostics.md").read_text()


def test_callbacks_in_a_real_training_run(tmp_path, shared_data):
    """A 30-step MLP GAN on 256 real MNIST digits, with both callbacks in the lead's training loop."""
    pytest.importorskip("gans.training.run")
    from gans.datasets.mnist import load_mnist
    from gans.experiments import variant_config
    from gans.training.run import RunSettings, train

    mnist = shared_data / "mnist"
    if not (mnist / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("MNIST not in ../shared/data")
    data = load_mnist(mnist, split="test")
    data.images, data.labels = data.images[:256], data.labels[:256]
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(keras.layers.AveragePooling2D(4)(inputs))
    ext = FeatureExtractor(keras.Model(inputs, x), "pooled-pixels", (28, 28), 1, batch_size=64)
    run_dir = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(variant_config("gan"), run_dir, data=data, steps=30,
              settings=RunSettings(sample_every=15, checkpoint_every=15, progress=False),
              extra_callbacks=[FIDCallback(15, extractor=ext, n=128), DiagnosticsCallback(15, n=32)])
    assert [int(r["step"]) for r in read_csv(run_dir / "fid.csv")] == [15, 30]
    assert [int(r["step"]) for r in read_csv(run_dir / "diversity.csv")] == [15, 30]
    report = json.loads((run_dir / "diagnostics.json").read_text())
    assert report["steps"] == 30 and report["verdict"] in ("healthy", "non-convergence")


def test_diagnostics_callback_records_class_coverage_with_a_classifier(tmp_path):
    """With a classifier the callback writes coverage.csv; a generator that drops to one image is
    caught by the class-coverage check even where pixel diversity alone would also be needed."""
    trainer = StandInTrainer(tmp_path, total_steps=400, collapse=True)
    (tmp_path / "losses.csv").write_text("step,d_loss_real,d_loss_fake,d_loss,g_loss\n" + "".join(
        f"{s},0.6,0.6,0.6,0.9\n" for s in range(1, 401)))
    inputs = keras.Input((8, 8, 1))
    logits = keras.layers.Dense(4, kernel_initializer=keras.initializers.RandomNormal(stddev=5.0, seed=1))(
        keras.layers.Flatten()(inputs))
    callback = DiagnosticsCallback(50, n=64, classifier_options={})
    callback.classifier = keras.Model(inputs, keras.layers.Softmax()(logits))  # stands in for the LeNet
    trainer.fit([callback], until=400)
    rows = read_csv(tmp_path / "coverage.csv")
    assert [int(r["step"]) for r in rows] == list(range(50, 401, 50))
    entropy = [float(r["label_entropy"]) for r in rows]
    assert max(entropy[:4]) > 0.5 and entropy[-1] == 0.0  # one repeated image: one class
    findings = json.loads((tmp_path / "diagnostics.json").read_text())["findings"]
    coverage = [f for f in findings if "class coverage" in f["evidence"]]
    assert coverage and coverage[0]["flagged"]
