"""The MTCNN crop-to-.npz pipeline: crops, skips, resumption, bounded memory, and the CLI.

Most tests use a tiny stand-in detector that finds a bright square on a dark image, so the
pipeline's own logic runs in milliseconds; the tests marked with real MTCNN use a handful of photos
from ../shared/data.
"""

from __future__ import annotations

import hashlib
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.faces  # every test here needs OpenCV (the faces extra)
cv2 = pytest.importorskip("cv2")

from gans.datasets import face_chunks, faces  # noqa: E402
from gans.datasets.faces import CropOptions, choose_face, crop_faces, read_manifest, square_crop_box  # noqa: E402
from gans.datasets.npz import load_images  # noqa: E402
from gans.errors import ConfigError, DataError, DataNotFoundError  # noqa: E402


class BrightSquareDetector:
    """Finds the bounding box of near-white pixels; counts its calls and can fail after some."""

    def __init__(self, fail_after_calls: int | None = None):
        self.calls = 0
        self.batch_sizes = []
        self.shapes = []
        self.fail_after_calls = fail_after_calls

    def detect_faces(self, images, **kwargs):
        if self.fail_after_calls is not None and self.calls >= self.fail_after_calls:
            raise KeyboardInterrupt  # what Ctrl-C looks like in the middle of a run
        self.calls += 1
        self.batch_sizes.append(len(images))
        results = []
        for image in images:
            self.shapes.append(image.shape)
            ys, xs = np.nonzero(image.min(axis=-1) > 200)
            if len(xs) == 0:
                results.append([])
                continue
            box = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
            results.append([{"box": box, "confidence": 0.99, "keypoints": {}}])
        return results


def _write(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if rgb.ndim == 3:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR if rgb.shape[-1] == 3 else cv2.COLOR_RGBA2BGRA)
    image = rgb
    assert cv2.imwrite(str(path), image)
    return path


