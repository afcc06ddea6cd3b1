"""Pictures a person looks at: sample grids and loss curves (matplotlib, headless)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gans.datasets.scaling import unscale_images
from gans.io import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def tile_images(images: np.ndarray, rows: int | None = None, cols: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile (N, H, W, C) images into one uint8 (rows*H, cols*W, C) mosaic with ``pad`` px gaps.

    Float images are taken to be in [-1, 1]; uint8 as is.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"expected images (N, H, W, C), got shape {images.shape}.")
    if images.dtype != np.uint8:
        images = unscale_images(images)
    n, h, w, c = images.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = rows or math.ceil(n / cols)
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, dtype=np.uint8)
    for i in range(min(n, rows * cols)):
        r, q = divmod(i, cols)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = images[i]
    return grid


def save_image_grid(images: np.ndarray, path: str | Path, rows: int | None = None, cols: int | None = None,
                    scale: int = 4) -> Path:
    """Save a grid of images as PNG, each pixel enlarged ``scale`` times for easy viewing."""
    grid = tile_images(images, rows, cols)
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    plt = _pyplot()
    path = Path(path)
    with atomic_path(path) as tmp:
        if grid.shape[-1] == 1:
            plt.imsave(tmp, grid[..., 0], cmap="gray", vmin=0, vmax=255, format="png")
        else:
            plt.imsave(tmp, grid, format="png")
    return path


def plot_losses(steps: Sequence[int], d_loss: Sequence[float], g_loss: Sequence[float], path: str | Path,
                title: str = "") -> Path:
    """The thesis's loss figure (4.8): discriminator in blue, generator in orange, over iterations."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    ax.plot(steps, d_loss, color="tab:blue", linewidth=0.8, label="discriminator")
    ax.plot(steps, g_loss, color="tab:orange", linewidth=0.8, label="generator")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
