"""The MNIST DCGAN/CCGAN builders (gans.models.cgan) and VirtualBatchNormalization."""

import keras
import numpy as np
import pytest

import gans  # noqa: F401  (registers the custom objects)
from gans.errors import ConfigError
from gans.layers import VirtualBatchNormalization
from gans.models import cgan

from helpers import check_model_saving

TINY_G = {"latent_dim": 6, "image_shape": (8, 8, 1), "dense_units": 8, "base_filters": 4, "filters": (3,),
          "kernel_size": 3}
TINY_D = {"image_shape": (8, 8, 1), "filters": (2, 3)}


def _tiny(label_input="onehot", virtual_batchnorm=False, **extra):
    g = cgan.build_generator(**TINY_G, num_classes=3, label_input=label_input, embedding_dim=2,
                             virtual_batchnorm=virtual_batchnorm, **extra)
    d = cgan.build_discriminator(**TINY_D, num_classes=3, label_input=label_input, embedding_dim=2,
                                 virtual_batchnorm=virtual_batchnorm, **extra)
    return g, d


def _inputs(model, n=4, seed=0):
    """Random inputs for any builder of the module, in the model's input order."""
    rng = np.random.default_rng(seed)
    out = []
    for tensor in model.inputs:
        if tensor.name == "label":
            out.append(cgan.label_inputs(model, np.arange(n) % cgan.num_classes_of(model)))
        else:
            out.append(rng.standard_normal((n, *tensor.shape[1:])).astype("float32"))
    return out if len(out) > 1 else out[0]


def _convs(model):
    return [layer for layer in model.layers if type(layer) is keras.layers.Conv2D]


def test_parameter_counts_at_the_defaults():
    # The report (section 2.3): "discriminator had approximately 310,000 parameters, whereas around
    # 7 million parameters for the generator" at F = 1, D = 1.
    assert cgan.build_dcgan_discriminator().count_params() == 310_529
    assert cgan.build_dcgan_generator().count_params() == 6_768_129
    # CCGAN: + the label's Dense(784) (7,840 + 784), the label channel of the first convolution
    # (3*3*128 = 1,152), and 10 one-hot inputs into the first Dense(1024) (10,240).
    d, g = cgan.build_discriminator(), cgan.build_generator()
    assert d.count_params() == 310_529 + 8_624 + 1_152 == 320_305
    assert g.count_params() == 6_768_129 + 10_240 == 6_778_369
    assert [type(layer).__name__ for layer in d.layers[3:]] == [
        "Reshape", "Concatenate", "Conv2D", "BatchNormalization", "ELU", "Conv2D", "BatchNormalization", "ELU",
        "MaxPooling2D", "Flatten", "Dense"]
    assert [layer.units for layer in d.layers if type(layer) is keras.layers.Dense] == [784, 1]
    assert g.output_shape == (None, 28, 28, 1)


@pytest.mark.parametrize("label_input", ["onehot", "embedding"])
@pytest.mark.parametrize("virtual_batchnorm", [False, True], ids=["bn", "vbn"])
def test_conditional_builders_run_at_tiny_shapes(label_input, virtual_batchnorm):
    g, d = _tiny(label_input, virtual_batchnorm)
    assert [t.name for t in g.inputs] == ["z", "label"] and [t.name for t in d.inputs] == ["image", "label"]
    z, labels = _inputs(g, n=5)
    images = np.asarray(g([z, labels], training=True))
    assert images.shape == (5, 8, 8, 1) and images.min() >= -1.0 and images.max() <= 1.0
    scores = np.asarray(d([images, labels], training=False))
    assert scores.shape == (5, 1) and ((scores > 0) & (scores < 1)).all()
    norm = VirtualBatchNormalization if virtual_batchnorm else gans.layers.BatchNormalization
    assert sum(type(layer) is norm for layer in g.layers) == 3  # two Dense, one upsampling block
    assert sum(type(layer) is norm for layer in d.layers) == 2


def test_unconditional_builders_run_at_tiny_shapes():
    g = cgan.build_dcgan_generator(**TINY_G, virtual_batchnorm=True)
    d = cgan.build_dcgan_discriminator(**TINY_D, depth=2, output_activation="linear")
    images = np.asarray(g(_inputs(g, n=3), training=False))
    assert images.shape == (3, 8, 8, 1) and np.abs(images).max() <= 1.0
    assert np.asarray(d(images)).shape == (3, 1)
    assert d.layers[-1].activation.__name__ == "linear"


