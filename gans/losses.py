"""The three adversarial losses of the thesis (section 3.3) and the label tricks around them.

Each loss is an :class:`AdversarialLoss`: the Keras loss object to compile with, the real and fake
labels it expects, and the discriminator output activation it was designed for.

- minimax: binary cross-entropy, labels 1 (real) / 0 (fake), sigmoid output (Goodfellow et al. 2014).
- least squares: mean squared error, labels 1 / 0, linear output (Mao et al. 2017).
- Wasserstein: ``mean(y_true * y_pred)``, labels -1 (real) / +1 (fake), linear critic
  (Arjovsky et al. 2017), trained with RMSprop(5e-5), 5 critic steps per generator step and weight
  clipping at 0.01.

Loss objects, never strings: a model compiled with ``loss="mse"`` and saved to legacy .h5 cannot be
loaded again under Keras 3. The Wasserstein loss object is :class:`gans.layers.WassersteinLoss`, with
the library's other registered objects; this module imports Keras only in :meth:`AdversarialLoss.make`,
so a configuration's loss names are checked without loading TensorFlow (``gans list`` runs without it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gans.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import keras


@dataclass(frozen=True)
class AdversarialLoss:
    """An adversarial objective: the loss to compile with and the labels it trains on.

    Attributes:
        name: "minimax", "least_squares" or "wasserstein".
        real_label: target for real samples in a discriminator step, and for fakes in a G step.
        fake_label: target for generated samples in a discriminator step.
        output_activation: the discriminator's last activation the loss was designed for.
    """

    name: str
    real_label: float
    fake_label: float
    output_activation: str

    def make(self) -> "keras.losses.Loss":
        """A fresh Keras loss object (one per compiled model)."""
        import keras

        from gans.layers import WassersteinLoss

        if self.name == "minimax":
            return keras.losses.BinaryCrossentropy(name="binary_crossentropy")
        if self.name == "least_squares":
            return keras.losses.MeanSquaredError(name="mse")
        return WassersteinLoss()

    def labels(self, n: int, real: bool) -> np.ndarray:
        """A column of ``n`` real or fake labels, float32 with shape (n, 1)."""
        return np.full((n, 1), self.real_label if real else self.fake_label, dtype=np.float32)


LOSSES = {
    "minimax": AdversarialLoss("minimax", 1.0, 0.0, "sigmoid"),
    "least_squares": AdversarialLoss("least_squares", 1.0, 0.0, "linear"),
    "wasserstein": AdversarialLoss("wasserstein", -1.0, 1.0, "linear"),
}

# The names the thesis's tables use (Tables 4.2 and 4.3) map onto the three objectives.
ALIASES = {
    "binary_crossentropy": "minimax",
    "bce": "minimax",
    "mse": "least_squares",
    "lsgan": "least_squares",
    "wasserstein_loss": "wasserstein",
    "wgan": "wasserstein",
}


def get_loss(name: str) -> AdversarialLoss:
    """Look up an adversarial loss by its name or by the thesis's table name.

    Raises:
        ValueError: naming the accepted values when ``name`` is unknown.
    """
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in LOSSES:
        accepted = sorted(set(LOSSES) | set(ALIASES))
        raise ConfigError(f"unknown loss {name!r}; expected one of {accepted}.")
    return LOSSES[key]


def real_labels_for_discriminator(
    loss: AdversarialLoss,
    n: int,
    rng: np.random.Generator,
    smoothing: float = 0.0,
    flip_probability: float = 0.0,
) -> np.ndarray:
    """Targets for a discriminator step on real samples, with one-sided smoothing and flipping.

    One-sided label smoothing (Salimans et al. 2016; thesis 3.2.8) replaces the real label 1 by a
    random soft value in ``[1 - smoothing, 1]``; fake labels stay hard. Label flipping (the CelebA
    attributes paper, gamma = 0.05) marks each real sample as fake with ``flip_probability``.

    Args:
        loss: the adversarial loss whose labels are used.
        n: batch size.
        rng: the run's random generator (so a resumed run draws the same labels).
        smoothing: width of the soft-label band, in [0, 0.5). 0 keeps hard labels.
        flip_probability: chance that a real label is replaced by the fake label, in [0, 0.5).

    Returns:
        float32 array of shape (n, 1).
    """
    labels = loss.labels(n, real=True)
    if smoothing:
        labels -= rng.uniform(0.0, smoothing, size=(n, 1)).astype(np.float32) * np.float32(
            loss.real_label - loss.fake_label
        )
    if flip_probability:
        flip = rng.random((n, 1)) < flip_probability
        labels[flip] = loss.fake_label
    return labels


def check_label_options(loss: AdversarialLoss, smoothing: float, flip_probability: float) -> None:
    """Reject label tricks that make no sense, with a message that says what would."""
    if not 0.0 <= smoothing < 0.5:
        raise ConfigError(f"label_smoothing must be in [0, 0.5), got {smoothing}; 0.1 is typical.")
    if not 0.0 <= flip_probability < 0.5:
        raise ConfigError(f"label_flip must be in [0, 0.5), got {flip_probability}; 0.05 is typical.")
    if loss.name == "wasserstein" and (smoothing or flip_probability):
        raise ConfigError(
            "label smoothing and flipping apply to the minimax and least-squares losses; the "
            "Wasserstein critic has no labels to soften. Set them to 0 for WGAN."
        )
