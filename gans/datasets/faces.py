"""Detect, crop and resize faces with MTCNN into one .npz: the data step before any face GAN.

The thesis trains on 40x40 MTCNN crops of CelebA; the progressive GAN paper saves its 256x256
MTCNN crops to one compressed .npz. :func:`crop_faces` is that step, made safe for large folders:

* the detector (MTCNN, Zhang et al. 2016, https://arxiv.org/abs/1604.02878) is built once and run
  on batches of same-shape images, after shrinking large photos so their longest side is at most
  ``max_side`` (boxes are mapped back, and crops are cut from the full-resolution image);
* images are decoded in a background thread while the detector runs;
* work is split into fixed chunks of the sorted file list; each finished chunk is written
  atomically to ``OUT.parts/``, so an interrupted run resumes where it stopped, and because a
  chunk's contents never depend on where a run started, a resumed run writes the same file as an
  uninterrupted one (byte for byte: the zip entries carry a fixed timestamp);
* the final .npz is streamed chunk by chunk into its zip entries, so peak memory holds one chunk of
  crops and one window of decoded photos, whatever the number of images;
* every file that gives no crop is listed in a CSV manifest (``filename,reason,detail``).

Output arrays: ``images`` uint8 (N, S, S, 3), ``filenames`` (paths relative to SRC, sorted),
``boxes`` int32 (N, 4) the detector's box ``x, y, w, h`` in source pixels (clamped to the image),
``crop_boxes`` int32 (N, 4) the square actually cropped, ``confidences`` float32 (N,).

mtcnn and OpenCV are the optional ``faces`` extra; they are imported only when needed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError, DataNotFoundError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".jp2", ".ppm", ".pgm"})
SELECT_RULES = ("confidence", "largest")
# Reasons a file gives no crop, in the order the checks run.
SKIP_REASONS = ("not_image", "unreadable", "no_face", "low_confidence", "face_too_small", "detector_error")
MANIFEST_FIELDS = ("filename", "reason", "detail")
# MTCNN's last stage (ONet) drops faces below this confidence unless told otherwise.
MTCNN_ONET_THRESHOLD = 0.8
# MTCNN's pyramid starts at 12-pixel windows; a smaller image cannot hold a detectable face.
MTCNN_MIN_INPUT = 12
# A fixed zip timestamp makes the .npz depend only on its arrays (resumed == uninterrupted, bytewise).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FACES_EXTRA_HINT = "Install the face extra: pip install 'gans[faces]' (mtcnn and opencv-python-headless)."


@dataclass(frozen=True)
class CropOptions:
    """What a crop run does to each image; a resumed run must use the same options.

    Attributes:
        size: side S of the square output crops, in pixels.
        margin: extra border on each side of the face, as a fraction of the face box's longer side
            (0.1 widens a 100-pixel face to a 120-pixel square before resizing).
        min_confidence: faces the detector is less sure of are ignored (MTCNN's score, 0-1).
        min_face_size: faces whose shorter box side is smaller, in source pixels, are ignored:
            they would be mostly blur once resized.
        select: which face of several to keep: "confidence" (the most confident) or "largest"
            (the largest box area).
        max_side: photos whose longest side exceeds this are shrunk for detection only.
    """

    size: int = 40
    margin: float = 0.0
    min_confidence: float = 0.9
    min_face_size: int = 20
    select: str = "confidence"
    max_side: int = 1024

    def __post_init__(self):
        if int(self.size) < 1:
            raise ConfigError(f"crop size must be a positive number of pixels, got {self.size}; try --size 40.")
        if not 0.0 <= float(self.margin) <= 2.0:
            raise ConfigError(f"margin must be a fraction between 0 and 2 of the face box, got {self.margin}; try 0.1.")
        if not 0.0 <= float(self.min_confidence) <= 1.0:
            raise ConfigError(f"min_confidence must be between 0 and 1, got {self.min_confidence}; try 0.9.")
        if int(self.min_face_size) < 0:
            raise ConfigError(f"min_face_size must be >= 0 pixels, got {self.min_face_size}.")
        if self.select not in SELECT_RULES:
            raise ConfigError(f"select must be one of {SELECT_RULES}, got {self.select!r}.")
        if int(self.max_side) < 2 * MTCNN_MIN_INPUT:
            raise ConfigError(f"max_side must be at least {2 * MTCNN_MIN_INPUT} pixels, got {self.max_side}; try 1024.")


@dataclass
class CropSummary:
    """What :func:`crop_faces` did.

    Attributes:
        output: the .npz written.
        manifest: the CSV listing every skipped file and why.
        total: files considered.
        kept: crops written.
        skipped: number of skipped files per reason.
        resumed_files: files whose results came from an earlier, interrupted run.
    """

    output: Path
    manifest: Path
    total: int
    kept: int
    skipped: dict = field(default_factory=dict)
    resumed_files: int = 0

    def lines(self) -> list[str]:
        """The summary as short human-readable lines (what ``gans crop-faces`` prints)."""
        skipped = sum(self.skipped.values())
        out = [f"kept {self.kept} of {self.total} images; skipped {skipped}"]
        out += [f"  {reason}: {count}" for reason, count in sorted(self.skipped.items()) if count]
        if self.resumed_files:
            out.append(f"resumed: {self.resumed_files} images came from an earlier interrupted run")
        out.append(f"output: {self.output}")
        out.append(f"manifest: {self.manifest}")
        return out


# ----------------------------------------------------------------------------------------------
# Optional dependencies


def _cv2():
    try:
        import cv2
    except ImportError as exc:
        raise ConfigError(f"face cropping needs OpenCV, which is not installed. {FACES_EXTRA_HINT}") from exc
    return cv2


def build_detector(device: str = "CPU:0"):
    """Build the MTCNN detector once (its three networks and weights load here).

    Args:
        device: TensorFlow device string, "CPU:0" or "GPU:0".

    Returns:
        An ``mtcnn.MTCNN`` whose ``detect_faces(list_of_rgb_uint8)`` returns one list of faces
        (dicts with "box" [x, y, w, h] and "confidence") per image.

    Raises:
        ConfigError: mtcnn is not installed.
    """
    try:
        from mtcnn import MTCNN
    except ImportError as exc:
        raise ConfigError(
            f"face detection needs the mtcnn package, which is not installed. {FACES_EXTRA_HINT}"
        ) from exc
    return MTCNN(device=device)


# ----------------------------------------------------------------------------------------------
# Files and images


def list_image_files(src: str | Path, limit: int | None = None) -> list[str]:
    """List the files under ``src`` (recursively), as sorted POSIX paths relative to ``src``.

    Hidden files and folders (names starting with ".") are left out. Files without an image suffix
    stay in the list so that the run reports them as ``not_image`` instead of silently ignoring them.

    Args:
        src: folder of photos.
        limit: keep only the first ``limit`` files of the sorted list.

    Returns:
        Relative file names in a deterministic order.

    Raises:
        DataNotFoundError: ``src`` does not exist or is not a folder.
        DataError: ``src`` holds no image files.
    """
    root = Path(src).expanduser()
    if not root.exists():
        raise DataNotFoundError(f"source folder {root} does not exist. Pass the folder that holds the photos.")
    if not root.is_dir():
        raise DataNotFoundError(f"{root} is a file; pass the folder that holds the photos, not one photo.")
    names = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and not d.endswith(".parts")]
        rel = Path(dirpath).relative_to(root)
        names.extend((rel / f).as_posix() for f in filenames if not f.startswith("."))
    names.sort()
    if not any(Path(n).suffix.lower() in IMAGE_SUFFIXES for n in names):
        what = "is empty" if not names else f"holds {len(names)} files but none with an image suffix"
        raise DataError(
            f"source folder {root} {what}. Pass a folder of photos "
            f"({', '.join(sorted(IMAGE_SUFFIXES))})."
        )
    if limit is not None:
        if int(limit) < 1:
            raise ConfigError(f"limit must be a positive number of images, got {limit}.")
        names = names[: int(limit)]
    return names


def read_rgb(path: str | Path) -> tuple[np.ndarray | None, str, str]:
    """Decode an image file to RGB uint8 (H, W, 3).

    OpenCV's ``IMREAD_COLOR`` already does the conversions a face set needs: grayscale becomes three
    equal channels, an alpha channel is dropped, 16-bit images become 8-bit, and the EXIF orientation
    of phone photos is applied (``IMREAD_UNCHANGED`` would ignore it and leave faces sideways).

    Args:
        path: the image file.

    Returns:
        ``(image, "", "")`` on success, or ``(None, reason, detail)`` with reason ``not_image`` or
        ``unreadable``.
    """
    cv2 = _cv2()
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return None, "not_image", f"suffix {path.suffix or '(none)'} is not an image type"
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        return None, "unreadable", f"cannot read file: {exc.strerror or exc}"
    if raw.size == 0:
        return None, "unreadable", "empty file"
    image = cv2.imdecode(raw, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        return None, "unreadable", "OpenCV cannot decode it (truncated, corrupt, or not an image)"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), "", ""


def read_images(
    paths,
    size: int | tuple[int, int] | None = None,
    center_crop: int | tuple[int, int] | None = None,
    workers: int = 2,
) -> np.ndarray:
    """Decode image files into one preallocated uint8 (N, H, W, 3) array (what the loaders share).

    Args:
        paths: image files, in the order the rows should have.
        size: output side (or (height, width)); ``None`` keeps the (cropped) size, which must
            then be the same for every file.
        center_crop: cut a centred square of this side (or a (height, width) box) before resizing,
            e.g. 178 on CelebA's 178x218 aligned faces.
        workers: decoding threads (OpenCV releases the GIL while decoding).

    Returns:
        uint8 RGB array, one row per path.

    Raises:
        DataError: a file cannot be decoded, a crop is larger than an image, or images differ in
            size while ``size`` is None.
    """
    paths = [Path(p) for p in paths]
    cv2 = _cv2()
    crop_hw = None if center_crop is None else _pair(center_crop, "center_crop")
    out_hw = None if size is None else _pair(size, "size")

    def load(path: Path) -> np.ndarray:
        image, reason, detail = read_rgb(path)
        if image is None:
            raise DataError(f"{path}: {reason} ({detail}). Replace the file or remove it from the folder.")
        if crop_hw is not None:
            height, width = image.shape[:2]
            if crop_hw[0] > height or crop_hw[1] > width:
                raise DataError(f"{path} is {width}x{height}, smaller than center_crop {crop_hw}; pass a smaller crop.")
            top, left = (height - crop_hw[0]) // 2, (width - crop_hw[1]) // 2
            image = image[top : top + crop_hw[0], left : left + crop_hw[1]]
        if out_hw is not None and image.shape[:2] != out_hw:
            shrinking = out_hw[0] * out_hw[1] < image.shape[0] * image.shape[1]
            image = cv2.resize(image, (out_hw[1], out_hw[0]),
                               interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
        return image

    if not paths:
        return np.zeros((0, *(out_hw or (0, 0)), 3), np.uint8)
    first = load(paths[0])
    images = np.empty((len(paths), *first.shape), np.uint8)  # filled in place: one copy of the set
    images[0] = first

    def fill(index: int) -> None:
        image = load(paths[index])
        if image.shape != first.shape:
            raise DataError(
                f"{paths[index]} is {image.shape[1]}x{image.shape[0]} but {paths[0]} is "
                f"{first.shape[1]}x{first.shape[0]}; pass size= to resize them all to one size."
            )
        images[index] = image

    with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
        for _ in pool.map(fill, range(1, len(paths))):
            pass
    return images


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or min(int(v) for v in pair) < 1:
        raise ConfigError(f"{name} must be a positive side or a (height, width) pair, got {value!r}.")
    return int(pair[0]), int(pair[1])


def clamp_box(box, image_shape) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` clamped to the image, as corners ``(x0, y0, x1, y1)``.

    MTCNN's boxes may reach past the border for faces cut by the frame.
    """
    height, width = float(image_shape[0]), float(image_shape[1])
    x, y, w, h = (float(v) for v in box)
    return (min(max(x, 0.0), width), min(max(y, 0.0), height),
            min(max(x + w, 0.0), width), min(max(y + h, 0.0), height))


def square_crop_box(box, image_shape, margin: float = 0.0) -> tuple[int, int, int] | None:
    """The square region to cut for a face box: clamped, squared, widened, kept inside the image.

    Args:
        box: ``(x, y, w, h)`` in image pixels; may reach outside the image.
        image_shape: ``(H, W, ...)`` of the image.
        margin: extra border on each side as a fraction of the clamped box's longer side.

    Returns:
        ``(left, top, side)`` with the square wholly inside the image, or ``None`` when the box does
        not overlap the image.
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    x0, y0, x1, y1 = clamp_box(box, image_shape)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    center_x, center_y = (x0 + x1) / 2, (y0 + y1) / 2
    side = max(x1 - x0, y1 - y0) * (1.0 + 2.0 * margin)
    # A square larger than the image's short side cannot stay inside it: shrink rather than pad,
    # so crops never contain invented border pixels.
    side = max(1, min(int(round(side)), width, height))
    left = min(max(int(round(center_x - side / 2)), 0), width - side)
    top = min(max(int(round(center_y - side / 2)), 0), height - side)
    return left, top, side


def crop_square(image: np.ndarray, region: tuple[int, int, int], size: int) -> np.ndarray:
    """Cut ``region`` (left, top, side) out of ``image`` and resize it to ``size`` x ``size``.

    Shrinking uses INTER_AREA (it averages the source pixels, so no aliasing); enlarging uses
    INTER_CUBIC.
    """
    cv2 = _cv2()
    left, top, side = region
    patch = image[top : top + side, left : left + side]
    if side == size:
        return np.ascontiguousarray(patch)
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(patch, (size, size), interpolation=interpolation)


def choose_face(faces: list[dict], options: CropOptions) -> tuple[dict | None, str, str]:
    """Pick one face by ``options.select`` among those that pass the confidence and size limits.

    Args:
        faces: detector output for one image, boxes already in source pixels.
        options: thresholds and the selection rule.

    Returns:
        ``(face, "", "")``, or ``(None, reason, detail)`` with reason ``no_face``,
        ``low_confidence`` or ``face_too_small``.
    """
    if not faces:
        return None, "no_face", "the detector found no face"
    confident = [f for f in faces if float(f["confidence"]) >= options.min_confidence]
    if not confident:
        best = max(float(f["confidence"]) for f in faces)
        return None, "low_confidence", f"best confidence {best:.4f} < {options.min_confidence}"
    big = [f for f in confident if min(f["box"][2], f["box"][3]) >= options.min_face_size]
    if not big:
        best = max(min(f["box"][2], f["box"][3]) for f in confident)
        return None, "face_too_small", f"largest face {best:.0f}px < {options.min_face_size}px"

    def area(face):
        return float(face["box"][2]) * float(face["box"][3])

    if options.select == "largest":
        return max(big, key=lambda f: (area(f), float(f["confidence"]))), "", ""
    return max(big, key=lambda f: (float(f["confidence"]), area(f))), "", ""


# ----------------------------------------------------------------------------------------------
# One chunk of work


@dataclass
class _Loaded:
    name: str
    image: np.ndarray | None = None  # full resolution, for cropping
    detect: np.ndarray | None = None  # possibly shrunk, for the detector
    scale: float = 1.0  # detect pixels per source pixel
    reason: str = ""
    detail: str = ""


def _load_one(root: Path, name: str, max_side: int) -> _Loaded:
    image, reason, detail = read_rgb(root / name)
    if image is None:
        return _Loaded(name, reason=reason, detail=detail)
    height, width = image.shape[:2]
    if min(height, width) < MTCNN_MIN_INPUT:
        return _Loaded(name, reason="no_face", detail=f"image {width}x{height} is too small to hold a face")
    scale = min(1.0, max_side / max(height, width))
    detect = image
    if scale < 1.0:
        cv2 = _cv2()
        size = (max(MTCNN_MIN_INPUT, round(width * scale)), max(MTCNN_MIN_INPUT, round(height * scale)))
        detect = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        scale = size[0] / width
    return _Loaded(name, image=image, detect=detect, scale=scale)


def _read_window(root: Path, names: list[str], start: int, batch_size: int, pixel_budget: int, max_side: int):
    """Decode files from ``start`` until ``batch_size`` files or ``pixel_budget`` source pixels."""
    window, pixels, index = [], 0, start
    while index < len(names) and len(window) < batch_size and pixels < pixel_budget:
        item = _load_one(root, names[index], max_side)
        window.append(item)
        if item.image is not None:
            pixels += item.image.shape[0] * item.image.shape[1]
        index += 1
    return window, index


def _windows(root: Path, names: list[str], batch_size: int, pixel_budget: int, max_side: int):
    """Yield windows of decoded images; the next window decodes in a thread while this one is used."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crop-faces-read") as pool:
        future = pool.submit(_read_window, root, names, 0, batch_size, pixel_budget, max_side)
        while future is not None:
            window, next_index = future.result()
            future = None
            if next_index < len(names):
                future = pool.submit(_read_window, root, names, next_index, batch_size, pixel_budget, max_side)
            yield window


