"""The executions of a step (gans.training.execution): the fused one takes exactly the recipe's updates,
traces once, and fails clearly where it cannot run; TensorBoard events are written and read back.

Two-device and multi-worker training run in child processes (logical CPU devices must be configured
before TensorFlow starts): see test_distribute.py.
"""

import json
import sys

import keras
import numpy as np
import pytest

import gans  # noqa: F401
from gans.config import OptimizerSpec
from gans.datasets.base import ImageDataset
from gans.errors import ConfigError
from gans.training import FAMILIES, RunSettings, train
from gans.training.execution import (Fused, Recipe, XLAUnavailable, auto_jit, make_execution,
                                     trace_independent_rewrites)

from helpers import EQUAL, FREEZE_CASES, TINY_FAMILIES, assert_same, labelled_images, tiny_config, tiny_run
from helpers import train_iterations as run  # (losses, every variable, step) after a few iterations


def no_dropout(step):
    for model in step.models.values():
        for layer in model._flatten_layers():
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0


def test_every_family_has_an_equality_case():
    assert FAMILIES and set(FAMILIES) <= set(TINY_FAMILIES) | set(EXTRA_FAMILIES), \
        f"add a tiny configuration for {sorted(set(FAMILIES) - set(TINY_FAMILIES) - set(EXTRA_FAMILIES))}"


# Families whose equality tests live with their own tests, through helpers.train_iterations() and assert_same()
# (they need more than a config: a classifier, ...): attribute in test_attribute_gan.py.
EXTRA_FAMILIES = {"attribute", "pggan", "caae"}  # caae: tests/training/test_caae.py


@pytest.mark.parametrize("family, mode", FREEZE_CASES)
def test_the_fused_execution_takes_the_recipes_updates(family, mode, tmp_path):
    """Same seeds, same batches: every weight, batch-norm statistic, dropout seed and optimizer slot
    agrees after the iterations, and so does every logged loss; one trace serves them all. Under
    both settings of the frozen discriminator's batch norm."""
    recipe = run(family, tmp_path / "recipe", Recipe(), frozen_batchnorm=mode)
    fused = run(family, tmp_path / "fused", Fused(jit=False), frozen_batchnorm=mode)
    assert_same(recipe, fused, atol=EQUAL, what=f"{family} ({mode}) recipe vs fused")
    assert fused[2].execution.traces == 1, "the fused iteration must not retrace after its first call"


@pytest.mark.parametrize("family", ["gan", "lsgan"])
def test_the_xla_execution_of_the_fully_connected_families_matches_the_recipe(family, tmp_path):
    recipe = run(family, tmp_path / "recipe", Recipe())
    xla = run(family, tmp_path / "xla", Fused(jit=True))
    assert_same(recipe, xla, atol=2e-5, what=f"{family} recipe vs fused + XLA")
    assert xla[2].execution.traces == 1


@pytest.mark.parametrize("family, mode", [("dcgan", "moving"), ("wgan", "moving"), ("cgan", "batch"),
                                          ("dcgan", "batch")])
def test_the_xla_execution_of_the_convolutional_families_makes_the_same_updates(family, mode, tmp_path):
    """XLA reorders float arithmetic, and Adam's first steps move every weight by about the learning
    rate whatever the gradient's size, so a 1e-9 difference in a near-zero gradient becomes a
    learning-rate-sized one. With plain SGD (updates proportional to the gradients) and dropout off
    (XLA draws other random bits), the XLA iteration's updates agree with the recipe's."""
    sgd = {"optimizer": OptimizerSpec("sgd", 1e-2, None), "discriminator_optimizer": OptimizerSpec("sgd", 1e-2, None)}
    recipe = run(family, tmp_path / "recipe", Recipe(), prepare_step=no_dropout, frozen_batchnorm=mode, **sgd)
    xla = run(family, tmp_path / "xla", Fused(jit=True), prepare_step=no_dropout, frozen_batchnorm=mode, **sgd)
    assert_same(recipe, xla, atol=1e-4, what=f"{family} recipe vs fused + XLA (SGD, no dropout)")


