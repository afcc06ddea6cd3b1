"""The checks behind the hostile-input fixes, one function at a time (fast, in process).

The real-process view of the same cases is tests/cli/test_hostile.py and tools/hostile.py.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gans.cli import main
from gans.datasets.scaling import PIXEL_RULE, as_uint8_images, scale_images
from gans.errors import ConfigError, DataError, RunFolderInUse
from gans.io import LOCK_FILE, folder_lock, read_json, read_npz

DIGITS = (np.arange(5 * 28 * 28).reshape(5, 28, 28) % 256).astype(np.uint8)


# ---------------------------------------------------------------------------------------------- pixels
@pytest.mark.parametrize("array", [
    DIGITS,
    DIGITS.astype(np.float32) / 255,             # [0, 1]: was cast to zeros by astype(uint8)
    DIGITS.astype(np.float64) / 127.5 - 1,       # a generator's [-1, 1]
    DIGITS.astype(np.float32),                   # [0, 255] as floats
    DIGITS.astype(np.uint16) * 257,              # 16-bit pixels
    DIGITS.astype(np.int64),                     # integers within 0-255
], ids=["uint8", "float01", "tanh", "float255", "uint16", "int64"])
def test_every_pixel_convention_gives_the_same_uint8_images(array):
    images = as_uint8_images(array, "x")
    assert images.dtype == np.uint8 and images.shape == (5, 28, 28, 1)
    np.testing.assert_array_equal(images[..., 0], DIGITS)


@pytest.mark.parametrize("array, message", [
    (DIGITS.astype(np.int64) * 4, "outside 0-255"),              # used to wrap around silently
    (DIGITS.astype(np.int16) - 1, "outside 0-255"),
    (DIGITS.astype(np.uint16), "8-bit pixels stored as 16-bit"),
    (DIGITS > 100, "not pixels"),
    (np.where(DIGITS == 7, np.nan, DIGITS / 255), "NaN or infinite"),
    (np.where(DIGITS == 7, np.inf, DIGITS / 255), "NaN or infinite"),
    (DIGITS.astype(np.float32) * 2, "floats from 0 to 510"),
    (DIGITS.astype(str), "not pixels"),
    (np.zeros((28, 28, 3), np.uint8), "one 28x28 image with 3 channels"),  # was 28 images of 28x3
    (np.zeros((28, 28, 1), np.uint8), "one 28x28 image with 1 channels"),
    (np.zeros((4, 28, 28, 2), np.uint8), "C = 1 or 3"),
    (np.zeros((28, 28), np.uint8), "expected \\(N, H, W, C\\)"),
    (np.zeros((0, 28, 28), np.uint8), "holds no images"),
])
def test_what_is_not_images_is_refused_with_the_rule(array, message):
    with pytest.raises(DataError, match=message):
        as_uint8_images(array, "src.npz:x")


def test_the_rule_names_every_accepted_convention():
    for words in ("uint8", "uint16", "257", "[0, 1]", "[-1, 1]", "[0, 255]", "finite"):
        assert words in PIXEL_RULE


def test_scale_images_refuses_non_finite_pixels_as_a_data_error():
    with pytest.raises(DataError, match="NaN or infinite"):
        scale_images(np.array([[0.0, np.nan]], np.float32))  # nanmin/nanmax used to let it through
    with pytest.raises(ValueError):  # DataError is still a ValueError for callers that catch that
        scale_images(np.array([2.0], np.float32))


# ---------------------------------------------------------------------------------------------- files
def _damaged(tmp_path: Path, how: str) -> Path:
    path = tmp_path / f"{how}.npz"
    np.savez_compressed(path, images=DIGITS)
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "corrupt":
        path.write_bytes(data[:200] + bytes(100) + data[300:])
    elif how == "text":
        path.write_text("hello\n" * 30)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "objects":
        np.savez(path, images=np.array([{"a": 1}], dtype=object))
    return path


@pytest.mark.parametrize("how, message", [
    ("truncated", "not a complete .npz archive"), ("corrupt", "is damaged"), ("text", "not a NumPy"),
    ("empty", "empty file"), ("objects", "object arrays"),
])
def test_read_npz_turns_every_damaged_file_into_one_data_error(tmp_path, how, message):
    path = _damaged(tmp_path, how)
    with pytest.raises(DataError, match=message) as caught:
        read_npz(path, what="an .npz of images", fix="Recreate it.")
    assert str(path) in str(caught.value) and str(caught.value).endswith("Recreate it.")


def test_read_json_names_the_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"steps": ')
    with pytest.raises(DataError, match="config.json as a run's config"):
        read_json(path, "a run's config.json")


def test_sixteen_bit_pngs_are_scaled_not_clipped(tmp_path):
    from gans.evaluation.sources import load_image_folder

    for depth, folder in ((8, tmp_path / "png8"), (16, tmp_path / "png16")):
        folder.mkdir()
        for i, image in enumerate(DIGITS):
            Image.fromarray(image if depth == 8 else image.astype(np.uint16) * 257).save(folder / f"{i}.png")
    np.testing.assert_array_equal(load_image_folder(tmp_path / "png16"), load_image_folder(tmp_path / "png8"))


def test_a_truncated_png_is_named(tmp_path):
    from gans.evaluation.sources import load_image_folder

    for i, image in enumerate(DIGITS):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
    data = (tmp_path / "3.png").read_bytes()
    (tmp_path / "3.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="3.png"):
        load_image_folder(tmp_path)


def test_an_image_folder_larger_than_the_open_file_limit_loads(tmp_path):
    """Each file is closed once read: 400 files under a limit of 128 open files (a process of its own)."""
    for i in range(400):
        Image.fromarray(DIGITS[i % 5]).save(tmp_path / f"{i:03d}.png")
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (128, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))\n"
            "from gans.evaluation.sources import load_image_folder\n"
            f"print(load_image_folder(r'{tmp_path}').shape, 'keras' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "(400, 28, 28, 1) False"


def test_an_mnist_npz_of_floats_in_0_1_is_scaled_not_zeroed(tmp_path):
    from gans.datasets.mnist import load_mnist

    np.savez(tmp_path / "mnist.npz", x_train=DIGITS.astype(np.float32) / 255, y_train=np.arange(5))
    np.testing.assert_array_equal(load_mnist(tmp_path / "mnist.npz").images[..., 0], DIGITS)


@pytest.mark.faces
def test_a_huge_photo_is_skipped_from_its_header_before_decoding(tmp_path):
    pytest.importorskip("cv2")
    from gans.datasets.image_files import header_size, read_rgb

    Image.new("L", (2000, 1500)).save(tmp_path / "big.png")
    assert header_size(tmp_path / "big.png") == (2000, 1500)
    image, reason, detail = read_rgb(tmp_path / "big.png", max_pixels=1_000_000)
    assert image is None and reason == "too_large" and "2000x1500 = 3.0 megapixels" in detail
    assert read_rgb(tmp_path / "big.png", max_pixels=5_000_000)[0].shape == (1500, 2000, 3)


# ---------------------------------------------------------------------------------------------- run folders
def test_a_locked_folder_names_the_holder_and_a_stale_lock_is_taken_over(tmp_path, caplog):
    run = tmp_path / "run"
    with folder_lock(run):
        holder = json.loads((run / LOCK_FILE).read_text())
        assert holder["pid"] == os.getpid()
        with pytest.raises(RunFolderInUse, match=f"in use by process {os.getpid()}"):
            with folder_lock(run):
                pass
    assert not run.exists()  # a folder the lock created, and nothing else wrote into, is removed again
    run.mkdir()
    (run / LOCK_FILE).write_text(json.dumps({"pid": 999999, "command": "gans train (killed)"}))
    with caplog.at_level(logging.WARNING), folder_lock(run):
        assert "left locked by process 999999" in caplog.text and "no longer running" in caplog.text
    assert run.is_dir() and not (run / LOCK_FILE).exists()


def test_a_file_is_not_a_run_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        with folder_lock(tmp_path / "file"):
            pass


def _record(**run):
    base = {"steps": 20, "batch_size": 32, "optimizer": {"name": "adam", "learning_rate": 2e-4},
            "run": {"epochs": None, "data_source": "D.npz [train]", "data_sha1": "aaa", "seed": 0,
                    "batch_mode": "random", "resumed": False, "versions": {"keras": "3"}}}
    base["run"].update(run)
    return base


def test_a_resume_names_every_field_it_would_change():
    from gans.training.run import check_resume

    current = _record(seed=1, data_source="E.npz [train]", data_sha1="bbb", resumed=True, versions={"keras": "4"})
    current["optimizer"]["learning_rate"] = 0.01
    with pytest.raises(ConfigError) as caught:
        check_resume(Path("R"), _record(), current, saved_step=20)
    message = str(caught.value)
    for change in ("optimizer.learning_rate was 0.0002, now 0.01", "run.seed was 0, now 1",
                   'run.data_source was "D.npz [train]", now "E.npz [train]"'):
        assert change in message
    assert "resumed" not in message and "versions" not in message


def test_a_resume_may_extend_the_steps_and_move_the_same_data_but_not_shorten_the_run():
    from gans.training.run import check_resume

    longer = _record(data_source="copy/D.npz [train]", resumed=True)
    longer["steps"] = 40
    check_resume(Path("R"), _record(), longer, saved_step=20)  # same images (same SHA-1) elsewhere: fine
    shorter = _record()
    shorter["steps"] = 10
    with pytest.raises(ConfigError, match="can only extend a run"):
        check_resume(Path("R"), _record(), shorter, saved_step=20)


def test_a_diverged_run_is_diagnosed_as_diverged_until_a_resume_gets_past_the_step(tmp_path):
    from gans.evaluation.diagnostics import DIVERGENCE_FILE, diagnose_run

    rows = ["step,d_loss,g_loss"] + [f"{s},0.6,0.8" for s in range(1, 41)]
    (tmp_path / "losses.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "diversity.csv").write_text("step,diversity,real_diversity,ratio\n20,1.0,1.0,1\n40,nan,1.0,nan\n")
    (tmp_path / DIVERGENCE_FILE).write_text(json.dumps({"step": 41, "message": "training diverged at step 41"}))
    diagnosis = diagnose_run(tmp_path)
    assert diagnosis.verdict == "diverged" and diagnosis.began_at_step == 41 and not diagnosis.healthy
    collapse = next(f for f in diagnosis.findings if f.check == "mode_collapse")
    assert collapse.flagged  # a NaN diversity ratio no longer passes
    (tmp_path / "losses.csv").write_text("\n".join(rows + ["41,0.6,0.8"]) + "\n")
    assert not any(f.check == "divergence" for f in diagnose_run(tmp_path).findings)


def test_a_run_that_diverged_at_its_first_step_still_gets_a_diagnosis(tmp_path):
    from gans.evaluation.diagnostics import DIVERGENCE_FILE, write_diagnosis

    (tmp_path / "losses.csv").write_text("step,d_loss,g_loss\n")
    (tmp_path / DIVERGENCE_FILE).write_text(json.dumps({"step": 1, "message": "training diverged at step 1"}))
    assert write_diagnosis(tmp_path).verdict == "diverged"
    assert (tmp_path / "diagnostics.png").exists()


def test_the_state_is_checked_entry_by_entry_before_a_resume(tmp_path):
    from gans.training.run import saved_state_step

    state = tmp_path / "state" / "state.npz"
    state.parent.mkdir()
    np.savez_compressed(state, meta=np.array(json.dumps({"step": 7})), w=np.arange(10000.0))
    assert saved_state_step(tmp_path) == 7
    with zipfile.ZipFile(state) as archive:
        offset = archive.getinfo("w.npy").header_offset + 200
    data = bytearray(state.read_bytes())
    data[offset:offset + 50] = bytes(50)
    state.write_bytes(bytes(data))
    with pytest.raises(DataError, match="is damaged"):
        saved_state_step(tmp_path)


# ---------------------------------------------------------------------------------------------- the command
def test_report_lists_a_malformed_fid_log_instead_of_skipping_it_silently(tmp_path, capsys):
    for run, fid in (("good", "40.5"), ("bad", "forty")):
        (tmp_path / run).mkdir()
        (tmp_path / run / "config.json").write_text(json.dumps({"experiment": 3, "dataset": "mnist"}))
        (tmp_path / run / "fid.csv").write_text(f"step,fid,extractor\n10,{fid},lenet\n")
    assert main(["report", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "Skipped: 1 run folder" in captured.out and "bad/fid.csv line 2 is malformed" in captured.out
    assert "gans report: warning: skipped" in captured.err
    assert "Skipped: 1 run folder" in (tmp_path / "fid_report.md").read_text()


@pytest.mark.parametrize("args, message", [
    (["train", "--epochs", "0"], "argument --epochs: must be >= 1, got 0"),
    (["train", "--lr", "inf"], "argument --lr: learning rate must be > 0 and finite, got 'inf'"),
    (["train", "--fid-n", "1"], "argument --fid-n: must be >= 2, got 1"),
    (["fid", "a.npz", "--n", "x"], "argument --n: expected a whole number, got 'x'"),
])
def test_argument_errors_are_one_line_and_return_2(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"gans {args[0]}: error: {message}")


def test_sample_refuses_outputs_it_would_spoil_before_loading_anything(tmp_path):
    from gans.sampling import check_output

    (tmp_path / "grid.png").write_bytes(b"keep me")
    (tmp_path / "file").write_text("x")
    for path, message in ((tmp_path / "grid.jpg", "must end in .png"), (tmp_path / "grid.png", "already exists"),
                          (tmp_path / "file" / "g.png", "is a file, not a folder")):
        with pytest.raises(ConfigError, match=message):
            check_output(str(path), ".png", "--out", overwrite=False)
    assert check_output(str(tmp_path / "new" / "g.png"), ".png", "--out", False).parent.is_dir()
    assert (tmp_path / "grid.png").read_bytes() == b"keep me"
