"""Finding the face in a photo with MTCNN: the detector, batched detection, and the choice of one face.

:class:`CropOptions` holds what a crop run does to each photo; its thresholds and selection rule are
what :func:`choose_face` applies to the detector's output.

Detector: Zhang, K., Zhang, Z., Li, Z., Qiao, Y. (2016). Joint face detection and alignment using
multi-task cascaded convolutional networks. IEEE Signal Processing Letters.
https://arxiv.org/abs/1604.02878

mtcnn (and TensorFlow behind it) is part of the optional ``faces`` extra and is imported only in
:func:`build_detector`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gans.datasets.image_files import FACES_EXTRA_HINT
from gans.errors import ConfigError

SELECT_RULES = ("confidence", "largest", "only")
# MTCNN's last stage (ONet) drops faces below this confidence unless told otherwise.
MTCNN_ONET_THRESHOLD = 0.8
# MTCNN's pyramid starts at 12-pixel windows; a smaller image cannot hold a detectable face.
MTCNN_MIN_INPUT = 12


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
            (the largest box area); "only" keeps a photo's face only when it is the one face found
            (a photo of several people is skipped as "several_faces").
        max_side: photos whose longest side exceeds this are shrunk for detection only.
        max_pixels: photos with more pixels are skipped as "too_large", judged from the file's header
            before anything is decoded (a 20000x20000 PNG would take 1.2 GB decoded).
    """

    size: int = 40
    margin: float = 0.0
    min_confidence: float = 0.9
    min_face_size: int = 20
    select: str = "confidence"
    max_side: int = 1024
    max_pixels: int = 50_000_000

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
        if int(self.max_pixels) < MTCNN_MIN_INPUT * MTCNN_MIN_INPUT:
            raise ConfigError(f"max_pixels must be at least {MTCNN_MIN_INPUT ** 2}, got {self.max_pixels}; "
                              "try 50000000.")
        if int(self.max_side) < 2 * MTCNN_MIN_INPUT:
            raise ConfigError(f"max_side must be at least {2 * MTCNN_MIN_INPUT} pixels, got {self.max_side}; try 1024.")


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


def detect_batch(detector, images: list[np.ndarray], options: CropOptions) -> list[list[dict]]:
    """One detector call on a list of images; one list of faces per image.

    Raises:
        RuntimeError: the detector returned a different number of results.
    """
    kwargs = {}
    if options.min_confidence < MTCNN_ONET_THRESHOLD:
        # Let faces the user accepts through MTCNN's own last-stage threshold.
        kwargs["threshold_onet"] = options.min_confidence
    results = detector.detect_faces(list(images), **kwargs)
    if len(results) != len(images):
        raise RuntimeError(f"detector returned {len(results)} results for {len(images)} images")
    return results


def detect_window(detector, images: list[np.ndarray | None],
                  options: CropOptions) -> dict[int, list[dict] | Exception]:
    """Run the detector on every image of a window, batching images of equal shape.

    MTCNN pads a batch to its largest image, so only equal shapes are batched: mixing sizes would
    spend the saved call overhead on padding. When a batch fails, its images are retried one by one,
    so one bad image does not sink the others.

    Args:
        detector: anything with ``detect_faces(list_of_rgb_uint8, **kw) -> list[list[dict]]``.
        images: the detection images of a window; ``None`` where a file gave no image.
        options: the run's options (the confidence threshold passed to MTCNN).

    Returns:
        For each index of a non-None image: its faces, or the exception its detection raised.
    """
    groups: dict[tuple, list[int]] = {}
    for i, image in enumerate(images):
        if image is not None:
            groups.setdefault(image.shape, []).append(i)
    found: dict[int, list[dict] | Exception] = {}
    for indices in groups.values():
        try:
            results = detect_batch(detector, [images[i] for i in indices], options)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - one bad image must not sink the batch: retry singly
            if len(indices) == 1:
                found[indices[0]] = exc
                continue
            results = []
            for i in indices:
                try:
                    results.append(detect_batch(detector, [images[i]], options)[0])
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as single_exc:  # noqa: BLE001
                    results.append(single_exc)
        for i, faces in zip(indices, results):
            found[i] = faces
    return found


def choose_face(faces: list[dict], options: CropOptions) -> tuple[dict | None, str, str]:
    """Pick one face by ``options.select`` among those that pass the confidence and size limits.

    Args:
        faces: detector output for one image, boxes already in source pixels.
        options: thresholds and the selection rule.

    Returns:
        ``(face, "", "")``, or ``(None, reason, detail)`` with reason ``no_face``,
        ``low_confidence``, ``face_too_small`` or (select "only") ``several_faces``.
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

    if options.select == "only" and len(big) > 1:
        return None, "several_faces", f"{len(big)} faces found; this needs a photo of one person"
    if options.select == "largest":
        return max(big, key=lambda f: (area(f), float(f["confidence"]))), "", ""
    return max(big, key=lambda f: (float(f["confidence"]), area(f))), "", ""