def test_a_broken_fused_execution_is_caught_by_the_equality_check(tmp_path, monkeypatch):
    """The check above is not vacuous: a fused execution that forgets to freeze D in the G update
    (train every model with all its weights trainable) differs from the recipe."""
    from gans.training import freeze

    recipe = run("gan", tmp_path / "recipe", Recipe())
    real = freeze.set_trainable
    monkeypatch.setattr("gans.training.steps.adversarial.set_trainable", lambda model, flag: real(model, True))
    broken = run("gan", tmp_path / "broken", Fused(jit=False))
    with pytest.raises(AssertionError):  # extra optimizer slots for D, and D moved in the G update
        assert_same(recipe, broken, atol=EQUAL, what="frozen nowhere")


def test_the_equality_runs_turn_the_trace_dependent_rewrites_off_and_back_on():
    import tensorflow as tf
    from gans.training.execution import TRACE_DEPENDENT_REWRITES

    assert TRACE_DEPENDENT_REWRITES
    with trace_independent_rewrites():
        inside = tf.config.optimizer.get_experimental_options()
    after = tf.config.optimizer.get_experimental_options()
    for name in TRACE_DEPENDENT_REWRITES:
        assert inside[name] is False and after.get(name, True) is True, name


def test_auto_jit_follows_the_measured_rule(tmp_path):
    mlp = tiny_run("lsgan", tmp_path / "mlp").step_obj
    conv = tiny_run("dcgan", tmp_path / "conv").step_obj
    assert auto_jit(mlp.models.values(), "CPU")[0] is True
    assert auto_jit(conv.models.values(), "CPU")[0] is False
    chosen = make_execution("fused", "auto", models=mlp.models.values())
    assert chosen.jit and chosen.describe()["jit_reason"].startswith("auto")
    assert make_execution("fused", "off", models=mlp.models.values()).jit is False
    from gans.layers import EqualizedConv2D  # a convolution that is not a Keras Conv2D says so

    inputs = keras.Input((8, 8, 3))
    custom = keras.Model(inputs, EqualizedConv2D(4, 3)(inputs))
    assert auto_jit([custom], "CPU")[0] is False


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory):
    """A 2-step tiny LSGAN run with TensorBoard off and no samples or checkpoints, trained once for the
    tests that read it."""
    run = tmp_path_factory.mktemp("quiet_run")
    train(tiny_config(3), run, data=ImageDataset(labelled_images().images), steps=2,
          settings=RunSettings(progress=False, checkpoint_every=0, sample_every=0, tensorboard=False))
    return run


def test_the_run_record_says_how_the_run_was_executed(quiet_run):
    record = json.loads((quiet_run / "config.json").read_text())["run"]["execution"]
    assert record == {"mode": "fused", "jit": "on", "jit_reason": "auto: fully connected networks (measured on CPU)"}


# ---------------------------------------------------------------------- clear errors
def _cli(argv, capsys):
    from gans.cli import main

    code = main(argv)
    return code, capsys.readouterr().err


class NotCompilable(keras.layers.Layer):
    """A layer XLA cannot compile: it calls back into Python."""

    def call(self, x):
        import tensorflow as tf

        y = tf.numpy_function(lambda a: a, [x], x.dtype, stateful=False)
        return tf.reshape(y, tf.shape(x)) + 0 * x

    def compute_output_shape(self, input_shape):
        return input_shape


