"""The training loop: the freeze rule for every family, WGAN clipping, artefacts, checkpoints, NaN, errors.

(Resume is tested in test_resume.py.)"""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import gans  # noqa: F401
from gans.config import NetworkSpec
from gans.datasets.base import ImageDataset
from gans.errors import ConfigError, DataError, TrainingDiverged
from gans.training import RunSettings, prepare, train
from gans.training.callbacks import SampleGrid
from gans.training.data import BatchSource
from gans.training.execution import Fused, Recipe
from gans.training.steps import ConditionalStep, WGANStep, build_networks, make_step

from helpers import (BATCHNORM_D_FAMILIES, FREEZE_CASES, TINY, TINY_FAMILIES, labelled_images, random_images, read_csv,
                     tiny_cgan, tiny_config)


def weights(model):
    return [w.copy() for w in model.get_weights()]


def changed(before, after):
    return [i for i, (a, b) in enumerate(zip(before, after)) if not np.array_equal(a, b)]


def learnable_weights(model) -> set[int]:
    """Indices (into ``model.weights``) of the weights its own training must update, read off the model
    as built, before the library has touched its ``trainable`` flag."""
    learnable = {i for i, v in enumerate(model.weights) if v.trainable}
    assert learnable, f"{model.name} has no trainable weights to test"
    return learnable


class Spy(Recipe):
    """The recipe execution, calling ``seen(model, before)`` after each update with the weights of every
    network from just before it."""

    def __init__(self, networks, seen):
        super().__init__()
        self.networks, self.seen = networks, seen

    def train(self, model, x, y):
        before = {name: weights(net) for name, net in self.networks.items()}
        loss = super().train(model, x, y)
        self.seen(model, before)
        return loss


@pytest.mark.parametrize("family, mode", FREEZE_CASES)
def test_discriminator_learns_in_d_steps_and_is_frozen_in_g_steps(family, mode):
    """D's weights and batch-norm statistics move in D steps and are bit-identical across G steps,
    whichever statistics its frozen batch norm uses there (--frozen-batchnorm)."""
    cfg = TINY_FAMILIES[family]().replace(frozen_batchnorm=mode)
    keras.utils.set_random_seed(0)
    nets = build_networks(cfg)
    g, d = nets["generator"], nets["discriminator"]
    if family in BATCHNORM_D_FAMILIES:
        assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in d._flatten_layers())
    d_learnable, g_learnable = learnable_weights(d), learnable_weights(g)
    step = make_step(cfg, nets)
    assert isinstance(step, WGANStep) == (family == "wgan") and isinstance(step, ConditionalStep) == (family == "cgan")
    list(step.summaries())  # what a run does first; it leaves D frozen, as the combined model sees it
    data = labelled_images()
    source = BatchSource(data.images, cfg.batch_size, labels=data.labels if step.num_classes else None)
    updates = []

    def seen(model, before):
        d0, g0 = before["discriminator"], before["generator"]
        d1, g1 = weights(d), weights(g)
        if model is d:
            moved = set(changed(d0, d1)) & d_learnable
            count = f"{len(moved)} of {len(d_learnable)} moved"
            if family == "wgan":  # a weight pinned at the clip bound may legitimately stay there
                assert len(moved) >= len(d_learnable) // 2, f"D must learn in a D step ({count})"
            else:
                assert moved == d_learnable, f"every trainable D weight must move in a D step ({count})"
            assert changed(g0, g1) == [], "G must not move in a D step"
        else:
            assert model is step.combined
            assert changed(d0, d1) == [], "D (weights and batch-norm statistics) must not move in a G step"
            g_moved = set(changed(g0, g1)) & g_learnable
            if family == "wgan":  # through a critic clipped to 0.01, G's first gradients are ~1e-12: some round away
                assert g_moved, "G must move in a G step"
            else:
                assert g_moved == g_learnable, "every trainable G weight must move in a G step"
        updates.append("D" if model is d else "G")

    step.use_execution(Spy(nets, seen))
    rng = np.random.default_rng(0)
    for i in (1, 2):  # the second iteration runs the already-traced train functions
        step.train_step(i, source, rng)
    assert updates == (["D", "D"] * step.n_critic + ["G"]) * 2
    if family == "wgan":
        clip = cfg.discriminator.options["clip_value"]
        clipped = [np.abs(d.weights[i].numpy()).max() for i in sorted(d_learnable)]
        assert max(clipped) <= clip + 1e-7
        assert max(clipped) == pytest.approx(clip)  # the bound is reached, so clipping is what holds it


