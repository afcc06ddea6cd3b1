"""Images to feature vectors: the first layer of FID.

A :class:`FeatureExtractor` wraps any Keras network from images in [-1, 1] to a feature vector and
runs it inside one compiled function per input shape: resize, channel matching (:class:`MatchChannels`)
and the network run together, batch by batch. The networks themselves live beside it:
:func:`gans.evaluation.inception.inception_extractor` (the thesis's InceptionV3 pool features) and
:func:`gans.evaluation.classifier.lenet_extractor` (an offline LeNet-5);
:func:`gans.evaluation.extractors.get_extractor` picks one by name.
"""

from __future__ import annotations

import keras
import numpy as np

from gans.datasets.scaling import scale_images
from gans.errors import ConfigError, DataError
from gans.evaluation.cache import slug

RESIZE_MODES = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                "mitchellcubic")


@keras.saving.register_keras_serializable(package="gans")
class MatchChannels(keras.layers.Layer):
    """Convert images to a given number of channels (1 or 3).

    Grayscale to RGB repeats the channel (what InceptionV3-based FID tools do for MNIST); RGB to
    grayscale takes the ITU-R BT.601 luma, the same weights PIL's ``convert("L")`` uses.

    Args:
        channels: the number of channels the network after this layer expects.
    """

    LUMA = (0.299, 0.587, 0.114)

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}.")
        self.channels = int(channels)

    def call(self, inputs):
        have = inputs.shape[-1]
        if have == self.channels:
            return inputs
        if have == 1:
            return keras.ops.repeat(inputs, self.channels, axis=-1)
        if have == 3 and self.channels == 1:
            weights = keras.ops.convert_to_tensor(self.LUMA, dtype=inputs.dtype)
            return keras.ops.sum(inputs * weights, axis=-1, keepdims=True)
        raise ValueError(f"cannot convert {have} channels to {self.channels}.")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.channels,)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


class FeatureExtractor:
    """Images to feature vectors through a Keras model, batched, in one compiled function.

    For each input shape the extractor builds (once) a small wrapper model: resize to the network's
    input size with the named interpolation, match the channel count, run the network. Images are
    converted to [-1, 1] with :func:`gans.datasets.scale_images`, so uint8 and [-1, 1] inputs of the
    same pictures give the same features. The last, partial batch is padded to the full batch size so
    the compiled function is traced once per input shape.

    Args:
        model: a Keras model from images in [-1, 1] at ``input_size`` to a feature vector.
        name: the name every FID computed with these features carries (e.g. ``"inception_v3:imagenet"``).
        input_size: (height, width) the network expects.
        channels: 1 or 3, the channel count the network expects.
        resize_mode: interpolation for resizing (bilinear by default, as in the TTUR reference code).
        batch_size: images per batch.
        cacheable: whether statistics from this extractor may be cached (not for random weights).
        jit: XLA-compile the batches' function (True), or not (False); None leaves it to Keras, which
            compiles with XLA where a GPU is present and not on a CPU-only machine.
    """

    def __init__(self, model: keras.Model, name: str, input_size: tuple[int, int], channels: int,
                 resize_mode: str = "bilinear", batch_size: int = 64, cacheable: bool = True,
                 jit: bool | None = None):
        if resize_mode not in RESIZE_MODES:
            raise ConfigError(f"resize mode {resize_mode!r} is not one of {RESIZE_MODES}.")
        if batch_size < 1:
            raise ConfigError(f"batch size must be >= 1, got {batch_size}.")
        self.model = model
        self.base_name = name
        self.input_size = tuple(int(s) for s in input_size)
        self.channels = int(channels)
        self.resize_mode = resize_mode
        self.batch_size = int(batch_size)
        self.cacheable = cacheable
        self.jit = jit
        self.dim = int(model.output_shape[-1])
        self._wrappers: dict[tuple[int, int, int], keras.Model] = {}

    @property
    def name(self) -> str:
        """The extractor's name as tables show it; a non-default resize mode is part of it."""
        return self.base_name if self.resize_mode == "bilinear" else f"{self.base_name}+{self.resize_mode}"

    def _wrapper(self, shape: tuple[int, int, int]) -> keras.Model:
        if shape not in self._wrappers:
            inputs = keras.Input(shape=shape, name="images")
            x = inputs
            if tuple(shape[:2]) != self.input_size:
                x = keras.layers.Resizing(*self.input_size, interpolation=self.resize_mode,
                                          name="resize")(x)
            x = MatchChannels(self.channels, name="match_channels")(x)
            wrapper = keras.Model(inputs, self.model(x), name=f"{slug(self.name)}_features")
            if self.jit is not None:
                wrapper.jit_compile = bool(self.jit)
            self._wrappers[shape] = wrapper
        return self._wrappers[shape]

    def __call__(self, images: np.ndarray, batch_size: int | None = None,
                 progress: bool = False) -> np.ndarray:
        """Features of ``images``.

        Args:
            images: (N, H, W, C) uint8 in [0, 255] or float in [-1, 1]; C is 1 or 3. A 3-d array is
                read as grayscale (N, H, W).
            batch_size: overrides the extractor's batch size.
            progress: show a progress bar.

        Returns:
            float32 array (N, dim).
        """
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise DataError(f"images must be (N, H, W, C) with C = 1 or 3; got shape {images.shape}.")
        if len(images) == 0:
            raise DataError("no images to extract features from.")
        batch = int(batch_size or self.batch_size)
        wrapper = self._wrapper(tuple(int(s) for s in images.shape[1:]))
        out = np.empty((len(images), self.dim), dtype=np.float32)
        starts = range(0, len(images), batch)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"features [{self.name}]", unit="batch", leave=False)
        for start in starts:
            chunk = scale_images(images[start:start + batch])
            count = len(chunk)
            if count < batch:  # pad so the compiled predict function keeps one input shape
                chunk = np.concatenate([chunk, np.zeros((batch - count,) + chunk.shape[1:], np.float32)])
            out[start:start + count] = np.asarray(wrapper.predict_on_batch(chunk))[:count]
        return out
