"""Mixed precision (--precision float32|mixed_float16|mixed_bfloat16, gans.precision).

Every family trains under each policy, in both executions, with finite losses: its networks compute in
the policy, their outputs and the losses are float32, float16 trains through a dynamic loss scale.
The policy is in config.json and the resume check; a resumed run equals an uninterrupted one under
the same policy; a saved generator loads in a fresh process with its policy. The default suite runs
each family under both mixed policies (float16 fused, bfloat16 recipe); the other two combinations
of each family are marked slow.
"""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import gans  # noqa: F401
from gans import precision as precision_module
from gans.config import GANConfig
from gans.datasets.base import ImageDataset
from gans.errors import ConfigError
from gans.training import FAMILIES, RunSettings, prepare, train
from gans.training.steps import make_step

from helpers import (TINY_FAMILIES, assert_same_run, attribute_faces, child_env, labelled_faces, labelled_images,
                     run_gans, run_stopped_and_resumed, save_attribute_classifier, tiny_attribute, tiny_caae,
                     tiny_config, tiny_pggan)

MIXED = ("mixed_float16", "mixed_bfloat16")
HALF = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
STEPS = 4  # the progressive GAN's tiny schedule grows at step 4 (3 steps of 8 images per phase)


# ---------------------------------------------------------------------- every family, tiny
def attribute_case(tmp_path):
    path = tmp_path / "classifier.h5"
    if not path.exists():
        save_attribute_classifier(path)
    return tiny_attribute(path), ImageDataset(attribute_faces(48))


def pggan_case(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (48, 8, 8, 3), dtype=np.uint8)
    return tiny_pggan(target_resolution=8, minibatch_stddev=True, ema=0.9), ImageDataset(images)


def caae_case(tmp_path):
    return tiny_caae(32, batch=8), labelled_faces(40, 32)


CASES = {**{family: (lambda tmp_path, make=make: (make(), labelled_images())) for family, make in TINY_FAMILIES.items()},
         "attribute": attribute_case, "pggan": pggan_case, "caae": caae_case}
# The default suite trains each family once, and covers every policy with every execution across them
# (float16, whose loss scale meets each family's losses and constraints, for the families with their own
# losses: WGAN's clip, the PGGAN's penalty, the CAAE's three terms; XLA where `gans train` uses it by
# default); the rest of the grid is marked slow.
DEFAULT = {"attribute": ("mixed_float16", "fused"), "caae": ("mixed_float16", "fused"),
           "cgan": ("mixed_bfloat16", "recipe"), "dcgan": ("mixed_float16", "recipe"),
           "gan": ("mixed_float16", "xla"), "lsgan": ("mixed_bfloat16", "xla"),
           "mnist_dcgan": ("mixed_bfloat16", "fused"), "pggan": ("mixed_float16", "fused"),
           "wgan": ("mixed_float16", "recipe")}
EXECUTIONS = {family: ("fused", "recipe", "xla") if family in ("gan", "lsgan") else ("fused", "recipe") for family in CASES}
TRAIN_CASES = [pytest.param(family, policy, execution, id=f"{family}-{policy}-{execution}",
                            marks=() if DEFAULT[family] == (policy, execution) else pytest.mark.slow)
               for family in sorted(CASES) for policy in MIXED for execution in EXECUTIONS[family]]


def test_every_family_has_a_precision_case():
    assert FAMILIES and set(FAMILIES) <= set(CASES) == set(DEFAULT)
    assert {case for case in DEFAULT.values()} >= {(p, e) for p in MIXED for e in ("fused", "recipe")}


def layer_policies(model) -> set[str]:
    return {layer.dtype_policy.name for layer in model._flatten_layers(include_self=False) if layer.weights}