def _detect(detector, images: list[np.ndarray], options: CropOptions) -> list[list[dict]]:
    kwargs = {}
    if options.min_confidence < MTCNN_ONET_THRESHOLD:
        # Let faces the user accepts through MTCNN's own last-stage threshold.
        kwargs["threshold_onet"] = options.min_confidence
    results = detector.detect_faces(list(images), **kwargs)
    if len(results) != len(images):
        raise RuntimeError(f"detector returned {len(results)} results for {len(images)} images")
    return results


def _detect_window(detector, window: list[_Loaded], options: CropOptions) -> dict[int, list[dict] | Exception]:
    """Run the detector on every decoded image of a window, batching images of equal shape.

    MTCNN pads a batch to its largest image, so only equal shapes are batched: mixing sizes would
    spend the saved call overhead on padding.
    """
    groups: dict[tuple, list[int]] = {}
    for i, item in enumerate(window):
        if item.detect is not None:
            groups.setdefault(item.detect.shape, []).append(i)
    found: dict[int, list[dict] | Exception] = {}
    for indices in groups.values():
        try:
            results = _detect(detector, [window[i].detect for i in indices], options)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - one bad image must not sink the batch: retry singly
            if len(indices) == 1:
                found[indices[0]] = exc
                continue
            results = []
            for i in indices:
                try:
                    results.append(_detect(detector, [window[i].detect], options)[0])
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as single_exc:  # noqa: BLE001
                    results.append(single_exc)
        for i, faces in zip(indices, results):
            found[i] = faces
    return found


