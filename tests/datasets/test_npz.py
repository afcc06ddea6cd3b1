"""The .npz image loader, its checks, [-1, 1] scaling and resizing a set."""

from __future__ import annotations

import numpy as np
import pytest

from gans.datasets.npz import load_images, load_scaled, resize_images, save_images
from gans.datasets.scaling import scale_images
from gans.errors import ConfigError, DataError, DataNotFoundError


def _images(n=5, size=16, channels=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, channels), dtype=np.uint8)


def test_round_trip_keeps_pixels_and_companion_arrays(tmp_path):
    images = _images()
    path = save_images(tmp_path / "set.npz", images, filenames=np.array([f"{i}.jpg" for i in range(5)]),
                       confidences=np.linspace(0.9, 1, 5, dtype=np.float32), other=np.arange(3))
    data = load_images(path)
    assert np.array_equal(data.images, images) and data.images.dtype == np.uint8
    assert data.meta["filenames"].tolist()[0] == "0.jpg" and "confidences" in data.meta
    assert "other" not in data.meta  # not one row per image
    np.save(tmp_path / "bare.npy", images)
    assert np.array_equal(load_images(tmp_path / "bare.npy").images, images)


def test_grayscale_without_channel_axis_gets_one(tmp_path):
    np.savez(tmp_path / "gray.npz", images=_images(channels=1)[..., 0])
    assert load_images(tmp_path / "gray.npz").images.shape == (5, 16, 16, 1)


@pytest.mark.parametrize(
    "arrays, key, match",
    [
        (dict(images=_images().astype(np.float32) + 300), "images", "floats from 300"),
        (dict(images=_images().astype(np.float32) * np.nan), "images", "NaN or infinite"),
        (dict(images=_images().astype(np.int32) * 300), "images", "outside 0-255"),
        (dict(images=np.zeros((28, 28, 3), np.uint8)), "images", "ambiguous|one 28x28 image"),
        (dict(images=_images(channels=4)), "images", "C = 1 or 3"),
        (dict(images=np.zeros((4, 4), np.uint8)), "images", "shape"),
        (dict(images=np.zeros((0, 8, 8, 3), np.uint8)), "images", "no images"),
        (dict(pictures=_images()), "images", "no 'images' array"),
        (dict(images=np.array([{"a": 1}], dtype=object)), "images", "object arrays"),
    ],
)
def test_bad_arrays_are_clear_errors(tmp_path, arrays, key, match):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=match):
        load_images(tmp_path / "bad.npz", key)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="crop-faces"):
        load_images(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="cannot read"):
        load_images(tmp_path / "junk.npz")
    with pytest.raises(DataError):
        save_images(tmp_path / "x.npz", _images().astype(np.float32))


def test_load_scaled_uses_the_shared_scaling(tmp_path):
    images = _images()
    path = save_images(tmp_path / "set.npz", images)
    scaled = load_scaled(path)
    assert scaled.dtype == np.float32 and np.array_equal(scaled, scale_images(images))
    assert scaled.min() >= -1 and scaled.max() <= 1
    assert load_scaled(path, size=8).shape == (5, 8, 8, 3)


def test_resize_by_whole_factors_is_exact_block_mean():
    images = _images(n=3, size=8)
    half = resize_images(images, 4)
    expected = images.astype(np.float64).reshape(3, 4, 2, 4, 2, 3).mean(axis=(2, 4))
    assert half.dtype == np.uint8 and np.array_equal(half, np.rint(expected).astype(np.uint8))
    assert resize_images(images, 8) is images or np.array_equal(resize_images(images, 8), images)
    flat = np.full((2, 16, 16, 3), 77, np.uint8)
    for size in (1, 4, 12, 20):  # whole factors, then TensorFlow's area and bicubic paths
        out = resize_images(flat, size)
        assert out.shape == (2, size, size, 3) and np.all(out == 77)


def test_resize_float_sets_stays_in_tanh_range():
    scaled = scale_images(_images(n=2, size=12))
    out = resize_images(scaled, 30)
    assert out.dtype == np.float32 and out.shape == (2, 30, 30, 3) and out.min() >= -1 and out.max() <= 1
    with pytest.raises(ConfigError):
        resize_images(scaled, 0)
