"""The step contract: every family honours it, the thesis's families give the losses recorded before the
contract existed, the conditional step learns with labels, and extra state is restored after growing."""

import contextlib
import json
from pathlib import Path

import keras
import numpy as np
import pytest

import gans  # noqa: F401
from gans.callbacks import Callback
from gans.datasets.base import ImageDataset
from gans.errors import ConfigError, DataError
from gans.models import builder_modules
from gans.training import FAMILIES, RunSettings, prepare, train
from gans.training.data import BatchSource
from gans.training.execution import Recipe, resolve_inputs, trace_independent_rewrites
from gans.training.state import load_state, save_state
from gans.training.steps import AdversarialStep, ConditionalStep, Step, build_networks, make_step

from helpers import labelled_images, random_images, tiny_cgan, tiny_config

RECORDED = json.loads((Path(__file__).parent / "data" / "losses_before_step_contract.json").read_text())["losses"]
RECORDED_CASES = {"gan": (1, {}, "random"), "dcgan": (2, {}, "random"), "lsgan": (3, {}, "random"),
                  "wgan": (4, {}, "random"), "gan_smooth_flip": (1, {"label_smoothing": 0.1, "label_flip": 0.05}, "random"),
                  "lsgan_epoch": (3, {}, "epoch")}


class Capture(Callback):
    def __init__(self):
        self.rows = []

    def on_step_end(self, trainer, step, logs):
        self.rows.append([logs[k] for k in trainer.step_obj.loss_names])


