"""The progressive GAN (seed 001): its layers, the grow API, fade-in, phases, the two executions,
exact resume inside a phase, per-phase artefacts and the command line's refusals.

Run as a script, this file is the resume test's child: ``python test_pggan.py resume OUT``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gans  # noqa: F401  (registers the layers)
from gans.callbacks import Callback
from gans.datasets.base import ImageDataset
from gans.models.growth import Schedule, resolutions
from gans.training import RunSettings, train

from helpers import ONE_THREAD, check_model_saving, child_env, run_gans, write_run
from helpers import smooth_faces as faces, tiny_pggan as tiny_config  # the names this file has always used

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------- layers
def _layer_model():
    import keras

    from gans.layers import EqualizedConv2D, EqualizedDense, FadeIn, MinibatchStdDev, PixelNormalization

    x = keras.Input((4, 4, 2))
    a = EqualizedConv2D(3, 3, name="eq_conv")(x)
    b = PixelNormalization(name="pn")(a)
    fade = FadeIn(alpha=0.25, name="fade")
    c = fade([a, b])
    d = MinibatchStdDev(group_size=2, name="mbstd")(c)
    out = EqualizedDense(2, activation="tanh", name="eq_dense")(keras.layers.Flatten()(d))
    return keras.Model(x, out), fade


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_layers_round_trip_with_their_config_and_weights(tmp_path, suffix):
    model, fade = _layer_model()
    fade.set_alpha(0.7)  # a value set during training is saved with the weights
    x = np.random.default_rng(0).normal(size=(4, 4, 4, 2)).astype(np.float32)
    loaded = check_model_saving(model, x, tmp_path, formats=(suffix,), atol=1e-6)[suffix]
    assert float(loaded.get_layer("fade").alpha.numpy()) == pytest.approx(0.7)
    for layer in model.layers[1:]:
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_pixel_norm_and_minibatch_stddev_compute_what_the_paper_says():
    from gans.layers import MinibatchStdDev, PixelNormalization

    x = np.random.default_rng(1).normal(size=(4, 3, 3, 5)).astype(np.float32)
    y = PixelNormalization()(x).numpy()
    np.testing.assert_allclose(np.mean(y ** 2, axis=-1), 1.0, atol=1e-5)
    out = MinibatchStdDev(group_size=None)(x).numpy()
    assert out.shape == (4, 3, 3, 6)
    np.testing.assert_allclose(out[..., -1], np.sqrt(x.var(axis=0) + 1e-8).mean(), rtol=1e-5)
    grouped = MinibatchStdDev(group_size=2)(x).numpy()[:, 0, 0, -1]
    # groups of 2: rows (0, 2) and (1, 3)
    expect = [np.sqrt(x[[g, g + 2]].var(axis=0) + 1e-8).mean() for g in (0, 1)]
    np.testing.assert_allclose(grouped, [expect[0], expect[1], expect[0], expect[1]], rtol=1e-5)


# ---------------------------------------------------------------------- builders
def test_fade_in_is_the_upsampled_lower_resolution_at_alpha_0_and_the_new_block_at_1():
    from gans.models import pggan

    z = np.random.default_rng(2).normal(size=(3, 8)).astype(np.float32)
    x = np.random.default_rng(3).uniform(-1, 1, size=(3, 16, 16, 3)).astype(np.float32)
    g = pggan.grow_generator(latent_dim=8, target_resolution=16, filters=8, recipe="bce")
    d = pggan.grow_discriminator(target_resolution=16, filters=8, minibatch_stddev=True)
    for r in (8, 16):
        g[r].fade_layer.set_alpha(0.0)
        lower = g[r // 2].stable(z, training=False).numpy()
        np.testing.assert_allclose(g[r].fade(z, training=False).numpy(), lower.repeat(2, 1).repeat(2, 2), atol=1e-6)
        d[r].fade_layer.set_alpha(0.0)
        xr = x if r == 16 else x.reshape(3, 8, 2, 8, 2, 3).mean((2, 4))
        pooled = xr.reshape(3, r // 2, 2, r // 2, 2, 3).mean((2, 4))
        np.testing.assert_allclose(d[r].fade(xr).numpy(), d[r // 2].stable(pooled).numpy(), atol=1e-5)
        g[r].fade_layer.set_alpha(1.0)
        d[r].fade_layer.set_alpha(1.0)
        np.testing.assert_allclose(g[r].fade(z, training=False).numpy(), g[r].stable(z, training=False).numpy(),
                                   atol=1e-6)
        np.testing.assert_allclose(d[r].fade(xr).numpy(), d[r].stable(xr).numpy(), atol=1e-5)
        # in between, the mix is linear in alpha
        g[r].fade_layer.set_alpha(0.25)
        mixed = 0.75 * lower.repeat(2, 1).repeat(2, 2) + 0.25 * g[r].stable(z, training=False).numpy()
        np.testing.assert_allclose(g[r].fade(z, training=False).numpy(), mixed, atol=1e-6)


def test_grown_networks_share_the_weights_of_the_lower_resolutions():
    from gans.models import pggan

    g = pggan.grow_generator(latent_dim=4, target_resolution=16, filters=4)
    low = {id(v) for v in g[8].stable.trainable_variables if "to_rgb" not in v.path}
    high = {id(v) for v in g[16].stable.trainable_variables}
    assert low and low <= high


def test_builders_reach_256_with_parameter_counts_per_resolution():
    from gans.models import pggan

    g = pggan.grow_generator(latent_dim=16, target_resolution=256, filters=4, equalized=True, pixel_norm=True)
    d = pggan.grow_discriminator(target_resolution=256, filters=4, equalized=True, minibatch_stddev=True)
    assert sorted(g) == [4, 8, 16, 32, 64, 128, 256]
    for r in g:
        assert tuple(g[r].stable.output_shape) == (None, r, r, 3)
        assert tuple(d[r].stable.input_shape) == (None, r, r, 3) and tuple(d[r].stable.output_shape) == (None, 1)
        if r > 4:
            assert tuple(g[r].fade.output_shape) == (None, r, r, 3)
    counts = pggan.parameter_counts(g)
    assert all(counts[r] > counts[r // 2] for r in list(counts)[1:])


@pytest.mark.parametrize("bad", [0, 2, 12, 48, 2048, 3.5])
def test_a_target_resolution_must_be_a_power_of_two_from_4(bad):
    from gans.errors import ConfigError

    with pytest.raises(ConfigError, match="power of two"):
        resolutions(bad)


# ---------------------------------------------------------------------- phases and the step
class Record(Callback):
    def __init__(self):
        self.rows = []

    def on_step_end(self, trainer, step, logs):
        s = trainer.step_obj
        self.rows.append((step, s.phase.resolution, s.phase.kind, s.alpha, s.generator.output_shape[1]))


def test_a_run_grows_through_its_phases_with_alpha_rising_from_0_to_1(tmp_path):
    """A plain run of the family (no extra callback) writes the per-phase artefacts: the step adds them."""
    from gans.training.progressive import PhaseArtefacts, phase_checkpoint

    record = Record()
    cfg = tiny_config()
    trainer = train(cfg, tmp_path, ImageDataset(faces(), source="faces"),
                    settings=RunSettings(progress=False, tensorboard=False, sample_every=100, checkpoint_every=100),
                    extra_callbacks=[record])
    assert sum(isinstance(c, PhaseArtefacts) for c in trainer.callbacks) == 1
    assert trainer.step == cfg.steps == 15
    by_phase = {}
    for step, r, kind, alpha, side in record.rows:
        by_phase.setdefault((r, kind), []).append(alpha)
        assert side == r
    assert list(by_phase) == [(4, "stable"), (8, "fade"), (8, "stable"), (16, "fade"), (16, "stable")]
    for (r, kind), alphas in by_phase.items():
        if kind == "fade":
            assert alphas[0] == 0.0 and alphas[-1] == 1.0 and np.all(np.diff(alphas) > 0)
        else:
            assert set(alphas) == {1.0}
    names = sorted(p.name for p in (tmp_path / "checkpoints").glob("generator_*x*"))
    assert names == ["generator_16x16_faded.h5", "generator_16x16_stable.h5", "generator_4x4_stable.h5",
                     "generator_8x8_faded.h5", "generator_8x8_stable.h5"]
    assert sorted(p.name for p in (tmp_path / "samples").glob("phase_*")) == [n.replace("generator_", "phase_").replace(
        ".h5", ".png") for n in names]
    phases = (tmp_path / "phases.csv").read_text().splitlines()
    assert len(phases) == 6 and all(float(line.split(",")[7]) > 0 for line in phases[1:])
    assert "generator 256x256" not in (tmp_path / "growth_modelsummary.txt").read_text()
    assert "generator 16x16" in (tmp_path / "growth_modelsummary.txt").read_text()
    assert phase_checkpoint(tmp_path, 8).name == "generator_8x8_stable.h5"
    # the per-phase checkpoints load in a fresh process, and `gans sample RUN --resolution` picks one
    out = tmp_path / "grid.png"
    done = run_gans("sample", tmp_path, "--resolution", 8, "--n", 4, "--out", out)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "generator_8x8_stable.h5" in done.stdout and out.is_file()
    assert trainer.step_obj.get_extra_state() == {"phase": 4, "alpha": 1.0, "images_shown": 15 * 8}


def test_schedule_counts_images_per_phase_with_a_batch_size_per_resolution():
    s = Schedule(16, images_per_phase=100, batch_sizes=[32, 16, 10])
    assert [(p.resolution, p.kind, p.steps, p.batch_size) for p in s.phases] == [
        (4, "stable", 4, 32), (8, "fade", 7, 16), (8, "stable", 7, 16), (16, "fade", 10, 10), (16, "stable", 10, 10)]
    assert s.total_steps == 38 and s.images_shown(4) == 128 and s.images_shown(5) == 144
    assert s.phase_at(1000) is s.phases[-1] and s.ending(11).kind == "fade"


def _run_steps(execution, steps):
    import keras

    from gans.training.data import BatchSource
    from gans.training.steps import make_step

    keras.utils.set_random_seed(7)
    step = make_step(tiny_config(recipe="bce", target_resolution=8, filters=4))  # batch norm: its statistics too
    step.use_execution(execution)
    data, rng = BatchSource(faces(), 8), np.random.default_rng(7)
    losses = [step.train_step(i, data, rng) for i in range(1, steps + 1)]
    state = [v.numpy() for m in step.models.values() for v in m.variables]
    state += [v.numpy() for o in step.optimizers.values() for v in o.variables]
    every = [v.numpy() for s in step.g_stages.values() for v in s.stable.variables]
    return losses, state, every, step


def test_recipe_and_fused_take_the_same_updates_across_fade_in_and_phase_changes():
    from gans.training.execution import Fused, Recipe

    steps = 8  # 4x4 stable (3 steps), the 8x8 fade-in (alpha 0, 0.5, 1), two steps of 8x8 stable
    a = _run_steps(Recipe(), steps)
    b = _run_steps(Fused(jit=False), steps)
    assert a[3].phase.label == "8x8 stable"
    assert len(a[1]) == len(b[1]) and len(a[1]) > 20
    for x, y in zip(a[1] + a[2], b[1] + b[2]):
        np.testing.assert_allclose(x, y, atol=1e-6)
    for la, lb in zip(a[0], b[0]):
        for k in la:
            assert abs(la[k] - lb[k]) < 1e-5
    assert b[3].execution.traces == 3  # once per phase, never for alpha


def test_after_growing_d_learns_in_its_steps_and_is_frozen_in_g_steps():
    """The grown networks share layers with the previous phase's, whose G step left D's layers frozen;
    every layer of the new D (old ones included) must move in D steps and none in the G step."""
    import keras

    from gans.training.data import BatchSource
    from gans.training.execution import Recipe
    from gans.training.steps import make_step

    class Spy(Recipe):
        def train(self, model, x, y):
            d = step.discriminator
            before = {v.path: v.numpy().copy() for v in d.trainable_weights or d.weights if "alpha" not in v.path}
            loss = super().train(model, x, y)
            moved = {k for k, v in before.items() if not np.array_equal(v, {w.path: w for w in d.weights}[k].numpy())}
            self.record.append((model is d, moved, set(before)))
            return loss

    keras.utils.set_random_seed(1)
    step = make_step(tiny_config(target_resolution=8, filters=4))
    spy = Spy()
    spy.record = []
    step.use_execution(spy)
    data, rng = BatchSource(faces(), 8), np.random.default_rng(1)
    for i in range(1, 6):  # into the 8x8 fade-in
        spy.record.clear()
        step.train_step(i, data, rng)
    assert step.phase.label == "8x8 fade-in"
    (d1, moved1, all1), (d2, moved2, _), (g, moved_g, _) = spy.record
    assert d1 and d2 and not g
    assert any("4x4" in k for k in all1) and moved1 == all1 and moved2 == all1
    assert moved_g == set()


# ---------------------------------------------------------------------- optimizer state across phases
def _walk_optimizers(reset, steps=10, target=16):
    """Steps 1-3 4x4 stable, 4-6 8x8 fade-in, 7-9 8x8 stable, 10-12 16x16 fade-in: per step, the
    optimizers (object, iterations) and the step object."""
    import keras

    from gans.training.data import BatchSource
    from gans.training.execution import Recipe
    from gans.training.steps import make_step

    keras.utils.set_random_seed(5)
    step = make_step(tiny_config(filters=4, optimizer_reset=reset, target_resolution=target))
    step.use_execution(Recipe())
    data, rng = BatchSource(faces(), 8), np.random.default_rng(5)
    seen, slots = [], {}
    for i in range(1, steps + 1):
        step.train_step(i, data, rng)
        d, g = step.optimizers["discriminator"], step.optimizers["gan"]
        seen.append((step.phase.label, d, int(d.iterations.numpy()), g, int(g.iterations.numpy())))
        if i in (6, 9):  # the end of the 8x8 fade-in and of the 8x8 stable phase
            slots[i] = {v.path: v.numpy().copy() for v in d.variables}
    return seen, slots, step


def test_optimizer_state_is_kept_from_a_fade_in_into_its_stable_phase_and_reset_per_resolution():
    seen, slots, step = _walk_optimizers("resolution")
    labels = [s[0] for s in seen]
    assert labels[2] == "4x4 stable" and labels[3] == labels[5] == "8x8 fade-in"
    assert labels[6] == labels[8] == "8x8 stable" and labels[9] == "16x16 fade-in"
    # one optimizer pair from the 8x8 fade-in through the 8x8 stable phase, counting on (2 D updates a step)
    assert seen[3][1] is seen[8][1] and seen[3][3] is seen[8][3]
    assert [s[2] for s in seen[3:9]] == [2, 4, 6, 8, 10, 12] and [s[4] for s in seen[3:9]] == [1, 2, 3, 4, 5, 6]
    # fresh ones when a resolution starts
    assert seen[2][1] is not seen[3][1] and seen[8][1] is not seen[9][1] and seen[8][3] is not seen[9][3]
    assert seen[3][2] == 2 and seen[9][2] == 2 and seen[9][4] == 1
    # in the stable phase, every slot belongs to the variable it was built for: the stable networks'
    # variables moved their slots, the fade-in-only fromRGB of 4x4 left its own untouched
    from gans.training.steps.pggan import _trainable_variables

    optimizer = seen[8][1]
    trainable = _trainable_variables(step.d_stages[8].stable)
    assert trainable
    for v in trainable:
        slot = optimizer._momentums[optimizer._get_variable_index(v)]
        assert slot.path.split("/")[-1].startswith(v.path.replace("/", "_")) and slot.shape == v.shape
    moved = {k for k in slots[6] if not np.array_equal(slots[6][k], slots[9][k])}
    old_path = [k for k in slots[6] if "d_4x4_from_rgb" in k]
    assert old_path and not moved & set(old_path)
    assert {k for k in slots[6] if "d_8x8_conv1" in k} <= moved


def test_the_default_resets_the_optimizer_state_at_every_phase_as_the_pggan_code():
    seen, _, _ = _walk_optimizers("phase", steps=7, target=8)
    for i in (3, 6):  # the first step of the 8x8 fade-in and of the 8x8 stable phase
        assert seen[i][1] is not seen[i - 1][1] and seen[i][3] is not seen[i - 1][3]
        assert seen[i][2] == 2 and seen[i][4] == 1


def test_an_unknown_optimizer_reset_is_refused():
    from gans.errors import ConfigError
    from gans.training.steps import make_step

    with pytest.raises(ConfigError, match="optimizer_reset"):
        make_step(tiny_config(target_resolution=8, filters=4, optimizer_reset="never"))


# ---------------------------------------------------------------------- the generator's moving average
def test_the_ema_generator_averages_the_trained_weights_and_new_layers_start_from_the_raw_ones(record_raw_at_growth):
    import keras

    from gans.training.data import BatchSource
    from gans.training.execution import Recipe
    from gans.training.steps import make_step

    keras.utils.set_random_seed(2)
    beta = 0.75
    step = make_step(tiny_config(target_resolution=8, filters=4, recipe="bce", ema=beta))  # bce: BN statistics
    step.use_execution(Recipe())
    raw_all, ema_all = step.models["grown_generator"].variables, step.models["ema_generator"].variables
    assert len(raw_all) == len(ema_all) > 10
    for a, b in zip(raw_all, ema_all):  # the average starts at the raw weights
        assert a is not b
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    data, rng = BatchSource(faces(), 8), np.random.default_rng(2)
    from gans.training.steps.pggan import _trainable_variables

    in_4x4 = {id(v) for v in step.g_stages[4].stable.variables}
    trainable = {id(v) for v in _trainable_variables(step.models["grown_generator"])}
    expected = [b.numpy() for b in ema_all]
    for i in (1, 2, 3):  # the 4x4 phase
        step.train_step(i, data, rng)
        for k, (a, b) in enumerate(zip(raw_all, ema_all)):
            if id(a) in in_4x4:
                expected[k] = beta * expected[k] + (1 - beta) * a.numpy() if id(a) in trainable else a.numpy()
            np.testing.assert_allclose(b.numpy(), expected[k], rtol=1e-5, atol=1e-6, err_msg=a.path)
    averaged = [k for k, a in enumerate(raw_all) if id(a) in in_4x4 and id(a) in trainable]
    assert averaged and all(not np.allclose(raw_all[k].numpy(), ema_all[k].numpy()) for k in averaged)
    assert any("moving_mean" in raw_all[k].path for k in range(len(raw_all)) if id(raw_all[k]) in in_4x4)
    # growing to 8x8: the new block (never trained) takes the raw weights; the 4x4 average is kept
    before = [b.numpy().copy() for b in ema_all]
    step.train_step(4, data, rng)  # enters the 8x8 fade-in (and updates the average once)
    new = [k for k, a in enumerate(raw_all) if "8x8_conv" in a.path and id(a) in trainable]
    assert new
    np.testing.assert_allclose(ema_all[new[0]].numpy(), beta * raw_initial(step, new[0]) + (1 - beta) *
                               raw_all[new[0]].numpy(), rtol=1e-5, atol=1e-6)
    k4 = averaged[0]
    np.testing.assert_allclose(ema_all[k4].numpy(), beta * before[k4] + (1 - beta) * raw_all[k4].numpy(), rtol=1e-5,
                               atol=1e-6)
    # samples come from the average: the EMA fade-in model with the same alpha
    assert step.sampling_generator is step.ema_stages[8].fade
    z = np.random.default_rng(0).standard_normal((2, 8), dtype=np.float32)
    got = step.sample(2, np.random.default_rng(0))
    np.testing.assert_allclose(got, step.ema_stages[8].fade(z, training=False).numpy(), atol=1e-6)
    assert not np.allclose(got, step.generator(z, training=False).numpy(), atol=1e-4)


_RAW_AT_GROWTH = {}


def raw_initial(step, k):
    """The raw weight ``k`` as it was when its resolution began (recorded by the callback below)."""
    return _RAW_AT_GROWTH[k]


@pytest.fixture
def record_raw_at_growth(monkeypatch):
    """Record the raw generator's weights as each resolution starts (before its first update)."""
    from gans.training.steps.pggan import PGGANStep

    original = PGGANStep._ema_enter

    def spy(self, phase):
        if self.phase is None or self.phase.resolution != phase.resolution:
            for k, v in enumerate(self.models["grown_generator"].variables):
                _RAW_AT_GROWTH[k] = v.numpy().copy()
        return original(self, phase)

    monkeypatch.setattr(PGGANStep, "_ema_enter", spy)


