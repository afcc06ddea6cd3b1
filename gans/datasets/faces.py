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

The pipeline lives here; each of its parts has a module of its own:
:mod:`gans.datasets.image_files` (listing and decoding photos), :mod:`gans.datasets.face_windows`
(decoding ahead of the detector in bounded windows), :mod:`gans.datasets.face_detection` (MTCNN,
batched detection, the choice of one face), :mod:`gans.datasets.face_geometry` (box to square crop)
and :mod:`gans.datasets.face_chunks` (the resumable parts folder, the final file, the manifest).
Their public names are importable from this module too.

mtcnn and OpenCV are the optional ``faces`` extra; they are imported only when needed.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gans.datasets.face_chunks import (MANIFEST_FIELDS, ChunkResult, assemble, chunk_counts, chunk_name,
                                       manifest_path, parts_dir, prepare_parts, read_manifest, save_chunk)
from gans.datasets.face_detection import (MTCNN_MIN_INPUT, MTCNN_ONET_THRESHOLD, SELECT_RULES, CropOptions,
                                          build_detector, choose_face, detect_window)
from gans.datasets.face_geometry import clamp_box, crop_square, square_crop_box
from gans.datasets.face_windows import read_ahead_windows
from gans.datasets.image_files import (FACES_EXTRA_HINT, IMAGE_SUFFIXES, list_image_files, opencv, read_images,
                                       read_rgb)
from gans.errors import ConfigError
from gans.io import refuse_existing

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    # defined here
    "SKIP_REASONS",
    "CropSummary",
    "crop_face_photos",
    "crop_faces",
    "process_chunk",
    # the pieces of the pipeline, re-exported from the modules that define them
    "FACES_EXTRA_HINT",
    "IMAGE_SUFFIXES",
    "MANIFEST_FIELDS",
    "MTCNN_MIN_INPUT",
    "MTCNN_ONET_THRESHOLD",
    "SELECT_RULES",
    "CropOptions",
    "build_detector",
    "choose_face",
    "clamp_box",
    "crop_square",
    "list_image_files",
    "manifest_path",
    "parts_dir",
    "read_images",
    "read_manifest",
    "read_rgb",
    "square_crop_box",
]

log = logging.getLogger(__name__)

# Reasons a file gives no crop, in the order the checks run.
SKIP_REASONS = ("not_image", "too_large", "unreadable", "no_face", "low_confidence", "face_too_small",
                "detector_error")


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


def process_chunk(root: Path, names: list[str], options: CropOptions, detector, batch_size: int,
                  pixel_budget: int, on_window) -> ChunkResult:
    """Detect, choose and crop one face in each file of a chunk.

    Args:
        root: the source folder.
        names: the chunk's files, relative to ``root``.
        options: the run's options.
        detector: anything with ``detect_faces(list_of_rgb_uint8, **kw) -> list[list[dict]]``.
        batch_size: files per window (and at most per detector call).
        pixel_budget: source pixels decoded per window.
        on_window: called after each window with (files, new crops, new skips), for progress.

    Returns:
        The chunk's crops and skips.
    """
    result = ChunkResult()
    kept_before = skipped_before = 0
    for window in read_ahead_windows(root, names, batch_size, pixel_budget, options.max_side, options.max_pixels):
        found = detect_window(detector, [item.detect for item in window], options)
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
    max_pixels: int = 50_000_000,
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
        max_pixels: skip photos with more pixels than this ("too_large" in the manifest), judged from
            the file's header before decoding.
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
                          min_face_size=int(min_face_size), select=select, max_side=int(max_side),
                          max_pixels=int(max_pixels))
    if int(batch_size) < 1 or int(chunk_size) < 1:
        raise ConfigError(f"batch_size and chunk_size must be positive, got {batch_size} and {chunk_size}.")
    root = Path(src).expanduser()
    out = Path(out).expanduser()
    if out.suffix != ".npz":
        raise ConfigError(f"output {out} must end in .npz (it is one compressed NumPy archive).")
    refuse_existing([out], "OUT", overwrite)
    opencv()  # fail fast, before any work, when the extra is missing
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
    prepare_parts(parts, state, restart)

    chunks = [names[i : i + chunk_size] for i in range(0, len(names), chunk_size)]
    done = [k for k in range(len(chunks)) if (parts / chunk_name(k)).exists()]
    kept, skipped, resumed = 0, 0, 0
    for k in done:
        chunk_kept, chunk_skips = chunk_counts(parts / chunk_name(k))
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
                result = process_chunk(root, chunks[k], options, detector, int(batch_size), int(pixel_budget),
                                        on_window)
                save_chunk(parts / chunk_name(k), result, options.size)
        finally:
            bar.close()

    n_kept, reasons = assemble(parts, len(chunks), out, manifest, options.size)
    if not keep_parts:
        shutil.rmtree(parts, ignore_errors=True)
    summary = CropSummary(output=out, manifest=manifest, total=len(names), kept=n_kept,
                          skipped={r: reasons.get(r, 0) for r in SKIP_REASONS if reasons.get(r)},
                          resumed_files=resumed)
    log.debug("crop-faces: %s", "; ".join(summary.lines()))
    return summary


