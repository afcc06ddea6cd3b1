"""The training loop: the freeze rule for every family, WGAN clipping, artefacts, resume, NaN, errors."""

import json

import keras
import numpy as np
import pytest

import gans  # noqa: F401
from gans.datasets.base import ImageDataset
from gans.errors import ConfigError, DataError, TrainingDiverged
from gans.experiments import get_experiment
from gans.training import RunSettings, prepare, train
from gans.training.data import BatchSource
from gans.training.steps import AdversarialStep, WGANStep, build_networks, make_step

TINY = {
    "gan": {"generator": {"units": (16, 32)}, "discriminator": {"units": (32, 16)}},
    "lsgan": {"generator": {"units": (16, 32)}, "discriminator": {"units": (32, 16)}},
    "dcgan": {"generator": {"filters": (8, 4), "base_filters": 8}, "discriminator": {"filters": (4, 8, 8, 8)}},
    "wgan": {"generator": {"filters": (8, 4), "base_filters": 8}, "discriminator": {"filters": (4, 8, 8, 8)}},
}


def tiny_config(experiment: int, **changes):
    """A thesis experiment with narrow layers, so a step takes milliseconds."""
    from gans.config import NetworkSpec

    cfg = get_experiment(experiment)
    sizes = TINY[cfg.variant]
    return cfg.replace(
        generator=NetworkSpec(cfg.generator.builder, {**cfg.generator.options, **sizes["generator"]}),
        discriminator=NetworkSpec(cfg.discriminator.builder, {**cfg.discriminator.options, **sizes["discriminator"]}),
        **{"latent_dim": 8, "batch_size": 8, **changes})


