"""UTKFace with age and gender labels read from file names, deduplicated, for the CAAE.

UTKFace (Zhang, Song and Qi 2017) names each face ``[age]_[gender]_[race]_[datetime].jpg`` (the
aligned crops add ``.chip.jpg``): age 0-116, gender 0 male / 1 female, race 0-4. The CAAE ("Age
Progression/Regression by Conditional Adversarial Autoencoder", Zhang et al., CVPR 2017; seed 000)
conditions on ten age groups and on gender, each as a one-hot vector whose values are -1 and +1 to
match the generator's tanh range.

Cleaning, before any split (so that no image can sit in both train and validation):

* names with a missing or invalid field are skipped and counted;
* byte-identical files are grouped by a SHA-1 of their bytes; each group keeps one deterministic
  representative (its first name in sorted order);
* a group whose copies carry different labels (age, gender or race) cannot be trusted: by default
  (``disagreeing="drop"``) the whole group is dropped; ``disagreeing="first"`` keeps the
  representative's labels instead. Either way the groups are reported.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gans.datasets.base import ImageDataset
from gans.errors import ConfigError, DataError, DataNotFoundError

log = logging.getLogger(__name__)

# CAAE's ten age groups (Zhang et al. 2017, section 4.1): upper bounds, inclusive; the last is >70.
AGE_GROUP_UPPER = (5, 10, 15, 20, 30, 40, 50, 60, 70)
AGE_GROUPS = ("0-5", "6-10", "11-15", "16-20", "21-30", "31-40", "41-50", "51-60", "61-70", ">70")
GENDERS = ("male", "female")
RACES = ("white", "black", "asian", "indian", "other")
MAX_AGE = 116  # the oldest age UTKFace documents
SPLITS = ("all", "train", "validation")
DISAGREEING_POLICIES = ("drop", "first")
_NAME = re.compile(r"^(?P<age>[^_]*)_(?P<gender>[^_]*)_(?P<race>[^_]*)_(?P<datetime>[^_.]*)\.jpg(\.chip\.jpg)?$",
                   re.IGNORECASE)


@dataclass(frozen=True)
class UTKFaceRecord:
    """One file's labels, as its name states them."""

    filename: str
    age: int
    gender: int
    race: int
    datetime: str


@dataclass
class UTKFaceIndex:
    """The cleaned list of UTKFace files and what cleaning did.

    Attributes:
        folder: where the files are.
        records: kept files, sorted by name, one per distinct image.
        files: files counted in the folder.
        skipped_names: names that do not parse, with the reason.
        duplicate_groups: groups of byte-identical files (lists of names, sorted).
        duplicates_removed: files dropped as copies (or as members of dropped groups).
        disagreeing_groups: the duplicate groups whose copies carry different age, gender or race.
        disagreeing: the policy applied to those groups.
    """

    folder: Path
    records: list
    files: int
    skipped_names: list = field(default_factory=list)
    duplicate_groups: list = field(default_factory=list)
    duplicates_removed: int = 0
    disagreeing_groups: list = field(default_factory=list)
    disagreeing: str = "drop"
    disagreeing_age_gender: int = 0

    def age_histogram(self) -> dict:
        """Kept images per CAAE age group, in group order."""
        counts = np.bincount(age_group([r.age for r in self.records]), minlength=len(AGE_GROUPS))
        return dict(zip(AGE_GROUPS, counts.tolist()))

    def report(self) -> dict:
        """The cleaning figures as plain numbers (for logs, config.json and the notebook)."""
        extra = sum(len(g) - 1 for g in self.duplicate_groups)
        return {
            "files": self.files,
            "skipped_names": len(self.skipped_names),
            "duplicate_groups": len(self.duplicate_groups),
            "duplicate_extra_files": extra,
            "disagreeing_groups": len(self.disagreeing_groups),
            "disagreeing_age_or_gender": self.disagreeing_age_gender,
            "disagreeing_policy": self.disagreeing,
            "removed": self.duplicates_removed,
            "kept": len(self.records),
            "age_groups": self.age_histogram(),
            "genders": dict(zip(GENDERS, np.bincount([r.gender for r in self.records], minlength=2).tolist())),
        }


