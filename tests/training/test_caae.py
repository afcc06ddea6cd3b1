"""The CAAE (seed 000): builders at every size, the step (freezing, recipe == fused, stages, resume),
its data, its command line and its bad inputs, age progression and the age agreement.

Tiny networks (encoder 4 filters, generator seed 32 channels) on synthetic UTKFace-named faces keep
the default run short; the real-data test skips when ../shared/data/utkface is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.faces  # every test here needs OpenCV (the faces extra)
cv2 = pytest.importorskip("cv2")

from gans.cli import main  # noqa: E402
from gans.datasets.utkface import load_utkface_splits, one_hot_pm1  # noqa: E402
from gans.errors import ConfigError, DataError  # noqa: E402
from gans.experiments.caae import TABLE1, caae_result, scaled_learning_rate, study_config  # noqa: E402
from gans.models import caae as models  # noqa: E402
from gans.training import RunSettings, prepare, train  # noqa: E402
from gans.training.execution import Fused, Recipe  # noqa: E402
from gans.training.steps import FAMILIES, make_step  # noqa: E402
from gans.training.steps.caae import CAAEStep  # noqa: E402

from helpers import ONE_THREAD, child_env, gans_argv, labelled_faces, run_gans, tiny_caae, utkface_folder  # noqa: E402


@pytest.fixture
def utk_folder(tmp_path):
    """48 faces with UTKFace names (ages 1-90, both genders), smooth enough to be learnable."""
    return utkface_folder(tmp_path / "utk")


# ---------------------------------------------------------------------- builders
@pytest.mark.parametrize("size", [32, 64, 128])
def test_shapes_and_ranges_at_every_size(size):
    keras.utils.set_random_seed(0)
    encoder = models.build_encoder((size, size, 3), filters=4)
    generator = models.build_generator(image_shape=(size, size, 3), filters=32)
    d_z = models.build_discriminator_z()
    d_img = models.build_discriminator_img((size, size, 3))
    assert tuple(encoder.outputs[0].shape) == (None, 50)
    assert tuple(generator.outputs[0].shape) == (None, size, size, 3)
    x = np.random.default_rng(0).uniform(-1, 1, (3, size, size, 3)).astype(np.float32)
    z = np.asarray(encoder(x))
    assert z.shape == (3, 50) and np.abs(z).max() <= 1.0
    fc = encoder.get_layer("E_fc")
    fc.bias.assign(np.linspace(-200, 200, 50).astype(np.float32))  # far outside [-1, 1] before the tanh
    z = np.asarray(encoder(x))
    assert np.abs(z).max() <= 1.0 and z.min() < -0.99 and z.max() > 0.99
    labels = [one_hot_pm1([0, 4, 9], 10), one_hot_pm1([0, 1, 0], 2)]
    last = generator.layers[-2]  # the last transposed convolution, before the tanh
    last.bias.assign(np.asarray([-300.0, 0.0, 300.0], np.float32))
    images = np.asarray(generator([z, *labels]))
    assert images.shape == (3, size, size, 3) and np.abs(images).max() <= 1.0
    assert images[..., 0].max() < -0.99 and images[..., 2].min() > 0.99
    assert np.asarray(d_z(z)).shape == (3, 1) and np.asarray(d_img([images, *labels])).shape == (3, 1)
    # the reference's layer counts: log2(S) - 2 stride-2 blocks each way (a 4x4 map)
    blocks = int(np.log2(size)) - 2
    assert sum(isinstance(l, keras.layers.Conv2D) for l in encoder.layers) == blocks
    assert sum(isinstance(l, keras.layers.Conv2DTranspose) for l in generator.layers) == blocks + 2


def test_the_default_widths_are_the_reference_codes():
    encoder = models.build_encoder((128, 128, 3))
    generator = models.build_generator(image_shape=(128, 128, 3))
    d_img = models.build_discriminator_img((128, 128, 3))
    d_z = models.build_discriminator_z()
    assert [l.filters for l in encoder.layers if isinstance(l, keras.layers.Conv2D)] == [64, 128, 256, 512, 1024]
    assert [l.filters for l in generator.layers if isinstance(l, keras.layers.Conv2DTranspose)] == \
        [512, 256, 128, 64, 32, 16, 3]
    assert generator.get_layer("G_fc").units == 4 * 4 * 1024
    assert generator.get_layer("G_tiled_labels").output.shape[-1] == 50 + 5 * 10 + 25 * 2  # each label as long as z
    assert [l.filters for l in d_img.layers if isinstance(l, keras.layers.Conv2D)] == [16, 32, 64, 128]
    assert d_img.get_layer("D_img_with_labels").output.shape[-1] == 16 + 10 + 10
    assert [l.units for l in d_z.layers if isinstance(l, keras.layers.Dense)] == [64, 32, 16, 1]


@pytest.mark.parametrize("shape", [(100, 100, 3), (48, 48, 3), (64, 32, 3), 4])
def test_sizes_the_builders_cannot_reach_are_refused(shape):
    with pytest.raises(ConfigError, match="image size|square"):
        models.check_image_size(shape)


def test_every_model_round_trips_through_h5_in_a_fresh_process(tmp_path):
    from gans.training.callbacks import save_h5

    keras.utils.set_random_seed(1)
    step = make_step(tiny_caae(32))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 32, 32, 3)).astype(np.float32)
    z = rng.uniform(-1, 1, (4, 50)).astype(np.float32)
    age, gender = one_hot_pm1([1, 3, 5, 9], 10), one_hot_pm1([0, 1, 1, 0], 2)
    inputs = {"encoder": [x], "generator": [z, age, gender], "discriminator_z": [z],
              "discriminator_img": [x, age, gender]}
    expected = {}
    for name, model in step.models.items():
        save_h5(model, tmp_path / f"{name}.h5")
        expected[name] = np.asarray(model(inputs[name] if len(inputs[name]) > 1 else inputs[name][0], training=False))
    np.savez(tmp_path / "io.npz", x=x, z=z, age=age, gender=gender, **{f"out_{k}": v for k, v in expected.items()})
    code = f"""