@pytest.mark.slow  # a whole run: about 20 s idle, a minute on a loaded machine
def test_with_ema_the_per_phase_checkpoints_are_the_average_and_the_raw_generator_is_written_beside(tmp_path):
    import keras

    cfg = tiny_config(target_resolution=8, filters=4, ema=0.5)
    assert cfg.step_options["ema"] == 0.5 and "ema" not in tiny_config().step_options
    trainer = train(cfg, tmp_path, ImageDataset(faces(), source="faces"),
                    settings=RunSettings(progress=False, tensorboard=False, sample_every=100, checkpoint_every=100))
    step = trainer.step_obj
    ckpt = tmp_path / "checkpoints"
    assert sorted(p.name for p in ckpt.glob("*generator_8x8_*")) == [
        "generator_8x8_faded.h5", "generator_8x8_stable.h5",
        "raw_generator_8x8_faded.h5", "raw_generator_8x8_stable.h5"]
    assert (tmp_path / "samples" / "phase_8x8_stable_raw.png").is_file()
    z = np.random.default_rng(0).standard_normal((3, 8), dtype=np.float32)
    averaged = keras.models.load_model(ckpt / "generator_8x8_stable.h5", safe_mode=True)
    raw = keras.models.load_model(ckpt / "raw_generator_8x8_stable.h5", safe_mode=True)
    np.testing.assert_allclose(averaged(z).numpy(), step.ema_stages[8].stable(z, training=False).numpy(), atol=1e-5)
    np.testing.assert_allclose(raw(z).numpy(), step.generator(z, training=False).numpy(), atol=1e-5)
    assert not np.allclose(averaged(z).numpy(), raw(z).numpy(), atol=1e-4)
    from gans.training.progressive import phase_checkpoint

    assert phase_checkpoint(tmp_path, 8).name == "generator_8x8_stable.h5"