@pytest.mark.parametrize("case", sorted(RECORDED_CASES))
def test_thesis_families_give_the_losses_recorded_before_the_step_contract(case, tmp_path):
    experiment, changes, mode = RECORDED_CASES[case]
    capture = Capture()
    # The recording was made with grappler's default rewrites. Measured, 8 runs a case: every other case
    # matched it 8 of 8 with them on; WGAN 7 of 8 (one ended 8.6e-7 apart: a trace that rounds
    # differently, amplified by RMSprop; see TRACE_DEPENDENT_REWRITES) and 8 of 8 with them off. DCGAN
    # with them off rounds otherwise than the recording (4e-4 apart after Adam), so only WGAN turns them off.
    stable = trace_independent_rewrites() if case == "wgan" else contextlib.nullcontext()
    with stable:
        train(tiny_config(experiment, **changes), tmp_path, data=ImageDataset(random_images()), steps=4,
              settings=RunSettings(sample_every=0, checkpoint_every=0, progress=False, seed=7, batch_mode=mode),
              extra_callbacks=[capture])
    assert len(RECORDED[case]) == 4
    if case == "dcgan":
        # Measured 2026-12-06 on this workplace's current CPUs (AVX-512/AMX) and packages: step 1 still
        # equals the recording to 1e-7, steps 2-4 differ by up to 4.7e-4 relative, on the unchanged
        # commit a33510c too, with oneDNN off and with Keras 3.14 as with 3.15. Adam turns the
        # convolutions' rounding into step-sized differences (as with the grappler rewrites above). So
        # the first step is held to the recording exactly and the rest to 1e-3, which still fails any
        # change to what is trained (a D that moves in the G step changes step 1's g_loss by > 1e-2).
        np.testing.assert_allclose(capture.rows[0], RECORDED[case][0], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(capture.rows, RECORDED[case], rtol=1e-3, atol=1e-6)
        return
    np.testing.assert_allclose(capture.rows, RECORDED[case], rtol=1e-5, atol=1e-7)


def test_the_registry_covers_every_builder_module_and_nothing_else():
    assert builder_modules() and set(FAMILIES) == set(builder_modules())
    for variant, family in FAMILIES.items():
        cls = family.step_class()
        assert issubclass(cls, Step), variant
        assert cls.loss_names, variant


@pytest.mark.parametrize("config", [tiny_config(1), tiny_config(4), tiny_cgan()], ids=["gan", "wgan", "cgan"])
def test_every_family_honours_the_contract(config, tmp_path):
    data = labelled_images()
    trainer = prepare(config, tmp_path, data, RunSettings(progress=False))
    step = trainer.step_obj
    logs = step.train_step(1, trainer.data, trainer.rng)
    assert tuple(logs) == step.loss_names and all(np.isfinite(list(logs.values())))
    assert step.models and step.optimizers and step.generator is step.models["generator"]
    images = step.sample(6, np.random.default_rng(0))
    assert images.shape == (6, 28, 28, 1) and images.dtype == np.float32 and np.abs(images).max() <= 1
    again = step.sample(6, np.random.default_rng(0))
    np.testing.assert_array_equal(images, again)  # the same rng gives the same images
    names = [name for name, _ in step.summaries()]
    assert names[:2] == ["generator", "discriminator"]


def test_the_conditional_discriminator_sees_every_image_with_its_own_label():
    """Real images with their true classes, fakes with the classes they were generated for.

    (That D learns in D steps and is frozen in G steps is tested for every family in test_training.py.)
    """
    from gans.models.cgan import label_inputs

    step = make_step(tiny_cgan())
    data = labelled_images()
    batch = BatchSource(data.images, 8, labels=data.labels).batch(0, np.random.default_rng(1))
    assert len(set(batch.labels.tolist())) > 1, "the batch must hold several classes to tell labels apart"
    shown, asked = [], []

    class Recording(Recipe):
        def generate(self, model, inputs):
            # what G makes of them in inference mode (as the thesis's predict) before this iteration's updates
            asked.append((inputs, model(inputs, training=False).numpy()))
            return super().generate(model, inputs)

        def train(self, model, x, y):
            if model is step.discriminator:
                shown.append(resolve_inputs(x))
            return super().train(model, x, y)

    step.use_execution(Recording())
    source = BatchSource(data.images, 8, labels=data.labels)
    for i in (1, 2):  # the first call generates in order, later ones on the worker thread
        shown.clear(), asked.clear()
        batch = source.batch(i - 1, np.random.default_rng(i))
        step.train_step(i, source, np.random.default_rng(i))
        (real_images, real_labels), (fake_images, fake_labels) = shown
        ((z, g_labels), expected), = asked
        np.testing.assert_array_equal(real_images, batch.images)
        np.testing.assert_array_equal(real_labels, label_inputs(step.discriminator, batch.labels))
        np.testing.assert_allclose(fake_images, expected, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(fake_labels, g_labels)
        assert len(np.unique(np.argmax(g_labels, axis=1))) > 1, "fakes must be drawn from several classes"


def test_conditional_sampling_takes_labels_and_refuses_bad_ones():
    step = make_step(tiny_cgan())
    rng = np.random.default_rng(0)
    z_only = step.sample(4, np.random.default_rng(1), labels=np.array([0, 0, 0, 0]))
    other = step.sample(4, np.random.default_rng(1), labels=np.array([5, 5, 5, 5]))
    assert not np.allclose(z_only, other), "the label must change what the generator draws"
    with pytest.raises(ConfigError, match="label 10 is out of range: this model has 10 classes"):
        step.sample(2, rng, labels=np.array([3, 10]))
    with pytest.raises(ConfigError, match="one class label per image: 3 images"):
        step.sample(3, rng, labels=np.array([1, 2]))
    unconditional = make_step(tiny_config(1))
    with pytest.raises(ConfigError, match="not conditional"):
        unconditional.sample(2, rng, labels=np.array([1, 2]))


def test_a_conditional_run_refuses_data_without_labels_or_with_other_classes(tmp_path):
    with pytest.raises(DataError, match="has no labels"):
        prepare(tiny_cgan(), tmp_path, ImageDataset(random_images()), RunSettings(progress=False))
    eleven = ImageDataset(random_images(), labels=np.arange(64) % 11)
    with pytest.raises(DataError, match="classes run 0-10, the model has 10"):
        prepare(tiny_cgan(), tmp_path, eleven, RunSettings(progress=False))
    with pytest.raises(ConfigError, match="built for 10 classes, the run asks for 5"):
        ConditionalStep(*build_networks(tiny_cgan()).values(), "minimax", keras.optimizers.Adam(),
                        keras.optimizers.Adam(), num_classes=5)


def test_conditional_batches_carry_the_labels_of_their_images():
    images = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1)
    source = BatchSource(images, 5, labels=np.arange(20) * 10, mode="epoch")
    batch = source.batch(0, np.random.default_rng(0))
    pixel = np.rint((batch.images[:, 0, 0, 0] + 1) * 127.5).astype(int)
    np.testing.assert_array_equal(batch.labels, pixel * 10)
    with pytest.raises(DataError, match="3 labels for 20 images"):
        BatchSource(images, 5, labels=np.arange(3))


class GrowingStep(AdversarialStep):
    """A stand-in for the progressive GAN: its phase widens the generator's hidden layer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.phase = 0

    def grow(self, phase):
        from gans.models import gan

        self.phase = phase
        self._generator = gan.build_generator(latent_dim=self.latent_dim, units=(4 * (phase + 1),))
        self.__init__(self._generator, self.discriminator, self.loss, keras.optimizers.Adam(),
                      keras.optimizers.Adam())
        self.phase = phase

    def get_extra_state(self):
        return {"phase": self.phase}

    def set_extra_state(self, state):
        if state.get("phase", 0) != self.phase:
            self.grow(state["phase"])


def test_extra_state_is_restored_before_the_weights_so_a_grown_step_resumes(tmp_path):
    from gans.models import gan

    def fresh():
        keras.utils.set_random_seed(1)
        return GrowingStep(gan.build_generator(latent_dim=4, units=(4,)), gan.build_discriminator(units=(8,)),
                           "minimax", keras.optimizers.Adam(), keras.optimizers.Adam())

    step = fresh()
    step.grow(2)
    data = BatchSource(random_images(), 8)
    rng = np.random.default_rng(0)
    step.train_step(1, data, rng)
    save_state(tmp_path / "state.npz", step, 1, rng)
    resumed = fresh()
    assert resumed.generator.count_params() != step.generator.count_params()
    meta = load_state(tmp_path / "state.npz", resumed)
    assert meta["step_state"] == {"phase": 2} and resumed.phase == 2
    for a, b in zip(step.generator.variables, resumed.generator.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_step_without_extra_state_refuses_a_state_that_has_some():
    with pytest.raises(ConfigError, match="keeps no extra state"):
        make_step(tiny_config(1)).set_extra_state({"phase": 3})