@pytest.mark.parametrize("family, policy, execution", TRAIN_CASES)
def test_every_family_trains_under_each_policy(family, policy, execution, tmp_path):
    """A few steps with finite losses; the layers with weights compute in the policy (variables stay
    float32), every network's outputs are float32, float16 trains through a loss scale and bfloat16
    without one, and the networks learn."""
    config, data = CASES[family](tmp_path)
    keras.utils.set_random_seed(0)
    trainer = prepare(config.replace(precision=policy), tmp_path / "run", data,
                      RunSettings(progress=False, tensorboard=False, execution="recipe" if execution == "recipe" else "fused",
                                  jit="on" if execution == "xla" else "off"))
    step = trainer.step_obj
    before = {name: [v.numpy().copy() for v in model.trainable_variables] for name, model in step.models.items()}
    losses = [step.train_step(i, trainer.data, trainer.rng) for i in range(1, STEPS + 1)]
    assert losses and all(np.isfinite(v) for row in losses for v in row.values()), losses

    assert keras.config.dtype_policy().name == "float32", "the policy must not leak out of building the step"
    for name, model in step.models.items():
        assert policy in layer_policies(model), f"{name} does not compute in {policy}"
        assert {v.dtype for v in model.variables} <= {"float32", "int64", "uint32", "int32"}, name
        for out in model.outputs:
            assert out._keras_history.operation.dtype_policy.name == "float32", f"{name}'s output is not float32"
    sample = step.sample(4, np.random.default_rng(1))
    assert sample.dtype == np.float32 and np.isfinite(sample).all()
    scaled = {name: isinstance(opt, keras.optimizers.LossScaleOptimizer) for name, opt in step.optimizers.items()}
    assert scaled and set(scaled.values()) == {policy == "mixed_float16"}, scaled
    moved = [name for name, model in step.models.items()
             if any(not np.array_equal(a, v.numpy()) for a, v in zip(before[name], model.trainable_variables))]
    assert moved, "no network learned in the steps"


def test_a_process_holds_runs_of_two_policies():
    """The policy is set while the networks are built and put back after, so a float32 run built after a
    mixed one (or beside it) computes in float32, and the mixed one keeps its policy."""
    mixed = make_step(tiny_config(1, precision="mixed_bfloat16"))
    assert keras.config.dtype_policy().name == "float32"
    assert keras.layers.Dense(2).dtype_policy.name == "float32"  # what is built next, outside a run, too
    plain = make_step(tiny_config(1))
    assert layer_policies(plain.generator) == {"float32"}
    assert layer_policies(mixed.generator) == {"mixed_bfloat16"}
    assert mixed.generator.outputs[0]._keras_history.operation.dtype_policy.name == "float32"
    z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    hidden = keras.Model(mixed.generator.inputs[0], mixed.generator.layers[1].output)
    assert keras.backend.standardize_dtype(hidden(z).dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(mixed.generator(z).dtype) == "float32"


def test_the_policy_is_checked_recorded_and_kept_on_resume(tmp_path):
    with pytest.raises(ConfigError, match="precision must be one of float32, mixed_float16, mixed_bfloat16, got 'float16'"):
        tiny_config(1, precision="float16")
    settings = RunSettings(progress=False, tensorboard=False, checkpoint_every=2, sample_every=2)
    run = tmp_path / "run"
    train(tiny_config(3, precision="mixed_bfloat16"), run, data=labelled_images(), steps=2, settings=settings)
    saved = json.loads((run / "config.json").read_text())
    assert saved["precision"] == "mixed_bfloat16"
    assert GANConfig.from_dict(saved).precision == "mixed_bfloat16"
    old = {k: v for k, v in saved.items() if k != "precision"}  # a run from before the option
    assert GANConfig.from_dict(old).precision == "float32"
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match=r'precision was "mixed_bfloat16", now "float32"'):
        train(tiny_config(3), run, data=labelled_images(), steps=4, settings=settings, resume=True)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before, "a refused resume changed the run"
    trainer = train(tiny_config(3, precision="mixed_bfloat16"), run, data=labelled_images(), steps=4,
                    settings=settings, resume=True)
    assert trainer.step == 4


@pytest.mark.parametrize("case, policy", [
    ("dcgan", "mixed_float16"),  # dropout and batch norm in D; the loss scale's variables restored
    pytest.param("wgan", "mixed_float16", marks=pytest.mark.slow),
    pytest.param("lsgan", "mixed_bfloat16", marks=pytest.mark.slow),
    pytest.param("cgan", "mixed_bfloat16", marks=pytest.mark.slow),
])
def test_a_resumed_run_equals_an_uninterrupted_one_under_the_same_policy(case, policy, tmp_path):
    run_stopped_and_resumed(case, tmp_path, policy)
    assert json.loads((tmp_path / "split" / "config.json").read_text())["precision"] == policy
    full, resumed = assert_same_run(tmp_path)
    assert full["step"] == 6 and resumed["losses"] == full["losses"][3:]
    if policy == "mixed_float16":  # the loss scale is among the restored variables
        assert any("dynamic_scale" in name for name in full["names"].values())


FRESH_LOAD = """
import sys
import numpy as np
import gans
from gans.models import load_generator
folder = sys.argv[1]
g = load_generator(folder + "/run/checkpoints/generator_step_000002.h5")
z = np.load(folder + "/z.npy")
policies = sorted({layer.dtype_policy.name for layer in g.layers if layer.weights})
np.save(folder + "/loaded.npy", np.asarray(g(z, training=False)))
import keras
print(",".join(policies), keras.backend.standardize_dtype(g(z).dtype))
"""


