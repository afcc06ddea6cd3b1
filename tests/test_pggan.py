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
from gans.experiments.pggan import pggan_config
from gans.models.growth import Schedule, resolutions
from gans.training import RunSettings, train

HERE = Path(__file__).resolve().parent
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}


def tiny_config(**changes):
    """4x4 -> 8x8 -> 16x16 with 8 filters, 24 images (3 steps of 8) per phase: 15 steps, 5 phases."""
    options = dict(target_resolution=16, images_per_phase=24, batch_sizes=8, filters=8, latent_dim=8)
    options.update(changes)
    return pggan_config(**options)


def faces(n=48, side=16, seed=0):
    """Smooth random 'faces': real structure at every scale, so each resolution has something to learn."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (n, 4, 4, 3)).astype(np.float32)
    return np.clip(small.repeat(side // 4, 1).repeat(side // 4, 2) + rng.normal(0, 8, (n, side, side, 3)),
                   0, 255).astype(np.uint8)


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
    import keras

    model, fade = _layer_model()
    fade.set_alpha(0.7)  # a value set during training is saved with the weights
    x = np.random.default_rng(0).normal(size=(4, 4, 4, 2)).astype(np.float32)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)
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
    from gans.training.progressive import PhaseArtefacts, phase_checkpoint

    record = Record()
    cfg = tiny_config()
    trainer = train(cfg, tmp_path, ImageDataset(faces(), source="faces"),
                    settings=RunSettings(progress=False, tensorboard=False, sample_every=100, checkpoint_every=100),
                    extra_callbacks=[record, PhaseArtefacts(rows=2)])
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
    done = subprocess.run([sys.executable, "-m", "gans.cli", "sample", str(tmp_path), "--resolution", "8", "--n", "4",
                           "--out", str(out)], capture_output=True, text=True, env={**os.environ, **ONE_THREAD})
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


# ---------------------------------------------------------------------- resume inside a phase
class StopAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, trainer, step, logs):
        if step == self.step:  # before the state checkpoint: the state on disk is the previous step's
            raise KeyboardInterrupt


def _child_resume(out: Path) -> None:
    config = tiny_config(target_resolution=8, filters=4)  # 4x4 stable: steps 1-3, 8x8 fade-in 4-6, stable 7-9
    settings = RunSettings(progress=False, tensorboard=False, sample_every=100, checkpoint_every=1, seed=3,
                           deterministic=True)
    data = ImageDataset(faces(), source="faces")

    def dump(trainer, name):
        s = trainer.step_obj
        arrays = {f"m/{role}/{i}": v.numpy() for role, m in s.models.items() for i, v in enumerate(m.variables)}
        arrays.update({f"o/{role}/{i}": v.numpy() for role, o in s.optimizers.items() for i, v in enumerate(o.variables)})
        arrays.update({f"all/{i}": v.numpy() for i, v in enumerate(
            v for st in s.g_stages.values() for v in (st.fade or st.stable).variables)})
        np.savez(out / f"{name}.npz", **arrays)
        (out / f"{name}.json").write_text(json.dumps({"extra": s.get_extra_state(), "rng": trainer.rng.bit_generator.state}))

    mode = os.environ["PGGAN_CHILD_MODE"]
    if mode == "whole":
        dump(train(config, out / "whole", data, steps=8, settings=settings), "whole")
    elif mode == "stop":
        try:
            train(config, out / "stopped", data, steps=8, settings=settings, extra_callbacks=[StopAt(6)])
        except KeyboardInterrupt:
            pass
    else:
        dump(train(config, out / "stopped", data, steps=8, settings=settings, resume=True), "resumed")


@pytest.mark.slow  # about 40 s on 2 cores (three fresh single-threaded processes)
def test_a_run_stopped_inside_a_fade_in_resumes_exactly(tmp_path):
    env = {**os.environ, **ONE_THREAD}
    for mode in ("whole", "stop", "resume"):
        done = subprocess.run([sys.executable, __file__, "resume", str(tmp_path)], capture_output=True, text=True,
                              env={**env, "PGGAN_CHILD_MODE": mode}, cwd=HERE)
        assert done.returncode == 0, done.stderr[-3000:]
        if mode == "stop":
            from gans.training.state import read_meta

            meta = read_meta(tmp_path / "stopped" / "state" / "state.npz")
            assert meta["step"] == 5 and meta["step_state"]["phase"] == 1 and meta["step_state"]["alpha"] == 0.5
    whole, resumed = np.load(tmp_path / "whole.npz"), np.load(tmp_path / "resumed.npz")
    assert sorted(whole.files) == sorted(resumed.files) and any(k.startswith("o/") for k in whole.files)
    for key in whole.files:
        np.testing.assert_array_equal(whole[key], resumed[key], err_msg=key)
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("whole", "resumed"))
    assert a == b and a["extra"]["phase"] == 2


# ---------------------------------------------------------------------- the command line's refusals
def _gans(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gans.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **ONE_THREAD}, cwd=cwd)


def test_bad_input_gets_one_line_and_status_2(tmp_path, capsys):
    from gans.cli import main
    from gans.datasets.npz import save_images

    small = save_images(tmp_path / "small.npz", faces(16, side=8))
    ok = save_images(tmp_path / "ok.npz", faces(16, side=8))
    cases = [
        (("train", "pggan", "--data", ok, "--target-resolution", 12, "--out", tmp_path / "a"), "power of two"),
        (("train", "pggan", "--data", small, "--target-resolution", 16, "--out", tmp_path / "b"), "smaller than"),
        (("train", "dcgan", "--target-resolution", 16), "pggan"),
        (("sample", tmp_path, "--resolution", 8), "not a progressive run"),
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
    capsys.readouterr()
    assert main([str(a) for a in (*base[:-2], "--recipe", "bce", "--resume", "--out", run)]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "recipe" in err


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "resume":
    _child_resume(Path(sys.argv[2]))
