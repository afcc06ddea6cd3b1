"""CelebA aligned faces with their 40 binary attributes.

CelebA (Liu, Luo, Wang and Tang, "Deep Learning Face Attributes in the Wild", ICCV 2015) ships
``img_align_celeba/`` (178x218 JPEGs named 000001.jpg ...) and ``list_attr_celeba.txt``: a count
line, a line of 40 attribute names, then one row per image, ``name v1 ... v40`` with values -1/1.

:func:`load_celeba` aligns images to attribute rows by file name, so any folder of CelebA images
works (the full set, a subset, a half-size copy), and returns the attributes as 0/1. The thesis
(seed 003) trains on 40x40 MTCNN crops of CelebA: :func:`crop_celeba_faces` makes that set with the
face pipeline; the attribute classifier of seed 002 trains on the attribute rows.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gans.datasets.base import ImageDataset
from gans.errors import ConfigError, DataError, DataNotFoundError

log = logging.getLogger(__name__)

ATTRIBUTE_FILE = "list_attr_celeba.txt"
N_ATTRIBUTES = 40
# The 40 attributes in the order of the official list_attr_celeba.txt (and of a classifier's outputs).
ATTRIBUTE_NAMES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips", "Big_Nose",
    "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses",
    "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks",
    "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick",
    "Wearing_Necklace", "Wearing_Necktie", "Young",
)


@dataclass
class CelebAAttributes:
    """The parsed attribute file.

    Attributes:
        names: the 40 attribute names, in file order.
        filenames: image name of each row.
        values: uint8 (N, 40) with 1 where the file says 1 and 0 where it says -1.
        declared_count: what the file's first line claims.
    """

    names: list
    filenames: list
    values: np.ndarray
    declared_count: int


def read_attributes(path: str | Path) -> CelebAAttributes:
    """Read ``list_attr_celeba.txt`` in the official format.

    Windows line ends and a missing final newline are accepted. A count line that disagrees with
    the rows that follow is logged as a warning (copies of the file are often cut short) and the
    rows win.

    Args:
        path: the attribute file.

    Returns:
        A :class:`CelebAAttributes`.

    Raises:
        DataNotFoundError: the file does not exist.
        DataError: the header or a row is malformed (the message names the line).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(
            f"CelebA attribute file {path} does not exist. Download list_attr_celeba.txt (Anno/ in the "
            "CelebA release) and put it next to the image folder, or pass attr_file=."
        )
    # splitlines() treats \r\n, \n and a missing last newline alike.
    lines = path.read_text(encoding="utf-8", errors="strict").splitlines()
    if len(lines) < 2:
        raise DataError(f"{path} has {len(lines)} lines; expected a count line, 40 names, then rows.")
    try:
        declared = int(lines[0].strip())
    except ValueError:
        raise DataError(f"{path} line 1 should be the number of images, got {lines[0][:40]!r}.") from None
    names = lines[1].split()
    if len(names) != N_ATTRIBUTES:
        raise DataError(f"{path} line 2 has {len(names)} attribute names; CelebA has {N_ATTRIBUTES}.")
    rows = [line for line in lines[2:] if line.strip()]
    values = np.empty((len(rows), N_ATTRIBUTES), np.uint8)
    filenames = []
    for i, line in enumerate(rows):
        fields = line.split()
        if len(fields) != N_ATTRIBUTES + 1:
            raise DataError(f"{path} row {i + 1} ({fields[0] if fields else ''}) has {len(fields) - 1} values, "
                            f"expected {N_ATTRIBUTES}.")
        row = np.asarray(fields[1:], dtype=np.int8) if all(f in ("1", "-1") for f in fields[1:]) else None
        if row is None:
            raise DataError(f"{path} row {i + 1} ({fields[0]}) has values other than -1 and 1.")
        filenames.append(fields[0])
        values[i] = row > 0
    if declared != len(rows):
        log.warning(
            "%s: the count line says %d images but %d rows follow; using the %d rows.",
            path, declared, len(rows), len(rows),
        )
    return CelebAAttributes(names, filenames, values, declared)


