"""Shared fixtures: where the real test data lives when a developer or CI has it, tiny digits, a LeNet
stand-in, ``gans`` in this process, the seed 004 studies' block digits and the attribute GAN's classifier
and CelebA-layout folder. The shared functions (runners, tiny configurations, image factories) are in
helpers.py."""

import signal
from pathlib import Path

import pytest

from helpers import block_digits, block_generator, celeba_folder as write_celeba_folder, save_attribute_classifier
from helpers import stand_in_lenet

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_configure(config):
    """The Ctrl-C tests need Ctrl-C to reach ``gans``. A shell that starts pytest in the background
    (``nohup pytest &``, some CI runners) starts it with SIGINT ignored, every process it starts
    inherits that, and ``gans train`` rightly leaves an ignored signal ignored; so the tests' processes
    take Ctrl-C as an interactive shell's would (each worker runs this; children inherit the default)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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


@pytest.fixture(scope="module")
def block_checkpoint(tmp_path_factory):
    """The block digits' conditional generator, saved as a run's checkpoint."""
    from gans.training.callbacks import save_h5

    path = tmp_path_factory.mktemp("ckpt") / "generator_step_000100.h5"
    save_h5(block_generator(), path)
    return path


@pytest.fixture(scope="module")
def block_npz(tmp_path_factory):
    """An MNIST-layout .npz with one split (x_test, y_test) of 30 block digits per class."""
    import numpy as np

    images, labels = block_digits(30)
    path = tmp_path_factory.mktemp("data") / "blocks.npz"
    np.savez(path, x_test=images[..., 0], y_test=labels)
    return path


@pytest.fixture
def gans_cli(capsys):
    """``gans ARGS`` through the command's entry point: (status, stdout, stderr lines)."""
    from gans.cli import main

    def run(*args):
        capsys.readouterr()
        status = main([str(a) for a in args])
        captured = capsys.readouterr()
        return status, captured.out, [line for line in captured.err.splitlines() if line.strip()]

    return run


@pytest.fixture(scope="module")
def classifier_h5(tmp_path_factory) -> Path:
    """An untrained, narrow attribute classifier for 24x20 faces, saved as a run would save it."""
    return save_attribute_classifier(tmp_path_factory.mktemp("classifier") / "classifier.h5")


@pytest.fixture(scope="module")
def celeba_folder(tmp_path_factory) -> Path:
    """A CelebA-layout folder: 40 JPEG faces 44x36 and list_attr_celeba.txt with the official names."""
    return write_celeba_folder(tmp_path_factory.mktemp("celeba"), seed=1)
