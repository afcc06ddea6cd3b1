"""The frozen network's batch normalization in a generator update (--frozen-batchnorm batch|moving).

The layer (gans.layers.BatchNormalization and VirtualBatchNormalization) computes Keras' own function
while trainable or in inference; frozen in a training pass it normalizes with the batch's statistics
("batch") or its moving ones ("moving"), and changes nothing either way. The option reaches every
family through make_step, config.json and the resume check. (The freeze tests of every family under
both settings are in test_training.py, the executions' equality under both in test_execution.py.)
"""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import gans  # noqa: F401
from gans import batchnorm
from gans.config import GANConfig
from gans.datasets.base import ImageDataset
from gans.errors import ConfigError
from gans.experiments import EXPERIMENTS, NAMED
from gans.layers import BatchNormalization, VirtualBatchNormalization
from gans.models import builder_modules
from gans.training import RunSettings, train
from gans.training.freeze import set_frozen_batchnorm, set_trainable
from gans.training.steps import build_networks, make_step

from helpers import random_images, run_gans, tiny_config

X = np.random.default_rng(0).normal(3.0, 2.0, (16, 4, 4, 5)).astype("float32")


def built(layer, x=X):
    layer.build(x.shape)
    rng = np.random.default_rng(1)  # statistics and weights far from the batch's own
    for v in layer.weights:
        v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
    return layer


def snapshot(layer):
    return [v.numpy().copy() for v in layer.weights]


def test_trainable_and_inference_passes_are_keras_own_to_the_bit():
    ours, theirs = built(BatchNormalization(momentum=0.8)), built(keras.layers.BatchNormalization(momentum=0.8))
    for training in (False, True):
        np.testing.assert_array_equal(ours(X, training=training), theirs(X, training=training))
    for a, b in zip(ours.weights, theirs.weights):  # the moving statistics moved the same way
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("cls", [BatchNormalization, VirtualBatchNormalization])
def test_a_frozen_layer_in_batch_mode_normalizes_with_the_batch_and_changes_nothing(cls):
    layer = built(cls(momentum=0.8, frozen_statistics="batch"))
    before = snapshot(layer)
    layer.trainable = False
    frozen = np.asarray(layer(X, training=True))
    assert all(np.array_equal(a, b) for a, b in zip(before, snapshot(layer))), "a frozen layer must change nothing"
    inference = np.asarray(layer(X, training=False))
    assert np.abs(frozen - inference).max() > 0.1, "batch statistics are not the moving ones here"
    layer.trainable = True
    trained = np.asarray(layer(X, training=True))  # what D's own update computes on the same batch
    np.testing.assert_array_equal(frozen, trained)
    assert any(not np.array_equal(a, b) for a, b in zip(before, snapshot(layer))), "a trainable pass updates"


@pytest.mark.parametrize("cls", [BatchNormalization, VirtualBatchNormalization])
def test_a_frozen_layer_in_moving_mode_runs_in_inference_mode(cls):
    layer = built(cls(frozen_statistics="moving"))
    before = snapshot(layer)
    layer.trainable = False
    np.testing.assert_array_equal(layer(X, training=True), layer(X, training=False))
    assert all(np.array_equal(a, b) for a, b in zip(before, snapshot(layer)))


def test_the_choice_is_in_the_config_and_survives_a_save_in_a_fresh_process(tmp_path):
    layer = BatchNormalization(momentum=0.8, frozen_statistics="batch", name="bn")
    assert layer.get_config()["frozen_statistics"] == "batch"
    restored = BatchNormalization.from_config(layer.get_config())
    assert restored.frozen_statistics == "batch" and restored.get_config() == layer.get_config()
    inputs = keras.Input((4, 4, 5))
    model = keras.Model(inputs, VirtualBatchNormalization(frozen_statistics="batch")(layer(inputs)))
    model.save(tmp_path / "d.h5")
    code = ("import gans, keras\n"
            f"m = keras.models.load_model({str(tmp_path / 'd.h5')!r}, compile=False, safe_mode=True)\n"
            "print(sorted({getattr(l, 'frozen_statistics', '-') for l in m.layers}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "['-', 'batch']"


def test_unknown_settings_and_keras_own_layer_in_batch_mode_are_clear_errors():
    with pytest.raises(ConfigError, match="frozen_statistics must be one of batch, moving"):
        BatchNormalization(frozen_statistics="running")
    cfg = tiny_config(2)
    with pytest.raises(ConfigError, match="frozen_batchnorm must be one of batch, moving, got 'running'"):
        cfg.replace(frozen_batchnorm="running")
    inputs = keras.Input((4,))
    stock = keras.Model(inputs, keras.layers.BatchNormalization(name="stock_bn")(inputs), name="d")
    assert set_frozen_batchnorm([stock], "moving") == 0
    with pytest.raises(ConfigError, match="stock_bn is Keras' own BatchNormalization.*--frozen-batchnorm moving"):
        set_frozen_batchnorm([stock], "batch")
    with pytest.raises(ConfigError, match="--frozen-batchnorm must be one of"):
        set_frozen_batchnorm([stock], "both")


def test_every_family_has_a_reference_default_and_every_configuration_holds_its_value():
    from gans import families

    assert set(families.names()) == set(builder_modules())
    assert all(f.frozen_batchnorm[0] in batchnorm.CHOICES and f.frozen_batchnorm[1] for f in families.FAMILIES.values())
    configs = [*EXPERIMENTS.values(), *NAMED.values()]
    assert configs
    for cfg in configs:
        assert cfg.frozen_batchnorm == batchnorm.default_for(cfg.variant), cfg.experiment
        assert GANConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))).frozen_batchnorm == cfg.frozen_batchnorm
    assert {c.frozen_batchnorm for c in configs} == {"batch", "moving"}
    # config.json written before the option existed: what the library then did
    legacy = tiny_config(2, frozen_batchnorm="batch").to_dict()
    del legacy["frozen_batchnorm"]
    assert GANConfig.from_dict(legacy).frozen_batchnorm == "moving"
    # another family takes its own default, unless the change names one
    assert NAMED["ccgan-mnist"].replace(variant="dcgan").frozen_batchnorm == "moving"


