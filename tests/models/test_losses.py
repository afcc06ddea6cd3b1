"""The three adversarial losses, their labels, and the label tricks."""

import keras
import numpy as np
import pytest

from gans.errors import ConfigError
from gans.layers import WassersteinLoss
from gans.losses import check_label_options, get_loss, real_labels_for_discriminator


def test_thesis_table_names_map_to_the_three_objectives():
    assert get_loss("binary_crossentropy").name == "minimax"
    assert get_loss("mse").name == "least_squares"
    assert get_loss("wasserstein_loss").name == "wasserstein"
    with pytest.raises(ConfigError, match="expected one of"):
        get_loss("hinge")


def test_labels_and_output_activations():
    w = get_loss("wasserstein")
    assert (w.real_label, w.fake_label, w.output_activation) == (-1.0, 1.0, "linear")
    assert get_loss("minimax").output_activation == "sigmoid"
    assert get_loss("mse").output_activation == "linear"
    assert get_loss("minimax").labels(3, real=False).tolist() == [[0.0]] * 3


def test_wasserstein_loss_is_mean_of_label_times_score_and_serializes():
    loss = WassersteinLoss()
    y_true = np.array([[-1.0], [1.0], [1.0]], "float32")
    y_pred = np.array([[2.0], [0.5], [-1.0]], "float32")
    assert float(loss(y_true, y_pred)) == pytest.approx((-2.0 + 0.5 - 1.0) / 3)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, WassersteinLoss)
    assert isinstance(get_loss("wasserstein").make(), WassersteinLoss)


def test_one_sided_smoothing_stays_in_band_and_flipping_hits_its_rate():
    rng = np.random.default_rng(0)
    minimax = get_loss("minimax")
    smooth = real_labels_for_discriminator(minimax, 10_000, rng, smoothing=0.1)
    assert smooth.min() >= 0.9 and smooth.max() <= 1.0 and smooth.std() > 0.02
    flipped = real_labels_for_discriminator(minimax, 20_000, rng, flip_probability=0.05)
    assert set(np.unique(flipped)) == {0.0, 1.0}
    assert 0.04 < (flipped == 0.0).mean() < 0.06
    assert real_labels_for_discriminator(minimax, 5, rng).tolist() == [[1.0]] * 5


def test_label_tricks_are_refused_where_they_make_no_sense():
    with pytest.raises(ConfigError, match="Wasserstein"):
        check_label_options(get_loss("wasserstein"), 0.1, 0.0)
    with pytest.raises(ConfigError, match=r"\[0, 0.5\)"):
        check_label_options(get_loss("minimax"), 0.7, 0.0)