@pytest.mark.parametrize("beta", [1.0, -0.1, float("nan")])
def test_a_bad_ema_beta_is_refused(beta):
    from gans.errors import ConfigError
    from gans.training.steps import make_step

    with pytest.raises(ConfigError, match="EMA"):
        make_step(tiny_config(target_resolution=8, filters=4, ema=beta))


# ---------------------------------------------------------------------- WGAN-GP
def test_the_gradient_penalty_loss_equals_a_direct_computation_on_a_tiny_critic():
    import keras

    from gans.layers import WassersteinGPCriticLoss

    x = keras.Input((2, 2, 1))
    h = keras.layers.Dense(3, activation="tanh", name="h")(keras.layers.Flatten()(x))
    critic = keras.Model(x, keras.layers.Dense(1, name="out")(h))
    rng = np.random.default_rng(4)
    for layer in ("h", "out"):
        critic.get_layer(layer).set_weights([rng.normal(0, 1.5, w.shape).astype(np.float32)
                                             for w in critic.get_layer(layer).get_weights()])
    real = rng.uniform(-1, 1, (5, 2, 2, 1)).astype(np.float32)
    fake = rng.uniform(-1, 1, (5, 2, 2, 1)).astype(np.float32)
    mix = rng.uniform(0, 1, (5, 1, 1, 1)).astype(np.float32)
    got = WassersteinGPCriticLoss(critic, penalty_weight=10.0, drift=0.001)([real, fake, mix]).numpy()

    (w1, b1), (w2, b2) = critic.get_layer("h").get_weights(), critic.get_layer("out").get_weights()

    def d(images):
        return np.tanh(images.reshape(len(images), -1) @ w1 + b1) @ w2 + b2

    mixed = (real + mix * (fake - real)).reshape(5, -1)
    # d D / d x = W1 (w2 * (1 - tanh^2(x W1 + b1))), per sample
    grads = ((1 - np.tanh(mixed @ w1 + b1) ** 2) * w2[:, 0]) @ w1.T
    penalty = 10.0 * (np.linalg.norm(grads, axis=1) - 1.0) ** 2
    expected = d(fake) - d(real) + penalty[:, None] + 0.001 * d(real) ** 2
    assert got.shape == (5, 1) and np.all(penalty > 0.1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_the_critic_trainer_saves_and_loads(tmp_path, suffix):
    import keras

    from gans.models import pggan

    d = pggan.grow_discriminator(target_resolution=8, filters=4, recipe="wasserstein", minibatch_stddev=True,
                                 equalized=True)
    trainer = pggan.build_critic_trainer(d[8].fade, penalty_weight=5.0, drift=0.01)
    d[8].fade_layer.set_alpha(0.3)
    rng = np.random.default_rng(0)
    x = [rng.uniform(-1, 1, (4, 8, 8, 3)).astype(np.float32), rng.uniform(-1, 1, (4, 8, 8, 3)).astype(np.float32),
         rng.uniform(0, 1, (4, 1, 1, 1)).astype(np.float32)]
    trainer.save(tmp_path / f"t{suffix}")
    loaded = keras.models.load_model(tmp_path / f"t{suffix}", safe_mode=True)
    np.testing.assert_allclose(loaded(x).numpy(), trainer(x).numpy(), rtol=1e-5, atol=1e-5)
    layer = loaded.get_layer("critic_loss")
    assert (layer.penalty_weight, layer.drift) == (5.0, 0.01)


@pytest.mark.slow  # two runs through a phase change: about 20 s idle, a minute on a loaded machine
def test_the_wasserstein_recipe_trains_with_the_penalty_alike_in_both_executions(tmp_path):
    """WGAN-GP across a phase change: the recipe's train_on_batch and the fused graph take the same
    updates (every weight and optimizer slot), and the critic's loss includes the penalty."""
    from helpers import EQUAL, assert_same, train_iterations as run

    from gans.training.execution import Fused, Recipe

    cfg = tiny_config(target_resolution=8, filters=4, recipe="wasserstein", images_per_phase=16)  # 2 steps a phase
    data = ImageDataset(faces(), source="faces")
    recipe = run("pggan", tmp_path / "recipe", Recipe(), config=cfg, data=data)
    fused = run("pggan", tmp_path / "fused", Fused(jit=False), config=cfg, data=data)
    assert recipe[2].phase.label == "8x8 fade-in" and recipe[2].critic_trainer is not None
    assert list(recipe[0][0]) == ["d_loss", "g_loss"]
    assert_same(recipe, fused, atol=EQUAL, what="pggan wasserstein recipe vs fused")
    assert all(np.isfinite(list(r.values())).all() for r in recipe[0])


# ---------------------------------------------------------------------- diagnostics across resolutions
class GrowingTrainer:
    """A stand-in trainer whose generator grows 4x4 -> 8x8 -> 16x16 and makes perfectly diverse images:
    real faces at the current resolution (as a healthy progressive generator would)."""

    def __init__(self, run_dir, images):
        from types import SimpleNamespace

        self.run_dir, self.step, self.total_steps = run_dir, 0, 60
        self.data = SimpleNamespace(images=images)

    def generate(self, n, seed=0, batch_size=256):
        from gans.datasets.npz import resize_images
        from gans.datasets.scaling import scale_images

        side = 4 if self.step <= 20 else 8 if self.step <= 40 else 16
        pick = np.random.default_rng(seed + 1).choice(len(self.data.images), n, replace=False)
        return scale_images(resize_images(self.data.images[pick], side))

    def diagnostic_images(self, n, seed=0):  # what the collapse check judges: the samples, as the PGGAN's
        return self.generate(n, seed=seed)


def test_diagnostics_compare_a_growing_generator_with_real_images_of_its_own_resolution(tmp_path):
    from gans.evaluation.callbacks import DiagnosticsCallback

    images = faces(120, side=32, seed=3)
    trainer = GrowingTrainer(tmp_path, images)
    noise = np.random.default_rng(0).standard_normal((60, 2))
    write_run(tmp_path, range(1, 61), 0.3 + 0.02 * noise[:, 0], 0.4 + 0.02 * noise[:, 1], variant="pggan",
              loss="least_squares")
    callback = DiagnosticsCallback(10, n=48)
    callback.on_train_begin(trainer)
    for step in range(1, 61):
        trainer.step = step
        callback.on_step_end(trainer, step, {})
    callback.on_train_end(trainer)
    import csv

    with open(tmp_path / "diversity.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["resolution"]) for r in rows] == [4, 4, 8, 8, 16, 16]
    real = {int(r["resolution"]): float(r["real_diversity"]) for r in rows}
    assert real[4] < real[8] < real[16]  # a baseline per resolution, not the 32x32 data's
    assert all(0.7 < float(r["ratio"]) < 1.3 for r in rows), rows
    report = json.loads((tmp_path / "diagnostics.json").read_text())
    assert "mode collapse" not in report["verdict"], report


def test_real_images_are_brought_to_the_generated_size_as_the_progressive_step_crops_them():
    from gans.evaluation.diagnostics import real_at_size
    from gans.training.steps.pggan import center_square
    from gans.datasets.npz import resize_images

    images = np.random.default_rng(0).integers(0, 256, (3, 20, 12, 3), dtype=np.uint8)
    np.testing.assert_array_equal(real_at_size(images, (6, 6)), resize_images(center_square(images), 6))
    assert real_at_size(images, (10, 6)).shape == (3, 10, 6, 3)
    assert real_at_size(images, (20, 12)) is images


# ---------------------------------------------------------------------- resume inside a phase
class StopAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, trainer, step, logs):
        if step == self.step:  # before the state checkpoint: the state on disk is the previous step's
            raise KeyboardInterrupt


RESUME_CASES = {  # name: (config changes, the step the run is killed at: the state on disk is the one before)
    "fade-in": ({}, 6),
    # the moving average and one optimizer per resolution, killed inside the stable phase: the optimizer
    # state carried over from the fade-in and the averaged weights must both come back
    "ema, stable": ({"ema": 0.9, "optimizer_reset": "resolution"}, 8),
}


def _child_resume(out: Path) -> None:
    changes, stop_at = RESUME_CASES[os.environ["PGGAN_CHILD_CASE"]]
    # 4x4 stable: steps 1-3, 8x8 fade-in 4-6, stable 7-9
    config = tiny_config(target_resolution=8, filters=4, **changes)
    settings = RunSettings(progress=False, tensorboard=False, sample_every=100, checkpoint_every=1, seed=3,
                           deterministic=True)
    data = ImageDataset(faces(), source="faces")

    def dump(trainer, name):
        s = trainer.step_obj
        arrays = {f"m/{role}/{i}": v.numpy() for role, m in s.models.items() for i, v in enumerate(m.variables)}
        arrays.update({f"o/{role}/{i}": v.numpy() for role, o in s.optimizers.items() for i, v in enumerate(o.variables)})
        arrays.update({f"all/{i}": v.numpy() for i, v in enumerate(
            v for st in s.g_stages.values() for v in (st.fade or st.stable).variables)})
        if s.ema_stages is not None:  # the averaged generator, read from its own networks
            arrays.update({f"ema/{i}": v.numpy() for i, v in enumerate(
                v for st in s.ema_stages.values() for v in (st.fade or st.stable).variables)})
        np.savez(out / f"{name}.npz", **arrays)
        (out / f"{name}.json").write_text(json.dumps({"extra": s.get_extra_state(), "rng": trainer.rng.bit_generator.state}))

    mode = os.environ["PGGAN_CHILD_MODE"]
    if mode == "whole":
        dump(train(config, out / "whole", data, steps=8, settings=settings), "whole")
    elif mode == "stop":
        try:
            train(config, out / "stopped", data, steps=8, settings=settings, extra_callbacks=[StopAt(stop_at)])
        except KeyboardInterrupt:
            pass
    else:
        dump(train(config, out / "stopped", data, steps=8, settings=settings, resume=True), "resumed")


@pytest.mark.slow  # about 40 s each on 2 cores (three fresh single-threaded processes)
@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_a_run_stopped_inside_a_phase_resumes_exactly(tmp_path, case):
    env = child_env(ONE_THREAD, {"PGGAN_CHILD_CASE": case})
    for mode in ("whole", "stop", "resume"):
        done = subprocess.run([sys.executable, __file__, "resume", str(tmp_path)], capture_output=True, text=True,
                              env={**env, "PGGAN_CHILD_MODE": mode}, cwd=HERE)
        assert done.returncode == 0, done.stderr[-3000:]
        if mode == "stop":
            from gans.training.state import read_meta

            meta = read_meta(tmp_path / "stopped" / "state" / "state.npz")
            expected = (5, 1, 0.5) if case == "fade-in" else (7, 2, 1.0)
            assert (meta["step"], meta["step_state"]["phase"], meta["step_state"]["alpha"]) == expected
    whole, resumed = np.load(tmp_path / "whole.npz"), np.load(tmp_path / "resumed.npz")
    assert sorted(whole.files) == sorted(resumed.files) and any(k.startswith("o/") for k in whole.files)
    assert any(k.startswith("ema/") for k in whole.files) == (case != "fade-in")
    for key in whole.files:
        np.testing.assert_array_equal(whole[key], resumed[key], err_msg=key)
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("whole", "resumed"))
    assert a == b and a["extra"]["phase"] == 2