def parse_utkface_name(name: str) -> UTKFaceRecord | None:
    """Parse ``[age]_[gender]_[race]_[datetime].jpg`` (optionally ``.chip.jpg``).

    Args:
        name: a file name (not a path).

    Returns:
        The labels, or ``None`` when a field is missing or out of range.
    """
    match = _NAME.match(name)
    if match is None:
        return None
    fields = match.groupdict()
    if not all(fields[k].isdigit() for k in ("age", "gender", "race", "datetime")):
        return None
    age, gender, race = int(fields["age"]), int(fields["gender"]), int(fields["race"])
    if age > MAX_AGE or gender not in (0, 1) or race >= len(RACES):
        return None
    return UTKFaceRecord(name, age, gender, race, fields["datetime"])


def _why_unparsable(name: str) -> str:
    stem = name.split(".", 1)[0]
    parts = stem.split("_")
    if len(parts) != 4:
        return f"{len(parts)} fields, expected age_gender_race_datetime"
    return "a field is not a number in range (age 0-116, gender 0/1, race 0-4)"


def age_group(ages) -> np.ndarray:
    """CAAE age group (0-9) of each age: 0-5, 6-10, 11-15, 16-20, 21-30, ..., 61-70, >70."""
    return np.searchsorted(np.asarray(AGE_GROUP_UPPER), np.asarray(ages), side="left").astype(np.int64)


def one_hot_pm1(indices, depth: int) -> np.ndarray:
    """One-hot rows with -1 for off and +1 for on (float32, the tanh range the CAAE uses).

    Args:
        indices: class ids in [0, depth).
        depth: number of classes.

    Returns:
        float32 array (N, depth).
    """
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= depth):
        raise ValueError(f"class ids must be in [0, {depth}); got {indices.min()}..{indices.max()}.")
    out = np.full((len(indices), depth), -1.0, np.float32)
    out[np.arange(len(indices)), indices] = 1.0
    return out


def index_utkface(folder: str | Path, disagreeing: str = "drop") -> UTKFaceIndex:
    """List, parse and deduplicate a UTKFace folder without decoding any image.

    Args:
        folder: a folder of UTKFace files (e.g. ``crop_part1`` or ``UTKFace``).
        disagreeing: what to do with byte-identical copies whose labels differ: "drop" the
            group, or keep the "first" name's labels.

    Returns:
        A :class:`UTKFaceIndex`; ``report()`` gives the figures.

    Raises:
        DataNotFoundError: the folder does not exist.
        DataError: no file in it has a UTKFace name.
    """
    if disagreeing not in DISAGREEING_POLICIES:
        raise ConfigError(f"disagreeing must be one of {DISAGREEING_POLICIES}, got {disagreeing!r}.")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataNotFoundError(
            f"UTKFace folder {folder} does not exist. Download UTKFace (crop_part1 or the aligned "
            "'UTKFace' folder) from https://susanqq.github.io/UTKFace/ and pass the folder."
        )
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    records, skipped = [], []
    for name in names:
        record = parse_utkface_name(name)
        if record is None:
            skipped.append((name, _why_unparsable(name)))
        else:
            records.append(record)
    if not records:
        raise DataError(
            f"{folder} holds {len(names)} files but none named age_gender_race_datetime.jpg; pass "
            "the UTKFace folder itself."
        )
    if skipped:
        log.warning("UTKFace: skipped %d files whose names lack a valid field: %s", len(skipped),
                    ", ".join(n for n, _ in skipped[:5]) + (" ..." if len(skipped) > 5 else ""))

    by_hash: dict[str, list] = {}
    for record in records:  # sorted by name, so each group's first member is deterministic
        digest = hashlib.sha1((folder / record.filename).read_bytes()).hexdigest()
        by_hash.setdefault(digest, []).append(record)
    kept, groups, disagreeing_groups, removed, age_gender = [], [], [], 0, 0
    for group in by_hash.values():
        if len(group) > 1:
            groups.append([r.filename for r in group])
            if len({(r.age, r.gender, r.race) for r in group}) > 1:
                disagreeing_groups.append([r.filename for r in group])
                age_gender += len({(r.age, r.gender) for r in group}) > 1
                if disagreeing == "drop":
                    removed += len(group)
                    continue
        kept.append(group[0])
        removed += len(group) - 1
    kept.sort(key=lambda r: r.filename)
    index = UTKFaceIndex(folder, kept, len(names), skipped, sorted(groups), removed, sorted(disagreeing_groups),
                         disagreeing, age_gender)
    if groups:
        log.warning(
            "UTKFace: %d groups of byte-identical files (%d extra copies); %d of them carry different "
            "labels and were %s.", len(groups), sum(len(g) - 1 for g in groups),
            len(disagreeing_groups), "dropped" if disagreeing == "drop" else "kept with the first name's labels",
        )
    return index