def test_a_discriminator_frozen_the_keras2_way_still_learns_in_its_own_steps():
    """The trap the freezing rule exists for, and the rule beating it.

    Keras 3 reads ``trainable`` when a model's train function is first traced: a discriminator frozen
    once before its first ``train_on_batch`` (the Keras 2 recipe) is never updated by it. The step
    sets the flag right before each update, so the same recipe applied to a step's D is harmless.
    """
    cfg = tiny_config(1)
    probe = build_networks(cfg)["discriminator"]  # Keras alone: the trap is real
    probe.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam())
    probe.trainable = False
    before = weights(probe)
    with pytest.warns(UserWarning):
        probe.train_on_batch(np.zeros((4, 28, 28, 1), "float32"), np.ones((4, 1), "float32"))
    assert changed(before, weights(probe)) == []

    nets = build_networks(cfg)
    d = nets["discriminator"]
    d_learnable = learnable_weights(d)
    step = make_step(cfg, nets)
    d.trainable = False  # the Keras 2 recipe, before the step's first D update
    before = weights(d)
    step.train_step(1, BatchSource(random_images(), cfg.batch_size), np.random.default_rng(0))  # fused
    assert set(changed(before, weights(d))) & d_learnable == d_learnable


def test_sample_grids_come_from_the_same_inputs_at_every_interval(tmp_path):
    """The thesis's grids are comparable across steps because z is drawn once: with the generator
    unchanged, two intervals give the same picture, and drawing it takes nothing from training's rng."""
    trainer = prepare(tiny_cgan(), tmp_path, labelled_images(), RunSettings(progress=False))
    before = trainer.rng.bit_generator.state
    drawn, sample = [], trainer.step_obj.sample
    trainer.step_obj.sample = lambda n, rng, labels=None: drawn.append(sample(n, rng, labels)) or drawn[-1]
    grid = SampleGrid(5)
    grid.run(trainer, 5)
    grid.run(trainer, 10)
    assert (tmp_path / "samples" / "step_000005.png").stat().st_size > 1000
    assert (tmp_path / "samples" / "step_000010.png").is_file()
    assert len(drawn) == 2 and drawn[0].shape == (100, 28, 28, 1)  # 10 classes x 10
    np.testing.assert_allclose(drawn[0], drawn[1], rtol=0, atol=1e-6)
    assert trainer.rng.bit_generator.state == before


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
    step.use_execution(Spy({}, lambda model, before: calls.append("D" if model is step.discriminator else "G")))
    step.train_step(1, trainer.data, trainer.rng)
    assert calls == ["D", "D"] * 5 + ["G"]  # a real and a generated batch per critic iteration, then G
    assert int(step.discriminator.optimizer.iterations) == 10
    assert int(step.combined.optimizer.iterations) == 1
    step.use_execution(Fused())  # the fused execution makes the same updates
    step.train_step(2, trainer.data, trainer.rng)
    assert int(step.discriminator.optimizer.iterations) == 20
    assert int(step.combined.optimizer.iterations) == 2


def test_run_writes_every_artefact(tmp_path, tiny_lenet):
    cfg = tiny_config(3)
    run = tmp_path / "run"
    trainer = train(cfg, run, data=ImageDataset(random_images()), steps=6,
                    settings=RunSettings(sample_every=3, checkpoint_every=3, progress=False, fid_every=2,
                                         fid_extractor="lenet", fid_n=40))
    assert trainer.step == 6
    for name in ("config.json", "losses.csv", "loss_plot.png", "generator_modelsummary.txt",
                 "discriminator_modelsummary.txt", "gan_modelsummary.txt", "state/state.npz",
                 "samples/step_000003.png", "samples/step_000006.png",
                 "checkpoints/generator_step_000003.h5", "checkpoints/generator_step_000006.h5",
                 "diagnostics.md", "diagnostics.png"):
        assert (run / name).is_file(), name
    rows = np.loadtxt(run / "losses.csv", delimiter=",", skiprows=1)
    assert rows[:, 0].tolist() == [1, 2, 3, 4, 5, 6] and np.isfinite(rows).all()
    # The measurements a run makes by default (diversity, the verdict) and on request (FID, with the
    # LeNet also counting the classes covered), each at its own interval.
    fid = read_csv(run / "fid.csv")
    assert [r["step"] for r in fid] == ["2", "4", "6"] and {r["extractor"] for r in fid} == {"lenet5:tiny stand-in"}
    assert all(float(r["fid"]) > 0 and r["n"] == "40" for r in fid)
    diversity = read_csv(run / "diversity.csv")
    assert [r["step"] for r in diversity] == ["3", "6"] and all(float(r["ratio"]) > 0 for r in diversity)
    assert [r["step"] for r in read_csv(run / "coverage.csv")] == ["3", "6"]
    verdict = json.loads((run / "diagnostics.json").read_text())
    assert verdict["steps"] == 6 and verdict["verdict"] in ("healthy", "non-convergence", "mode collapse")
    assert verdict["verdict"] in (run / "diagnostics.md").read_text()
    config = json.loads((run / "config.json").read_text())
    for key in ("experiment", "variant", "dataset", "steps", "latent_dim", "batch_size", "loss", "optimizer",
                "discriminator_loss", "discriminator_optimizer", "networks", "num_classes"):
        assert key in config
    assert config["optimizer"] == {"name": "adam", "learning_rate": 0.0002, "beta_1": 0.5}
    assert config["networks"]["generator"]["options"]["momentum"] == 0.8 and config["run"]["checkpoint_every"] == 3