import numpy as np, keras, gans
d = np.load(r"{tmp_path / 'io.npz'}", allow_pickle=False)
ins = {{"encoder": d["x"], "generator": [d["z"], d["age"], d["gender"]], "discriminator_z": d["z"],
       "discriminator_img": [d["x"], d["age"], d["gender"]]}}
for name, x in ins.items():
    m = keras.models.load_model(r"{tmp_path}/" + name + ".h5", compile=False, safe_mode=True)
    np.testing.assert_allclose(np.asarray(m(x, training=False)), d["out_" + name], atol=1e-5)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=child_env(ONE_THREAD), timeout=180)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]


# ---------------------------------------------------------------------- the step
class Spy(Recipe):
    """The recipe, recording which networks each update changed."""

    def __init__(self, step):
        super().__init__()
        self.step, self.changes = step, []

    def snapshot(self):
        return {name: [v.numpy().copy() for v in m.variables] for name, m in self.step.models.items()}

    def train(self, model, x, y):
        before = self.snapshot()
        loss = super().train(model, x, y)
        after = self.snapshot()
        self.changes.append((model.name, {n for n in before
                                          if any(not np.array_equal(a, b) for a, b in zip(before[n], after[n]))}))
        return loss


def test_each_update_changes_only_its_own_networks(tmp_path):
    """D_z learns in "dz", D_img in "di"; in "eg" only E and G move, the discriminators (weights and
    batch-norm statistics) stay fixed, in every iteration."""
    keras.utils.set_random_seed(2)
    trainer = prepare(tiny_caae(32, image_weight=0.5, z_weight=0.5, tv_weight=0.1), tmp_path, labelled_faces(),
                      RunSettings(progress=False, tensorboard=False))
    step = trainer.step_obj
    spy = Spy(step)
    step.use_execution(spy)
    for i in (1, 2, 3):
        logs = step.train_step(i, trainer.data, trainer.rng)
    assert set(logs) == {"eg", "dz", "di", "valid", "eg_total"} and all(np.isfinite(list(logs.values())))
    assert len(spy.changes) == 9
    for update, changed in spy.changes:
        expected = {"dz_update": {"discriminator_z"}, "di_update": {"discriminator_img"},
                    "eg_update": {"encoder", "generator"}}[update]
        assert changed == expected, (update, changed)


def test_eg_is_the_batch_reconstruction_error_and_eg_total_the_objective_trained_on(tmp_path):
    """"eg" is the seed's Figure 3 loss, mean |x - G(E(x), l)| of the batch before the update; with an
    image-adversarial weight of 1 the E/G objective adds a cross-entropy of at least log 2 - margin,
    reported as "eg_total". Both executions report the same (see the equality test below)."""
    keras.utils.set_random_seed(5)
    trainer = prepare(tiny_caae(32, image_weight=1.0), tmp_path, labelled_faces(),
                      RunSettings(progress=False, tensorboard=False))
    step = trainer.step_obj
    step.use_execution(Recipe())
    draws = step.draw(1, trainer.data, trainer.rng)
    before = np.asarray(step.autoencoder([draws.images, draws.age, draws.gender], training=False))
    l1 = float(np.mean(np.abs(before - draws.images)))
    logs = step.iterate(draws, step.execution)
    assert l1 > 0 and logs["eg"] == pytest.approx(l1, rel=1e-5)
    assert logs["eg_total"] > l1 + 0.3, logs  # L1 + BCE(D_img(G(E(x))), 1), the BCE near log 2 untrained
    after = np.asarray(step.autoencoder([draws.images, draws.age, draws.gender], training=False))
    assert np.abs(after - before).max() > 0  # the update happened after the measurement


