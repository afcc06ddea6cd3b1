"""Atomic file writes, and reads that refuse a damaged file with one clear error.

A run killed mid-write (kill -9, power loss) must not leave a truncated checkpoint behind, since the
next ``--resume`` would read it. Everything a run writes goes through :func:`atomic_path`.

Files that come from outside (a user's .npz, a config.json, a copied run folder) may still be
truncated, corrupt or not what their name says. :func:`read_npz` and :func:`read_json` are where such
files are opened: every way numpy, zipfile and json report a bad file becomes one
:class:`~gans.errors.DataError` that names the file and the fix.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import json
import logging
import os
import socket
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from gans.errors import ConfigError, DataError, DataNotFoundError, RunFolderInUse

log = logging.getLogger(__name__)

# How numpy and zipfile report a damaged or foreign file: a non-zip, non-.npy file is taken for a
# pickle (ValueError with allow_pickle=False), a truncated zip has no directory (BadZipFile), a
# damaged entry fails its CRC (BadZipFile) or inflation (zlib.error), an empty file is an EOFError,
# an object array is a ValueError, an unknown compression a NotImplementedError.
NPZ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError)


def read_npz(path: str | Path, keys: Iterable[str] | Callable[[list[str]], Iterable[str]] | None = None,
             what: str = "an .npz file", fix: str = "") -> tuple[dict[str, np.ndarray], list[str]]:
    """Read arrays from an .npz (or the one array of an .npy) with ``allow_pickle=False``.

    Args:
        path: the file.
        keys: the arrays to read: names (missing ones are left out), a function from the names in the
            file to the names to read, or None for all.
        what: what the file should be, for the message ("an .npz of images").
        fix: what the user can do about a damaged file, appended to the message.

    Returns:
        ``(arrays, names)``: the arrays read by name, and every name in the file (an .npy file holds
        one array, named ``"arr_0"``).

    Raises:
        DataNotFoundError: the file does not exist.
        DataError: it cannot be read as ``what`` (truncated, corrupt, not an .npz, object arrays).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"{path} does not exist{' or is a folder' if path.exists() else ''}; "
                                f"expected {what}.")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is an empty file; expected {what}.{' ' + fix if fix else ''}")
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {"arr_0": loaded}, ["arr_0"]
        with loaded:
            names = list(loaded.files)
            wanted = names if keys is None else keys(names) if callable(keys) else keys
            return {k: loaded[k] for k in wanted if k in names}, names
    except NPZ_ERRORS as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if "Object arrays" in detail:
            detail = "it holds object arrays, which are refused because loading them could run code"
        elif "pickle" in detail:
            detail = "it is not a NumPy .npz or .npy file"
        elif isinstance(exc, zipfile.BadZipFile) and "not a zip file" in detail:
            detail = "it is not a complete .npz archive (truncated, or another kind of file)"
        elif isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError)):
            detail = f"it is damaged ({detail})"
        raise DataError(f"cannot read {path} as {what}: {detail}.{' ' + fix if fix else ''}") from exc