def attribute_mask(values: np.ndarray, names, **conditions) -> np.ndarray:
    """Rows whose attributes match every condition, e.g. ``Smiling=1, Male=0``.

    Args:
        values: (N, 40) attributes as 0/1.
        names: the 40 attribute names.
        **conditions: attribute name = wanted value (1/True/+1 for present, 0/False/-1 for absent).

    Returns:
        Boolean mask of length N.

    Raises:
        ConfigError: an unknown attribute name (the message suggests the closest) or value.
    """
    names = list(names)
    mask = np.ones(len(values), bool)
    for name, wanted in conditions.items():
        if name not in names:
            close = difflib.get_close_matches(name, names, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else f" Known: {', '.join(names)}."
            raise ConfigError(f"unknown CelebA attribute {name!r}.{hint}")
        if wanted not in (0, 1, -1, True, False):
            raise ConfigError(f"attribute {name} must be 1 (present) or 0/-1 (absent), got {wanted!r}.")
        mask &= values[:, names.index(name)] == (1 if wanted in (1, True) else 0)
    return mask


def select_attributes(dataset: ImageDataset, **conditions) -> ImageDataset:
    """Keep the images of a CelebA :class:`ImageDataset` whose attributes match, e.g. ``Smiling=1``.

    Args:
        dataset: what :func:`load_celeba` returned.
        **conditions: see :func:`attribute_mask`.

    Returns:
        A new :class:`ImageDataset` with the matching rows (images, labels and file names).
    """
    mask = attribute_mask(dataset.labels, dataset.meta["attribute_names"], **conditions)
    meta = dict(dataset.meta)
    meta["filenames"] = [f for f, keep in zip(dataset.meta["filenames"], mask) if keep]
    meta["selected"] = {**dataset.meta.get("selected", {}), **conditions}
    return ImageDataset(dataset.images[mask], dataset.labels[mask], source=dataset.source, meta=meta)


# Where the aligned faces lie under a CelebA root: torchvision's layout (ROOT/celeba/img_align_celeba)
# and the release's (ROOT/img_align_celeba, or ROOT/Img/img_align_celeba).
_IMAGE_FOLDERS = ("img_align_celeba", "celeba/img_align_celeba", "Img/img_align_celeba")


def celeba_image_folder(path: str | Path) -> Path:
    """The folder of CelebA images that ``path`` names: the folder itself, or the ``img_align_celeba/``
    under a CelebA root (the release's layout, or torchvision's ``ROOT/celeba/``), as torchvision's
    ``CelebA(root)`` accepts it.

    Raises:
        DataNotFoundError: ``path`` does not exist.
        DataError: ``path`` is a file (an .npz of crops is for the thesis's CelebA experiments, not here).
    """
    path = Path(path).expanduser()
    if path.is_file():
        raise DataError(
            f"{path} is a file; CelebA is read from its image folder (img_align_celeba, or the CelebA root that "
            f"holds it and {ATTRIBUTE_FILE}). Pass that folder."
        )
    if not path.is_dir():
        raise DataNotFoundError(
            f"CelebA image folder {path} does not exist. Download img_align_celeba (Img/ in the "
            "CelebA release) and pass its folder, or the CelebA root that holds it."
        )
    for inner in _IMAGE_FOLDERS:
        if (path / inner).is_dir() and not any(p.suffix.lower() in (".jpg", ".png") for p in path.iterdir()):
            return path / inner
    return path


def find_attribute_file(image_dir: Path, root: Path | None = None) -> Path:
    """``list_attr_celeba.txt`` in the image folder, beside it, in a sibling ``Anno/``, or (given the
    CelebA ``root`` the folder was found under) in the root or its ``Anno/``."""
    places = [image_dir, image_dir.parent, image_dir.parent / "Anno"]
    if root is not None:
        places += [root, root / "Anno"]
    for candidate in (place / ATTRIBUTE_FILE for place in places):
        if candidate.is_file():
            return candidate
    raise DataNotFoundError(
        f"no {ATTRIBUTE_FILE} in or next to {image_dir}. Put the CelebA attribute file there or pass attr_file=."
    )


def load_celeba(
    image_dir: str | Path,
    attr_file: str | Path | None = None,
    *,
    limit: int | None = None,
    center_crop: int | tuple[int, int] | None = None,
    size: int | tuple[int, int] | None = None,
    select: dict | None = None,
    workers: int = 2,
) -> ImageDataset:
    """Load CelebA images aligned, by file name, to their attribute rows.

    Args:
        image_dir: a folder of CelebA JPEGs (``img_align_celeba`` or any resized copy), or a CelebA
            root holding ``img_align_celeba/`` (:func:`celeba_image_folder`).
        attr_file: ``list_attr_celeba.txt``; ``None`` looks in and next to ``image_dir``.
        limit: keep the first ``limit`` aligned rows (attribute-file order).
        center_crop: cut a centred square (or (height, width)) first, e.g. 178 on 178x218 images.
        size: resize to this side (or (height, width)); ``None`` keeps the size.
        select: only rows matching these attributes, e.g. ``{"Smiling": 1, "Male": 0}``;
            applied before decoding, so unselected images are never read.
        workers: decoding threads.

    Returns:
        An :class:`ImageDataset`: uint8 images, ``labels`` uint8 (N, 40) 0/1, and ``meta`` with
        ``attribute_names``, ``filenames`` and a ``report`` (rows, images, matched, images without
        a row, rows without an image, and the count line).

    Raises:
        DataNotFoundError: the folder or attribute file is missing.
        DataError: ``image_dir`` is a file, or no image in the folder has an attribute row.

    Reference:
        Liu, Luo, Wang and Tang, "Deep Learning Face Attributes in the Wild", ICCV 2015.
    """
    from gans.datasets.image_files import read_images

    root = Path(image_dir).expanduser()
    image_dir = celeba_image_folder(root)
    attrs = read_attributes(Path(attr_file).expanduser() if attr_file
                            else find_attribute_file(image_dir, root if root != image_dir else None))
    on_disk = {p.name for p in image_dir.iterdir() if p.is_file() and not p.name.startswith(".")}
    rows = np.asarray([i for i, name in enumerate(attrs.filenames) if name in on_disk], dtype=np.int64)
    report = {
        "attribute_rows": len(attrs.filenames),
        "declared_count": attrs.declared_count,
        "count_line_matches": attrs.declared_count == len(attrs.filenames),
        "images_in_folder": len(on_disk),
        "matched": int(len(rows)),
        "images_without_row": len(on_disk - set(attrs.filenames)),
        "rows_without_image": len(attrs.filenames) - int(len(rows)),
    }
    if not len(rows):
        raise DataError(
            f"none of the {len(on_disk)} files in {image_dir} is named in the attribute file; pass the "
            "CelebA image folder that matches it (file names like 000001.jpg)."
        )
    if report["images_without_row"]:
        log.warning("CelebA: %d images in %s have no attribute row and are left out.",
                    report["images_without_row"], image_dir)
    if select:
        rows = rows[attribute_mask(attrs.values[rows], attrs.names, **select)]
    if limit is not None:
        rows = rows[: int(limit)]
    if not len(rows):
        raise DataError(f"no CelebA image matches {select}; loosen the selection.")
    filenames = [attrs.filenames[i] for i in rows]
    images = read_images([image_dir / f for f in filenames], size=size, center_crop=center_crop, workers=workers)
    report["loaded"] = len(filenames)
    meta = {"attribute_names": list(attrs.names), "filenames": filenames, "rows": rows, "report": report,
            "selected": dict(select or {})}
    return ImageDataset(images, attrs.values[rows], source=f"{image_dir} [celeba]", meta=meta)


def crop_celeba_faces(image_dir: str | Path, out: str | Path, size: int = 40, **kwargs):
    """Make the thesis's CelebA face set: MTCNN crops resized to ``size`` (40 in the thesis).

    The thesis (seed 003, section 4.1) ran a face detector over CelebA and trained on 50,000 40x40
    colour crops; ``limit=50000`` repeats that size. This is :func:`gans.datasets.faces.crop_faces`
    with CelebA defaults; the crops keep their source file names, so
    :func:`attributes_for_crops` can attach the attribute rows afterwards.

    Args:
        image_dir: the CelebA image folder.
        out: the .npz to write.
        size: crop side.
        **kwargs: any option of :func:`gans.datasets.faces.crop_faces` (limit, margin, ...).

    Returns:
        The :class:`gans.datasets.faces.CropSummary`.
    """
    from gans.datasets.faces import crop_faces

    return crop_faces(image_dir, out, size, **kwargs)


def attributes_for_crops(filenames, attr_file: str | Path) -> tuple[np.ndarray, list]:
    """Attribute rows (0/1) for crops named by their CelebA file names, e.g. a crop set's ``filenames``.

    Returns:
        ``(values, names)``: uint8 (N, 40) aligned to ``filenames`` and the 40 attribute names.

    Raises:
        DataError: a file name has no attribute row.
    """
    attrs = read_attributes(attr_file)
    where = {name: i for i, name in enumerate(attrs.filenames)}
    missing = [f for f in filenames if Path(str(f)).name not in where]
    if missing:
        raise DataError(f"{len(missing)} crops have no attribute row (first: {missing[0]}); use the matching file.")
    return attrs.values[[where[Path(str(f)).name] for f in filenames]], list(attrs.names)
