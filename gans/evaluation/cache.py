"""Where evaluation keeps what it computes once and reuses: reference statistics, trained classifiers.

The cache lives in a user folder, never inside the installed package: ``$GANS_CACHE_DIR`` when set,
else ``$XDG_CACHE_HOME/gans``, else ``~/.cache/gans``. Every cache file name in the evaluation
package is built by one function per artefact (:func:`gans.evaluation.reference.stats_cache_key` and
:func:`gans.evaluation.classifier.lenet_cache_path`), both on top of :func:`cache_dir`.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np

ENV_VAR = "GANS_CACHE_DIR"


def cache_dir(subdir: str | None = None, root: str | Path | None = None) -> Path:
    """The user cache folder (created on demand).

    Args:
        subdir: a folder inside the cache, e.g. ``"fid_stats"``.
        root: an explicit cache root; overrides the environment.

    Returns:
        The folder, which exists when this returns.
    """
    if root is None:
        root = os.environ.get(ENV_VAR)
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = Path(xdg) / "gans" if xdg else Path.home() / ".cache" / "gans"
    path = Path(root).expanduser()
    if subdir:
        path = path / subdir
    path.mkdir(parents=True, exist_ok=True)
    return path


def slug(text: str) -> str:
    """A file-name-safe version of ``text`` (letters, digits, '.', '-', '_' kept)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-") or "none"


def array_fingerprint(array: np.ndarray, length: int = 12) -> str:
    """A short content hash of an array (dtype, shape and bytes), to tell data sets apart in keys."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha1(f"{array.dtype}{array.shape}".encode())
    digest.update(array.reshape(-1).view(np.uint8).data if array.size else b"")  # the bytes, not a copy of them
    return digest.hexdigest()[:length]