def test_the_collapse_check_judges_reconstructions_not_prior_samples(tmp_path):
    """The diversity the diagnosis reads is G(E(x), l) of validation faces with their own labels (a
    fixed draw), not faces decoded from prior z; config.json names what was judged."""
    keras.utils.set_random_seed(4)
    trainer = prepare(tiny_caae(32), tmp_path, labelled_faces(), RunSettings(progress=False, tensorboard=False))
    step = trainer.step_obj
    validation = labelled_faces(n=12, seed=9)
    step.set_validation(validation.images, validation.labels)
    judged = trainer.diagnostic_images(20, seed=7)
    chosen = np.random.default_rng(7).choice(12, 20, replace=True)
    assert judged.shape == (20, 32, 32, 3) and len(set(chosen.tolist())) > 1
    age, gender = validation.labels[chosen, :10], validation.labels[chosen, 10:]
    expected = np.asarray(step.autoencoder([validation.images[chosen] / 127.5 - 1.0, age, gender], training=False))
    scale = np.abs(expected).max()  # untrained outputs are small (weights of std 0.02)
    assert scale > 0
    np.testing.assert_allclose(judged, expected, atol=1e-4 * scale)
    assert np.abs(judged - trainer.generate(20, seed=7)).max() > 0.1 * scale  # prior samples differ
    np.testing.assert_array_equal(judged, trainer.diagnostic_images(20, seed=7))  # the same draw each time
    assert step.diagnostic_source == "reconstructions of fixed validation faces"


@pytest.mark.parametrize("mode", ["batch", "moving"])
def test_fused_takes_the_recipes_updates(mode, tmp_path):
    """Under both settings of the frozen discriminators' batch norm in the E/G update."""
    from helpers import EQUAL, assert_same, train_iterations as run

    data = labelled_faces()
    cfg = tiny_caae(32, image_weight=0.5, z_weight=0.5, tv_weight=0.1).replace(frozen_batchnorm=mode)
    recipe = run("caae", tmp_path / "recipe", Recipe(), config=cfg, data=data)
    fused = run("caae", tmp_path / "fused", Fused(jit=False), config=cfg, data=data)
    assert_same(recipe, fused, atol=EQUAL, what=f"caae ({mode}) recipe vs fused")
    assert fused[2].execution.traces == 1
    assert "caae" in FAMILIES and FAMILIES["caae"].step_class() is CAAEStep


@pytest.mark.slow  # about 30 s: a prepared run and three iterations
def test_the_autoencoder_stage_has_no_adversarial_pull_and_ends_on_schedule(tmp_path):
    """With pretrain_epochs=1 the first epoch's E/G loss is the plain L1 of the batch (weights 0), then
    the adversarial weights apply; the stage is saved with the state."""
    keras.utils.set_random_seed(3)
    trainer = prepare(tiny_caae(32, batch=8, image_weight=1.0, z_weight=1.0, tv_weight=1.0, pretrain_epochs=1),
                      tmp_path, labelled_faces(n=16), RunSettings(progress=False, tensorboard=False))
    step = trainer.step_obj
    assert trainer.data.steps_per_epoch == 2
    step.use_execution(Recipe())
    draws = step.draw(1, trainer.data, trainer.rng)
    rebuilt = step.autoencoder([draws.images, draws.age, draws.gender], training=False)
    l1 = float(np.mean(np.abs(np.asarray(rebuilt) - draws.images)))
    first = step.iterate(draws, step.execution)
    assert first["eg_total"] == pytest.approx(l1, rel=1e-4)  # no adversarial or TV term in the first stage
    assert first["eg"] == pytest.approx(l1, rel=1e-4)
    stages, weights = [step.stage], [step.loss_weights.numpy().tolist()]
    for i in (2, 3):
        logs = step.train_step(i, trainer.data, trainer.rng)
        stages.append(step.stage)
        weights.append(step.loss_weights.numpy().tolist())
    assert logs["eg_total"] > logs["eg"] + 0.3  # the second stage's objective adds its weighted terms
    assert stages == ["autoencoder", "autoencoder", "adversarial"]
    assert weights[0] == [0, 0, 0] and weights[2] == [1, 1, 1]
    assert step.get_extra_state()["stage"] == "adversarial"
    step.set_extra_state({"stage": "autoencoder", "valid": 0.5})
    assert step.loss_weights.numpy().tolist() == [0, 0, 0] and step.valid == 0.5


