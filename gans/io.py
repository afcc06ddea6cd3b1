"""Atomic file writes: a file is either the old version or the complete new one, never half of it.

A run killed mid-write (kill -9, power loss) must not leave a truncated checkpoint behind, since the
next ``--resume`` would read it. Everything a run writes goes through :func:`atomic_path`.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; on success, rename it over ``path`` (atomic on POSIX).

    The temporary name keeps the suffix, so writers that dispatch on it (Keras' ``.h5``, numpy's
    ``.npz``) behave as for the final name. On error the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # make the bytes durable before the rename makes them visible
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def save_npz(path: str | Path, *, compressed: bool = False, **arrays) -> Path:
    """Write ``arrays`` to an .npz atomically; return ``path``.

    The archive is written through a file handle, so numpy never appends ``.npz`` to a name that
    lacks it: the file is exactly ``path``.

    Args:
        path: the file to write (its folder is created).
        compressed: deflate the arrays (``np.savez_compressed``) instead of storing them.
        **arrays: the arrays, by name.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    save = np.savez_compressed if compressed else np.savez
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        save(f, **arrays)
    return Path(path)


def write_json(path: str | Path, data) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_rows_until(path: str | Path, step: int) -> list[dict[str, str]]:
    """The rows of a per-step CSV log (a ``step`` column first) up to and including ``step``.

    This is how every log of a run is cut back on resume: rows after the restored state are dropped,
    so the resumed run neither repeats nor skips a step. A row left incomplete by a killed process
    (missing fields) is dropped too.
    """
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f)
                if all(v not in (None, "") for v in row.values()) and int(float(row["step"])) <= step]


def write_rows(path: str | Path, columns, rows) -> None:
    """Write a CSV log atomically: the header ``columns``, then each row's values in that order."""
    lines = [",".join(columns)] + [",".join(str(row[c]) for c in columns) for row in rows]
    write_text(path, "\n".join(lines) + "\n")
