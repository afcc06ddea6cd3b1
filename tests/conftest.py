"""Shared fixtures: where the real test data lives when a developer or CI has it, tiny digits, a LeNet
stand-in. The shared functions (runners, tiny configurations, image factories) are in helpers.py."""

from pathlib import Path

import pytest

from helpers import stand_in_lenet

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real MNIST, CelebA, UTKFace, photos); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mnist_dir(shared_data) -> Path:
    """The real MNIST test set (IDX .gz) from ``../shared/data/mnist``."""
    path = shared_data / "mnist"
    if not (path / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST not found in {path}")
    return path


@pytest.fixture(scope="session")
def digits_npz(tmp_path_factory) -> Path:
    """A tiny MNIST-layout .npz (x_train/y_train) of blurred blobs, so training tests need no data."""
    import numpy as np

    rng = np.random.default_rng(0)
    n = 96
    yy, xx = np.mgrid[:28, :28]
    centres = rng.uniform(8, 20, size=(n, 2))
    images = np.exp(-((yy[None] - centres[:, :1, None]) ** 2 + (xx[None] - centres[:, 1:, None]) ** 2) / 18.0)
    images = (images * 255).astype(np.uint8)
    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    np.savez(path, x_train=images, y_train=rng.integers(0, 10, n))
    return path


@pytest.fixture
def tiny_lenet(monkeypatch):
    """Runs that would load (or train) the cached MNIST LeNet get an untrained stand-in instead."""
    return stand_in_lenet(monkeypatch)