@pytest.mark.slow  # about 60 s: three runs
def test_stopped_and_resumed_run_continues_like_an_uninterrupted_one(tmp_path):
    from gans.callbacks import Callback
    from gans.io import read_rows_until

    class Stop(Exception):
        pass

    class StopAt(Callback):
        def on_step_end(self, trainer, step, logs):
            if step == 4:
                raise Stop

    settings = RunSettings(progress=False, tensorboard=False, checkpoint_every=2, sample_every=3, seed=4)
    data = labelled_faces(n=24)
    cfg = tiny_caae(32, batch=8)
    whole = train(cfg, tmp_path / "whole", data=data, steps=6, settings=settings)
    with pytest.raises(Stop):
        train(cfg, tmp_path / "cut", data=data, steps=6, settings=settings, extra_callbacks=[StopAt()])
    resumed = train(cfg, tmp_path / "cut", data=data, steps=6, settings=settings, resume=True)
    assert resumed.step == 6
    rows = read_rows_until(tmp_path / "cut" / "losses.csv", 6)
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    a = [float(r["valid"]) for r in read_rows_until(tmp_path / "whole" / "losses.csv", 6)]
    np.testing.assert_allclose([float(r["valid"]) for r in rows], a, atol=1e-4)
    for name, model in whole.step_obj.models.items():
        for u, v in zip(model.variables, resumed.step_obj.models[name].variables):
            np.testing.assert_allclose(u.numpy(), v.numpy(), atol=1e-4, err_msg=name)