def read_json(path: str | Path, what: str = "a JSON file", fix: str = ""):
    """The contents of a JSON file, or one :class:`~gans.errors.DataError` naming the file and why not."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read {path} as {what}: {exc}.{' ' + fix if fix else ''}") from exc


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


def check_writable_folder(folder: str | Path, option: str = "--out") -> Path:
    """``folder`` created if missing and proven writable by creating (and removing) a file in it, so a
    command refuses a read-only place before its work starts, whoever runs it (a permission check
    alone would pass for root on a read-only mount).

    Raises:
        ConfigError: a file stands where a folder belongs, or the folder cannot be created or written;
            the message names the path, the reason and the fix.
    """
    import tempfile

    folder = Path(folder).expanduser()
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigError(f"{option}: {existing} is a file, not a folder; choose another path.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"{option}: cannot write in {folder} ({exc.strerror or exc}); choose a folder you can "
                          "write to.") from None
    return folder


def refuse_existing(paths: Iterable[str | Path], option: str, overwrite: bool) -> None:
    """The one overwrite rule of every command that writes: an output that exists is replaced only
    with ``--overwrite``. Checked before the command's work starts, so a refusal costs nothing.

    Raises:
        ConfigError: one of ``paths`` exists and ``overwrite`` is False; the message names it and the fix.
    """
    if overwrite:
        return
    for path in paths:
        if Path(path).exists():
            raise ConfigError(f"{option} {path} already exists; pass --overwrite to replace it, or choose another "
                              "name.")


def check_output(path: str, suffix: str, option: str, overwrite: bool) -> Path:
    """A file the command may write: the right suffix, not a folder, not an existing file unless
    ``overwrite`` (:func:`refuse_existing`); its folder is created. Checked before any model is loaded."""
    path = Path(path).expanduser()
    if path.suffix.lower() != suffix:
        raise ConfigError(f"{option} {path} must end in {suffix} (the file written is {suffix[1:].upper()}).")
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; pass a file name ending in {suffix}.")
    refuse_existing([path], option, overwrite)
    existing = next(p for p in path.parents if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{option} {path}: {existing} is a file, not a folder.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def claim_folder(folder: str | Path, option: str, overwrite: bool, owned: Iterable[str], remove: bool = True) -> Path:
    """A folder a command owns (a study's ``--out``): new or empty, or, with ``overwrite``, emptied of
    the earlier run's files, so no stale figure of that run stays beside the new ones.

    Only files matching ``owned`` (glob patterns relative to the folder, e.g. ``"confusion_r*.png"``,
    ``"samples/pca_k*.png"``) are removed, and only when nothing else is in the folder: a file the
    command did not write is never deleted (a mistyped ``--out ~`` loses nothing). With ``remove``
    False the folder is only checked, so a command can refuse before it reads anything and remove the
    earlier run's files only once every input has passed, right before its work.

    Returns:
        The folder (created, unless ``remove`` is False).

    Raises:
        ConfigError: a file stands where the folder belongs; the folder holds files without
            ``overwrite``; or, with it, files the command did not write.
    """
    folder = Path(folder).expanduser()
    if not remove and not folder.exists():  # a check only: nothing is created before the command's inputs pass
        existing = next((p for p in folder.parents if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise ConfigError(f"{option}: {existing} is a file, not a folder; choose another path.")
        return folder
    check_writable_folder(folder, option)
    if next(folder.iterdir(), None) is None:
        return folder
    refuse_existing([folder], option, overwrite)
    ours = {p for pattern in owned for p in folder.glob(pattern) if not p.is_dir()}
    foreign = []
    for path in folder.rglob("*"):  # stops at the fourth: a mistyped --out ~ is not walked to its end
        if not path.is_dir() and path not in ours:
            foreign.append(path.relative_to(folder).as_posix())
            if len(foreign) > 3:
                break
    if foreign:
        shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise ConfigError(f"{option} {folder} holds files this command did not write ({shown}); --overwrite "
                          "replaces only an earlier run's own files. Choose a new or empty folder.")
    if not remove:
        return folder
    for path in ours:
        path.unlink()
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):  # only empty ones go
            sub.rmdir()
    log.info("--overwrite: removed %d file(s) of the earlier run in %s", len(ours), folder)
    return folder


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


def markdown_row(cells: Iterable) -> str:
    """One row of a Markdown table; a ``|`` inside a cell (an absolute value, "|eg gap|") is escaped so
    that it does not split the cell."""
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def markdown_header(cells: Iterable) -> list[str]:
    """A Markdown table's first two lines: the column names (:func:`markdown_row`) and the rule below them."""
    cells = list(cells)
    return [markdown_row(cells), "|" + "---|" * len(cells)]


def write_rows(path: str | Path, columns, rows) -> None:
    """Write a CSV log atomically: the header ``columns``, then each row's values in that order (a value
    holding a comma, quote or line break is quoted, as the csv module reads it back)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row[c] for c in columns] for row in rows)
    write_text(path, buffer.getvalue())


LOCK_FILE = "run.lock"


@contextlib.contextmanager
def folder_lock(folder: str | Path, what: str = "run folder"):
    """Hold an exclusive lock on ``folder`` (created if needed) while the ``with`` block runs.

    The lock is an ``flock`` on ``folder/run.lock``, which also records who holds it (process id,
    host, start time, command). The kernel releases an ``flock`` when its process dies, however it
    dies, so a lock left by a killed process is never mistaken for a live one: it is taken over, and
    the takeover is logged with the dead process's id. The lock file is removed on release; a
    folder this call created is removed again if it is still empty.

    Raises:
        ConfigError: ``folder`` is a file.
        RunFolderInUse: another live process holds the lock (the message names its process id).
    """
    import fcntl

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file; a {what} is a folder. Pass another path.")
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: EWOULDBLOCK
            holder = _lock_holder(fd)
            os.close(fd)
            raise RunFolderInUse(
                f"{folder} is in use by process {holder.get('pid', '?')}"
                f"{' on ' + holder['host'] if holder.get('host') not in (None, socket.gethostname()) else ''}"
                f" (started {holder.get('started', '?')}: {holder.get('command', '?')}). Wait for it to finish or "
                f"stop it; two processes writing one {what} would corrupt it."
            ) from None
        try:  # a holder that was finishing may have removed the file we opened: lock the new one
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    previous = _lock_holder(fd)
    if previous.get("pid") not in (None, os.getpid()):
        log.warning("%s was left locked by process %s (%s), which is no longer running; taking it over.",
                    folder, previous.get("pid"), previous.get("command", "?"))
    record = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": datetime.datetime.now().isoformat(timespec="seconds"),
              "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300]}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: a refused run leaves no trace


def _lock_holder(fd: int) -> dict:
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}