@dataclass
class _ChunkResult:
    images: list = field(default_factory=list)
    filenames: list = field(default_factory=list)
    boxes: list = field(default_factory=list)
    crop_boxes: list = field(default_factory=list)
    confidences: list = field(default_factory=list)
    skips: list = field(default_factory=list)  # (filename, reason, detail)


def _process_chunk(root, names, options, detector, batch_size, pixel_budget, on_window) -> _ChunkResult:
    result = _ChunkResult()
    kept_before = skipped_before = 0
    for window in _windows(root, names, batch_size, pixel_budget, options.max_side):
        found = _detect_window(detector, window, options)
        for i, item in enumerate(window):
            if item.image is None:
                result.skips.append((item.name, item.reason, item.detail))
                continue
            faces = found.get(i, [])
            if isinstance(faces, Exception):
                result.skips.append((item.name, "detector_error", f"{type(faces).__name__}: {faces}"[:200]))
                continue
            # Map boxes from the shrunk detection image back to source pixels.
            faces = [
                {"box": [float(v) / item.scale for v in f["box"]], "confidence": float(f["confidence"])}
                for f in faces
            ]
            face, reason, detail = choose_face(faces, options)
            region = None if face is None else square_crop_box(face["box"], item.image.shape, options.margin)
            if face is not None and region is None:
                reason, detail = "no_face", "the face box lies outside the image"
            if region is None:
                result.skips.append((item.name, reason, detail))
                continue
            x0, y0, x1, y1 = clamp_box(face["box"], item.image.shape)
            result.images.append(crop_square(item.image, region, options.size))
            result.filenames.append(item.name)
            result.boxes.append([round(x0), round(y0), round(x1 - x0), round(y1 - y0)])
            result.crop_boxes.append([region[0], region[1], region[2], region[2]])
            result.confidences.append(face["confidence"])
        on_window(len(window), len(result.images) - kept_before, len(result.skips) - skipped_before)
        kept_before, skipped_before = len(result.images), len(result.skips)
        del window, found  # drop the full-resolution photos before the next window arrives
    return result


