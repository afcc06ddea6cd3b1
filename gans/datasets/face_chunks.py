"""The files of a resumable crop run: finished chunks in ``OUT.parts/``, the final .npz, the manifest.

Work is split into fixed chunks of the sorted file list; each finished chunk is written atomically
to ``OUT.parts/`` beside a ``state.json`` of the settings, so an interrupted run resumes where it
stopped. Because a chunk's contents never depend on where a run started, and the zip entries of the
final file carry a fixed timestamp, a resumed run writes the same .npz as an uninterrupted one, byte
for byte. :func:`assemble` streams the chunks into that file one at a time, so memory holds one chunk
of crops whatever the number of images; the skipped files go to a CSV manifest
(``filename,reason,detail``).
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError
from gans.io import atomic_path, read_json, read_npz, save_npz, write_text

MANIFEST_FIELDS = ("filename", "reason", "detail")
# A fixed zip timestamp makes the .npz depend only on its arrays (resumed == uninterrupted, bytewise).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class ChunkResult:
    """What one chunk of files gave: the crops and their per-face arrays, and the skipped files."""

    images: list = field(default_factory=list)
    filenames: list = field(default_factory=list)
    boxes: list = field(default_factory=list)
    crop_boxes: list = field(default_factory=list)
    confidences: list = field(default_factory=list)
    skips: list = field(default_factory=list)  # (filename, reason, detail)


def parts_dir(out: str | Path) -> Path:
    """Where a run keeps its finished chunks until the final .npz is written: ``OUT.parts/``."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def manifest_path(out: str | Path) -> Path:
    """The skip manifest written next to ``OUT``: ``faces.npz`` -> ``faces.skipped.csv``."""
    out = Path(out)
    return out.with_name(out.stem + ".skipped.csv")


def save_chunk(path: Path, result: ChunkResult, size: int) -> None:
    """Write one finished chunk (crops of side ``size`` and skips) atomically to ``path``."""
    skips = result.skips
    save_npz(
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


def chunk_name(index: int) -> str:
    """The file name of chunk ``index`` inside the parts folder."""
    return f"chunk_{index:05d}.npz"


def prepare_parts(parts: Path, state: dict, restart: bool) -> None:
    """Create the parts folder with the run's ``state.json``, or check an interrupted run's.

    Args:
        parts: the folder (:func:`parts_dir`).
        state: everything that decides the chunks' contents (options, sizes, the file list's hash).
        restart: discard an interrupted run's folder first.

    Raises:
        ConfigError: the folder holds an interrupted run with a different state.
    """
    state_file = parts / "state.json"
    if restart and parts.exists():
        shutil.rmtree(parts)
    if state_file.exists():
        previous = read_json(state_file, "the state of an interrupted crop run", fix=_RESTART)
        if previous != state:
            changed = sorted(k for k in set(previous) | set(state) if previous.get(k) != state.get(k))
            raise ConfigError(
                f"{parts} holds an interrupted run with different settings ({', '.join(changed)} "
                "changed). Rerun with the same options and files to resume it, or pass --restart "
                "(restart=True) to discard it."
            )
        return
    parts.mkdir(parents=True, exist_ok=True)
    write_text(state_file, json.dumps(state, indent=1, sort_keys=True))


def chunk_counts(path: Path) -> tuple[int, dict]:
    """(crops kept, skips per reason) of a finished chunk file."""
    data = read_chunk(path, ("filenames", "skip_reasons"))
    return len(data["filenames"]), dict(Counter(data["skip_reasons"].tolist()))


_CHUNK_KEYS = ("images", "filenames", "boxes", "crop_boxes", "confidences", "skip_filenames", "skip_reasons",
               "skip_details")
_RESTART = "Rerun with --restart (restart=True) to discard the interrupted run's work and start again."


def read_chunk(path: Path, keys=_CHUNK_KEYS) -> dict[str, np.ndarray]:
    """Arrays of a finished chunk, or a DataError naming the damaged chunk and the way out (--restart)."""
    data, names = read_npz(path, keys, what="a finished chunk of an interrupted crop run", fix=_RESTART)
    missing = [k for k in keys if k not in data]
    if missing:
        raise DataError(f"{path} is not a chunk of a crop run (it lacks {missing}). {_RESTART}")
    return data


def _zip_entry(zf: zipfile.ZipFile, name: str):
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return zf.open(info, "w", force_zip64=True)


def assemble(parts: Path, n_chunks: int, out: Path, manifest: Path, size: int) -> tuple[int, dict]:
    """Stream the chunks into one compressed .npz and write the skip manifest.

    The images entry is written header first, then chunk by chunk, so no array of all crops is ever
    built: memory holds one chunk. The small per-face arrays are concatenated (a few bytes a face).
    """
    chunk_paths = [parts / chunk_name(k) for k in range(n_chunks)]
    small = {"filenames": [], "boxes": [], "crop_boxes": [], "confidences": []}
    skips = []
    for path in chunk_paths:
        data = read_chunk(path, (*small, "skip_filenames", "skip_reasons", "skip_details"))
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
    with atomic_path(out) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            with _zip_entry(zf, "images.npy") as fp:
                header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False,
                          "shape": (n, size, size, 3)}
                np.lib.format.write_array_header_1_0(fp, header)
                written = 0
                for path in chunk_paths:
                    images = read_chunk(path, ("images",))["images"]
                    if images.dtype != np.uint8 or images.shape[1:] != (size, size, 3):
                        raise DataError(f"{path} holds crops {images.dtype} {images.shape}, expected uint8 "
                                        f"(N, {size}, {size}, 3). {_RESTART}")
                    fp.write(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
                    written += len(images)
                    del images
                if written != n:
                    raise DataError(f"{parts} is inconsistent ({written} crops for {n} names); "
                                    "rerun with --restart.")
            for key, array in arrays.items():
                with _zip_entry(zf, f"{key}.npy") as fp:
                    np.lib.format.write_array(fp, array, allow_pickle=False)

    skips.sort()
    write_manifest(manifest, skips)
    return n, dict(Counter(reason for _, reason, _ in skips))


def write_manifest(path: Path, skips: list[tuple[str, str, str]]) -> None:
    """Write the skip manifest atomically: a header, then one ``filename,reason,detail`` row a skip."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(MANIFEST_FIELDS)
        writer.writerows(skips)


def read_manifest(path: str | Path) -> list[dict]:
    """Read a skip manifest as a list of ``{filename, reason, detail}`` dicts.

    Args:
        path: a manifest written by :func:`gans.datasets.faces.crop_faces` (see :func:`manifest_path`).

    Returns:
        One dict a skipped file, in the manifest's (sorted) order.
    """
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
