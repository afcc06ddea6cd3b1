"""InceptionV3 average-pool features, the features of the thesis's FID, and where their weights come from.

The ImageNet weights are downloaded by Keras on first use. With no network,
:func:`resolve_inception_weights` says so (:data:`OFFLINE_MESSAGE`) and takes a local file instead:
the ``weights`` argument, ``$GANS_INCEPTION_WEIGHTS`` or a copy in ``~/.keras/models``.

Reference:
    Szegedy, C. et al. (2016). Rethinking the Inception architecture for computer vision. CVPR.
    Heusel, M. et al. (2017). GANs trained by a two time-scale update rule converge to a local Nash
    equilibrium. NeurIPS.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import keras

from gans.errors import DataError, DataNotFoundError
from gans.evaluation.features import FeatureExtractor

INCEPTION_SIZE = 299
INCEPTION_NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_NOTOP_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + INCEPTION_NOTOP_FILE
)
# Keras' published MD5 of the no-top ImageNet weights; a local file with this hash is "imagenet".
INCEPTION_NOTOP_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"
WEIGHTS_ENV_VAR = "GANS_INCEPTION_WEIGHTS"
OFFLINE_MESSAGE = (
    "the InceptionV3 ImageNet weights are not cached and could not be downloaded ({reason}). "
    "Download " + INCEPTION_NOTOP_URL + " on a machine with network access and pass the local file "
    "(Python: inception_extractor(weights='/path/to/" + INCEPTION_NOTOP_FILE + "'); CLI: "
    "--inception-weights PATH; or set " + WEIGHTS_ENV_VAR + "=PATH), or copy it into "
    "~/.keras/models/. Without a download, '--extractor lenet' computes an offline FID."
)


def _file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_inception_weights(weights: str | os.PathLike | None) -> tuple[Path | None, str]:
    """Find the InceptionV3 no-top weights file.

    Args:
        weights: ``"imagenet"`` (the ``GANS_INCEPTION_WEIGHTS`` file if that variable is set, else
            Keras' cache or download), a path to a local .h5 file, or ``None`` for random weights.

    Returns:
        (path or None, tag): the tag is ``"imagenet"`` for the official file (checked by MD5),
        ``"file-<md5 prefix>"`` for another file, ``"random"`` for no weights.

    Raises:
        DataNotFoundError: no network and no cached file (the message names the local-file option),
            or a local path that does not exist.
    """
    if weights is None:
        return None, "random"
    if str(weights) == "imagenet":
        env = os.environ.get(WEIGHTS_ENV_VAR)
        if env:
            weights = env
        else:
            try:
                path = Path(keras.utils.get_file(INCEPTION_NOTOP_FILE, INCEPTION_NOTOP_URL,
                                                 cache_subdir="models", file_hash=INCEPTION_NOTOP_MD5))
            except Exception as exc:  # Keras raises a bare Exception("URL fetch failure ...")
                reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}" if str(exc) else type(exc).__name__
                raise DataNotFoundError(OFFLINE_MESSAGE.format(reason=reason)) from None
            return path, "imagenet"
    path = Path(weights).expanduser()
    if not path.is_file():
        raise DataNotFoundError(
            f"InceptionV3 weights file {path} does not exist. Pass the no-top weights file "
            f"{INCEPTION_NOTOP_FILE} (from {INCEPTION_NOTOP_URL}) or weights='imagenet'."
        )
    md5 = _file_md5(path)
    return path, "imagenet" if md5 == INCEPTION_NOTOP_MD5 else f"file-{md5[:8]}"


def inception_extractor(weights: str | os.PathLike | None = "imagenet", resize_mode: str = "bilinear",
                        batch_size: int = 32, jit: bool | None = None) -> FeatureExtractor:
    """InceptionV3 average-pool features (2048-d), the features of the thesis's FID.

    Args:
        weights: ``"imagenet"`` (download once into ``~/.keras/models``, or the file named by
            ``$GANS_INCEPTION_WEIGHTS``), a local path to
            ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``, or ``None`` for random
            weights (tests and speed measurements only: such FIDs mean nothing and are never cached).
        resize_mode: interpolation used to resize to 299x299.
        batch_size: images per batch.
        jit: XLA for the batches (see :class:`~gans.evaluation.features.FeatureExtractor`).

    Returns:
        A :class:`~gans.evaluation.features.FeatureExtractor` named ``"inception_v3:<tag>"``.

    Raises:
        DataNotFoundError: the weights cannot be found or downloaded (see
            :func:`resolve_inception_weights`).

    Reference:
        Szegedy, C. et al. (2016). Rethinking the Inception architecture for computer vision. CVPR.
        Heusel et al. (2017), for the use of its pool features in FID.
    """
    path, tag = resolve_inception_weights(weights)
    model = keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg",
                                           input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3))
    if path is not None:
        try:
            model.load_weights(str(path))
        except Exception as exc:  # a wrong or truncated file fails deep inside h5py/Keras
            raise DataError(
                f"cannot load InceptionV3 weights from {path} ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:160] if str(exc) else ''}). Pass the no-top file "
                f"{INCEPTION_NOTOP_FILE}."
            ) from None
    return FeatureExtractor(model, f"inception_v3:{tag}", (INCEPTION_SIZE, INCEPTION_SIZE), 3,
                            resize_mode=resize_mode, batch_size=batch_size, cacheable=path is not None, jit=jit)