def centre_cut(image, height: int, width: int):
    """The largest centred part of ``image`` (H, W, C) with the aspect of ``height`` x ``width``."""
    h, w = image.shape[:2]
    if w * height >= h * width:
        cut_h, cut_w = h, max(1, min(w, round(h * width / height)))
    else:
        cut_h, cut_w = max(1, min(h, round(w * height / width))), w
    top, left = (h - cut_h) // 2, (w - cut_w) // 2
    return image[top:top + cut_h, left:left + cut_w]


MIN_FACE_SIDE = 16  # pixels: a smaller image cannot hold a face worth re-rendering
MAX_FACE_ASPECT = 2.0  # a cropped face is about as wide as it is high; a strip or a panorama is not one


def read_face_photos(paths, size: tuple[int, int], crop: bool = False, margin: float = 0.6,
                     detector=None) -> np.ndarray:
    """One face from each photo, for the commands that re-render given faces (``gans age-progress``,
    ``gans generate-from-faces``): with ``crop`` the library's MTCNN crop of a photo of one person
    (:func:`crop_face_photos`); without, an already cropped face, checked to be face-sized and
    face-shaped, its centre cut to the aspect of ``size`` and resized.

    Returns:
        uint8 (len(paths), height, width, 3).

    Raises:
        DataNotFoundError: a photo does not exist.
        DataError: a photo cannot be read, is smaller than :data:`MIN_FACE_SIDE` pixels a side, is
            more than :data:`MAX_FACE_ASPECT` times as long as wide (without ``crop``), or (with
            ``crop``) holds no face or several.
    """
    import numpy as np

    from gans.datasets.image_files import read_rgb
    from gans.datasets.npz import resize_images
    from gans.errors import DataError, DataNotFoundError

    paths = [Path(p).expanduser() for p in paths]
    for path in paths:
        if not path.is_file():
            raise DataNotFoundError(f"face photo {path} does not exist{' (it is a folder)' if path.exists() else ''}; "
                                    "pass image files of faces.")
    if crop:
        return crop_face_photos(paths, size, margin=margin, detector=detector)
    height, width = (int(v) for v in size)
    faces = []
    for path in paths:
        image, reason, detail = read_rgb(path)
        if image is None:
            raise DataError(f"{path} cannot be read as an image ({reason}: {detail}).")
        h, w = image.shape[:2]
        if min(h, w) < MIN_FACE_SIDE:
            raise DataError(f"{path} is {h}x{w} pixels, too small to hold a face (at least {MIN_FACE_SIDE} a side); "
                            "pass a larger face photo.")
        if max(h, w) > MAX_FACE_ASPECT * min(h, w):
            raise DataError(f"{path} is {h}x{w} pixels, not face-shaped (a cropped face is about as wide as high); "
                            "pass a cropped face, or the photo with --crop to find the face in it.")
        faces.append(resize_images(centre_cut(image, height, width)[None], (height, width))[0])
    return np.stack(faces)


def crop_face_photos(paths, size: tuple[int, int], margin: float = 0.6, min_confidence: float = 0.9,
                     detector=None) -> np.ndarray:
    """One face from each of a few photos, cut as CelebA's aligned faces are framed: the pipeline's
    square MTCNN crop (:func:`process_chunk`), then its centre cut to the aspect of ``size`` (height,
    width) and resized to it.

    Args:
        paths: photo files.
        size: (height, width) of the faces returned.
        margin: border around the face box, as a fraction of its longer side (0.6 frames a face with
            its hair, about as CelebA's aligned images do).
        min_confidence: faces the detector is less sure of are ignored.
        detector: an MTCNN-like detector; built when None.

    Returns:
        uint8 (len(paths), height, width, 3).

    Raises:
        DataError: a photo gives no face, or several (the message names the photo and the reason).
    """
    import numpy as np

    from gans.datasets.npz import resize_images
    from gans.errors import DataError

    height, width = (int(v) for v in size)
    options = CropOptions(size=max(height, width), margin=margin, min_confidence=min_confidence, select="only")
    detector = build_detector() if detector is None else detector
    faces = []
    for path in (Path(p).expanduser() for p in paths):
        result = process_chunk(path.parent, [path.name], options, detector, 1, options.max_pixels,
                               lambda *counts: None)
        if not result.images:
            _, reason, detail = result.skips[0]
            if reason == "several_faces":
                raise DataError(f"{path}: {detail}; pass a photo of one person, or a face cropped by hand without "
                                "--crop.")
            raise DataError(f"{path}: no face to crop ({reason}: {detail}); pass a photo with one clear face, or "
                            "an already cropped face without --crop.")
        faces.append(centre_cut(result.images[0], height, width))
    return np.concatenate([resize_images(face[None], (height, width)) for face in faces])
