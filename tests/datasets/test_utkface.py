"""UTKFace: names parsed, broken names skipped, duplicates removed before the split, CAAE labels."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.faces  # every test here needs OpenCV (the faces extra)
cv2 = pytest.importorskip("cv2")

from gans.datasets import utkface  # noqa: E402
from gans.datasets.utkface import (  # noqa: E402
    AGE_GROUPS, age_group, index_utkface, load_utkface, one_hot_pm1, parse_utkface_name, split_indices,
)
from gans.errors import ConfigError, DataError, DataNotFoundError  # noqa: E402


@pytest.mark.parametrize(
    "name, expected",
    [
        ("26_1_2_20170116174525125.jpg.chip.jpg", (26, 1, 2)),
        ("1_0_0_20161219140623097.jpg", (1, 0, 0)),
        ("116_1_4_20170120134921760.jpg.chip.jpg", (116, 1, 4)),
        ("61_1_20170109142408075.jpg.chip.jpg", None),  # race missing (in the real copy)
        ("26_2_0_20170116174525125.jpg.chip.jpg", None),  # gender must be 0 or 1
        ("26_1_5_20170116174525125.jpg.chip.jpg", None),  # race must be 0-4
        ("x_1_0_20170116174525125.jpg", None),
        ("26_1_0_20170116174525125.png", None),
        ("200_1_0_20170116174525125.jpg", None),  # beyond the documented ages
    ],
)
def test_parse_names(name, expected):
    record = parse_utkface_name(name)
    assert (None if record is None else (record.age, record.gender, record.race)) == expected


def test_caae_age_groups_and_pm1_one_hot():
    ages = [0, 5, 6, 10, 11, 15, 16, 20, 21, 30, 31, 40, 41, 50, 51, 60, 61, 70, 71, 116]
    assert age_group(ages).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]
    assert len(AGE_GROUPS) == 10
    onehot = one_hot_pm1([0, 9, 3], 10)
    assert onehot.dtype == np.float32 and set(np.unique(onehot)) == {-1.0, 1.0}
    assert (onehot == 1).sum(axis=1).tolist() == [1, 1, 1] and onehot[1, 9] == 1 and onehot[2, 3] == 1


def test_split_is_seeded_disjoint_and_complete():
    train, val = split_indices(100, 0.2, seed=3)
    again, _ = split_indices(100, 0.2, seed=3)
    other, _ = split_indices(100, 0.2, seed=4)
    assert len(val) == 20 and not set(train) & set(val) and len(set(train) | set(val)) == 100
    assert np.array_equal(train, again) and not np.array_equal(train, other)
    with pytest.raises(ConfigError):
        split_indices(10, 1.0)


@pytest.fixture
def tiny_utkface(tmp_path):
    """Ten distinct faces, one bad name, one agreeing duplicate pair and one disagreeing pair."""
    folder = tmp_path / "utk"
    folder.mkdir()
    rng = np.random.default_rng(0)

    def write(name, pixels):
        cv2.imwrite(str(folder / name), pixels)

    for i in range(10):
        write(f"{3 + 8 * i}_{i % 2}_{i % 5}_2017010{i}000000000.jpg.chip.jpg",
              rng.integers(0, 255, (50, 50, 3), dtype=np.uint8))
    write("61_1_20170109142408075.jpg.chip.jpg", rng.integers(0, 255, (50, 50, 3), dtype=np.uint8))
    same = rng.integers(0, 255, (50, 50, 3), dtype=np.uint8)
    write("30_0_1_20170111000000000.jpg.chip.jpg", same)
    write("30_0_1_20170112000000000.jpg.chip.jpg", same)  # same labels: keep one
    clash = rng.integers(0, 255, (50, 50, 3), dtype=np.uint8)
    write("25_1_0_20170113000000000.jpg.chip.jpg", clash)
    write("8_0_0_20170114000000000.jpg.chip.jpg", clash)  # same pixels, other age and gender
    return folder


def test_index_skips_bad_names_and_removes_duplicates(tiny_utkface):
    index = index_utkface(tiny_utkface)
    report = index.report()
    assert report["files"] == 15 and report["skipped_names"] == 1
    assert report["duplicate_groups"] == 2 and report["duplicate_extra_files"] == 2
    assert report["disagreeing_groups"] == 1 and report["disagreeing_age_or_gender"] == 1
    assert report["kept"] == 11 and report["removed"] == 3  # one copy, and both members of the clash
    names = [r.filename for r in index.records]
    assert "30_0_1_20170111000000000.jpg.chip.jpg" in names and "30_0_1_20170112000000000.jpg.chip.jpg" not in names
    assert not {"25_1_0_20170113000000000.jpg.chip.jpg", "8_0_0_20170114000000000.jpg.chip.jpg"} & set(names)
    kept_first = index_utkface(tiny_utkface, disagreeing="first")
    assert "25_1_0_20170113000000000.jpg.chip.jpg" in [r.filename for r in kept_first.records]
    assert sum(index.age_histogram().values()) == 11


def test_load_returns_caae_labels_and_a_clean_split(tiny_utkface):
    train = load_utkface(tiny_utkface, size=32, split="train", validation_fraction=0.3, seed=1)
    val = load_utkface(tiny_utkface, size=32, split="validation", validation_fraction=0.3, seed=1)
    assert train.images.shape == (8, 32, 32, 3) and val.images.shape == (3, 32, 32, 3)
    assert train.images.dtype == np.uint8
    assert not set(train.meta["filenames"]) & set(val.meta["filenames"])
    assert train.labels.shape == (8, 12) and set(np.unique(train.labels)) == {-1.0, 1.0}
    for row, age, gender in zip(train.labels, train.meta["age"], train.meta["gender"]):
        assert np.argmax(row[:10]) == age_group([age])[0] and np.argmax(row[10:]) == gender
    full = load_utkface(tiny_utkface, size=None)
    assert full.images.shape == (11, 50, 50, 3)


def test_missing_or_foreign_folders_are_clear_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="UTKFace"):
        index_utkface(tmp_path / "nowhere")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "cat.jpg").write_bytes(b"x")
    with pytest.raises(DataError, match="age_gender_race_datetime"):
        index_utkface(tmp_path / "other")
    with pytest.raises(ConfigError):
        index_utkface(tmp_path / "other", disagreeing="average")


def test_shared_crop_part1_figures(shared_data):
    folder = shared_data / "utkface" / "crop_part1"
    report = index_utkface(folder).report()
    assert report["files"] == 9780 and report["skipped_names"] == 2
    assert report["duplicate_groups"] == 99 and report["duplicate_extra_files"] == 105
    assert 70 <= report["disagreeing_groups"] <= 80
    assert report["kept"] == 9780 - 2 - report["removed"]
    assert sum(report["age_groups"].values()) == report["kept"]
    assert all(count > 0 for count in report["age_groups"].values())
    sample = load_utkface(folder, size=128, split="validation", limit=16)
    assert sample.images.shape == (16, 128, 128, 3) and sample.labels.shape == (16, 12)
    assert utkface.parse_utkface_name(sample.meta["filenames"][0]) is not None
