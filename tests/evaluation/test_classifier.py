"""LeNet-5, its cache, the LeNet FID and the classifier inception score."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import gans  # noqa: F401  (registers custom objects)
from gans.errors import DataError
from gans.evaluation import classifier as clf
from gans.evaluation.classifier import build_lenet5, lenet_cache_path, lenet_extractor, random_shifts
from gans.evaluation.inception_score import (classifier_inception_score, conditional_accuracy,
                                             inception_score_from_probs)


def test_lenet5_shapes_and_save_load(tmp_path):
    model = build_lenet5()
    assert model.output_shape == (None, 10)
    assert model.get_layer(clf.FEATURE_LAYER).output.shape[-1] == 84
    x = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype(np.float32)
    path = tmp_path / "lenet.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-6)
    ext = lenet_extractor(loaded, name="lenet5:test")
    assert ext.dim == 84 and ext(x).shape == (3, 84)
    assert ext(np.repeat(((x + 1) * 127.5).round().astype(np.uint8), 3, -1)).shape == (3, 84)  # RGB to gray


def test_random_shifts_moves_content_within_bounds():
    rng = np.random.default_rng(1)
    images = np.zeros((200, 9, 9, 1), np.float32) - 1
    images[:, 4, 4] = 1.0  # one bright pixel in the centre
    shifted = random_shifts(images, 2, rng)
    assert shifted.shape == images.shape
    rows, cols = np.nonzero(shifted[..., 0] > 0)[1:]
    assert set(rows) == set(range(2, 7)) and set(cols) == set(range(2, 7))  # every shift in [-2, 2] used
    assert (shifted == -1).sum() == images.size - 200  # zero fill uses the background value
    assert random_shifts(images, 0, rng) is images


def test_lenet_cache_path_is_per_source_and_in_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANS_CACHE_DIR", str(tmp_path))
    path = lenet_cache_path("mnist-10000-abc", seed=0, epochs=20)
    assert path.parent == tmp_path / "classifiers" and path.suffix == ".keras"
    assert lenet_cache_path("mnist-10000-abc", seed=0, epochs=20) == path
    assert len({path, lenet_cache_path("mnist-60000-def"), lenet_cache_path("mnist-10000-abc", seed=1),
                lenet_cache_path("mnist-10000-abc", epochs=5)}) == 4


def test_load_or_train_lenet_trains_once_then_uses_cache(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    # Two separable classes: dark and bright images.
    x = np.concatenate([rng.integers(0, 60, (64, 28, 28, 1)), rng.integers(190, 256, (64, 28, 28, 1))]).astype(np.uint8)
    y = np.repeat([0, 1], 64)
    data = {"x_train": x, "y_train": y, "x_test": x[::4], "y_test": y[::4], "protocol": "toy"}
    monkeypatch.setattr(clf, "mnist_training_protocol", lambda *a, **k: data)
    monkeypatch.setenv("GANS_CACHE_DIR", str(tmp_path))
    model, info = clf.load_or_train_lenet(epochs=3, progress=False)
    assert info["test_accuracy"] >= 0.9 and info["protocol"] == "toy"
    assert info["n_train"] == 128 and model.output_shape == (None, 2)
    built = []
    monkeypatch.setattr(clf, "build_lenet5", lambda *a, **k: built.append(1))
    again, info2 = clf.load_or_train_lenet(epochs=3, progress=False)
    assert not built and info2 == info  # from the cache, with the same record
    np.testing.assert_allclose(again.predict_on_batch(x[:4] / 127.5 - 1), model.predict_on_batch(x[:4] / 127.5 - 1),
                               rtol=1e-6)


def test_inception_score_bounds():
    k = 10
    confident_even = np.eye(k)[np.arange(1000) % k]
    assert inception_score_from_probs(confident_even, splits=10) == pytest.approx((10.0, 0.0))
    one_class = np.eye(k)[np.zeros(500, int)]
    assert inception_score_from_probs(one_class, splits=5)[0] == pytest.approx(1.0)
    uniform = np.full((500, k), 1 / k)
    assert inception_score_from_probs(uniform, splits=1)[0] == pytest.approx(1.0)
    soft = 0.5 * confident_even[:500] + 0.5 * uniform
    assert 1.0 < inception_score_from_probs(soft, splits=1)[0] < 10.0
    with pytest.raises(DataError):
        inception_score_from_probs(np.ones((20, 3)), splits=1)


def test_classifier_score_and_conditional_accuracy():
    # A "classifier" that reads the label from the mean brightness: class = round(mean * 4.5 + 4.5).
    inputs = keras.Input((4, 4, 1))
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    centres = np.linspace(-1, 1, 10)[None, :]
    logits = keras.layers.Dense(10, kernel_initializer=keras.initializers.Constant(2000 * centres),
                                bias_initializer=keras.initializers.Constant(-1000 * centres[0] ** 2))(x)
    model = keras.Model(inputs, keras.layers.Softmax()(logits))
    labels = np.arange(100) % 10
    images = np.broadcast_to(np.linspace(-1, 1, 10)[labels][:, None, None, None], (100, 4, 4, 1)).astype(np.float32)
    assert conditional_accuracy(images, labels, model) == 1.0
    assert conditional_accuracy(images, (labels + 1) % 10, model) == 0.0
    score, _ = classifier_inception_score(images, model, splits=1)
    assert score == pytest.approx(10.0, rel=1e-3)


@pytest.mark.slow
def test_lenet_accuracy_and_lenet_fid_on_real_mnist(shared_data, tmp_path, monkeypatch):
    """>= 98.5% on held-out real MNIST test images; LeNet FID: halves small, noise far larger."""
    from gans.datasets.mnist import load_mnist
    from gans.evaluation.fid import fid_from_arrays

    monkeypatch.setenv("GANS_CACHE_DIR", str(tmp_path))
    mnist = shared_data / "mnist"
    if not (mnist / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("MNIST test set not in ../shared/data/mnist")
    model, info = clf.load_or_train_lenet(mnist, allow_download=False, progress=False)
    print(info)
    assert info["test_accuracy"] >= 0.985
    assert info["n_test"] >= 5000
    test = load_mnist(mnist, split="test")
    # The held-out images were never trained on: check disjointness by content.
    data = clf.mnist_training_protocol(mnist, allow_download=False)
    train_hashes = set(clf._image_hashes(data["x_train"]))
    assert not train_hashes & set(clf._image_hashes(data["x_test"]))

    ext = lenet_extractor(model, name="lenet5:test")
    order = np.random.default_rng(0).permutation(len(test))
    half_a, half_b = test.images[order[:5000]], test.images[order[5000:]]
    noise = np.random.default_rng(1).integers(0, 256, half_b.shape, dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        halves = fid_from_arrays(half_a, half_b, extractor=ext, progress=False).fid
        vs_noise = fid_from_arrays(half_a, noise, extractor=ext, progress=False).fid
    print(f"LeNet FID halves {halves:.4f}, vs noise {vs_noise:.2f}")
    assert halves < 1.0
    assert vs_noise > 100 * halves