# ---------------------------------------------------------------------- the command line's refusals
def test_bad_input_gets_one_line_and_status_2(tmp_path, capsys):
    from gans.cli import main
    from gans.datasets.npz import save_images

    small = save_images(tmp_path / "small.npz", faces(16, side=8))
    ok = save_images(tmp_path / "ok.npz", faces(16, side=8))
    cases = [
        (("train", "pggan", "--data", ok, "--target-resolution", 12, "--out", tmp_path / "a"), "power of two"),
        (("train", "pggan", "--data", small, "--target-resolution", 16, "--out", tmp_path / "b"), "smaller than"),
        (("train", "dcgan", "--target-resolution", 16), "pggan"),
        (("train", "dcgan", "--ema", 0.999), "--ema goes with 'gans train pggan'"),
        (("train", "pggan", "--data", ok, "--target-resolution", 8, "--ema", 1.5, "--out", tmp_path / "c"), "EMA"),
        (("sample", tmp_path, "--resolution", 8), "is not a run folder (no config.json)"),
    ]
    for args, words in cases:
        capsys.readouterr()
        assert main([str(a) for a in args]) == 2, args
        lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("gans ")]
        assert len(lines) == 1 and words in lines[0], (args, lines)
    assert not (tmp_path / "b" / "state").exists()
    run = tmp_path / "run"
    base = ("train", "pggan", "--data", ok, "--target-resolution", 8, "--images-per-phase", 4, "--batch-sizes", 4, 4,
            "--filters", 4, 4, "--latent-dim", 4, "--no-tensorboard", "--no-progress", "--out", run)
    assert main([str(a) for a in base]) == 0
    assert (run / "checkpoints" / "generator_8x8_stable.h5").is_file() and (run / "phases.csv").is_file()
    capsys.readouterr()
    assert main([str(a) for a in (*base[:-2], "--recipe", "bce", "--resume", "--out", run)]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "recipe" in err
    lower = [str(a) for a in base[:-2]]
    lower[lower.index("--target-resolution") + 1] = "4"
    for option in ("--batch-sizes", "--filters"):  # one value per resolution, so the target is the one problem
        del lower[lower.index(option) + 2]
    assert main([*lower, "--resume", "--out", str(run)]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("gans ")]
    assert len(lines) == 1 and "--target-resolution 4: this run trains to 8x8, and a run can only grow" in lines[0]


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "resume":
    _child_resume(Path(sys.argv[2]))


def test_more_batch_sizes_or_filters_than_resolutions_are_refused():
    from gans.errors import ConfigError
    # issue 24, item 6: --batch-sizes 4 4 4 4 for a run to 16x16 silently dropped the last value
    from gans.models.pggan import filters_for

    with pytest.raises(ConfigError, match=r"one batch size per resolution \[4, 8, 16\] \(3 values\), got 4"):
        Schedule(16, images_per_phase=100, batch_sizes=[32, 16, 10, 8])
    with pytest.raises(ConfigError, match=r"one filter count per resolution \[4, 8\] \(2 values\), got 3"):
        filters_for(8, [8, 8, 8])
    assert filters_for(8, [8, 4]) == {4: 8, 8: 4}
