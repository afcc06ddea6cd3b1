"""Pictures a person looks at: sample grids and loss curves (matplotlib, headless)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gans.datasets.scaling import unscale_images
from gans.io import atomic_path


def pyplot():
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
                    scale: int = 4, pad: int = 1) -> Path:
    """Save a grid of images as PNG, each pixel enlarged ``scale`` times for easy viewing, ``pad``
    white pixels between them (one image with ``pad=0, scale=1`` is saved exactly)."""
    grid = tile_images(images, rows, cols, pad)
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    plt = pyplot()
    path = Path(path)
    with atomic_path(path) as tmp:
        if grid.shape[-1] == 1:
            plt.imsave(tmp, grid[..., 0], cmap="gray", vmin=0, vmax=255, format="png")
        else:
            plt.imsave(tmp, grid, format="png")
    return path


def plot_losses(steps: Sequence[int], losses: dict[str, Sequence[float]], path: str | Path, title: str = "",
                labels: dict[str, str] | None = None, xlabel: str = "iteration") -> Path:
    """Loss curves over iterations, one line per named loss, in the order given.

    With the adversarial families' ``{"d_loss": ..., "g_loss": ...}`` this is the thesis's Figure 4.8:
    the discriminator in blue, the generator in orange (matplotlib's first two colours).

    Args:
        steps: the x values.
        losses: loss name -> values, one per step.
        path: the PNG to write.
        title: figure title.
        labels: legend text per loss name (default: the name).
        xlabel: what ``steps`` count (the CAAE's per-epoch plot: "epoch").
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    draw_losses(ax, steps, losses, title=title, labels=labels, xlabel=xlabel)
    fig.tight_layout()
    return save_figure(fig, path)


def draw_losses(ax, steps: Sequence[int], losses: dict[str, Sequence[float]], title: str = "",
                labels: dict[str, str] | None = None, legend: bool = True, xlabel: str = "iteration") -> None:
    """:func:`plot_losses` on one matplotlib axes (a sweep draws one per configuration)."""
    labels = {"d_loss": "discriminator", "g_loss": "generator", **(labels or {})}
    for name, values in losses.items():
        ax.plot(steps, values, linewidth=0.8, label=labels.get(name, name))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="upper right")
    ax.grid(alpha=0.3)


def save_figure(fig, path: str | Path, dpi: int | None = None) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    plt = pyplot()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
    return path
