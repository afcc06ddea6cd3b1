"""The progressive GAN's growth, as plain data: resolutions, recipes and the schedule of phases.

Nothing here loads Keras, so configurations (:mod:`gans.experiments`) and the command line can read a
schedule without building a network. The networks are in :mod:`gans.models.pggan`, the training step
in :mod:`gans.training.steps.pggan`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gans.errors import ConfigError

MAX_RESOLUTION = 1024

# recipe -> (loss name of gans.losses, generator batch norm, discriminator output activation)
RECIPES = {
    "mse": ("least_squares", False, None),
    "bce": ("minimax", True, "sigmoid"),
    "wasserstein": ("wasserstein", False, None),
}

def check_recipe(recipe: str) -> str:
    key = str(recipe).lower()
    if key not in RECIPES:
        raise ConfigError(f"recipe must be one of {', '.join(RECIPES)}, got {recipe!r}.")
    return key


def recipe_loss(recipe: str) -> str:
    """The :mod:`gans.losses` name of a recipe's loss."""
    return RECIPES[check_recipe(recipe)][0]


def resolutions(target_resolution: int) -> list[int]:
    """4, 8, ..., ``target_resolution``.

    Raises:
        ConfigError: the target is not a power of two from 4 to :data:`MAX_RESOLUTION`.
    """
    try:
        target = int(target_resolution)
    except (TypeError, ValueError):
        raise ConfigError(f"target resolution must be a power of two from 4, got {target_resolution!r}.") from None
    if target != target_resolution or target < 4 or target > MAX_RESOLUTION or target & (target - 1):
        raise ConfigError(f"target resolution must be a power of two from 4 to {MAX_RESOLUTION} (4, 8, 16, ..., 256), "
                          f"got {target_resolution!r}.")
    out, r = [], 4
    while r <= target:
        out.append(r)
        r *= 2
    return out



# Batch size per resolution when none are given: the PGGAN paper's CelebA-HQ schedule shrinks the
# batch as the images grow (16 up to 128x128 on their GPUs, then 14, 6, 3); here 32 at the low
# resolutions that a CPU trains, 16 from 64x64 and 8 from 256x256 where a GPU is wanted.
DEFAULT_BATCH_SIZES = {4: 32, 8: 32, 16: 32, 32: 32, 64: 16, 128: 16, 256: 8, 512: 4, 1024: 4}
DEFAULT_IMAGES_PER_PHASE = 20_000


@dataclass(frozen=True)
class Phase:
    """One phase of the schedule: ``kind`` "fade" or "stable" at ``resolution``, steps
    ``first_step .. first_step + steps - 1`` (1-based), ``batch_size`` real images per step."""

    index: int
    resolution: int
    kind: str
    steps: int
    batch_size: int
    first_step: int
    images_before: int  # images shown in all earlier phases

    @property
    def last_step(self) -> int:
        return self.first_step + self.steps - 1

    @property
    def label(self) -> str:
        return f"{self.resolution}x{self.resolution} {'fade-in' if self.kind == 'fade' else 'stable'}"

    def alpha(self, step: int) -> float:
        """The fade-in weight at ``step``: 0 on the phase's first step, 1 on its last (1 when stable)."""
        if self.kind != "fade":
            return 1.0
        return 1.0 if self.steps == 1 else (step - self.first_step) / (self.steps - 1)


class Schedule:
    """The phases of a run from 4x4 to ``target_resolution``.

    Args:
        target_resolution: a power of two from 4.
        images_per_phase: real images shown in each phase (fade-in and stable alike).
        batch_sizes: per resolution (a dict, or a list from 4x4 up, or one int); None for
            :data:`DEFAULT_BATCH_SIZES`.
    """

    def __init__(self, target_resolution: int, images_per_phase: int = DEFAULT_IMAGES_PER_PHASE,
                 batch_sizes: int | list | dict | None = None):
        res = resolutions(target_resolution)
        if not isinstance(images_per_phase, (int, np.integer)) or isinstance(images_per_phase, bool) \
                or images_per_phase < 1:
            raise ConfigError(f"images per phase must be a positive integer, got {images_per_phase!r}.")
        self.images_per_phase = int(images_per_phase)
        self.batch_sizes = per_resolution(res, batch_sizes, DEFAULT_BATCH_SIZES, "batch size")
        phases, step, shown = [], 1, 0
        for r in res:
            for kind in (("stable",) if r == 4 else ("fade", "stable")):
                n = self.batch_sizes[r]
                count = math.ceil(self.images_per_phase / n)
                phases.append(Phase(len(phases), r, kind, count, n, step, shown))
                step += count
                shown += count * n
        self.phases = phases
        self.target_resolution = res[-1]

    @property
    def total_steps(self) -> int:
        return self.phases[-1].last_step

    def phase_at(self, step: int) -> Phase:
        """The phase of 1-based ``step``; steps past the schedule stay in the last (stable) phase."""
        for phase in self.phases:
            if step <= phase.last_step:
                return phase
        return self.phases[-1]

    def images_shown(self, step: int) -> int:
        """Real images shown after ``step`` steps."""
        if step <= 0:
            return 0
        phase = self.phase_at(step)
        return phase.images_before + (step - phase.first_step + 1) * phase.batch_size

    def ending(self, step: int) -> Phase | None:
        """The phase whose last step is ``step``, or None."""
        phase = self.phase_at(step)
        return phase if step == phase.last_step and step <= self.total_steps else None


def per_resolution(res, values, defaults, what) -> dict[int, int]:
    """A positive int per resolution of ``res`` from one int, a list (4x4 first), a dict, or None
    (``defaults``)."""
    if values is None:
        out = {r: defaults[r] for r in res}
    elif isinstance(values, dict):
        out = {int(k): v for k, v in values.items()}
    elif isinstance(values, (int, np.integer)):
        out = {r: values for r in res}
    else:
        values = list(values)
        if len(values) != len(res):  # more would be silently unused: a run to 16x16 has no 32x32 batch size
            raise ConfigError(f"give one {what} per resolution {res} ({len(res)} values), got {len(values)}.")
        out = dict(zip(res, values))
    missing = [r for r in res if r not in out]
    if missing:
        raise ConfigError(f"no {what} given for resolutions {missing}.")
    bad = {r: out[r] for r in res if not isinstance(out[r], (int, np.integer)) or out[r] < 1}
    if bad:
        raise ConfigError(f"each {what} must be a positive integer, got {bad}.")
    return {r: int(out[r]) for r in res}


