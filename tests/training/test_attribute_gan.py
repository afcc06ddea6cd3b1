"""The attribute-biased GAN (seed 002) in training and at the command line: its noise is equation 1 on
real faces' classifier outputs, the freeze rule holds, a run logs the attribute agreement and resumes,
``gans train attribute``, ``gans train-classifier`` and ``gans generate-from-faces`` work, and bad input
gets one line and exit status 2."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

import gans  # noqa: F401
from gans.cli import main
from gans.evaluation.attributes import predict_attributes
from gans.experiments import NAMED
from gans.models.attribute import attribute_noise, build_generator
from gans.training.steps import AttributeStep, build_networks, make_step

from helpers import celeba_folder as write_celeba_folder, save_attribute_classifier
# the names this file has always used
from helpers import ATTRIBUTE_SHAPE as SHAPE, attribute_faces as faces, read_csv as rows_of, tiny_attribute as tiny_config

pytestmark = pytest.mark.faces  # every test here needs OpenCV (the faces extra)
cv2 = pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def classifier_h5(tmp_path_factory) -> Path:
    """An untrained, narrow attribute classifier for 24x20 faces, saved as a run would save it."""
    return save_attribute_classifier(tmp_path_factory.mktemp("classifier") / "classifier.h5")


def test_the_papers_configuration():
    cfg = NAMED["attribute-celeba"]
    assert (cfg.optimizer.learning_rate, cfg.discriminator_optimizer.learning_rate) == (4e-4, 2e-4)
    assert cfg.batch_size == 16 and cfg.label_flip == 0.05 and cfg.latent_dim == 160
    assert cfg.step_options == {"alpha": 0.6, "beta": 0.8} and cfg.image_shape == (218, 178, 3)
    # batch norm in D, as the paper says, with the frozen D normalizing by the batch in G's step
    assert cfg.discriminator.options.get("use_batchnorm", True) and cfg.frozen_batchnorm == "batch"


def test_latents_are_equation_1_on_the_classifier_outputs_of_random_training_faces(classifier_h5):
    step = make_step(tiny_config(classifier_h5))
    assert isinstance(step, AttributeStep)
    images = faces()
    step.prepare_data(images, None)
    outputs = predict_attributes(keras.models.load_model(classifier_h5, compile=False), images)
    np.testing.assert_allclose(step.attribute_outputs, outputs, rtol=1e-6)
    z = step.sample_latents(6, np.random.default_rng(5))
    rng = np.random.default_rng(5)  # the same draws by hand: faces first, then r
    chosen = rng.integers(0, len(images), 6)
    r = rng.standard_normal((6, 160), dtype=np.float32)
    np.testing.assert_allclose(z, attribute_noise(outputs[chosen], r, 0.6, 0.8), rtol=1e-6)
    assert z.dtype == np.float32 and z.shape == (6, 160)


def test_discriminator_moves_in_d_steps_and_is_bit_identical_in_g_steps(classifier_h5):
    from gans.training.data import BatchSource
    from gans.training.execution import Recipe

    cfg = tiny_config(classifier_h5)
    keras.utils.set_random_seed(0)
    nets = build_networks(cfg)
    g, d = nets["generator"], nets["discriminator"]
    d_learnable = {i for i, v in enumerate(d.weights) if v.trainable}
    g_learnable = {i for i, v in enumerate(g.weights) if v.trainable}
    step = make_step(cfg, nets)
    list(step.summaries())
    images = faces()
    step.prepare_data(images, None)
    updates = []

    def snapshot():
        return [w.copy() for w in d.get_weights()], [w.copy() for w in g.get_weights()]

    def moved(before, after):
        return {i for i, (a, b) in enumerate(zip(before, after)) if not np.array_equal(a, b)}

    class Watched(Recipe):
        def train(self, model, x, y):
            (d0, g0) = snapshot()
            loss = super().train(model, x, y)
            (d1, g1) = snapshot()
            updates.append((model.name, moved(d0, d1), moved(g0, g1)))
            return loss

    step.use_execution(Watched())
    source = BatchSource(images, cfg.batch_size)
    rng = np.random.default_rng(0)
    for k in (1, 2):  # the second step runs the already-traced train functions
        step.train_step(k, source, rng)
    assert [name for name, _, _ in updates] == ["discriminator", "discriminator", "gan"] * 2
    for name, d_moved, g_moved in updates:
        if name == "discriminator":
            assert d_moved & d_learnable == d_learnable and not g_moved
        else:
            assert not d_moved, "D (weights and batch-norm statistics) must not move in a G step"
            assert g_moved & g_learnable == g_learnable


def test_the_noise_refuses_a_generator_of_another_input_size(classifier_h5):
    from gans.errors import ConfigError

    cfg = tiny_config(classifier_h5, latent_dim=100)
    with pytest.raises(ConfigError, match="160-d noise of equation 1"):
        make_step(cfg)


# ---------------------------------------------------------------------- the command line
@pytest.fixture(scope="module")
def celeba_folder(tmp_path_factory) -> Path:
    """A CelebA-layout folder: 40 JPEG faces 44x36 and list_attr_celeba.txt with the official names."""
    return write_celeba_folder(tmp_path_factory.mktemp("celeba"), seed=1)


def test_train_classifier_command_writes_the_model_and_its_reports(celeba_folder, tmp_path, capsys):
    out = tmp_path / "clf"
    args = ["train-classifier", "celeba", "--data", str(celeba_folder), "--image-size", "16", "16", "--epochs", "2",
            "--out", str(out), "--no-progress"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "epoch 2/2" in printed and "majority-class baseline" in printed and "Wearing_Necktie" in printed
    assert [r["epoch"] for r in rows_of(out / "epochs.csv")] == ["1", "2"]
    per_attribute = rows_of(out / "attribute_accuracy.csv")
    assert len(per_attribute) == 40 and per_attribute[0]["attribute"] == "5_o_Clock_Shadow"
    summary = json.loads((out / "classifier.json").read_text())
    assert summary["n_train"] + summary["n_dev"] == 40 and summary["image_shape"] == [16, 16, 3]
    model = keras.models.load_model(out / "classifier.h5", compile=False, safe_mode=True)
    assert model.output_shape == (None, 40)
    assert main(args) == 2 and "already exists; pass --overwrite" in capsys.readouterr().err


def test_train_attribute_command_logs_agreement_records_the_classifier_and_resumes(celeba_folder, classifier_h5,
                                                                                    tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "attribute", "--data", str(celeba_folder), "--classifier", str(classifier_h5),
            "--image-size", "24", "20", "--limit", "32", "--batch-size", "8", "--sample-every", "2",
            "--out", str(run), "--no-progress"]
    assert main([*args, "--steps", "2"]) == 0
    assert main([*args, "--steps", "4", "--resume"]) == 0
    assert "(step 4 of 4)" in capsys.readouterr().out
    recorded = json.loads((run / "config.json").read_text())
    assert recorded["variant"] == "attribute" and recorded["image_shape"] == [24, 20, 3]
    assert recorded["run"]["n_images"] == 32 and recorded["batch_size"] == 8
    assert recorded["step_options"] == {"alpha": 0.6, "beta": 0.8, "classifier": str(classifier_h5.resolve())}
    rows = rows_of(run / "attributes.csv")
    assert [int(r["step"]) for r in rows] == [2, 4]  # the resumed run continued the log, no duplicate
    for row in rows:
        for key in ("agreement", "agreement_no_overlay"):
            assert 0.0 <= float(row[key]) <= 1.0
        for key in ("correlation", "correlation_no_overlay"):
            assert -1.0 <= float(row[key]) <= 1.0
    assert (run / "attribute_agreement.png").stat().st_size > 0 and (run / "samples" / "step_000004.png").is_file()
    generator = keras.models.load_model(run / "checkpoints" / "generator_step_000004.h5", compile=False)
    assert generator.input_shape[1:] == (160,) and generator.output_shape[1:] == (24, 20, 3)


@pytest.mark.parametrize("args, message", [
    (["train", "attribute", "--data", "DATA"], "pass --classifier CLASSIFIER.h5"),
    (["train", "dcgan", "--dataset", "mnist", "--classifier", "CLF"], "--classifier goes with 'gans train attribute' only"),
    (["train", "attribute", "--data", "DATA", "--classifier", "/no/such.h5"], "does not exist"),
])
def test_train_bad_input_is_one_line(args, message, celeba_folder, classifier_h5, tmp_path, capsys):
    args = [str(celeba_folder) if a == "DATA" else str(classifier_h5) if a == "CLF" else a for a in args]
    assert main([*args, "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def generator_h5(tmp_path_factory) -> Path:
    keras.utils.set_random_seed(12)
    path = tmp_path_factory.mktemp("generator") / "generator.h5"
    build_generator(image_shape=SHAPE, filters=(8, 4), base_filters=8).save(path)
    return path


@pytest.fixture(scope="module")
def face_files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("faces")
    paths = []
    for i, face in enumerate(faces(2, seed=4)):
        paths.append(folder / f"face{i}.png")
        cv2.imwrite(str(paths[-1]), cv2.resize(face, (60, 72)))
    return paths


def test_generate_from_faces_writes_the_face_beside_its_inputs_and_the_vector(classifier_h5, generator_h5,
                                                                              face_files, tmp_path, capsys):
    out = tmp_path / "new" / "face.png"
    assert main(["generate-from-faces", str(classifier_h5), str(generator_h5), *map(str, face_files),
                 "--alpha", "0.5", "--beta", "0.9", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Wearing_Lipstick" in printed and "alpha 0.5" in printed
    image = cv2.imread(str(out))
    assert image.shape == SHAPE  # the generated face at its own size
    beside = cv2.imread(str(tmp_path / "new" / "face_with_inputs.png"))
    assert beside.shape[1] > 3 * beside.shape[0] / 2  # three faces in a row
    rows = rows_of(tmp_path / "new" / "face_attributes.csv")
    assert len(rows) == 40 and set(rows[0]) == {"attribute", "used", "new_face", "face_1", "face_2"}
    for row in rows:  # the vector used is the mean of the classifier's outputs on the two faces
        assert float(row["used"]) == pytest.approx((float(row["face_1"]) + float(row["face_2"])) / 2, abs=2e-4)


def test_generate_from_faces_bad_input_is_one_line(classifier_h5, generator_h5, face_files, tmp_path, capsys):
    ten = tmp_path / "ten.h5"
    keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(), keras.layers.Dense(10)]).save(ten)
    small = tmp_path / "small.h5"
    keras.Sequential([keras.Input((100,)), keras.layers.Dense(24 * 20 * 3), keras.layers.Reshape(SHAPE)]).save(small)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    good = [str(classifier_h5), str(generator_h5), *map(str, face_files)]
    cases = [
        ([str(ten), str(generator_h5), str(face_files[0])], "not the 40 CelebA attributes"),
        ([str(classifier_h5), str(small), str(face_files[0])], "equation 1 makes 160-d noise"),
        ([str(classifier_h5), str(generator_h5), str(broken)], "unreadable"),
        ([str(classifier_h5), str(generator_h5), str(tmp_path / "none.jpg")], "does not exist"),
        ([*good, "--alpha", "1.5"], "alpha and beta must be >= 0 and <= 1"),
        ([*good, "--beta", "-0.2"], "alpha and beta must be >= 0 and <= 1"),
    ]
    for i, (args, message) in enumerate(cases):
        assert main(["generate-from-faces", *args, "--out", str(tmp_path / f"o{i}.png")]) == 2, message
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_generate_from_real_photos_with_the_mtcnn_crop(classifier_h5, generator_h5, shared_data, tmp_path, capsys):
    pytest.importorskip("mtcnn")
    photos = [shared_data / "photos" / name for name in ("img20.jpg", "200426.jpg")]
    if not all(p.is_file() for p in photos):
        pytest.skip("shared photos not found")
    out = tmp_path / "from_photos.png"
    assert main(["generate-from-faces", str(classifier_h5), str(generator_h5), *map(str, photos), "--crop",
                 "--out", str(out)]) == 0
    assert cv2.imread(str(out)).shape == SHAPE
    assert len(rows_of(tmp_path / "from_photos_attributes.csv")) == 40
    flat = tmp_path / "flat.png"
    cv2.imwrite(str(flat), np.full((80, 80, 3), 128, np.uint8))
    assert main(["generate-from-faces", str(classifier_h5), str(generator_h5), str(flat), "--crop",
                 "--out", str(tmp_path / "none.png")]) == 2
    assert "no face to crop (no_face" in capsys.readouterr().err


def test_attribute_notebook_shows_faces_bars_and_the_new_face(classifier_h5, generator_h5, face_files):
    from notebook_runner import execute_notebook

    text, figures = execute_notebook("attribute_faces.ipynb", {
        "GANS_CLASSIFIER": str(classifier_h5), "GANS_GENERATOR": str(generator_h5),
        "GANS_FACES": ",".join(map(str, face_files))})
    assert figures >= 3 and "attribute vector used" in text


@pytest.mark.parametrize("mode", ["batch", "moving"])
def test_the_fused_execution_takes_the_recipes_updates(mode, classifier_h5, tmp_path):
    """As for every family (test_execution.py): same seed and batches, the same weights, optimizer slots
    and losses under the recipe and the fused execution, with one trace; under both settings of the
    frozen discriminator's batch norm (the paper's D has it)."""
    from gans.datasets.base import ImageDataset
    from gans.training.execution import Fused, Recipe
    from helpers import EQUAL, assert_same, train_iterations as run

    config, data = tiny_config(classifier_h5, frozen_batchnorm=mode), ImageDataset(faces())
    assert any(isinstance(layer, keras.layers.BatchNormalization)
               for layer in build_networks(config)["discriminator"]._flatten_layers())
    recipe = run("attribute", tmp_path / "recipe", Recipe(), config=config, data=data)
    fused = run("attribute", tmp_path / "fused", Fused(jit=False), config=config, data=data)
    assert_same(recipe, fused, atol=EQUAL, what=f"attribute ({mode}) recipe vs fused")
    assert fused[2].execution.traces == 1