def random_images(n=64, shape=(28, 28, 1), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def weights(model):
    return [w.copy() for w in model.get_weights()]


def changed(before, after):
    return [i for i, (a, b) in enumerate(zip(before, after)) if not np.array_equal(a, b)]


@pytest.mark.parametrize("experiment", [1, 2, 3, 4], ids=["gan", "dcgan", "lsgan", "wgan"])
def test_discriminator_learns_in_d_steps_and_is_frozen_in_g_steps(experiment):
    cfg = tiny_config(experiment)
    keras.utils.set_random_seed(0)
    nets = build_networks(cfg)
    g, d = nets["generator"], nets["discriminator"]
    step = make_step(cfg, nets)
    assert isinstance(step, WGANStep) == (cfg.variant == "wgan")
    rng = np.random.default_rng(0)
    data = BatchSource(random_images(), cfg.batch_size)
    for round_ in range(2):  # the second round runs the already-traced train functions
        d0, g0 = weights(d), weights(g)
        step.discriminator_step(data.batch(round_, rng), rng)
        d1, g1 = weights(d), weights(g)
        trainable = [i for i, v in enumerate(d.weights) if v.trainable]
        moved = set(changed(d0, d1))
        if cfg.variant == "wgan":  # a weight pinned at the clip bound may legitimately stay there
            assert len(moved & set(trainable)) >= len(trainable) // 2, "D must learn in a D step"
        else:
            assert moved >= set(trainable), "every trainable D weight must move in a D step"
        assert changed(g0, g1) == [], "G must not move in a D step"
        step.generator_step(cfg.batch_size, rng)
        d2, g2 = weights(d), weights(g)
        assert changed(d1, d2) == [], "D (weights and batch-norm statistics) must not move in a G step"
        assert changed(g1, g2), "G must move in a G step"
    if cfg.variant == "wgan":
        clip = cfg.discriminator.options["clip_value"]
        clipped = [np.abs(d.weights[i].numpy()).max() for i in trainable]
        assert len(clipped) == len(trainable) and max(clipped) <= clip + 1e-7
        assert max(clipped) == pytest.approx(clip)


def test_keras2_freeze_recipe_would_leave_d_untrained_which_is_why_the_rule_exists():
    """Documents the trap: freezing once before the D step's first trace makes D's step a no-op."""
    cfg = tiny_config(1)
    nets = build_networks(cfg)
    g, d = nets["generator"], nets["discriminator"]
    step = AdversarialStep(g, d, "minimax", keras.optimizers.Adam(), keras.optimizers.Adam())
    d.trainable = False  # the Keras 2 recipe, then train D directly
    before = weights(d)
    with pytest.warns(UserWarning):
        d.train_on_batch(np.zeros((4, 28, 28, 1), "float32"), np.ones((4, 1), "float32"))
    assert changed(before, weights(d)) == []
    del step


def test_wgan_step_refuses_an_unclipped_critic():
    cfg = tiny_config(4)
    g = build_networks(cfg)["generator"]
    opts = {**cfg.discriminator.options, **TINY["wgan"]["discriminator"], "clip_value": None}
    from gans.models import wgan

    critic = wgan.build_discriminator(image_shape=cfg.image_shape, **opts)
    with pytest.raises(ConfigError, match="clip_value"):
        WGANStep(g, critic, optimizer=keras.optimizers.RMSprop(), discriminator_optimizer=keras.optimizers.RMSprop())


def test_wgan_does_n_critic_discriminator_updates_per_generator_update():
    cfg = tiny_config(4)
    trainer = prepare(cfg, "unused", ImageDataset(random_images()), RunSettings(progress=False))
    step = trainer.step_obj
    calls = []
    original = step.discriminator_step
    step.discriminator_step = lambda batch, rng: calls.append(len(batch.images)) or original(batch, rng)
    step.train_step(1, trainer.data, trainer.rng)
    assert calls == [cfg.batch_size] * 5
    assert int(step.discriminator.optimizer.iterations) == 10  # real + fake batch per critic step
    assert int(step.combined.optimizer.iterations) == 1


def test_run_writes_every_artefact(tmp_path):
    cfg = tiny_config(3)
    run = tmp_path / "run"
    trainer = train(cfg, run, data=ImageDataset(random_images()), steps=6,
                    settings=RunSettings(sample_every=3, checkpoint_every=3, progress=False))
    assert trainer.step == 6
    for name in ("config.json", "losses.csv", "loss_plot.png", "generator_modelsummary.txt",
                 "discriminator_modelsummary.txt", "gan_modelsummary.txt", "state/state.npz",
                 "samples/step_000003.png", "samples/step_000006.png",
                 "checkpoints/generator_step_000003.h5", "checkpoints/generator_step_000006.h5"):
        assert (run / name).is_file(), name
    rows = np.loadtxt(run / "losses.csv", delimiter=",", skiprows=1)
    assert rows[:, 0].tolist() == [1, 2, 3, 4, 5, 6] and np.isfinite(rows).all()
    config = json.loads((run / "config.json").read_text())
    for key in ("experiment", "variant", "dataset", "steps", "latent_dim", "batch_size", "loss", "optimizer",
                "discriminator_loss", "discriminator_optimizer", "networks", "num_classes"):
        assert key in config
    assert config["optimizer"] == {"name": "adam", "learning_rate": 0.0002, "beta_1": 0.5}
    assert config["networks"]["generator"]["options"]["momentum"] == 0.8 and config["run"]["checkpoint_every"] == 3


def test_resumed_run_matches_an_uninterrupted_one(tmp_path):
    cfg = tiny_config(2)
    images = ImageDataset(random_images())
    settings = RunSettings(sample_every=0, checkpoint_every=3, progress=False, seed=5)
    full = train(cfg, tmp_path / "full", data=images, steps=6, settings=settings)
    train(cfg, tmp_path / "split", data=images, steps=3, settings=settings)
    resumed = train(cfg, tmp_path / "split", data=images, steps=6, settings=settings, resume=True)
    assert resumed.step == 6
    # Optimizer slots, BN statistics and the random generator all come back, so the runs agree
    # up to float round-off (dropout masks are drawn by TensorFlow and are not part of the state).
    for a, b in zip(full.generator.get_weights(), resumed.generator.get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-3)
    assert int(resumed.step_obj.combined.optimizer.iterations) == 6
    log_full = np.loadtxt(tmp_path / "full" / "losses.csv", delimiter=",", skiprows=1)
    log_split = np.loadtxt(tmp_path / "split" / "losses.csv", delimiter=",", skiprows=1)
    assert log_split[:, 0].tolist() == list(range(1, 7))
    np.testing.assert_allclose(log_full[:3], log_split[:3])


def test_existing_run_is_not_overwritten_without_resume(tmp_path):
    cfg = tiny_config(3)
    images = ImageDataset(random_images())
    settings = RunSettings(checkpoint_every=2, progress=False)
    train(cfg, tmp_path, data=images, steps=2, settings=settings)
    with pytest.raises(ConfigError, match="--resume"):
        train(cfg, tmp_path, data=images, steps=4, settings=settings)
    with pytest.raises(ConfigError, match=r"differs .*latent_dim"):
        train(cfg.replace(latent_dim=9), tmp_path, data=images, steps=4, settings=settings, resume=True)


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_state(tmp_path):
    cfg = tiny_config(3)
    trainer = prepare(cfg, tmp_path, ImageDataset(random_images()), RunSettings(checkpoint_every=2, progress=False))
    real_step = trainer.step_obj.train_step

    def step_that_diverges(step, data, rng):
        logs = real_step(step, data, rng)
        return {**logs, "g_loss": float("nan")} if step == 5 else logs

    trainer.step_obj.train_step = step_that_diverges
    with pytest.raises(TrainingDiverged, match=r"step 5.*g_loss=nan.*last good state is at step 4"):
        trainer.fit(steps=10, progress=False)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir())[-1] == "generator_step_000004.h5"
    rows = np.loadtxt(tmp_path / "losses.csv", delimiter=",", skiprows=1)
    assert rows[-1, 0] == 4


def test_epochs_mode_visits_every_image_once_per_epoch():
    images = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1).repeat(2, axis=1)
    source = BatchSource(images, 5, mode="epoch", seed=3)
    rng = np.random.default_rng(0)
    seen = np.concatenate([source.batch(i, rng).images[:, 0, 0, 0] for i in range(4)])
    assert sorted(np.rint((seen + 1) * 127.5).astype(int).tolist()) == list(range(20))
    cfg = tiny_config(3, batch_size=5)
    trainer = prepare(cfg, "unused", ImageDataset(random_images(20)), RunSettings(progress=False))
    assert trainer._resolve_total(None, 3) == 12


def test_batch_larger_than_the_dataset_is_a_clear_error():
    with pytest.raises(DataError, match=r"batch size 64 is larger than the dataset \(10 images\)"):
        BatchSource(random_images(10), 64)


def test_model_plot_is_written_when_pydot_and_graphviz_are_installed(tmp_path, caplog):
    import importlib.util
    import logging
    import shutil

    cfg = tiny_config(1)
    with caplog.at_level(logging.INFO, logger="gans.training.callbacks"):
        train(cfg, tmp_path, data=ImageDataset(random_images()), steps=1, settings=RunSettings(progress=False))
    if importlib.util.find_spec("pydot") and shutil.which("dot"):
        assert (tmp_path / "model_plot.png").stat().st_size > 1000
    else:  # the run says why there is no plot instead of failing
        assert not (tmp_path / "model_plot.png").exists()
        assert "model_plot.png not written" in caplog.text and "graphviz" in caplog.text
