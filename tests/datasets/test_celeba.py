"""CelebA: the official attribute format with its quirks, alignment by file name, selection."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytestmark = pytest.mark.faces  # every test here needs OpenCV (the faces extra)
cv2 = pytest.importorskip("cv2")

from gans.datasets.celeba import (  # noqa: E402
    attribute_mask, attributes_for_crops, load_celeba, read_attributes, select_attributes,
)
from gans.errors import ConfigError, DataError, DataNotFoundError  # noqa: E402

NAMES = [f"Attr_{i:02d}" for i in range(38)] + ["Male", "Smiling"]


def _attr_file(path, rows, declared=None, newline="\r\n", final_newline=False):
    lines = [str(len(rows) if declared is None else declared), " ".join(NAMES) + " "]
    lines += [f"{name} " + " ".join(f"{v:2d}" for v in values) for name, values in rows]
    path.write_bytes((newline.join(lines) + (newline if final_newline else "")).encode())
    return path


@pytest.fixture
def tiny_celeba(tmp_path):
    """Six 30x20 images; the attribute file lists eight (two images are missing) and says 9."""
    images = tmp_path / "img"
    images.mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(1, 9):
        values = -np.ones(40, int)
        values[38] = 1 if i % 2 else -1  # Male on odd rows
        values[39] = 1 if i % 3 == 0 else -1  # Smiling on 3 and 6
        rows.append((f"{i:06d}.jpg", values))
        if i <= 6:
            cv2.imwrite(str(images / f"{i:06d}.jpg"), rng.integers(0, 255, (30, 20, 3), dtype=np.uint8))
    _attr_file(tmp_path / "list_attr_celeba.txt", rows, declared=9)
    return images


def test_read_attributes_tolerates_crlf_and_count_mismatch(tiny_celeba, caplog):
    with caplog.at_level(logging.WARNING):
        attrs = read_attributes(tiny_celeba.parent / "list_attr_celeba.txt")
    assert "count line says 9" in caplog.text and "8 rows" in caplog.text
    assert attrs.names == NAMES and attrs.declared_count == 9 and len(attrs.filenames) == 8
    assert attrs.values.dtype == np.uint8 and set(np.unique(attrs.values)) == {0, 1}
    assert attrs.values[:, 38].tolist() == [1, 0, 1, 0, 1, 0, 1, 0]


def test_read_attributes_rejects_malformed_rows(tmp_path):
    bad = [("000001.jpg", [1] * 39)]
    with pytest.raises(DataError, match="39 values"):
        read_attributes(_attr_file(tmp_path / "a.txt", bad))
    bad = [("000001.jpg", [1] * 39 + [0])]
    with pytest.raises(DataError, match="-1 and 1"):
        read_attributes(_attr_file(tmp_path / "b.txt", bad, newline="\n", final_newline=True))
    with pytest.raises(DataNotFoundError):
        read_attributes(tmp_path / "none.txt")


def test_load_aligns_by_name_and_selects(tiny_celeba):
    data = load_celeba(tiny_celeba)
    assert data.images.shape == (6, 30, 20, 3) and data.labels.shape == (6, 40)
    assert data.meta["filenames"] == [f"{i:06d}.jpg" for i in range(1, 7)]
    assert data.meta["report"]["rows_without_image"] == 2 and not data.meta["report"]["count_line_matches"]
    # Row i's pixels are the file i's pixels.
    raw = cv2.cvtColor(cv2.imread(str(tiny_celeba / "000004.jpg")), cv2.COLOR_BGR2RGB)
    assert np.array_equal(data.images[3], raw)
    smiling_women = select_attributes(data, Smiling=1, Male=0)
    assert smiling_women.meta["filenames"] == ["000006.jpg"]
    assert load_celeba(tiny_celeba, select={"Male": 1}).meta["filenames"] == ["000001.jpg", "000003.jpg", "000005.jpg"]
    cropped = load_celeba(tiny_celeba, center_crop=20, size=8, limit=2)
    assert cropped.images.shape == (2, 8, 8, 3)


def test_selection_errors_name_the_fix(tiny_celeba):
    data = load_celeba(tiny_celeba)
    with pytest.raises(ConfigError, match="Smiling"):
        attribute_mask(data.labels, NAMES, Smilng=1)
    with pytest.raises(ConfigError):
        attribute_mask(data.labels, NAMES, Smiling=2)
    with pytest.raises(DataError, match="loosen"):
        load_celeba(tiny_celeba, select={"Male": 1, "Smiling": 1, "Attr_00": 1})
    with pytest.raises(DataNotFoundError):
        load_celeba(tiny_celeba.parent / "missing")


def test_attributes_for_crops(tiny_celeba):
    values, names = attributes_for_crops(["000003.jpg", "sub/000002.jpg"], tiny_celeba.parent / "list_attr_celeba.txt")
    assert names == NAMES and values[:, 38].tolist() == [1, 0]
    with pytest.raises(DataError):
        attributes_for_crops(["999999.jpg"], tiny_celeba.parent / "list_attr_celeba.txt")


def test_shared_half_size_set_aligns_with_the_first_rows(shared_data, caplog):
    folder = shared_data / "celeba" / "img_align_celeba_half"
    with caplog.at_level(logging.WARNING):
        data = load_celeba(folder)
    assert "202599" in caplog.text  # the count mismatch is reported, not fatal
    attrs = read_attributes(shared_data / "celeba" / "list_attr_celeba.txt")
    assert data.images.shape == (10000, 109, 89, 3)
    assert data.meta["filenames"] == attrs.filenames[:10000]
    assert np.array_equal(data.labels, attrs.values[:10000])
    full = load_celeba(shared_data / "celeba" / "img_align_celeba", center_crop=178, size=64)
    assert full.images.shape == (32, 64, 64, 3)
    assert np.array_equal(full.labels, attrs.values[:32])


def test_the_standard_celeba_root_is_accepted_and_a_file_is_named_as_one(tiny_celeba, tmp_path):
    # issue 24: the root with img_align_celeba/ and list_attr_celeba.txt inside (torchvision's CelebA
    # takes it) was refused; train-classifier --data faces.npz said the folder does not exist
    import shutil

    from gans.datasets.celeba import load_celeba
    from gans.errors import DataError

    root = tmp_path / "celeba_root"
    shutil.copytree(tiny_celeba, root / "img_align_celeba")
    shutil.copy(tmp_path / "list_attr_celeba.txt", root / "list_attr_celeba.txt")
    assert len(load_celeba(root)) == len(load_celeba(tiny_celeba)) == 6
    (tmp_path / "faces.npz").write_bytes(b"")
    with pytest.raises(DataError, match="faces.npz is a file; CelebA is read from its image folder"):
        load_celeba(tmp_path / "faces.npz")
