"""The five example scripts (examples/, one per paper), each run at ``--smoke`` in a fresh process on
tiny data made here: each finishes, and what it writes is what its docstring promises.

The five runs start once for the module, two at a time (the thesis example trains the LeNet-5 that
the CCGAN's run then finds in the shared cache), and each test reads one of them.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT, celeba_folder, child_env, read_csv, smooth_faces


def _faces_npz(path: Path, n: int = 40, side: int = 32, **labels) -> Path:
    """Smooth random colour images (4x4 blocks plus noise) in an .npz, with optional label arrays."""
    np.savez(path, images=smooth_faces(n, side, seed=3), **labels)
    return path


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory, digits_npz):
    """name -> (exit status, stdout, stderr, run folder) of each example at --smoke."""
    base = tmp_path_factory.mktemp("examples")
    rng = np.random.default_rng(5)
    data = {
        "thesis_experiments": digits_npz,
        "progressive_gan": _faces_npz(base / "faces.npz", side=16),
        "caae_age_progression": _faces_npz(base / "utk.npz", age=rng.integers(1, 90, 40),
                                           gender=rng.integers(0, 2, 40)),
        "mnist_ccgan": digits_npz,
    }
    try:
        data["attribute_faces"] = celeba_folder(base / "celeba")
    except pytest.skip.Exception:  # no OpenCV to write the JPEGs: only that example is skipped
        pass
    # The worktree's gans (not an installed copy), a LeNet cache of its own, no GUI backend.
    env = child_env({"GANS_CACHE_DIR": str(base / "cache"), "MPLBACKEND": "Agg"})

    def run(name):
        out = base / name
        done = subprocess.run([sys.executable, str(ROOT / "examples" / f"{name}.py"), "--smoke", "--data",
                               str(data[name]), "--out", str(out)], capture_output=True, text=True, env=env,
                              cwd=base, timeout=600)
        return name, (done.returncode, done.stdout, done.stderr, out)

    with ThreadPoolExecutor(max_workers=2) as pool:  # in this order the CCGAN usually finds the LeNet cached
        return dict(pool.map(run, data))


def finished(smoke_runs, name) -> tuple[str, Path]:
    if name not in smoke_runs:
        pytest.skip("OpenCV (the faces extra) is needed to write the CelebA JPEGs")
    code, out, err, run_dir = smoke_runs[name]
    assert code == 0, f"{name} exited {code}:\n{err[-3000:]}"
    assert "Traceback" not in err
    return out, run_dir


def png_shape(path: Path) -> tuple[int, ...]:
    import matplotlib.image

    return matplotlib.image.imread(path).shape


def grid_side(n: int, side: int, scale: int = 4) -> int:
    """Pixels of n images of ``side`` in a row of a saved grid (1-pixel gaps, enlarged ``scale`` times)."""
    return (n * (side + 1) + 1) * scale


def test_the_thesis_example_trains_samples_and_measures_a_lenet_fid(smoke_runs):
    printed, run = finished(smoke_runs, "thesis_experiments")
    record = json.loads((run / "config.json").read_text())
    assert record["experiment"] == 3 and record["steps"] == 20
    fid = json.loads((run / "example_fid.json").read_text())
    assert fid["checkpoint"] == "generator_step_000020.h5" and (run / "checkpoints" / fid["checkpoint"]).is_file()
    assert fid["extractor"].startswith("lenet5:") and fid["n_generated"] == fid["n_real"] == 96
    assert math.isfinite(fid["fid"]) and fid["fid"] > 0
    assert png_shape(run / "example_grid.png")[:2] == (grid_side(5, 28),) * 2
    assert f"FID {fid['fid']:.2f} ({fid['extractor']}" in printed


def test_the_ccgan_example_draws_a_row_per_digit_and_reports_the_agreement(smoke_runs):
    printed, run = finished(smoke_runs, "mnist_ccgan")
    assert json.loads((run / "config.json").read_text())["experiment"] == "ccgan-mnist"
    rows = read_csv(run / "conditional.csv")
    assert [int(r["step"]) for r in rows] == [10, 20]
    for row in rows:
        assert 0.0 <= float(row["agreement"]) <= 1.0
        assert f"step {row['step']:>6}: LeNet reads the asked digit in {float(row['agreement']):.1%}" in printed
    confusion = read_csv(run / "confusion_matrix.csv")
    assert len(confusion) == 10 and all(sum(int(v) for k, v in r.items() if k != "asked") == 100 for r in confusion)
    assert png_shape(run / "digits_by_row.png")[:2] == (grid_side(10, 28),) * 2


def test_the_caae_example_trains_by_epoch_and_renders_an_age_strip(smoke_runs):
    printed, run = finished(smoke_runs, "caae_age_progression")
    record = json.loads((run / "caae.json").read_text())
    assert (record["train_faces"], record["validation_faces"], record["image_size"]) == (36, 4, 16)
    assert [int(r["epoch"]) for r in read_csv(run / "epochs.csv")] == [1, 2]
    assert all(math.isfinite(float(r["valid"])) for r in read_csv(run / "epochs.csv"))
    assert {p.name for p in (run / "checkpoints").glob("*_step_000008.h5")} == {"encoder_step_000008.h5",
                                                                              "generator_step_000008.h5"}
    height, width = png_shape(run / "age_strip.png")[:2]
    assert width > 4 * height  # the input and ten age groups side by side, in two rows
    assert "8 steps (2 epochs of 36 faces, 4 held out)" in printed


def test_the_progressive_example_grows_samples_every_resolution_and_exports_tflite(smoke_runs):
    printed, run = finished(smoke_runs, "progressive_gan")
    phases = read_csv(run / "phases.csv")
    assert [(int(p["resolution"]), p["kind"]) for p in phases] == [(4, "stable"), (8, "fade"), (8, "stable")]
    assert png_shape(run / "growth.png")[:2] == (grid_side(2, 8), grid_side(8, 8))
    assert (run / "generator_8x8.tflite").stat().st_size > 1000
    found = re.search(r"z -> \(8, 8, 3\) in \[0, 255\], largest difference from Keras ([0-9.]+) of 255", printed)
    assert found and float(found.group(1)) < 1.0


@pytest.mark.faces  # the CelebA folder's JPEGs are written with OpenCV
def test_the_attribute_example_trains_the_classifier_the_gan_and_makes_a_face(smoke_runs):
    printed, run = finished(smoke_runs, "attribute_faces")
    classifier = json.loads((run / "classifier" / "classifier.json").read_text())
    assert classifier["n_train"] + classifier["n_dev"] == 40 and classifier["image_shape"] == [16, 16, 3]
    recorded = json.loads((run / "gan" / "config.json").read_text())
    assert recorded["step_options"]["classifier"] == str((run / "classifier" / "classifier.h5").resolve())
    assert recorded["image_shape"] == [24, 20, 3] and recorded["steps"] == 4
    assert [int(r["step"]) for r in read_csv(run / "gan" / "attributes.csv")] == [2, 4]
    assert png_shape(run / "new_face.png")[:2] == (grid_side(1, 24), grid_side(3, 20))
    found = re.search(r"the classifier reads (\d+)% of the 40 attributes", printed)
    assert found and 0 <= int(found.group(1)) <= 100