def test_existing_run_is_not_overwritten_without_resume(tmp_path):
    cfg = tiny_config(3)
    images = ImageDataset(random_images())
    settings = RunSettings(checkpoint_every=2, progress=False)
    train(cfg, tmp_path, data=images, steps=2, settings=settings)
    with pytest.raises(ConfigError, match="--resume"):
        train(cfg, tmp_path, data=images, steps=4, settings=settings)
    with pytest.raises(ConfigError, match=r"cannot resume .*latent_dim"):
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


FRESH_LOAD = textwrap.dedent("""
    import sys
    import numpy as np
    order, folder = sys.argv[1], sys.argv[2]
    models = {"generator": folder + "/run/checkpoints/generator_step_000002.h5", "critic": folder + "/critic.h5"}
    if order == "gans-first":  # gans registers its objects the moment Keras finishes loading
        import gans
        import keras
    else:  # Keras alone cannot rebuild them; importing gans afterwards registers them at once
        import keras
        for name, path in models.items():
            try:
                keras.models.load_model(path, compile=False)
            except Exception:
                continue
            raise SystemExit(name + " loaded without gans: the custom objects were not needed")
        import gans
    x = np.load(folder + "/inputs.npz")
    g, c = (keras.models.load_model(models[k], compile=False) for k in ("generator", "critic"))
    np.savez(folder + "/" + order + ".npz", generated=np.asarray(g([x["z"], x["label"]], training=False)),
             scores=np.asarray(c(x["images"], training=False)))
""")


def test_checkpoints_with_custom_layers_load_in_a_fresh_process_and_compute_the_same(tmp_path, tiny_lenet):
    """A run's generator .h5 (a CCGAN with VirtualBatchNormalization) and a WGAN critic (ClipConstraint on
    every weight) load in a new process once ``gans`` is imported, before Keras or after it, and give
    exactly the outputs they gave when saved."""
    from gans.layers import ClipConstraint, VirtualBatchNormalization
    from gans.models.cgan import label_inputs

    cfg = tiny_cgan()
    cfg = cfg.replace(generator=NetworkSpec("cgan", {**cfg.generator.options, "virtual_batchnorm": True}))
    trainer = train(cfg, tmp_path / "run", data=labelled_images(), steps=2,
                    settings=RunSettings(sample_every=2, checkpoint_every=2, progress=False))
    assert any(isinstance(layer, VirtualBatchNormalization) for layer in trainer.generator.layers)
    critic = build_networks(tiny_config(4))["discriminator"]
    assert critic.trainable_weights and all(isinstance(v.constraint, ClipConstraint) for v in critic.trainable_weights)
    critic.save(tmp_path / "critic.h5")
    rng = np.random.default_rng(3)
    inputs = {"z": rng.standard_normal((6, cfg.latent_dim)).astype("float32"),
              "label": label_inputs(trainer.generator, np.arange(6)),
              "images": rng.uniform(-1, 1, (6, 28, 28, 1)).astype("float32")}
    np.savez(tmp_path / "inputs.npz", **inputs)
    expected = {"generated": np.asarray(trainer.generator([inputs["z"], inputs["label"]], training=False)),
                "scores": np.asarray(critic(inputs["images"], training=False))}
    orders = ("gans-first", "keras-first")
    procs = [subprocess.Popen([sys.executable, "-c", FRESH_LOAD, order, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for order in orders]
    for order, proc in zip(orders, procs):
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{order}: {err[-3000:]}"
        with np.load(tmp_path / f"{order}.npz") as got:
            for name, value in expected.items():  # equal but for the round-off of multi-threaded kernels
                np.testing.assert_allclose(got[name], value, rtol=0, atol=1e-6, err_msg=f"{order}: {name}")