# ----------------------------------------------------------------------------------------------
# The parts folder: resumable state


def parts_dir(out: str | Path) -> Path:
    """Where a run keeps its finished chunks until the final .npz is written: ``OUT.parts/``."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def manifest_path(out: str | Path) -> Path:
    """The skip manifest written next to ``OUT``: ``faces.npz`` -> ``faces.skipped.csv``."""
    out = Path(out)
    return out.with_name(out.stem + ".skipped.csv")


def _atomic_savez(path: Path, **arrays) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _save_chunk(path: Path, result: _ChunkResult, size: int) -> None:
    skips = result.skips
    _atomic_savez(
        path,
        images=np.asarray(result.images, dtype=np.uint8).reshape(-1, size, size, 3),
        filenames=np.asarray(result.filenames, dtype=str),
        boxes=np.asarray(result.boxes, dtype=np.int32).reshape(-1, 4),
        crop_boxes=np.asarray(result.crop_boxes, dtype=np.int32).reshape(-1, 4),
        confidences=np.asarray(result.confidences, dtype=np.float32),
        skip_filenames=np.asarray([s[0] for s in skips], dtype=str),
        skip_reasons=np.asarray([s[1] for s in skips], dtype=str),
        skip_details=np.asarray([s[2] for s in skips], dtype=str),
    )


def _chunk_name(index: int) -> str:
    return f"chunk_{index:05d}.npz"


def _prepare_parts(parts: Path, state: dict, restart: bool) -> None:
    state_file = parts / "state.json"
    if restart and parts.exists():
        shutil.rmtree(parts)
    if state_file.exists():
        previous = json.loads(state_file.read_text())
        if previous != state:
            changed = sorted(k for k in set(previous) | set(state) if previous.get(k) != state.get(k))
            raise ConfigError(
                f"{parts} holds an interrupted run with different settings ({', '.join(changed)} "
                "changed). Rerun with the same options and files to resume it, or pass --restart "
                "(restart=True) to discard it."
            )
        return
    parts.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_name("state.json.tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, state_file)


def _chunk_counts(path: Path) -> tuple[int, dict]:
    with np.load(path, allow_pickle=False) as data:
        kept = len(data["filenames"])
        reasons = data["skip_reasons"]
    counts: dict = {}
    for reason in reasons.tolist():
        counts[reason] = counts.get(reason, 0) + 1
    return kept, counts


# ----------------------------------------------------------------------------------------------
# Assembling the final file


def _zip_entry(zf: zipfile.ZipFile, name: str):
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return zf.open(info, "w", force_zip64=True)


def _assemble(parts: Path, n_chunks: int, out: Path, manifest: Path, size: int) -> tuple[int, dict]:
    """Stream the chunks into one compressed .npz and write the skip manifest.

    The images entry is written header first, then chunk by chunk, so no array of all crops is ever
    built: memory holds one chunk. The small per-face arrays are concatenated (a few bytes a face).
    """
    chunk_paths = [parts / _chunk_name(k) for k in range(n_chunks)]
    small = {"filenames": [], "boxes": [], "crop_boxes": [], "confidences": []}
    skips = []
    for path in chunk_paths:
        with np.load(path, allow_pickle=False) as data:
            for key in small:
                small[key].append(data[key])
            columns = (data["skip_filenames"], data["skip_reasons"], data["skip_details"])
            skips.extend(zip(*(column.tolist() for column in columns)))
    arrays = {
        "filenames": np.concatenate(small["filenames"]).astype(str),
        "boxes": np.concatenate(small["boxes"]).astype(np.int32).reshape(-1, 4),
        "crop_boxes": np.concatenate(small["crop_boxes"]).astype(np.int32).reshape(-1, 4),
        "confidences": np.concatenate(small["confidences"]).astype(np.float32),
    }
    n = len(arrays["filenames"])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        with _zip_entry(zf, "images.npy") as fp:
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False,
                      "shape": (n, size, size, 3)}
            np.lib.format.write_array_header_1_0(fp, header)
            written = 0
            for path in chunk_paths:
                with np.load(path, allow_pickle=False) as data:
                    images = data["images"]
                fp.write(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
                written += len(images)
                del images
            if written != n:
                raise DataError(f"{parts} is inconsistent ({written} crops for {n} names); rerun with --restart.")
        for key, array in arrays.items():
            with _zip_entry(zf, f"{key}.npy") as fp:
                np.lib.format.write_array(fp, array, allow_pickle=False)
    os.replace(tmp, out)

    skips.sort()
    tmp_manifest = manifest.with_name(manifest.name + ".tmp")
    with open(tmp_manifest, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(MANIFEST_FIELDS)
        writer.writerows(skips)
    os.replace(tmp_manifest, manifest)
    counts: dict = {}
    for _, reason, _ in skips:
        counts[reason] = counts.get(reason, 0) + 1
    return n, counts


# ----------------------------------------------------------------------------------------------
# The entry point


def crop_faces(
    src: str | Path,
    out: str | Path,
    size: int = 40,
    *,
    limit: int | None = None,
    margin: float = 0.0,
    min_confidence: float = 0.9,
    min_face_size: int = 20,
    select: str = "confidence",
    max_side: int = 1024,
    batch_size: int = 128,
    chunk_size: int = 512,
    pixel_budget: int = 48_000_000,
    restart: bool = False,
    overwrite: bool = False,
    keep_parts: bool = False,
    detector=None,
    device: str = "CPU:0",
    progress: bool = True,
) -> CropSummary:
    """Crop one face per photo in ``src`` with MTCNN and write them to one .npz plus a skip manifest.

    The MTCNN crop-to-.npz step of the progressive GAN paper (seed 001) and of the thesis's 40x40
    CelebA set (seed 003); detector: Zhang et al. 2016, "Joint Face Detection and Alignment using
    Multi-task Cascaded Convolutional Networks".

    Args:
        src: folder of photos (searched recursively; hidden files ignored).
        out: the .npz to write. Its manifest goes to ``<stem>.skipped.csv`` beside it and its
            resumable work folder to ``<out>.parts/`` (removed when done unless ``keep_parts``).
        size: side of the square crops.
        limit: process only the first ``limit`` files (sorted by name).
        margin: border around the face as a fraction of its box's longer side.
        min_confidence: ignore faces the detector scores lower.
        min_face_size: ignore faces whose shorter box side is below this many source pixels.
        select: "confidence" keeps the most confident face, "largest" the largest box.
        max_side: shrink photos whose longest side is larger to this side for detection.
        batch_size: images per detector call (equal-shape images are batched together).
        chunk_size: files per resumable chunk; an interruption loses at most one chunk of work.
        pixel_budget: source pixels decoded at once; bounds memory for very large photos.
        restart: discard the work of an earlier interrupted run instead of resuming it.
        overwrite: replace ``out`` if it exists.
        keep_parts: keep ``out.parts/`` after writing ``out``.
        detector: anything with ``detect_faces(list_of_rgb_uint8, **kw) -> list[list[dict]]``;
            ``None`` builds MTCNN (once, only if there is work left).
        device: TensorFlow device for the MTCNN built when ``detector`` is None.
        progress: show a tqdm bar with faces kept and skipped.

    Returns:
        A :class:`CropSummary` with the counts and paths.

    Raises:
        DataNotFoundError: ``src`` does not exist.
        DataError: ``src`` holds no images.
        ConfigError: bad options, ``out`` exists without ``overwrite``, the faces extra is
            missing, or an interrupted run used different settings (resume with the same, or
            ``restart``).
    """
    options = CropOptions(size=int(size), margin=float(margin), min_confidence=float(min_confidence),
                          min_face_size=int(min_face_size), select=select, max_side=int(max_side))
    if int(batch_size) < 1 or int(chunk_size) < 1:
        raise ConfigError(f"batch_size and chunk_size must be positive, got {batch_size} and {chunk_size}.")
    root = Path(src).expanduser()
    out = Path(out).expanduser()
    if out.suffix != ".npz":
        raise ConfigError(f"output {out} must end in .npz (it is one compressed NumPy archive).")
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} already exists. Choose another output, delete it, or pass --overwrite.")
    _cv2()  # fail fast, before any work, when the extra is missing
    names = list_image_files(root, limit)
    manifest = manifest_path(out)
    parts = parts_dir(out)
    state = {
        "options": asdict(options),
        # Window and batch sizes decide which images share a detector call; fixing them keeps a
        # resumed run's output identical to an uninterrupted one.
        "chunk_size": int(chunk_size),
        "batch_size": int(batch_size),
        "pixel_budget": int(pixel_budget),
        "files": len(names),
        "files_sha1": hashlib.sha1("\n".join(names).encode("utf-8")).hexdigest(),
        "source": str(root.resolve()),
    }
    _prepare_parts(parts, state, restart)

    chunks = [names[i : i + chunk_size] for i in range(0, len(names), chunk_size)]
    done = [k for k in range(len(chunks)) if (parts / _chunk_name(k)).exists()]
    kept, skipped, resumed = 0, 0, 0
    for k in done:
        chunk_kept, chunk_skips = _chunk_counts(parts / _chunk_name(k))
        kept, skipped, resumed = kept + chunk_kept, skipped + sum(chunk_skips.values()), resumed + len(chunks[k])
    todo = [k for k in range(len(chunks)) if k not in set(done)]
    if resumed:
        log.info("resuming %s: %d of %d images already done", parts, resumed, len(names))

    if todo:
        from tqdm import tqdm  # the plain bar: tqdm.auto wants ipywidgets inside notebooks

        if detector is None:
            detector = build_detector(device)
        bar = tqdm(total=len(names), initial=resumed, unit="img", desc="crop-faces", disable=not progress,
                   dynamic_ncols=True)
        counts = {"kept": kept, "skipped": skipped}

        def on_window(n_files, new_kept, new_skipped):
            counts["kept"] += new_kept
            counts["skipped"] += new_skipped
            bar.set_postfix(kept=counts["kept"], skipped=counts["skipped"], refresh=False)
            bar.update(n_files)

        try:
            for k in todo:
                result = _process_chunk(root, chunks[k], options, detector, int(batch_size), int(pixel_budget),
                                        on_window)
                _save_chunk(parts / _chunk_name(k), result, options.size)
        finally:
            bar.close()

    n_kept, reasons = _assemble(parts, len(chunks), out, manifest, options.size)
    if not keep_parts:
        shutil.rmtree(parts, ignore_errors=True)
    summary = CropSummary(output=out, manifest=manifest, total=len(names), kept=n_kept,
                          skipped={r: reasons.get(r, 0) for r in SKIP_REASONS if reasons.get(r)},
                          resumed_files=resumed)
    log.debug("crop-faces: %s", "; ".join(summary.lines()))
    return summary


def read_manifest(path: str | Path) -> list[dict]:
    """Read a skip manifest written by :func:`crop_faces` as a list of ``{filename, reason, detail}``."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