@pytest.mark.parametrize("mode", batchnorm.CHOICES)
def test_make_step_sets_the_mode_on_every_normalization_layer_of_the_networks(mode):
    cfg = tiny_config(2, frozen_batchnorm=mode)
    step = make_step(cfg)
    layers = [layer for m in step.models.values() for layer in m._flatten_layers()
              if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(layers) >= 3  # the generator's and the discriminator's
    assert {layer.frozen_statistics for layer in layers} == {mode}


def test_the_two_settings_train_the_generator_against_different_functions(tmp_path):
    """Thesis experiment 2 (batch norm in D): the D losses of the first step agree, the G loss does
    not; under "batch" the G step's D output is what D's own step computed on a batch of fakes."""
    losses = {}
    for mode in batchnorm.CHOICES:
        rows = []

        class Capture(gans.callbacks.Callback):
            def on_step_end(self, trainer, step, logs):
                rows.append(dict(logs))

        train(tiny_config(2, frozen_batchnorm=mode), tmp_path / mode, data=ImageDataset(random_images()), steps=1,
              settings=RunSettings(sample_every=0, checkpoint_every=0, progress=False, seed=7, tensorboard=False),
              extra_callbacks=[Capture()])
        losses[mode] = rows[0]
    assert losses["batch"]["d_loss_real"] == losses["moving"]["d_loss_real"]
    assert losses["batch"]["d_loss_fake"] == losses["moving"]["d_loss_fake"]
    assert abs(losses["batch"]["g_loss"] - losses["moving"]["g_loss"]) > 1e-3


def test_batch_mode_g_step_sees_the_discriminator_of_its_own_step():
    """The frozen D's output on fakes, in batch mode, equals the trainable D's training-mode output on
    the same fakes (before D's moving statistics are touched); in moving mode it is the inference output."""
    keras.utils.set_random_seed(0)
    nets = build_networks(tiny_config(2))
    d = nets["discriminator"]
    for layer in d._flatten_layers():  # no dropout: the comparison is of the normalization alone
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    fakes = np.random.default_rng(2).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    state = [v.numpy() for v in d.weights]
    set_frozen_batchnorm([d], "batch")
    set_trainable(d, False)
    frozen = np.asarray(d(fakes, training=True))
    set_trainable(d, True)
    own = np.asarray(d(fakes, training=True))
    for v, s in zip(d.weights, state):
        v.assign(s)
    np.testing.assert_allclose(frozen, own, rtol=0, atol=1e-7)
    set_frozen_batchnorm([d], "moving")
    set_trainable(d, False)
    np.testing.assert_allclose(np.asarray(d(fakes, training=True)), np.asarray(d(fakes, training=False)), atol=0)
    assert np.abs(frozen - np.asarray(d(fakes, training=False))).max() > 1e-4


def test_resuming_with_the_other_setting_is_refused_with_the_field_named(tmp_path):
    data = ImageDataset(random_images())
    settings = RunSettings(sample_every=0, checkpoint_every=2, progress=False, tensorboard=False)
    train(tiny_config(2, frozen_batchnorm="batch"), tmp_path, data=data, steps=2, settings=settings)
    assert json.loads((tmp_path / "config.json").read_text())["frozen_batchnorm"] == "batch"
    with pytest.raises(ConfigError, match=r"cannot resume .*frozen_batchnorm"):
        train(tiny_config(2, frozen_batchnorm="moving"), tmp_path, data=data, steps=4, settings=settings, resume=True)
    train(tiny_config(2, frozen_batchnorm="batch"), tmp_path, data=data, steps=4, settings=settings, resume=True)


def test_an_unknown_setting_on_the_command_line_is_one_line_and_status_2():
    done = run_gans("train", "--experiment", "2", "--frozen-batchnorm", "running", timeout=60)
    assert done.returncode == 2
    assert "argument --frozen-batchnorm: invalid choice: 'running' (choose from 'batch', 'moving')" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_the_setting_is_a_sweep_axis():
    from gans.studies.grid import resolve_axes

    axes = resolve_axes(tiny_config(2), {"frozen_batchnorm": ("batch", "moving")})
    assert [a.target for a in axes] == ["config:frozen_batchnorm"]


@pytest.mark.parametrize("argv", [["train", "--experiment", "2"], ["train", "caae", "--image-size", "32"],
                                  ["train", "pggan", "--data", "faces.npz"]])
@pytest.mark.parametrize("mode", batchnorm.CHOICES)
def test_every_family_records_the_option(argv, mode):
    """gans train builds every family's config in one place; each records --frozen-batchnorm (a CAAE run
    once ignored it, when its handler was its own, and trained under the default)."""
    from gans.cli import build_parser
    from gans.cli.train import config_from_args

    config = config_from_args(build_parser().parse_args([*argv, "--frozen-batchnorm", mode]))
    assert config.frozen_batchnorm == mode