def test_depth_adds_convolution_blocks_and_capacity_multiplies_the_filters():
    base = cgan.build_discriminator(**TINY_D, num_classes=3)
    deep = cgan.build_discriminator(**TINY_D, num_classes=3, depth=3)
    wide = cgan.build_discriminator(**TINY_D, num_classes=3, capacity=2)
    assert [c.filters for c in _convs(base)] == [2, 3]
    assert [c.filters for c in _convs(deep)] == [2, 3] * 3  # three blocks of the report's conv pair
    assert [c.strides for c in _convs(deep)] == [(2, 2)] + [(1, 1)] * 5
    assert [c.filters for c in _convs(wide)] == [4, 6]
    g1 = cgan.build_generator(**TINY_G, num_classes=3)
    g3 = cgan.build_generator(**TINY_G, num_classes=3, capacity=3)
    assert [c.filters for c in _convs(g1)] == [3, 1] and [c.filters for c in _convs(g3)] == [9, 1]
    reshape = next(layer for layer in g3.layers if type(layer) is keras.layers.Reshape)
    assert reshape.output.shape == (None, 2, 2, 12)  # seed channels 4 * F
    # The paper's sweep at full size: F=2 and D=3 really grow the networks.
    assert cgan.build_dcgan_discriminator(depth=3).count_params() == 310_529 + 2 * 591_744


@pytest.mark.parametrize("label_input", ["onehot", "embedding"])
def test_config_round_trip_and_h5_keras_reload_give_identical_outputs(label_input, tmp_path):
    g, d = _tiny(label_input, virtual_batchnorm=True)
    dcgan_d = cgan.build_dcgan_discriminator(**TINY_D, virtual_batchnorm=True)
    for model in (g, d, dcgan_d):
        inputs = _inputs(model, n=4, seed=1)
        model(inputs, training=True)  # move the VBN statistics off their initial values
        for reloaded in check_model_saving(model, inputs, tmp_path, formats=(".h5", ".keras")).values():
            if model is not dcgan_d:
                assert cgan.num_classes_of(reloaded) == 3


def test_the_label_changes_the_outputs():
    g, d = _tiny()
    z, _ = _inputs(g, n=3)
    images = np.random.default_rng(3).uniform(-1, 1, (3, 8, 8, 1)).astype("float32")
    zeros, twos = cgan.label_inputs(d, np.zeros(3, int)), cgan.label_inputs(d, np.full(3, 2))
    assert np.abs(np.asarray(d([images, zeros])) - np.asarray(d([images, twos]))).min() > 1e-6
    assert np.abs(np.asarray(g([z, zeros])) - np.asarray(g([z, twos]))).max() > 1e-4


def test_label_inputs_and_num_classes_of():
    g, _ = _tiny("onehot")
    ge, _ = _tiny("embedding")
    assert cgan.num_classes_of(g) == cgan.num_classes_of(ge) == 3
    onehot = cgan.label_inputs(g, np.array([2, 0]))
    assert onehot.dtype == np.float32 and onehot.tolist() == [[0, 0, 1], [1, 0, 0]]
    ids = cgan.label_inputs(ge, np.array([2, 0], dtype=np.int64))
    assert ids.dtype == np.int32 and ids.tolist() == [[2], [0]]
    assert cgan.num_classes_of(cgan.build_discriminator(num_classes=12, label_input="embedding")) == 12
    with pytest.raises(ConfigError, match="label 12 is out of range 0-9 for a model with 10 classes"):
        cgan.label_inputs(cgan.build_generator(**{**TINY_G, "image_shape": (8, 8, 1)}), np.array([1, 12]))
    with pytest.raises(ConfigError, match="label -1 is out of range 0-2"):
        cgan.label_inputs(ge, np.array([-1]))
    with pytest.raises(ConfigError, match="1-D array"):
        cgan.label_inputs(g, np.zeros((2, 3), int))
    with pytest.raises(ConfigError, match="integer class ids"):
        cgan.label_inputs(g, np.array([0.5]))
    with pytest.raises(ConfigError, match="no input named 'label'"):
        cgan.num_classes_of(cgan.build_dcgan_discriminator(**TINY_D))


