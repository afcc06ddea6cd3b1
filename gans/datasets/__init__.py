"""Data loaders. Every loader returns uint8 images; :func:`scale_images` is the one way to [-1, 1]."""

from gans.datasets.base import ImageDataset
from gans.datasets.scaling import scale_images, unscale_images

__all__ = ["ImageDataset", "scale_images", "unscale_images"]
