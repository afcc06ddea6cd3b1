"""Data loaders. Every loader returns uint8 images; :func:`scale_images` is the one way to [-1, 1].

The face modules import OpenCV, mtcnn and TensorFlow only inside the functions that need them.
"""

from gans.datasets.base import ImageDataset
from gans.datasets.celeba import load_celeba, select_attributes
from gans.datasets.faces import crop_faces
from gans.datasets.npz import load_images, load_scaled, resize_images, save_images
from gans.datasets.scaling import scale_images, unscale_images
from gans.datasets.utkface import load_utkface

__all__ = [
    "ImageDataset",
    "crop_faces",
    "load_celeba",
    "load_images",
    "load_scaled",
    "load_utkface",
    "resize_images",
    "save_images",
    "scale_images",
    "select_attributes",
    "unscale_images",
]