@pytest.mark.parametrize("builder, kwargs, message", [
    (cgan.build_generator, {"num_classes": 1}, "num_classes must be an integer >= 2"),
    (cgan.build_discriminator, {"depth": 0}, r"depth must be an integer >= 1 \(the report's D"),
    (cgan.build_dcgan_discriminator, {"capacity": 0}, r"capacity must be an integer >= 1 \(the report's F"),
    (cgan.build_dcgan_generator, {"capacity": 1.5}, "capacity must be an integer"),
    (cgan.build_generator, {"image_shape": (30, 30, 1)}, r"divisible by 4 \(2 \*\* 2 upsampling"),
    (cgan.build_discriminator, {"label_input": "int"}, "unknown label_input 'int'; pass 'onehot'"),
    (cgan.build_discriminator, {"image_shape": (2, 2, 1)}, "too small for stride 2"),
    (cgan.build_dcgan_generator, {"activation": "swish"}, "'relu' or 'leaky_relu' \\(or 'elu'\\)"),
])
def test_bad_options_name_the_problem_and_the_fix(builder, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        builder(**kwargs)


# VirtualBatchNormalization


def _vbn_reference(x, gamma, beta, eps):
    """The formula of the layer's docstring in numpy: statistics of the first ceil(n/2) samples."""
    ref = x[: (len(x) + 1) // 2].astype("float64")
    mean, var = ref.mean(axis=(0, 1, 2)), ref.var(axis=(0, 1, 2))
    return gamma * (x - mean) / np.sqrt(var + eps) + beta, mean, var


@pytest.mark.parametrize("n", [1, 5, 6])
def test_vbn_training_normalizes_the_batch_with_the_reference_half(n):
    x = np.random.default_rng(n).normal(3.0, 2.0, (n, 4, 4, 3)).astype("float32")
    x[(n + 1) // 2:] *= 5.0  # the other half has other statistics, which must not leak in
    layer = VirtualBatchNormalization(momentum=0.75, epsilon=1e-3, gamma_initializer="ones")
    layer.build(x.shape)
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 0.25])
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    y = np.asarray(layer(x, training=True))
    expected, mean, var = _vbn_reference(x, gamma, beta, 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    standardized = (y - beta) / gamma
    reference = standardized[: (n + 1) // 2]
    np.testing.assert_allclose(reference.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(reference.var(axis=(0, 1, 2)), var / (var + 1e-3), rtol=1e-4)
    if n > 1:  # the other half keeps its own (larger) spread: it was not normalized with itself
        assert standardized[(n + 1) // 2:].std() > 3.0
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.25 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.75 + 0.25 * var, rtol=1e-5)


def test_vbn_inference_and_a_frozen_layer_use_the_moving_statistics_and_do_not_update_them():
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    layer = VirtualBatchNormalization(epsilon=0.01, center=False, scale=False)
    layer.build(x.shape)
    assert [w.name for w in layer.weights] == ["moving_mean", "moving_variance"]
    layer.moving_mean.assign(np.arange(5, dtype="float32"))
    layer.moving_variance.assign(np.full(5, 4.0, dtype="float32"))
    y = np.asarray(layer(x, training=False))
    np.testing.assert_allclose(y, (x - np.arange(5)) / np.sqrt(4.01), rtol=1e-5)
    layer.trainable = False  # frozen (a discriminator during a generator step): training=True changes nothing
    np.testing.assert_array_equal(layer(x, training=True), y)
    assert layer.moving_mean.numpy().tolist() == [0, 1, 2, 3, 4]


def test_vbn_trains_in_a_functional_model_with_a_symbolic_batch_and_round_trips_its_config():
    inputs = keras.Input(shape=(4,))
    norm = VirtualBatchNormalization(momentum=0.5, name="vbn")
    model = keras.Model(inputs, keras.layers.Dense(1)(norm(inputs)))
    assert norm.output.shape == (None, 4)
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(1).normal(2.0, 1.0, (7, 4)).astype("float32")
    model.train_on_batch(x, np.zeros((7, 1)))  # a traced graph: the batch size is a tensor there
    np.testing.assert_allclose(norm.moving_mean.numpy(), 0.5 * x[:4].mean(axis=0), rtol=1e-5)
    layer = VirtualBatchNormalization(axis=-1, momentum=0.9, epsilon=0.01, center=False,
                                      gamma_constraint=gans.layers.ClipConstraint(0.5), name="v")
    config = layer.get_config()
    assert config["momentum"] == 0.9 and config["epsilon"] == 0.01 and config["center"] is False
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, VirtualBatchNormalization) and restored.get_config() == config
    with pytest.raises(ConfigError, match="momentum must be in"):
        VirtualBatchNormalization(momentum=1.0)