def _face_image(height: int, width: int, box, seed: int) -> np.ndarray:
    """A dark noisy image with a white square 'face' (x, y, side) that carries a colour tint."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 120, size=(height, width, 3), dtype=np.uint8)
    x, y, side = box
    image[y : y + side, x : x + side] = (255, 230 - seed % 20, 210)
    return image


def _bad_inputs(folder: Path, jpeg_source: Path) -> None:
    (folder / "notes.jpg").write_text("this is a text file with an image suffix\n")
    raw = jpeg_source.read_bytes()
    (folder / "truncated.jpg").write_bytes(raw[: len(raw) // 3])
    (folder / "readme.txt").write_text("not an image at all")
    (folder / "empty.png").write_bytes(b"")
    _write(folder / "flat_gray.png", np.full((80, 80, 3), 128, np.uint8))


@pytest.fixture
def synthetic_folder(tmp_path) -> Path:
    """Eleven synthetic faces of several sizes plus every kind of bad input."""
    folder = tmp_path / "photos"
    for i in range(8):
        _write(folder / f"face_{i:02d}.jpg", _face_image(96, 128, (20 + 4 * i, 10 + 2 * i, 40 + 3 * i), i))
    # Grayscale and RGBA must be converted, not skipped.
    gray = cv2.cvtColor(_face_image(100, 100, (30, 30, 40), 8), cv2.COLOR_RGB2GRAY)
    _write(folder / "sub" / "gray_face.png", gray)
    rgba = np.dstack([_face_image(90, 70, (10, 20, 45), 9), np.full((90, 70), 255, np.uint8)])
    _write(folder / "sub" / "rgba_face.png", rgba)
    # A large photo is shrunk for detection; its box must come back in source pixels.
    _write(folder / "large.png", _face_image(900, 1500, (1000, 500, 300), 10))
    _bad_inputs(folder, folder / "face_00.jpg")
    (folder / ".hidden.jpg").write_text("ignored")
    return folder


# ------------------------------------------------------------------------------------------------
# Geometry and face choice


@pytest.mark.parametrize(
    "box, shape, margin, expected",
    [
        ((10, 20, 30, 40), (100, 100), 0.0, (5, 20, 40)),  # taller than wide: widen to 40
        ((10, 20, 30, 40), (100, 100), 0.25, (0, 10, 60)),  # margin 0.25 of 40 on each side
        ((-20, -10, 50, 40), (100, 100), 0.0, (0, 0, 30)),  # clamped to the image first
        ((80, 80, 50, 50), (100, 100), 0.0, (80, 80, 20)),  # clamped at the far corner
        ((0, 0, 300, 300), (100, 200), 0.0, (50, 0, 100)),  # bigger than the image: short side
        ((200, 200, 10, 10), (100, 100), 0.0, None),  # entirely outside
    ],
)
def test_square_crop_box_is_clamped_square_and_inside(box, shape, margin, expected):
    region = square_crop_box(box, shape, margin)
    assert region == expected
    if region is not None:
        left, top, side = region
        assert left >= 0 and top >= 0 and left + side <= shape[1] and top + side <= shape[0]


def test_choose_face_by_confidence_or_by_size():
    small_sure = {"box": [0, 0, 30, 30], "confidence": 0.999}
    big_less_sure = {"box": [50, 50, 80, 90], "confidence": 0.95}
    faint = {"box": [0, 0, 200, 200], "confidence": 0.5}
    detected = [small_sure, big_less_sure, faint]
    assert choose_face(detected, CropOptions(select="confidence"))[0] is small_sure
    assert choose_face(detected, CropOptions(select="largest"))[0] is big_less_sure  # faint is below 0.9
    assert choose_face(detected, CropOptions(select="confidence", min_face_size=40))[0] is big_less_sure


@pytest.mark.parametrize(
    "detected, options, reason",
    [
        ([], CropOptions(), "no_face"),
        ([{"box": [0, 0, 50, 50], "confidence": 0.85}], CropOptions(min_confidence=0.9), "low_confidence"),
        ([{"box": [0, 0, 15, 50], "confidence": 0.99}], CropOptions(min_face_size=20), "face_too_small"),
        ([{"box": [0, 0, 50, 50], "confidence": 0.99}, {"box": [60, 0, 40, 40], "confidence": 0.97}],
         CropOptions(select="only"), "several_faces"),
    ],
)
def test_choose_face_reports_why_nothing_was_chosen(detected, options, reason):
    face, got, detail = choose_face(detected, options)
    assert face is None and got == reason and detail


def test_bad_options_are_config_errors():
    for bad in (dict(size=0), dict(margin=-0.1), dict(min_confidence=1.5), dict(select="first"), dict(max_side=10)):
        with pytest.raises(ConfigError):
            CropOptions(**bad)


# ------------------------------------------------------------------------------------------------
# Reading files


def test_read_rgb_converts_gray_and_rgba_and_names_bad_files(synthetic_folder):
    gray, reason, _ = faces.read_rgb(synthetic_folder / "sub" / "gray_face.png")
    assert reason == "" and gray.shape == (100, 100, 3) and gray.dtype == np.uint8
    assert np.array_equal(gray[..., 0], gray[..., 2])
    rgba, reason, _ = faces.read_rgb(synthetic_folder / "sub" / "rgba_face.png")
    assert reason == "" and rgba.shape == (90, 70, 3)
    colour, _, _ = faces.read_rgb(synthetic_folder / "face_00.jpg")
    assert colour[30, 40, 0] > colour[30, 40, 2]  # RGB order, not OpenCV's BGR: the tint is red-ish
    for name, expected in [("notes.jpg", "unreadable"), ("truncated.jpg", "unreadable"),
                           ("empty.png", "unreadable"), ("readme.txt", "not_image")]:
        image, reason, detail = faces.read_rgb(synthetic_folder / name)
        assert image is None and reason == expected and detail, name


def test_list_image_files_is_sorted_recursive_and_rejects_empty(tmp_path, synthetic_folder):
    names = faces.list_image_files(synthetic_folder)
    assert names == sorted(names) and "sub/gray_face.png" in names and ".hidden.jpg" not in names
    assert faces.list_image_files(synthetic_folder, limit=3) == names[:3]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty"):
        faces.list_image_files(tmp_path / "empty")
    with pytest.raises(DataNotFoundError):
        faces.list_image_files(tmp_path / "missing")


# ------------------------------------------------------------------------------------------------
# The pipeline with a stand-in detector


def test_crop_faces_writes_crops_and_manifest(tmp_path, synthetic_folder):
    out = tmp_path / "faces.npz"
    detector = BrightSquareDetector()
    summary = crop_faces(synthetic_folder, out, 24, detector=detector, progress=False, max_side=512)

    with np.load(out, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    assert arrays["images"].dtype == np.uint8 and arrays["images"].shape == (11, 24, 24, 3)
    names = arrays["filenames"].tolist()
    assert names == sorted(names) and "sub/gray_face.png" in names and "sub/rgba_face.png" in names
    assert arrays["boxes"].shape == (11, 4) and arrays["confidences"].dtype == np.float32
    # Each crop is the white square, nearly edge to edge (no margin): its centre is bright.
    assert (arrays["images"][:, 8:16, 8:16].min(axis=-1) > 180).all()
    # The large photo was shrunk for detection, yet its box is in source pixels.
    large = names.index("large.png")
    assert max(shape[1] for shape in detector.shapes) <= 512
    np.testing.assert_allclose(arrays["boxes"][large], [1000, 500, 300, 300], atol=4)
    # Same-shape images share detector calls.
    assert max(detector.batch_sizes) == 8

    skipped = {row["filename"]: row["reason"] for row in read_manifest(summary.manifest)}
    assert skipped == {"empty.png": "unreadable", "flat_gray.png": "no_face", "notes.jpg": "unreadable",
                       "readme.txt": "not_image", "truncated.jpg": "unreadable"}
    assert summary.kept == 11 and summary.total == 16
    assert summary.skipped == {"not_image": 1, "unreadable": 3, "no_face": 1}
    assert not faces.parts_dir(out).exists()  # the work folder is removed once the file is complete
    # What the trainer reads: the same crops, with their file names alongside.
    loaded = load_images(out)
    assert np.array_equal(loaded.images, arrays["images"]) and loaded.meta["filenames"].tolist() == names


def test_margin_and_min_face_size_change_the_result(tmp_path, synthetic_folder):
    tight = crop_faces(synthetic_folder, tmp_path / "tight.npz", 24, detector=BrightSquareDetector(), progress=False)
    wide = crop_faces(synthetic_folder, tmp_path / "wide.npz", 24, margin=0.3, min_face_size=45,
                      detector=BrightSquareDetector(), progress=False)
    with np.load(tight.output) as a, np.load(wide.output) as b:
        i, j = list(a["filenames"]).index("face_07.jpg"), list(b["filenames"]).index("face_07.jpg")
        assert b["crop_boxes"][j][2] > a["crop_boxes"][i][2]  # the margin widened the square
    too_small = {r["filename"] for r in read_manifest(wide.manifest) if r["reason"] == "face_too_small"}
    assert too_small == {"face_00.jpg", "face_01.jpg", "sub/gray_face.png"}  # 40, 43, 40 pixels < 45


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def test_interrupted_run_resumes_to_the_same_file(tmp_path, synthetic_folder):
    settings = dict(size=24, detector=None, progress=False, batch_size=2, chunk_size=3)
    full = crop_faces(synthetic_folder, tmp_path / "full.npz", **{**settings, "detector": BrightSquareDetector()})

    out = tmp_path / "resumed.npz"
    with pytest.raises(KeyboardInterrupt):
        crop_faces(synthetic_folder, out, **{**settings, "detector": BrightSquareDetector(fail_after_calls=4)})
    assert not out.exists()
    finished_chunks = sorted(faces.parts_dir(out).glob("chunk_*.npz"))
    assert 0 < len(finished_chunks) < 6  # 16 files in chunks of 3

    second = BrightSquareDetector()
    resumed = crop_faces(synthetic_folder, out, **{**settings, "detector": second})
    assert resumed.resumed_files == 3 * len(finished_chunks)
    assert sum(second.batch_sizes) < sum(1 for n in faces.list_image_files(synthetic_folder))  # only the rest
    assert _sha1(out) == _sha1(full.output)  # byte for byte
    assert resumed.manifest.read_text() == full.manifest.read_text()
    assert resumed.skipped == full.skipped and resumed.kept == full.kept


def test_resume_with_other_options_is_refused_then_restarted(tmp_path, synthetic_folder):
    out = tmp_path / "faces.npz"
    with pytest.raises(KeyboardInterrupt):
        crop_faces(synthetic_folder, out, 24, chunk_size=2, detector=BrightSquareDetector(fail_after_calls=2),
                   progress=False)
    with pytest.raises(ConfigError, match="--restart"):
        crop_faces(synthetic_folder, out, 32, chunk_size=2, detector=BrightSquareDetector(), progress=False)
    summary = crop_faces(synthetic_folder, out, 32, chunk_size=2, restart=True, detector=BrightSquareDetector(),
                         progress=False)
    assert summary.resumed_files == 0
    with np.load(out) as data:
        assert data["images"].shape[1:] == (32, 32, 3)
    with pytest.raises(ConfigError, match="already exists"):
        crop_faces(synthetic_folder, out, 32, detector=BrightSquareDetector(), progress=False)


def _assembly_peak(folder: Path, n_chunks: int, per_chunk: int = 40, size: int = 64) -> tuple[int, np.ndarray]:
    parts = folder / "parts"
    parts.mkdir(parents=True)
    rng = np.random.default_rng(n_chunks)
    for k in range(n_chunks):
        result = face_chunks.ChunkResult()
        for i in range(per_chunk):
            result.images.append(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
            result.filenames.append(f"{k:03d}_{i:03d}.jpg")
            result.boxes.append([i, i, 10, 10])
            result.crop_boxes.append([i, i, 10, 10])
            result.confidences.append(0.95)
        result.skips.append((f"{k:03d}_zz.jpg", "no_face", "none"))
        face_chunks.save_chunk(parts / face_chunks.chunk_name(k), result, size)
    expected = np.concatenate([np.load(p)["images"] for p in sorted(parts.glob("chunk_*.npz"))])
    tracemalloc.start()
    n, counts = face_chunks.assemble(parts, n_chunks, folder / "all.npz", folder / "all.csv", size)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert n == n_chunks * per_chunk and counts == {"no_face": n_chunks}
    with np.load(folder / "all.npz", allow_pickle=False) as data:
        np.testing.assert_array_equal(data["images"], expected)
    return peak, expected


def test_assembly_memory_does_not_grow_with_the_number_of_crops(tmp_path):
    """The final write streams one chunk at a time: 4x the crops, about the same peak."""
    small_peak, small = _assembly_peak(tmp_path / "small", n_chunks=4)
    large_peak, large = _assembly_peak(tmp_path / "large", n_chunks=16)
    assert large_peak < 1.3 * small_peak, (small_peak, large_peak)
    assert large_peak < large.nbytes / 2  # far below even one copy of all crops


def test_cli_crop_faces_prints_summary_and_one_line_errors(tmp_path, synthetic_folder, monkeypatch, capsys):
    from gans.cli import main

    monkeypatch.setattr(faces, "build_detector", lambda device="CPU:0": BrightSquareDetector())
    out = tmp_path / "cli.npz"
    assert main(["crop-faces", str(synthetic_folder), str(out), "--size", "16", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "kept 11 of 16" in printed and "unreadable: 3" in printed and str(out) in printed
    assert "faces.skipped.csv" not in printed and "cli.skipped.csv" in printed

    (tmp_path / "empty").mkdir()
    assert main(["crop-faces", str(tmp_path / "empty"), str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert "empty" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


class TwoFaceDetector(BrightSquareDetector):
    """Beside each bright square (scored 0.99) a smaller box in the corner scored higher (0.999), so
    ``--select confidence`` and ``--select largest`` choose different faces."""

    SMALL = [0, 0, 24, 24]

    def detect_faces(self, images, **kwargs):
        found = super().detect_faces(images, **kwargs)
        return [faces + [{"box": list(self.SMALL), "confidence": 0.999, "keypoints": {}}] if faces else faces
                for faces in found]


def test_cli_crop_faces_options_reach_the_pipeline(tmp_path, synthetic_folder, monkeypatch, capsys):
    """--limit, --select, --margin and --restart as a user passes them to `gans crop-faces`."""
    from gans.cli import main

    detectors = {"next": TwoFaceDetector}
    monkeypatch.setattr(faces, "build_detector", lambda device="CPU:0": detectors["next"]())

    def crop(name, *options):
        out = tmp_path / f"{name}.npz"
        status = main(["crop-faces", str(synthetic_folder), str(out), "--size", "16", "--no-progress", *options])
        printed = capsys.readouterr()
        arrays = {}
        if out.exists():
            with np.load(out, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        return status, printed, arrays

    every_file = faces.list_image_files(synthetic_folder)
    assert len(every_file) == 16
    status, printed, limited = crop("limited", "--limit", "5")
    assert status == 0 and "kept 4 of 5 images" in printed.out  # the first five names: empty.png, face_00-03
    assert limited["filenames"].tolist() == every_file[1:5]

    status, _, confident = crop("confident")
    status_largest, _, largest = crop("largest", "--select", "largest")
    assert status == status_largest == 0 and len(confident["boxes"]) == len(largest["boxes"]) == 11
    corner = [box[:2].tolist() == [0, 0] for box in confident["boxes"]]  # (scaled to source pixels on large.png)
    assert all(corner) and not any(box[:2].tolist() == [0, 0] for box in largest["boxes"])

    status, _, margin = crop("margin", "--select", "largest", "--margin", "0.3")
    assert status == 0 and (margin["crop_boxes"][:, 2] > largest["crop_boxes"][:, 2]).any()
    assert (margin["crop_boxes"][:, 2] >= largest["crop_boxes"][:, 2]).all()

    detectors["next"] = lambda: TwoFaceDetector(fail_after_calls=2)
    status, printed, _ = crop("restarted", "--chunk-size", "2", "--batch-size", "2")
    assert status == 130 and faces.parts_dir(tmp_path / "restarted.npz").is_dir()
    detectors["next"] = TwoFaceDetector
    status, printed, _ = crop("restarted", "--chunk-size", "2", "--batch-size", "2", "--select", "largest")
    assert status == 2 and "--restart" in printed.err and "Traceback" not in printed.err
    status, printed, restarted = crop("restarted", "--chunk-size", "2", "--batch-size", "2", "--select", "largest",
                                      "--restart")
    assert status == 0 and "resumed" not in printed.out
    np.testing.assert_array_equal(restarted["boxes"], largest["boxes"])


def test_importing_faces_does_not_import_tensorflow_or_mtcnn():
    import subprocess

    # The package itself loads Keras (it registers custom layers), and Keras may load OpenCV; the
    # face modules must add nothing heavy of their own.
    code = (
        "import sys; heavy = ('tensorflow', 'mtcnn', 'cv2'); import gans; before = [m in sys.modules for m in heavy]; "
        "import gans.datasets.faces, gans.datasets.commands; "
        "print(*[(m in sys.modules) and not b for m, b in zip(heavy, before)])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "False"]


# ------------------------------------------------------------------------------------------------
# Real MTCNN on real photos


@pytest.fixture(scope="module")
def mtcnn_detector():
    pytest.importorskip("mtcnn")
    return faces.build_detector()


@pytest.fixture
def photo_folder(tmp_path, shared_data) -> Path:
    """A few real photos (one couple, one group selfie, two portraits) plus bad inputs."""
    folder = tmp_path / "real"
    folder.mkdir()
    for name in ("couple.jpg", "selfie-many-people.jpg", "img20.jpg", "200426.jpg"):
        (folder / name).write_bytes((shared_data / "photos" / name).read_bytes())
    _bad_inputs(folder, folder / "img20.jpg")
    return folder


def test_mtcnn_crops_real_photos_and_lists_bad_inputs(tmp_path, photo_folder, mtcnn_detector):
    summary = crop_faces(photo_folder, tmp_path / "real.npz", 40, detector=mtcnn_detector, progress=False)
    with np.load(summary.output, allow_pickle=False) as data:
        names, boxes = data["filenames"].tolist(), data["boxes"]
        assert data["images"].shape == (4, 40, 40, 3) and data["images"].dtype == np.uint8
        assert (data["confidences"] >= 0.9).all()
    assert names == ["200426.jpg", "couple.jpg", "img20.jpg", "selfie-many-people.jpg"]
    # couple.jpg (2280 wide): the man on the right is the most confident face.
    assert boxes[names.index("couple.jpg")][0] > 1000
    # selfie-many-people.jpg: one face of several, the most confident one, in the upper middle.
    x, y, w, h = boxes[names.index("selfie-many-people.jpg")]
    assert 300 < x < 400 and y < 200
    reasons = {r["filename"]: r["reason"] for r in read_manifest(summary.manifest)}
    assert reasons == {"empty.png": "unreadable", "flat_gray.png": "no_face", "notes.jpg": "unreadable",
                       "readme.txt": "not_image", "truncated.jpg": "unreadable"}


def test_mtcnn_largest_rule_and_size_threshold(tmp_path, photo_folder, mtcnn_detector):
    summary = crop_faces(photo_folder, tmp_path / "big.npz", 40, select="largest", min_face_size=150,
                         detector=mtcnn_detector, progress=False)
    with np.load(summary.output) as data:
        kept = dict(zip(data["filenames"].tolist(), data["boxes"].tolist()))
    reasons = {r["filename"]: r["reason"] for r in read_manifest(summary.manifest)}
    # The portraits' faces are under 150 pixels: listed, not crashed on.
    assert reasons["200426.jpg"] == "face_too_small" and reasons["selfie-many-people.jpg"] == "face_too_small"
    w, h = kept["couple.jpg"][2:]
    assert min(w, h) >= 150


def test_mtcnn_interrupted_and_resumed_equals_full_run(tmp_path, shared_data, mtcnn_detector):
    folder = tmp_path / "celeba"
    folder.mkdir()
    for i in range(1, 9):
        name = f"{i:06d}.jpg"
        (folder / name).write_bytes((shared_data / "celeba" / "img_align_celeba_half" / name).read_bytes())
    settings = dict(size=32, progress=False, batch_size=2, chunk_size=3)
    full = crop_faces(folder, tmp_path / "full.npz", detector=mtcnn_detector, **settings)

    class Interrupting:
        calls = 0

        def detect_faces(self, images, **kwargs):
            if self.calls == 2:
                raise KeyboardInterrupt
            self.calls += 1
            return mtcnn_detector.detect_faces(images, **kwargs)

    out = tmp_path / "resumed.npz"
    with pytest.raises(KeyboardInterrupt):
        crop_faces(folder, out, detector=Interrupting(), **settings)
    resumed = crop_faces(folder, out, detector=mtcnn_detector, **settings)
    assert resumed.resumed_files == 3 and full.kept >= 7
    assert _sha1(out) == _sha1(full.output)


@pytest.mark.slow
def test_mtcnn_on_every_shared_photo(tmp_path, shared_data, mtcnn_detector):
    photos = shared_data / "photos"
    summary = crop_faces(photos, tmp_path / "photos.npz", 40, detector=mtcnn_detector, progress=False)
    total = len(faces.list_image_files(photos))
    assert summary.kept >= total - 3  # nearly every photo has a clear face
    assert summary.kept + len(read_manifest(summary.manifest)) == total
    with np.load(summary.output) as data:
        assert data["images"].shape == (summary.kept, 40, 40, 3)


def test_one_face_per_photo_where_a_command_renders_given_faces(tmp_path):
    """age-progress and generate-from-faces read given faces through read_face_photos: a 1x1 image, a
    3x3000 strip, a 40x3000 panorama, an unreadable file and a missing one each get one clear error; with --crop a photo of
    two people is refused (select "only"), one face is kept."""
    from gans.datasets.faces import read_face_photos
    from gans.errors import DataError, DataNotFoundError

    for name, shape in (("dot.png", (1, 1, 3)), ("strip.png", (3, 3000, 3)), ("wide.png", (40, 3000, 3)),
                        ("ok.png", (60, 50, 3))):
        cv2.imwrite(str(tmp_path / name), np.full(shape, 120, np.uint8))
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(DataError, match=r"1x1 pixels, too small to hold a face"):
        read_face_photos([tmp_path / "dot.png"], (32, 32))
    with pytest.raises(DataError, match=r"3x3000 pixels, too small to hold a face"):
        read_face_photos([tmp_path / "strip.png"], (32, 32))
    with pytest.raises(DataError, match=r"40x3000 pixels, not face-shaped.*--crop"):
        read_face_photos([tmp_path / "wide.png"], (32, 32))
    with pytest.raises(DataError, match="cannot be read as an image"):
        read_face_photos([tmp_path / "text.png"], (32, 32))
    with pytest.raises(DataNotFoundError, match="does not exist"):
        read_face_photos([tmp_path / "none.png"], (32, 32))
    faces = read_face_photos([tmp_path / "ok.png", tmp_path / "ok.png"], (24, 20))
    assert faces.shape == (2, 24, 20, 3) and faces.dtype == np.uint8

    class TwoPeople:
        def detect_faces(self, images, **kwargs):
            return [[{"box": [10, 10, 40, 40], "confidence": 0.99}, {"box": [70, 10, 40, 40], "confidence": 0.98}]
                    for _ in images]

    class OnePerson:
        def detect_faces(self, images, **kwargs):
            return [[{"box": [10, 10, 40, 40], "confidence": 0.99}] for _ in images]

    cv2.imwrite(str(tmp_path / "photo.png"), np.full((120, 120, 3), 90, np.uint8))
    with pytest.raises(DataError, match="2 faces found; this needs a photo of one person"):
        read_face_photos([tmp_path / "photo.png"], (32, 32), crop=True, detector=TwoPeople())
    assert read_face_photos([tmp_path / "photo.png"], (32, 32), crop=True, detector=OnePerson()).shape == (1, 32, 32, 3)