def test_jit_on_where_xla_cannot_compile_is_one_clear_error(tmp_path, monkeypatch, capsys):
    from gans.models import gan

    build = gan.build_generator

    def generator(**kwargs):
        model = build(**kwargs)
        return keras.Model(model.inputs, NotCompilable()(model.outputs[0]), name="generator")

    monkeypatch.setattr(gan, "build_generator", generator)
    code, err = _cli(["train", "--experiment", "1", "--steps", "2", "--batch-size", "8", "--latent-dim", "8",
                      "--data", str(_digits(tmp_path)), "--out", str(tmp_path / "run"), "--jit", "on",
                      "--no-progress"], capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "XLA cannot compile" in lines[0] and "--jit off" in lines[0], err[-2000:]

    # --jit auto falls back to no XLA, says so, and records it
    code, err = _cli(["train", "--experiment", "1", "--steps", "2", "--batch-size", "8", "--latent-dim", "8",
                      "--data", str(_digits(tmp_path)), "--out", str(tmp_path / "auto"), "--no-progress"], capsys)
    assert code == 0, err[-2000:]
    record = json.loads((tmp_path / "auto" / "config.json").read_text())["run"]["execution"]
    assert record["jit"] == "off" and "XLA failed" in record["jit_reason"]


def test_xla_unavailable_is_a_config_error():
    assert issubclass(XLAUnavailable, ConfigError)


def _digits(tmp_path):
    path = tmp_path / "digits.npz"
    if not path.exists():
        np.savez(path, images=labelled_images().images)
    return path


@pytest.mark.parametrize("argv, env, expected", [
    (["--distribute", "multi-worker"], {"TF_CONFIG": ""}, "TF_CONFIG"),
    (["--distribute", "multi-worker"], {"TF_CONFIG": "{not json"}, "TF_CONFIG"),
    (["--execution", "recipe", "--jit", "on"], {}, "--jit on needs --execution fused"),
    (["--execution", "recipe", "--distribute", "mirrored"], {}, "--distribute needs --execution fused"),
], ids=["no-tf-config", "bad-tf-config", "recipe-jit", "recipe-distribute"])
def test_bad_execution_options_are_one_clear_error(argv, env, expected, tmp_path, monkeypatch, capsys):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, err = _cli(["train", "--experiment", "1", "--steps", "2", "--batch-size", "8", "--latent-dim", "8",
                      "--data", str(_digits(tmp_path)), "--out", str(tmp_path / "run"), "--no-progress", *argv], capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and expected in lines[0], err[-2000:]
    assert not (tmp_path / "run" / "losses.csv").exists()


# ---------------------------------------------------------------------- TensorBoard
def read_events(folder):
    """(scalars, images, texts) from the TensorBoard event files in ``folder``: tag -> [(step, value)]."""
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    tensors = {tag: [(e.step, tf.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)] for tag in tags["tensors"]}
    return tensors


def test_every_run_writes_tensorboard_events_that_read_back(tmp_path):
    from gans.evaluation.callbacks import DiagnosticsCallback  # noqa: F401 (the diversity comes from it)

    trainer = train(tiny_config(1), tmp_path, data=ImageDataset(labelled_images().images), steps=6,
                    settings=RunSettings(progress=False, sample_every=3, checkpoint_every=3))
    events = read_events(tmp_path / "tensorboard")
    losses = {tag: values for tag, values in events.items() if tag.startswith("loss/")}
    assert set(losses) == {f"loss/{name}" for name in trainer.step_obj.loss_names}
    logged = np.loadtxt(tmp_path / "losses.csv", delimiter=",", skiprows=1)
    for i, name in enumerate(trainer.step_obj.loss_names):
        steps, values = zip(*losses[f"loss/{name}"])
        assert list(steps) == list(range(1, 7))
        np.testing.assert_allclose(np.asarray(values, dtype=float), logged[:, 1 + i], rtol=1e-5)
    assert [step for step, _ in events["diversity/ratio_to_real"]] == [3, 6]
    (step3, grid3), (step6, grid6) = events["samples"]
    assert (step3, step6) == (3, 6) and grid3.dtype == object  # encoded PNGs
    config_text = events["config"][0][1]
    assert b'"variant": "gan"' in config_text.item()


def test_tensorboard_can_be_switched_off(quiet_run):
    assert (quiet_run / "losses.csv").is_file() and not (quiet_run / "tensorboard").exists()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
