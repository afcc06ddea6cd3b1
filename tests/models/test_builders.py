"""Builders: thesis parameter counts, every variant at both image sizes, serialization, bad input."""

import inspect

import keras
import numpy as np
import pytest

import gans  # noqa: F401  (registers the custom objects)
from gans.errors import ConfigError
from gans.experiments import EXPERIMENTS
from gans.layers import ClipConstraint
from gans.models import build_combined, dcgan, gan, get_variant, load_generator, lsgan, wgan

from helpers import check_model_saving

MODULES = [gan, dcgan, lsgan, wgan]
SHAPES = [(28, 28, 1), (40, 40, 3)]


def test_experiment_1_parameter_counts_match_the_thesis():
    g, d = gan.build_generator(), gan.build_discriminator()
    assert d.count_params() == 533_505  # Figure 4.4
    assert g.count_params() == 1_493_520  # Figure 4.5
    assert build_combined(g, d).count_params() == 2_027_025  # Figure 4.6
    assert [type(layer).__name__ for layer in d.layers[1:]] == [
        "Flatten", "Dense", "LeakyReLU", "Dense", "LeakyReLU", "Dense"]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
@pytest.mark.parametrize("shape", SHAPES, ids=["mnist", "celeba"])
def test_builders_make_images_in_range_and_scores(module, shape):
    g = module.build_generator(latent_dim=8, image_shape=shape)
    d = module.build_discriminator(image_shape=shape)
    z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    images = np.asarray(g(z, training=False))
    assert images.shape == (3, *shape)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert np.asarray(d(images, training=False)).shape == (3, 1)
    assert g.name == "generator" and d.name == "discriminator"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_config_round_trip_and_h5_reload_give_identical_outputs(module, tmp_path):
    g = module.build_generator(latent_dim=8, image_shape=(8, 8, 1), **(
        {"filters": (4, 2), "base_filters": 4} if module in (dcgan, wgan) else {"units": (8, 16)}))
    d = module.build_discriminator(image_shape=(8, 8, 1), **(
        {"filters": (4, 8), "strides": 2} if module in (dcgan, wgan) else {"units": (8,)}))
    z = np.random.default_rng(1).standard_normal((4, 8)).astype("float32")
    x = np.random.default_rng(2).uniform(-1, 1, (4, 8, 8, 1)).astype("float32")
    for model, inputs in ((g, z), (d, x)):
        check_model_saving(model, inputs, tmp_path, formats=(".h5",))


def test_wgan_critic_clips_every_trainable_weight_and_the_constraint_serializes():
    critic = wgan.build_discriminator(image_shape=(8, 8, 1), filters=(4, 8), strides=2)
    constraints = [v.constraint for v in critic.trainable_variables]
    assert all(isinstance(c, ClipConstraint) and c.clip_value == 0.01 for c in constraints)
    c = ClipConstraint(0.05)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(c))
    assert isinstance(restored, ClipConstraint) and restored.get_config() == {"clip_value": 0.05}
    assert np.asarray(c(np.array([-1.0, 0.01, 1.0]))).tolist() == pytest.approx([-0.05, 0.01, 0.05])


def test_specialized_builders_document_their_own_defaults():
    assert inspect.signature(lsgan.build_discriminator).parameters["output_activation"].default == "linear"
    assert inspect.signature(wgan.build_generator).parameters["kernel_size"].default == 4
    assert inspect.signature(wgan.build_discriminator).parameters["clip_value"].default == 0.01
    assert lsgan.build_discriminator(image_shape=(4, 4, 1), units=(4,)).layers[-1].activation.__name__ == "linear"


@pytest.mark.parametrize("number", sorted(EXPERIMENTS))
def test_every_thesis_experiment_builds(number):
    e = EXPERIMENTS[number]
    g = e.generator.build("generator", latent_dim=e.latent_dim, image_shape=e.image_shape)
    d = e.discriminator.build("discriminator", image_shape=e.image_shape)
    assert g.output_shape[1:] == e.image_shape == d.input_shape[1:]
    assert g.input_shape[-1] == e.latent_dim


def test_table_4_5_structure_switches_reach_the_networks():
    d17 = EXPERIMENTS[17].discriminator.build("discriminator", image_shape=(40, 40, 3))
    convs = [layer for layer in d17.layers if isinstance(layer, keras.layers.Conv2D)]
    assert {c.kernel_size for c in convs} == {(5, 5)}
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in d17.layers)
    assert {layer.rate for layer in d17.layers if isinstance(layer, keras.layers.Dropout)} == {0.4}
    g4 = EXPERIMENTS[4].generator.build("generator", latent_dim=100, image_shape=(28, 28, 1))
    assert {layer.kernel_size for layer in g4.layers if isinstance(layer, keras.layers.Conv2D)} == {(4, 4)}
    assert any(isinstance(layer, keras.layers.UpSampling2D) for layer in g4.layers)
    g_transpose = dcgan.build_generator(upsampling=False)
    assert any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in g_transpose.layers)


@pytest.mark.parametrize("shape, expected", [
    ((30, 30, 1), "divisible by 4"),
    ((28, 28, 2), "channels must be 1"),
    ((28, 28), "(height, width, channels)"),
])
def test_bad_image_shape_names_the_expected_value(shape, expected):
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        dcgan.build_generator(image_shape=shape)


def test_bad_options_are_rejected_with_the_accepted_values():
    with pytest.raises(ConfigError, match="'relu' or 'leaky_relu'"):
        gan.build_generator(activation="swish")
    with pytest.raises(ConfigError, match="dropout must be in"):
        dcgan.build_discriminator(dropout=1.5)
    with pytest.raises(ConfigError, match="expected one of"):
        get_variant("stylegan")


def test_load_generator_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_generator(tmp_path / "missing.h5")
    bad = tmp_path / "bad.h5"
    bad.write_text("not a model")
    with pytest.raises(ValueError, match="cannot load"):
        load_generator(bad)