@pytest.mark.parametrize("policy", ["mixed_float16", pytest.param("mixed_bfloat16", marks=pytest.mark.slow)])
def test_a_mixed_precision_checkpoint_loads_in_a_fresh_process(policy, tmp_path):
    trainer = train(tiny_config(2, precision=policy), tmp_path / "run", data=labelled_images(), steps=2,
                    settings=RunSettings(progress=False, tensorboard=False, checkpoint_every=2, sample_every=2))
    z = np.random.default_rng(2).standard_normal((5, 8)).astype("float32")
    np.save(tmp_path / "z.npy", z)
    expected = np.asarray(trainer.generator(z, training=False))
    done = subprocess.run([sys.executable, "-c", FRESH_LOAD, str(tmp_path)], capture_output=True, text=True,
                          timeout=300, env=child_env())
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == [f"float32,{policy}", "float32"], done.stdout
    np.testing.assert_allclose(np.load(tmp_path / "loaded.npy"), expected, rtol=0, atol=1e-6)


def test_float32_outputs_and_loss_scaling_follow_the_policy():
    assert [precision_module.needs_loss_scaling(p) for p in precision_module.PRECISIONS] == [False, True, False]
    with pytest.raises(ConfigError, match="precision must be one of"):
        precision_module.check("bfloat16")
    with precision_module.policy_scope("mixed_float16"):
        x = keras.Input((3,))
        model = keras.Model(x, keras.layers.Dense(2, activation="sigmoid")(keras.layers.Dense(4)(x)))
    assert keras.config.dtype_policy().name == "float32"
    assert keras.backend.standardize_dtype(model(np.ones((1, 3), "float32")).dtype) == "float16"
    assert precision_module.float32_outputs([model]) == 1 and precision_module.float32_outputs([model]) == 0
    assert keras.backend.standardize_dtype(model(np.ones((1, 3), "float32")).dtype) == "float32"
    assert model.layers[1].dtype_policy.name == "mixed_float16"


def test_precision_is_a_sweep_axis_and_a_bad_value_is_refused():
    from gans.studies.grid import apply_values, grid_points, parse_grid, resolve_axes

    cfg = tiny_config(3)
    axes = resolve_axes(cfg, parse_grid(["precision=float32,mixed_bfloat16"]))
    points = grid_points(axes)
    assert [apply_values(cfg, axes, p).precision for p in points] == ["float32", "mixed_bfloat16"]
    bad = resolve_axes(cfg, parse_grid(["precision=half"]))
    with pytest.raises(ConfigError, match="precision must be one of"):
        apply_values(cfg, bad, grid_points(bad)[0])



def test_float16_without_a_gpu_is_warned_about(caplog, tmp_path):
    """mixed_float16 convolutions run on generic CPU kernels (measured hundreds of times slower for
    experiment 2; docs/performance.md): a run without a GPU says so, and names the CPU's mixed policy."""
    import logging

    import tensorflow as tf

    if tf.config.list_logical_devices("GPU"):
        pytest.skip("the warning is for machines without a GPU")
    assert "mixed_bfloat16" in precision_module.device_warning("mixed_float16")
    assert precision_module.device_warning("mixed_bfloat16") is None and precision_module.device_warning("float32") is None
    with caplog.at_level(logging.WARNING, logger="gans.training.run"):
        prepare(tiny_config(1, precision="mixed_float16"), tmp_path, labelled_images(), RunSettings(progress=False))
    assert "mixed_float16 on a machine without a GPU" in caplog.text

# ---------------------------------------------------------------------- the command line
def test_an_unknown_precision_on_the_command_line_is_one_line_and_status_2():
    done = run_gans("train", "--experiment", "2", "--precision", "float16", timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "gans train: error: argument --precision: invalid choice: 'float16' (choose from 'float32', 'mixed_float16', "
        "'mixed_bfloat16') (see 'gans train --help')."]


@pytest.mark.parametrize("argv", [["train", "--experiment", "2"], ["train", "caae", "--image-size", "32"],
                                  ["train", "pggan", "--data", "faces.npz"]])
@pytest.mark.parametrize("policy", MIXED)
def test_every_family_records_the_option(argv, policy):
    """gans train builds every family's config in one place; each records --precision, and without it a
    run takes its configuration's float32."""
    from gans.cli import build_parser
    from gans.cli.train import config_from_args

    parse = build_parser().parse_args
    assert config_from_args(parse([*argv, "--precision", policy])).precision == policy
    assert config_from_args(parse(argv)).precision == "float32"