@pytest.mark.slow  # about a minute: three single-threaded processes
def test_a_killed_run_resumes_in_another_process(utk_folder, tmp_path):
    import signal
    import time

    args = ["train", "caae", "--data", utk_folder, "--image-size", "32", "--epochs", "40", "--batch-size", "8",
            "--encoder-filters", "4", "--generator-filters", "32", "--checkpoint-every", "5", "--no-progress",
            "--no-tensorboard", "--out", tmp_path / "run"]
    child = subprocess.Popen(gans_argv(*args), env=child_env(ONE_THREAD),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = tmp_path / "run" / "state" / "state.npz"
    deadline = time.time() + 200
    while time.time() < deadline and not state.exists():
        time.sleep(0.5)
    time.sleep(2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert state.exists()
    code, _, err = run_gans(*args, "--resume")
    assert code == 0, err[-2000:]
    steps = [int(line.split(",")[0]) for line in (tmp_path / "run" / "losses.csv").read_text().splitlines()[1:]]
    assert steps == list(range(1, steps[-1] + 1)) and steps[-1] == 40 * 5
    epochs = (tmp_path / "run" / "epochs.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in epochs] == list(range(1, 41))


# ---------------------------------------------------------------------- data and labels
def test_splits_from_a_folder_and_from_an_npz(utk_folder, tmp_path):
    train_set, validation = load_utkface_splits(utk_folder, 32, validation_fraction=0.25, limit=40)
    assert len(train_set) == 30 and len(validation) == 10
    assert not set(train_set.meta["filenames"]) & set(validation.meta["filenames"])
    assert train_set.images.shape[1:] == (32, 32, 3) and train_set.labels.shape == (30, 12)
    np.savez(tmp_path / "faces.npz", images=train_set.images, age=train_set.meta["age"],
             gender=train_set.meta["gender"])
    a, b = load_utkface_splits(tmp_path / "faces.npz", 16, validation_fraction=0.2)
    assert len(a) + len(b) == 30 and a.images.shape[1:] == (16, 16, 3)
    np.testing.assert_array_equal(np.sort(np.concatenate([a.meta["age_group"], b.meta["age_group"]])),
                                  np.sort(train_set.meta["age_group"]))


@pytest.mark.parametrize("bad", [{"gender": 2}, {"age": 130}, {"age_group": 10}, {"age_group": -1}])
def test_labels_out_of_range_are_refused(tmp_path, bad):
    n = 6
    arrays = {"images": np.zeros((n, 16, 16, 3), np.uint8), "gender": np.zeros(n, np.int64)}
    key, value = next(iter(bad.items()))
    arrays[key if key != "gender" else "gender"] = np.full(n, value)
    if "age" not in arrays and "age_group" not in arrays:
        arrays["age"] = np.full(n, 30)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match="out of range"):
        load_utkface_splits(tmp_path / "bad.npz", 16)


def test_the_step_refuses_labels_that_are_not_one_group_and_one_gender(tmp_path):
    step = make_step(tiny_caae(32))
    good = labelled_faces(n=4).labels
    step.check_data(good)
    for broken in (good[:, :11], np.where(good > 0, 2.0, -1.0), np.full_like(good, -1.0), None):
        with pytest.raises(DataError):
            step.check_data(broken)


# ---------------------------------------------------------------------- the commands
def test_train_caae_writes_the_per_epoch_artefacts_and_age_progress_reads_them(utk_folder, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "caae", "--dataset", "utkface", "--data", str(utk_folder), "--image-size", "32",
                 "--epochs", "2", "--limit", "40", "--batch-size", "8", "--encoder-filters", "4",
                 "--generator-filters", "32", "--no-progress", "--no-tensorboard", "--out", str(out)])
    assert code == 0
    record = json.loads((out / "caae.json").read_text())
    assert record["train_faces"] == 36 and record["validation_faces"] == 4 and record["image_size"] == 32
    epochs = (out / "epochs.csv").read_text().splitlines()
    assert epochs[0] == "epoch,step,eg,dz,di,valid,seconds" and [r.split(",")[:2] for r in epochs[1:]] == \
        [["1", "4"], ["2", "8"]]
    header = (out / "losses.csv").read_text().splitlines()[0]
    assert header == "step,eg,dz,di,valid,eg_total"
    for name in ("encoder_step_000004.h5", "generator_step_000004.h5", "encoder_step_000008.h5",
                 "generator_step_000008.h5"):
        assert (out / "checkpoints" / name).is_file()
    grid = cv2.imread(str(out / "validation.png"))
    assert grid is not None and grid.shape[1] > 2 * grid.shape[0]  # originals | reconstructions
    assert (out / "samples" / "validation_step_000008.png").is_file() and (out / "epoch_losses.png").is_file()
    config = json.loads((out / "config.json").read_text())
    assert config["variant"] == "caae" and config["run"]["loss_names"] == ["eg", "dz", "di", "valid", "eg_total"]
    assert config["run"]["diagnostic_source"] == "reconstructions of fixed validation faces"
    assert "reconstructions of fixed validation faces" in (out / "diagnostics.md").read_text()
    # one face across the ten age groups, as male and female
    face = next(utk_folder.iterdir())
    assert main(["age-progress", str(out), str(face), "--out", str(tmp_path / "strip.png")]) == 0
    strip = cv2.imread(str(tmp_path / "strip.png"))
    assert strip is not None and strip.shape[1] > 5 * strip.shape[0] / 2
    encoder, generator = models.load_pair(out / "checkpoints" / "generator_step_000004.h5")
    assert encoder.name == "encoder" and generator.name == "generator"
    from gans.training.caae import age_progression

    keras.utils.set_random_seed(5)
    encoder, generator = models.build_encoder((32, 32, 3), filters=8), models.build_generator(
        image_shape=(32, 32, 3), filters=64)
    faces = age_progression(encoder, generator, cv2.resize(cv2.imread(str(face)), (32, 32)), (0, 1))
    assert faces.shape == (2, 10, 32, 32, 3) and np.abs(faces).max() <= 1
    scale = np.abs(faces).max()  # untrained outputs are small (weights of std 0.02)
    assert np.abs(faces[0, 0] - faces[0, 9]).max() > 0.1 * scale > 0  # the age label changes the face
    assert np.abs(faces[0, 3] - faces[1, 3]).max() > 0.1 * scale  # and so does the gender


def _one_line_exit_2(code, err, fragment):
    lines = [line for line in err.strip().splitlines() if line.startswith("gans ")]
    assert code == 2 and len(lines) == 1 and fragment in lines[0], err[-1500:]
    assert "Traceback" not in err


def test_bad_inputs_get_one_line_and_exit_2(tmp_path, capsys):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    cv2.imwrite(str(foreign / "holiday.jpg"), np.zeros((20, 20, 3), np.uint8))
    base = ["train", "caae", "--data", str(foreign), "--epochs", "1", "--out", str(tmp_path / "r")]
    code = main(base + ["--image-size", "32"])
    _one_line_exit_2(code, capsys.readouterr().err, "age_gender_race_datetime")
    code = main(base + ["--image-size", "100"])
    _one_line_exit_2(code, capsys.readouterr().err, "image size 100")
    np.savez(tmp_path / "bad.npz", images=np.zeros((8, 16, 16, 3), np.uint8), age=np.full(8, 30),
             gender=np.full(8, 3))
    code = main(["train", "caae", "--data", str(tmp_path / "bad.npz"), "--image-size", "16", "--epochs", "1",
                 "--out", str(tmp_path / "r2")])
    _one_line_exit_2(code, capsys.readouterr().err, "out of range")
    code = main(["age-progress", str(tmp_path / "nothing"), str(foreign / "holiday.jpg")])
    _one_line_exit_2(code, capsys.readouterr().err, "does not exist")
    assert not (tmp_path / "r").exists() and not (tmp_path / "r2").exists()


def test_a_photo_without_a_face_is_refused_by_age_progress_crop(tmp_path, capsys):
    pytest.importorskip("mtcnn")
    from gans.training.callbacks import save_h5

    step = make_step(tiny_caae(32))
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    save_h5(step.encoder, tmp_path / "run" / "checkpoints" / "encoder_step_000001.h5")
    save_h5(step.generator, tmp_path / "run" / "checkpoints" / "generator_step_000001.h5")
    wall = np.full((160, 160, 3), 200, np.uint8)
    cv2.imwrite(str(tmp_path / "wall.jpg"), wall)
    code = main(["age-progress", str(tmp_path / "run"), str(tmp_path / "wall.jpg"), "--crop",
                 "--out", str(tmp_path / "strip.png")])
    _one_line_exit_2(code, capsys.readouterr().err, "no face")
    assert not (tmp_path / "strip.png").exists()


# ---------------------------------------------------------------------- age agreement
def test_age_agreement_counts_the_group_that_was_asked(monkeypatch):
    """A stand-in CAAE paints the asked group into the face and a stand-in classifier reads it back:
    agreement 100% for every group; a CAAE that ignores the group agrees only where it happens to
    paint the right one."""
    from gans.evaluation import age

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    mean = keras.layers.GlobalAveragePooling2D()(inputs)  # brightness (-1..1) -> group by a steep softmax
    logits = keras.layers.Dense(10, kernel_initializer=keras.initializers.Constant(0.0))(mean)
    classifier = keras.Model(inputs, keras.layers.Softmax()(logits))
    centres = np.linspace(-0.9, 0.9, 10)
    dense = classifier.layers[2]
    dense.set_weights([np.tile(200 * centres[None, :] / 3, (3, 1)), -100 * centres ** 2])

    def painted(group_of):
        def render(encoder, generator, x, age_onehot, gender_onehot, batch_size=64):
            groups = group_of(np.argmax(age_onehot, axis=1))
            return np.broadcast_to(centres[groups][:, None, None, None], (len(x), 8, 8, 3)).astype(np.float32)
        return render

    faces = np.zeros((12, 8, 8, 3), np.uint8)
    groups, genders = np.arange(12) % 10, np.arange(12) % 2
    generator = models.build_generator(image_shape=(8, 8, 3), filters=8)
    monkeypatch.setattr(models, "render", painted(lambda g: g))
    rows = age.age_agreement(None, generator, classifier, faces, groups, genders)
    assert [r["age_group"] for r in rows] == list(range(10))
    assert [r["agreement"] for r in rows] == [1.0] * 10
    assert [r["mean_read"] for r in rows] == list(range(10))  # the read group follows the asked one
    assert [r["real_mean_read"] for r in rows] == [0.0] * 10  # the blank real faces read as 0-5
    # the reconstructions at their own groups read right: the fair ceiling
    assert [r["rebuilt_accuracy"] for r in rows] == [1.0] * 10
    assert [r["rebuilt_mean_read"] for r in rows] == list(range(10))
    assert [r["label_effect"] for r in rows] == pytest.approx([centres[9] - centres[0]] * 10)
    monkeypatch.setattr(models, "render", painted(lambda g: np.minimum(g, 2) + 3))  # ages 3 groups, then stops
    rows = age.age_agreement(None, generator, classifier, faces, groups, genders)
    assert [r["agreement"] for r in rows] == [0.0] * 5 + [1.0] + [0.0] * 4
    assert [r["mean_read"] for r in rows] == [3, 4] + [5] * 8
    assert [r["rebuilt_mean_read"] for r in rows] == [3, 4] + [5] * 8
    assert [r["label_effect"] for r in rows] == pytest.approx([centres[5] - centres[3]] * 10)
    assert "label effect" in age.format_agreement(rows)
    assert "mean" in age.format_agreement(rows)


@pytest.mark.slow  # about 30 s: a classifier and a run
def test_the_age_classifier_trains_and_agreement_runs_on_a_run(utk_folder, tmp_path, capsys):
    from gans.evaluation import age

    assert main(["train-age-classifier", "--data", str(utk_folder), "--image-size", "32", "--epochs", "1",
                 "--validation-fraction", "0.25", "--out", str(tmp_path / "clf")]) == 0
    report = json.loads((tmp_path / "clf" / "age_classifier.json").read_text())
    assert 0.0 <= report["accuracy"] <= 1.0 and report["validation_faces"] == 12 and len(report["per_group"]) == 10
    out = tmp_path / "run"
    assert main(["train", "caae", "--data", str(utk_folder), "--image-size", "32", "--epochs", "1", "--batch-size",
                 "8", "--encoder-filters", "4", "--generator-filters", "32", "--no-progress", "--no-tensorboard",
                 "--out", str(out)]) == 0
    assert main(["age-agreement", str(out), "--classifier", str(tmp_path / "clf" / "age_classifier.h5"),
                 "--n", "2"]) == 0
    rows = (out / "age_agreement.csv").read_text().splitlines()
    assert rows[0] == ",".join(age.AGREEMENT_COLUMNS) and len(rows) == 11
    assert all(0.0 <= float(r.split(",")[3]) <= 1.0 for r in rows[1:])
    # the 2 faces are the split's first and last (name order is age order), not its first two
    _, validation = load_utkface_splits(utk_folder, 32, validation_fraction=0.1, seed=0)
    groups = validation.meta["age_group"]
    spread, first = np.bincount(groups[[0, -1]], minlength=10), np.bincount(groups[:2], minlength=10)
    assert len(groups) == 5 and not np.array_equal(spread, first)
    column = age.AGREEMENT_COLUMNS.index("real_faces")
    assert [int(r.split(",")[column]) for r in rows[1:]] == spread.tolist()
    assert cv2.imread(str(out / "age_agreement.png")) is not None  # read against asked, as a picture


def caae_record(run_dir, data, **split):
    """A CAAE run folder holding only the caae.json that names its data and split."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "caae.json").write_text(json.dumps({"data": str(data), "validation_fraction": 0.1, "split_seed": 0,
                                                   "limit": None, **split}))
    return run_dir


def test_the_split_names_are_the_faces_the_loader_splits(utk_folder, tmp_path):
    """utkface_split_names (no image decoded) names the very faces load_utkface_splits returns, for a
    folder and an .npz, with and without --limit."""
    from gans.datasets.utkface import utkface_split_names

    npz = tmp_path / "utk.npz"
    train, validation = load_utkface_splits(utk_folder, 16)
    np.savez(npz, images=np.concatenate([train.images, validation.images]), gender=np.zeros(48, np.int64),
             age_group=np.zeros(48, np.int64))
    for data in (utk_folder, npz):
        for limit, fraction in ((None, 0.1), (30, 0.25)):
            names = utkface_split_names(data, validation_fraction=fraction, limit=limit)
            splits = load_utkface_splits(data, 16, validation_fraction=fraction, limit=limit)
            assert names[0] and names[1]
            assert names == tuple(list(part.meta["filenames"]) for part in splits)


def test_age_agreement_scores_only_faces_the_classifier_never_saw(utk_folder, tmp_path):
    """A classifier trained on some of a CAAE run's validation faces would read them better than new
    faces (issue 24: 277 of 300 overlapped unsaid). The overlap is left out and counted; a classifier
    that saw every picked face is refused; one that held the run out scores them all."""
    from gans.evaluation import age

    run = caae_record(tmp_path / "run", utk_folder)
    _, validation = load_utkface_splits(utk_folder, 16)
    names = list(validation.meta["filenames"])
    clf = tmp_path / "clf"
    clf.mkdir()
    record = {"data": str(utk_folder), "limit": None, "validation_fraction": 0.5, "split_seed": 2}
    (clf / age.REPORT_FILE).write_text(json.dumps(record))
    seen, _ = load_utkface_splits(utk_folder, 16, validation_fraction=0.5, seed=2)
    overlap = [i for i, name in enumerate(names) if name in set(seen.meta["filenames"])]
    assert 0 < len(overlap) < len(names)  # the case this test is about: some seen, some not
    pick = np.arange(len(names))
    kept, note = age.unseen_faces(pick, names, clf / age.CLASSIFIER_FILE, run)
    assert sorted(set(kept.tolist()) | set(overlap)) == pick.tolist() and not set(kept.tolist()) & set(overlap)
    assert f"scoring {len(names) - len(overlap)} of {len(names)} validation faces: {len(overlap)} were" in note
    assert f"--hold-out {run}" in note
    with pytest.raises(ConfigError, match=f"all {len(overlap)} validation faces .* were in the age classifier"):
        age.unseen_faces(np.asarray(overlap), names, clf / age.CLASSIFIER_FILE, run)
    (clf / age.REPORT_FILE).write_text(json.dumps({**record, "held_out_files": age.run_validation_names(run)}))
    kept, note = age.unseen_faces(pick, names, clf / age.CLASSIFIER_FILE, run)
    assert kept.tolist() == pick.tolist() and note == ""
    (clf / age.REPORT_FILE).unlink()  # a classifier without its record is scored, with a note saying so
    kept, note = age.unseen_faces(pick, names, clf / age.CLASSIFIER_FILE, run)
    assert kept.tolist() == pick.tolist() and "faces the age classifier was trained on are unknown" in note
    (clf / age.REPORT_FILE).write_text(json.dumps({**record, "data": str(tmp_path / "gone")}))
    with pytest.raises(ConfigError, match="gone; restore it there or retrain"):
        age.unseen_faces(pick, names, clf / age.CLASSIFIER_FILE, run)


def test_the_age_classifier_holds_a_run_out(utk_folder, tmp_path):
    """--hold-out RUN drops the run's validation faces from the classifier's training faces and records
    them, so the agreement can score every one of them."""
    from gans.evaluation import age

    run = caae_record(tmp_path / "run", utk_folder)
    held = age.run_validation_names(run)
    assert main(["train-age-classifier", "--data", str(utk_folder), "--image-size", "16", "--epochs", "1",
                 "--validation-fraction", "0.5", "--hold-out", str(run), "--out", str(tmp_path / "clf")]) == 0
    report = json.loads((tmp_path / "clf" / age.REPORT_FILE).read_text())
    assert held and report["held_out_files"] == sorted(held) and report["held_out_runs"] == [str(run.resolve())]
    seen = age.classifier_training_names(report, "test")
    assert seen and not seen & set(held) and report["train_faces"] == len(seen)


def test_spread_indices_cover_the_whole_split():
    from gans.datasets.utkface import spread_indices

    assert spread_indices(10, 3).tolist() == [0, 4, 9] and spread_indices(3, 10).tolist() == [0, 1, 2]
    assert spread_indices(960, 200)[-1] == 959 and len(spread_indices(960, 200)) == 200


# ---------------------------------------------------------------------- the seed's table
def test_table1_is_the_seeds_and_the_study_configs_follow_it():
    assert sorted(TABLE1) == [3] + list(range(10, 22))
    assert caae_result(14).di == 0.0008 and caae_result("20").learning_rate == 1e-5
    with pytest.raises(ConfigError, match="result id"):
        caae_result(5)
    cfg = study_config(16)
    assert cfg.batch_size == 128 and cfg.optimizer.learning_rate == 4e-4
    assert cfg.discriminator_optimizer.learning_rate == 4e-4 and cfg.variant == "caae"
    assert scaled_learning_rate(128) == pytest.approx(4e-4) and scaled_learning_rate(32) == pytest.approx(1e-4)


def test_the_real_utkface_faces_load_at_64(shared_data):
    folder = shared_data / "utkface" / "crop_part1"
    if not folder.is_dir():
        pytest.skip("UTKFace crop_part1 not in the shared data")
    train_set, validation = load_utkface_splits(folder, 64, limit=300)
    assert len(train_set) == 270 and len(validation) == 30 and train_set.images.shape[1:] == (64, 64, 3)
    step = make_step(tiny_caae(64))
    step.check_data(train_set.labels)
    step.set_validation(validation.images, validation.labels)
    assert 0.0 < step.validation_l1() < 2.0


# ---------------------------------------------------------------------- the notebook
@pytest.mark.slow  # about 50 s: a run and a notebook kernel
def test_the_notebook_shows_a_tiny_run(utk_folder, tmp_path):
    from notebook_runner import execute_notebook

    out = tmp_path / "run"
    assert main(["train", "caae", "--data", str(utk_folder), "--image-size", "32", "--epochs", "2", "--batch-size",
                 "8", "--encoder-filters", "4", "--generator-filters", "32", "--no-progress", "--no-tensorboard",
                 "--out", str(out)]) == 0
    text, figures = execute_notebook("caae_utkface.ipynb", {"CAAE_RUN": str(out), "CAAE_SWEEP": str(tmp_path / "sw"),
                                                             **ONE_THREAD})
    assert figures == 3  # losses, validation grid, age strip
    assert "43 training and 5 validation faces at 32x32, 2 epochs" in text
    assert "no " + str(out / "age_agreement.csv") in text and "no sweep table at" in text
    assert "result_id" in text  # the seed's Table 1 instead
    # with an age_agreement.csv and .png (as 'gans age-agreement' writes them): the table and the plot
    from gans.evaluation.age import AGREEMENT_COLUMNS, plot_age_agreement
    from gans.io import write_rows

    rows = [{"age_group": g, "group": f"g{g}", "faces": 5, "agreement": 0.2, "mean_read": g / 2,
             "real_accuracy": 0.5, "real_mean_read": g, "real_faces": 1, "rebuilt_accuracy": 0.4,
             "rebuilt_mean_read": g, "label_effect": 0.05} for g in range(10)]
    write_rows(out / "age_agreement.csv", AGREEMENT_COLUMNS, rows)
    plot_age_agreement(rows, out / "age_agreement.png", title="tiny")
    text, figures = execute_notebook("caae_utkface.ipynb", {"CAAE_RUN": str(out), "CAAE_SWEEP": str(tmp_path / "sw"),
                                                             **ONE_THREAD})
    assert figures == 4 and "mean agreement 20.0% (chance 10%)" in text


def test_gans_sample_decodes_prior_z_of_a_caae_generator_alone(tmp_path, capsys):
    # issue 24, item 7: the README said gans sample works on a CAAE generator alone; it failed
    import json

    from gans.cli import main
    from gans.training.callbacks import save_h5
    from gans.training.steps.caae import CAAEStep

    generator = models.build_generator(image_shape=(32, 32, 3), filters=32)
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"variant": "caae", "steps": 1}))
    save_h5(generator, run / "checkpoints" / "generator_step_000001.h5")
    assert main(["sample", str(run), "--labels", "all", "--n", "2", "--out", str(tmp_path / "ages.png")]) == 0
    assert "20 images by class" in capsys.readouterr().out and (tmp_path / "ages.png").is_file()
    z, age, gender = CAAEStep.checkpoint_inputs(generator, 4, np.random.default_rng(0), np.array([0, 3, 9, 9]))
    assert z.min() >= -1 and z.max() <= 1 and z.shape == (4, 50)
    assert (age.argmax(1) == [0, 3, 9, 9]).all() and gender.shape == (4, 2)
    alone = tmp_path / "alone.h5"  # out of its run folder: nothing says how to draw its inputs
    save_h5(generator, alone)
    assert main(["sample", str(alone), "--out", str(tmp_path / "x.png")]) == 2
    assert "give its run folder" in capsys.readouterr().err