def split_indices(n: int, validation_fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random train/validation split of ``n`` items (sorted index arrays).

    The CAAE study holds a random part of UTKFace out as a validation set (seed 000, section 2.1).
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ConfigError(f"validation_fraction must be in [0, 1), got {validation_fraction}.")
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * validation_fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def load_utkface(
    folder: str | Path,
    size: int | None = 128,
    *,
    split: str = "all",
    validation_fraction: float = 0.1,
    seed: int = 0,
    limit: int | None = None,
    disagreeing: str = "drop",
) -> ImageDataset:
    """Load deduplicated UTKFace faces with CAAE age-group and gender labels.

    Args:
        folder: the UTKFace folder.
        size: output side in pixels (128 in the CAAE study); ``None`` keeps 200x200.
        split: "all", or "train" / "validation" of a seeded split made after deduplication.
        validation_fraction: share of the cleaned set held out for validation.
        seed: seed of the split.
        limit: load only the first ``limit`` images of the chosen split (for quick runs).
        disagreeing: "drop" or "first", see :func:`index_utkface`.

    Returns:
        An :class:`ImageDataset` of uint8 (N, size, size, 3). ``labels`` is float32 (N, 12): the
        age-group one-hot (10) then the gender one-hot (2), values -1/+1, which the CAAE
        concatenates with z. ``meta`` holds ``age``, ``age_group``, ``gender``, ``race``,
        ``filenames``, ``age_onehot``, ``gender_onehot`` and the cleaning ``report``.

    Reference:
        Zhang, Song and Qi, "Age Progression/Regression by Conditional Adversarial Autoencoder",
        CVPR 2017.
    """
    from gans.datasets.image_files import read_images

    if split not in SPLITS:
        raise ConfigError(f"split must be one of {SPLITS}, got {split!r}.")
    index = index_utkface(folder, disagreeing)
    records = index.records
    train, validation = split_indices(len(records), validation_fraction, seed)
    chosen = {"all": np.arange(len(records)), "train": train, "validation": validation}[split]
    if limit is not None:
        chosen = chosen[: int(limit)]
    records = [records[i] for i in chosen]
    if not records:
        raise DataError(f"UTKFace split {split!r} is empty; lower validation_fraction or use split='all'.")
    images = read_images([index.folder / r.filename for r in records], size=size)
    ages = np.asarray([r.age for r in records], np.int64)
    groups = age_group(ages)
    genders = np.asarray([r.gender for r in records], np.int64)
    age_onehot, gender_onehot = one_hot_pm1(groups, len(AGE_GROUPS)), one_hot_pm1(genders, len(GENDERS))
    meta = {
        "age": ages,
        "age_group": groups,
        "gender": genders,
        "race": np.asarray([r.race for r in records], np.int64),
        "filenames": [r.filename for r in records],
        "age_onehot": age_onehot,
        "gender_onehot": gender_onehot,
        "split": split,
        "seed": seed,
        "report": index.report(),
    }
    return ImageDataset(images, np.concatenate([age_onehot, gender_onehot], axis=1),
                        source=f"{index.folder} [utkface {split}]", meta=meta)


def _labelled(images: np.ndarray, groups: np.ndarray, genders: np.ndarray, source: str, meta: dict) -> ImageDataset:
    age_onehot, gender_onehot = one_hot_pm1(groups, len(AGE_GROUPS)), one_hot_pm1(genders, len(GENDERS))
    meta = {**meta, "age_group": groups, "gender": genders, "age_onehot": age_onehot, "gender_onehot": gender_onehot}
    return ImageDataset(images, np.concatenate([age_onehot, gender_onehot], axis=1), source=source, meta=meta)


def check_age_gender(groups, genders, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Age groups (0-9) and genders (0/1) as int64 arrays, or a DataError naming the first bad value.

    Raises:
        DataError: a value out of range, a non-integer, or arrays of different lengths.
    """
    groups, genders = np.asarray(groups), np.asarray(genders)
    if groups.ndim != 1 or genders.shape != groups.shape:
        raise DataError(f"{where}: age and gender must be one value per face; got shapes {groups.shape} and "
                        f"{genders.shape}.")
    for values, name, count in ((groups, "age group", len(AGE_GROUPS)), (genders, "gender", len(GENDERS))):
        if values.size and (not np.issubdtype(values.dtype, np.number) or (values != np.round(values)).any()):
            raise DataError(f"{where}: {name} labels must be whole numbers, got {values.dtype}.")
        bad = values[(values < 0) | (values >= count)] if values.size else values
        if bad.size:
            raise DataError(f"{where}: {name} label {bad[0]:g} is out of range (0-{count - 1}); "
                            f"{'age groups are ' + ', '.join(AGE_GROUPS) if count == len(AGE_GROUPS) else '0 male, 1 female'}.")
    return groups.astype(np.int64), genders.astype(np.int64)


def load_utkface_npz(path: str | Path, size: int | None = None) -> ImageDataset:
    """UTKFace faces from an .npz: ``images`` (uint8 N, H, W, 3) with either ``age`` (years, 0-116) or
    ``age_group`` (0-9), and ``gender`` (0 male, 1 female).

    Raises:
        DataError: a missing array, or an age or gender out of range (the message names the value).
    """
    from gans.datasets.npz import load_images, resize_images
    from gans.io import read_npz

    path = Path(path).expanduser()
    dataset = load_images(path)
    arrays, names = read_npz(path, ("age", "age_group", "gender"), what="a UTKFace .npz")
    if "gender" not in arrays or not ({"age", "age_group"} & set(arrays)):
        raise DataError(f"{path} has no CAAE labels: it needs 'gender' and 'age' (years) or 'age_group' (0-9) "
                        f"arrays beside 'images' (it holds {sorted(names)}).")
    if "age_group" in arrays:
        groups = arrays["age_group"]
    else:
        ages = np.asarray(arrays["age"])
        if ages.size and (ages.min() < 0 or ages.max() > MAX_AGE):
            bad = ages[(ages < 0) | (ages > MAX_AGE)][0]
            raise DataError(f"{path}: age {bad:g} is out of range (0-{MAX_AGE} years).")
        groups = age_group(ages)
    if len(groups) != len(dataset):
        raise DataError(f"{path}: {len(groups)} age labels for {len(dataset)} images.")
    groups, genders = check_age_gender(groups, arrays["gender"], str(path))
    images = dataset.images if size is None else resize_images(dataset.images, (int(size), int(size)))
    return _labelled(images, groups, genders, f"{path} [utkface npz]", {"filenames": dataset.meta.get("filenames")})


def spread_indices(n: int, count: int) -> np.ndarray:
    """``count`` indices (at most ``n``) spread evenly over a split of ``n`` faces. A split is in name
    order, and UTKFace names start with the age, so its first faces all share the youngest ages: take
    these instead of the first ``count``."""
    return np.unique(np.linspace(0, n - 1, min(count, n)).round().astype(int))


def _subset(n: int, limit: int | None, seed: int) -> np.ndarray:
    """Rows kept by ``limit``: all, or the first ``limit`` of a seeded shuffle, in sorted order."""
    if limit is None or int(limit) >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 7]).permutation(n)[: int(limit)])


def _npz_face_names(path: Path, filenames, n: int) -> list[str]:
    """A name per row of a UTKFace .npz: its ``filenames`` array, or ``NPZ_NAME#ROW`` without one."""
    if filenames is not None and len(filenames) == n:
        return [str(f) for f in filenames]
    return [f"{path.name}#{i}" for i in range(n)]


def utkface_split_names(path: str | Path, *, validation_fraction: float = 0.1, seed: int = 0,
                        limit: int | None = None, disagreeing: str = "drop") -> tuple[list[str], list[str]]:
    """The names of the faces in :func:`load_utkface_splits`' training and validation splits (the same
    arguments give the same faces), without decoding an image: a folder's file names, an .npz's
    ``filenames`` array or ``NPZ_NAME#ROW``. Two splits share a face when they share a name, which is
    how ``gans age-agreement`` finds validation faces its age classifier was trained on."""
    from gans.io import read_npz

    path = Path(path).expanduser()
    if path.suffix == ".npz":
        arrays, _ = read_npz(path, ("filenames", "gender"), what="a UTKFace .npz")
        if "gender" not in arrays:
            raise DataError(f"{path} has no 'gender' array: it is not a UTKFace .npz.")
        names = _npz_face_names(path, arrays.get("filenames"), len(arrays["gender"]))
    else:
        names = [r.filename for r in index_utkface(path, disagreeing).records]
    keep = _subset(len(names), limit, seed)
    train, validation = split_indices(len(keep), validation_fraction, seed)
    return [names[i] for i in keep[train]], [names[i] for i in keep[validation]]


def load_utkface_splits(path: str | Path, size: int | None = 128, *, validation_fraction: float = 0.1,
                        seed: int = 0, limit: int | None = None,
                        disagreeing: str = "drop") -> tuple[ImageDataset, ImageDataset]:
    """The CAAE's training and validation splits of a UTKFace folder or .npz, indexed once.

    ``limit`` keeps N faces before the split: the first N of a seeded shuffle of the cleaned set (of an
    .npz: of its rows), kept in their sorted order, so a quick run always sees the same faces, split the
    same way. Not the first N names: sorted by name, UTKFace's first thousands are the ages whose
    names start with "1" or "2" (1, 10-29, 100-116), and whole age groups would be missing.

    Returns:
        (train, validation) :class:`ImageDataset` objects with -1/+1 age-group and gender label rows
        (as :func:`load_utkface`); ``meta["report"]`` has the cleaning figures of a folder.
    """
    from gans.datasets.image_files import read_images

    path = Path(path).expanduser()
    if path.suffix == ".npz":
        everything = load_utkface_npz(path, size)
        keep = _subset(len(everything), limit, seed)
        train, validation = split_indices(len(keep), validation_fraction, seed)
        names = _npz_face_names(path, everything.meta.get("filenames"), len(everything))

        everything.meta["filenames"] = names
        return tuple(everything.subset(keep[rows], f"{path} [utkface npz {name}]", split=name, seed=seed)
                     for rows, name in ((train, "train"), (validation, "validation")))
    index = index_utkface(path, disagreeing)
    records = [index.records[i] for i in _subset(len(index.records), limit, seed)]
    train, validation = split_indices(len(records), validation_fraction, seed)
    out = []
    for name, rows in (("train", train), ("validation", validation)):
        chosen = [records[i] for i in rows]
        if not chosen:
            raise DataError(f"the UTKFace {name} split of {len(records)} faces is empty; use more faces (--limit) "
                            "or another validation fraction.")
        images = read_images([index.folder / r.filename for r in chosen], size=size)
        ages = np.asarray([r.age for r in chosen], np.int64)
        out.append(_labelled(images, age_group(ages), np.asarray([r.gender for r in chosen], np.int64),
                             f"{index.folder} [utkface {name}]",
                             {"age": ages, "race": np.asarray([r.race for r in chosen], np.int64),
                              "filenames": [r.filename for r in chosen], "split": name, "seed": seed,
                              "report": index.report()}))
    return out[0], out[1]
