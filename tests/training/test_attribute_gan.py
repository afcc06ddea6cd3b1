"""The attribute-biased GAN (seed 002) in training and at the command line: its noise is equation 1 on
real faces' classifier outputs, the freeze rule holds, a run logs the attribute agreement and resumes,
``gans train attribute``, ``gans train-classifier`` and ``gans generate-from-faces`` work, and bad input
gets one line and exit status 2. Its classifier and CelebA-layout folder (the fixtures classifier_h5 and
celeba_folder) are in conftest.py: test_attribute_projection.py uses them too."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

import gans  # noqa: F401
from gans.cli import main
from gans.datasets.celeba import ATTRIBUTE_NAMES
from gans.evaluation.attributes import predict_attributes
from gans.experiments import NAMED
from gans.models.attribute import attribute_noise, build_generator
from gans.training.steps import AttributeStep, build_networks, make_step

# the names this file has always used
from helpers import ATTRIBUTE_SHAPE as SHAPE, attribute_faces as faces, read_csv as rows_of, tiny_attribute as tiny_config
from helpers import ATTRIBUTE_PROJECTION as PROJECTION

pytestmark = pytest.mark.faces  # every test here needs OpenCV (the faces extra)
cv2 = pytest.importorskip("cv2")


def test_the_papers_configuration():
    cfg = NAMED["attribute-celeba"]
    assert (cfg.optimizer.learning_rate, cfg.discriminator_optimizer.learning_rate) == (4e-4, 2e-4)
    assert cfg.batch_size == 16 and cfg.label_flip == 0.05 and cfg.latent_dim == 160
    assert cfg.step_options == {"alpha": 0.6, "beta": 0.8, "attribute_weight": 0.0} and cfg.image_shape == (218, 178, 3)
    assert cfg.discriminator.options["num_attributes"] == 0  # the paper's D; 0 recorded, so a resume checks it
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


@pytest.mark.parametrize("discriminator, weight", [(None, 0.0), (PROJECTION, 0.0), (PROJECTION, 2.0)])
def test_discriminator_moves_in_d_steps_and_is_bit_identical_in_g_steps(discriminator, weight, classifier_h5):
    """The paper's D, and the projection D alone and with the consistency term (its matrix V among D's
    variables); the classifier never trains."""
    from gans.training.data import BatchSource
    from gans.training.execution import Recipe

    cfg = tiny_config(classifier_h5).replace(**({"discriminator": discriminator} if discriminator else {}))
    cfg = cfg.replace(step_options={**cfg.step_options, "attribute_weight": weight})
    keras.utils.set_random_seed(0)
    nets = build_networks(cfg)
    g, d = nets["generator"], nets["discriminator"]
    d_learnable = {i for i, v in enumerate(d.weights) if v.trainable}
    g_learnable = {i for i, v in enumerate(g.weights) if v.trainable}
    step = make_step(cfg, nets)
    list(step.summaries())
    images = faces()
    step.prepare_data(images, None)
    classifier = [w.copy() for w in step.attribute_classifier.get_weights()]
    assert (discriminator is not None) == any("attribute_projection" in d.weights[i].path for i in d_learnable)
    updates = []

    def snapshot():
        return [w.copy() for w in d.get_weights()], [w.copy() for w in g.get_weights()]

    def moved(before, after):
        return {i for i, (a, b) in enumerate(zip(before, after)) if not np.array_equal(a, b)}

    class Watched(Recipe):
        def train_losses(self, model, x, y):
            (d0, g0) = snapshot()
            losses = super().train_losses(model, x, y)
            (d1, g1) = snapshot()
            updates.append((model.name, moved(d0, d1), moved(g0, g1)))
            return losses

    step.use_execution(Watched())
    source = BatchSource(images, cfg.batch_size, labels=step.batch_labels(None))
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
    assert all(np.array_equal(a, b) for a, b in zip(classifier, step.attribute_classifier.get_weights()))


def test_the_noise_refuses_a_generator_of_another_input_size(classifier_h5):
    from gans.errors import ConfigError

    cfg = tiny_config(classifier_h5, latent_dim=100)
    with pytest.raises(ConfigError, match="160-d noise of equation 1"):
        make_step(cfg)


# ---------------------------------------------------------------------- the command line
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
    assert recorded["step_options"] == {"alpha": 0.6, "beta": 0.8, "attribute_weight": 0.0,
                                        "classifier": str(classifier_h5.resolve())}
    rows = rows_of(run / "attributes.csv")
    assert [int(r["step"]) for r in rows] == [2, 4]  # the resumed run continued the log, no duplicate
    for row in rows:
        for key in ("agreement", "agreement_no_overlay", "agreement_balanced", "agreement_balanced_no_overlay"):
            assert 0.0 <= float(row[key]) <= 1.0
        for key in ("correlation", "correlation_no_overlay", "correlation_balanced",
                    "correlation_balanced_no_overlay"):
            assert -1.0 <= float(row[key]) <= 1.0
    per = rows_of(run / "attribute_correlations.csv")  # every attribute at every measurement, no duplicate
    assert [(int(r["step"]), r["attribute"]) for r in per] == [(s, a) for s in (2, 4) for a in ATTRIBUTE_NAMES]
    from gans.datasets.celeba import load_celeba

    labels = load_celeba(celeba_folder, limit=32).labels  # the base rates are the training faces' labels
    assert [float(r["base_rate"]) for r in per[:40]] == pytest.approx(np.mean(labels > 0, axis=0), abs=1e-4)
    for name in ("attribute_agreement.png", "attribute_correlations.png", "samples/step_000004.png"):
        assert (run / name).stat().st_size > 0
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
    assert cv2.imread(str(tmp_path / "new" / "face_explained.png")) is not None
    assert "ranks the attributes by their distance from 0.5" in printed  # this classifier has no reports


def test_the_explained_figure_shows_the_attributes_furthest_from_the_celeba_mean(tmp_path):
    """generate-from-faces' figure ranks the attributes by how far the averaged vector lies from the
    CelebA mean of the classifier's training faces (attribute_accuracy.csv beside it)."""
    from gans.attribute_faces import celeba_means, plot_face_attributes
    from gans.datasets.celeba import ATTRIBUTE_NAMES

    mean = np.full(40, 0.3)
    (tmp_path / "attribute_accuracy.csv").write_text(
        "attribute,accuracy,majority_baseline,positive_share\n"
        + "".join(f"{name},0.9,0.8,{m}\n" for name, m in zip(ATTRIBUTE_NAMES, mean)))
    assert celeba_means(tmp_path / "classifier.h5").tolist() == mean.tolist()
    assert celeba_means(tmp_path / "elsewhere" / "classifier.h5") is None
    used = np.full(40, 0.3)
    used[[4, 15, 31]] = [0.9, 0.0, 0.6]  # Bald far above, Eyeglasses below, Smiling above the mean
    made = {"image": np.zeros((24, 20, 3), np.float32), "used": used, "inputs": np.stack([used, used]),
            "read": np.full(40, 0.5)}
    faces = np.zeros((2, 24, 20, 3), np.uint8)
    shown = plot_face_attributes(faces, made, tmp_path / "explained.png", mean, top=3)
    assert shown == [4, 15, 31] and (tmp_path / "explained.png").stat().st_size > 0


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


def test_mixes_average_k_faces_and_one_face_is_its_own_reading(classifier_h5):
    from gans.evaluation.attributes import attribute_mixes
    from gans.models.attribute import attribute_noise

    classifier = keras.models.load_model(classifier_h5, compile=False)
    images = faces(30, seed=7)
    for k in (1, 2, 3):
        asked, noise, read = attribute_mixes(classifier, images, 8, k, seed=5, alpha=0.6, beta=0.8)
        assert read.shape == (8 * k, 40) and asked.shape == (8, 40)
        assert asked == pytest.approx(read.reshape(8, k, 40).mean(axis=1))
        assert noise[""] == pytest.approx(attribute_noise(asked, noise["_no_overlay"], 0.6, 0.8))
    again = attribute_mixes(classifier, images, 8, 1, seed=5, alpha=0.6, beta=0.8)
    assert again[0] == pytest.approx(attribute_mixes(classifier, images, 8, 1, seed=5, alpha=0.6, beta=0.8)[0])
    rng = np.random.default_rng(5)  # the faces, then r, from one seeded stream
    chosen = rng.choice(len(images), 8, replace=False)
    assert again[0] == pytest.approx(predict_attributes(classifier, images[chosen]))  # one face: its own reading
    assert again[1]["_no_overlay"] == pytest.approx(rng.standard_normal((8, 160), dtype=np.float32))  # plain r


def test_real_face_yardsticks_a_given_face_scores_one_a_random_face_does_not(classifier_h5):
    from gans.evaluation.attributes import REFERENCES, attribute_agreement, attribute_mixes, reference_agreement

    classifier = keras.models.load_model(classifier_h5, compile=False)
    images = faces(30, seed=7)
    balanced = np.arange(40) % 2 == 0
    for k in (1, 2):
        asked, _, read = attribute_mixes(classifier, images, 64, k, seed=5, alpha=0.6, beta=0.8)
        found = reference_agreement(classifier, images, asked, read, 5, balanced)
        assert sorted(found) == sorted(f"{m}{s}" for s in REFERENCES for m in
                                       ("agreement", "correlation", "agreement_balanced", "correlation_balanced"))
        first = read.reshape(64, k, 40)[:, 0]  # the copy of each mix's first given face
        assert found["agreement_given_face"] == pytest.approx(attribute_agreement(asked, first)["agreement"])
        assert found["agreement_random_face"] < found["agreement_given_face"]
        if k == 1:
            assert [found[f"{m}_given_face"] for m in ("agreement", "agreement_balanced", "correlation",
                                                       "correlation_balanced")] == pytest.approx([1, 1, 1, 1])
            assert found["correlation_random_face"] < 0.5
        else:  # a copy of one face of two misses some of the attributes the two differ in
            assert 0.5 < found["agreement_given_face"] < 1
    assert reference_agreement(classifier, images, asked, read, 5, balanced) == pytest.approx(found)  # seeded


@pytest.fixture(scope="module")
def attribute_run(celeba_folder, classifier_h5, tmp_path_factory) -> Path:
    """A 4-step attribute run on the CelebA-layout folder, its agreement logged at steps 2 and 4."""
    run = tmp_path_factory.mktemp("attribute-run") / "run"
    assert main(["train", "attribute", "--data", str(celeba_folder), "--classifier", str(classifier_h5),
                 "--image-size", "24", "20", "--limit", "32", "--batch-size", "8", "--sample-every", "2",
                 "--checkpoint-every", "2", "--steps", "4", "--out", str(run), "--no-progress"]) == 0
    return run


def test_attribute_agreement_command_reads_what_the_training_log_read(attribute_run, celeba_folder, capsys):
    """With the training log's draw (256 mixes of 2, seed 1357, the run's faces) the command measures
    the run's checkpoints to the log's own figures; the classifier and alpha, beta come from the run."""
    out = attribute_run / "again.csv"
    step2 = attribute_run / "checkpoints" / "generator_step_000002.h5"
    assert main(["attribute-agreement", str(step2), str(attribute_run), "--data", str(celeba_folder), "--limit", "32",
                 "--n", "256", "--seed", "1357", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "256 mixes of 2 of 32 faces" in printed and "agreement" in printed
    rows, log = rows_of(out), rows_of(attribute_run / "attributes.csv")
    assert [int(r["step"]) for r in rows] == [2, 4] and [int(r["step"]) for r in log] == [2, 4]
    assert {r["run"] for r in rows} == {"run"} and {r["faces_per_mix"] for r in rows} == {"2"}
    for row, logged in zip(rows, log):
        measures = [k for k in logged if k != "step"]
        assert len(measures) == 8
        assert [float(row[k]) for k in measures] == pytest.approx([float(logged[k]) for k in measures], abs=2e-4)
    references = [k for k in rows[0] if k.endswith(("_given_face", "_random_face"))]
    assert len(references) == 8 and all(row[k] == rows[0][k] for row in rows for k in references)  # one draw
    assert "real: a given face itself" in printed and "real: a random face" in printed
    per = rows_of(attribute_run / "again_per_attribute.csv")
    assert len(per) == 80 and [r["attribute"] for r in per[:40]] == list(ATTRIBUTE_NAMES)
    assert (attribute_run / "again.png").stat().st_size > 0


def test_attribute_agreement_default_table_single_faces_and_overwrite(attribute_run, celeba_folder, capsys):
    args = ["attribute-agreement", str(attribute_run), "--data", str(celeba_folder), "--n", "20",
            "--faces-per-mix", "1", "--no-progress"]
    assert main(args) == 0
    table = attribute_run / "attribute_agreement_20x1_seed1357.csv"  # the default: in the run folder, by settings
    rows = rows_of(table)
    assert len(rows) == 1 and rows[0]["faces_per_mix"] == "1" and rows[0]["n"] == "20"
    assert rows[0]["alpha"] == "0.6" and rows[0]["beta"] == "0.8"
    assert float(rows[0]["agreement_given_face"]) == 1.0  # one given face: its copy agrees everywhere
    assert float(rows[0]["agreement_random_face"]) < 1.0
    capsys.readouterr()
    assert main(args) == 2  # never replaced unasked
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert main([*args, "--alpha", "0.3", "--overwrite"]) == 0
    assert rows_of(table)[0]["alpha"] == "0.3"
    assert (attribute_run / "attribute_agreement.png").stat().st_size > 0  # the training log's figure stays


def test_attribute_agreement_bad_input_is_one_line(attribute_run, celeba_folder, generator_h5, tmp_path, capsys):
    small = tmp_path / "small.h5"
    keras.Sequential([keras.Input((100,)), keras.layers.Dense(24 * 20 * 3), keras.layers.Reshape(SHAPE)]).save(small)
    data = ["--data", str(celeba_folder)]
    cases = [
        ([str(generator_h5), *data], "not in a run folder (RUN/checkpoints/): pass --out"),
        ([str(generator_h5), *data, "--out", str(tmp_path / "t.csv")], "no classifier known"),
        ([str(attribute_run), str(small), *data, "--out", str(tmp_path / "u.csv")], "equation 1 makes 160-d noise"),
        ([str(tmp_path / "none.h5"), *data], "does not exist"),
        ([str(attribute_run), "--data", str(tmp_path)], "list_attr_celeba.txt"),
        ([str(attribute_run), *data, "--n", "1"], "--n"),
        ([str(attribute_run), *data, "--faces-per-mix", "0"], "--faces-per-mix"),
    ]
    for args, message in cases:
        assert main(["attribute-agreement", *args]) == 2, message
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


@pytest.mark.parametrize("mode, weight, discriminator", [("batch", 0.0, None), ("moving", 0.0, None),
                                                          ("batch", 0.5, None), ("batch", 0.0, PROJECTION),
                                                          ("batch", 0.5, PROJECTION)])
def test_the_fused_execution_takes_the_recipes_updates(mode, weight, discriminator, classifier_h5, tmp_path):
    """As for every family (test_execution.py): same seed and batches, the same weights, optimizer slots
    and losses under the recipe and the fused execution, with one trace; under both settings of the
    frozen discriminator's batch norm (the paper's D has it), with the attribute-consistency term, and
    with the projection discriminator (alone and with the term)."""
    from gans.datasets.base import ImageDataset
    from gans.training.execution import Fused, Recipe
    from helpers import EQUAL, assert_same, train_iterations as run

    config = tiny_config(classifier_h5, frozen_batchnorm=mode).replace(
        **({"discriminator": discriminator} if discriminator else {}))
    if weight:
        config = config.replace(step_options={**config.step_options, "attribute_weight": weight})
    data = ImageDataset(faces())
    assert any(isinstance(layer, keras.layers.BatchNormalization)
               for layer in build_networks(config)["discriminator"]._flatten_layers())
    recipe = run("attribute", tmp_path / "recipe", Recipe(), config=config, data=data)
    fused = run("attribute", tmp_path / "fused", Fused(jit=False), config=config, data=data)
    assert recipe[2].projection == fused[2].projection == (discriminator is not None)
    assert_same(recipe, fused, atol=EQUAL, what=f"attribute ({mode}, {weight}, {discriminator}) recipe vs fused")
    assert fused[2].execution.traces == 1



# ---------------------------------------------------------------------- the attribute-consistency term
def consistency_step(classifier_h5, weight):
    cfg = tiny_config(classifier_h5)
    cfg = cfg.replace(step_options={**cfg.step_options, "attribute_weight": weight})
    keras.utils.set_random_seed(0)
    nets = build_networks(cfg)
    step = make_step(cfg, nets)
    step.prepare_data(faces(), None)
    return cfg, nets, step


def test_the_consistency_term_trains_g_alone_toward_the_overlaid_attributes(classifier_h5):
    """With --attribute-weight the generator's update also pulls the frozen classifier's reading of G's
    faces toward the attributes overlaid on their noise: G moves, D and the classifier do not (weights
    and statistics, bit for bit), D still learns in its own steps, and the term's loss is logged."""
    from gans.training.data import BatchSource
    from gans.training.execution import Recipe

    cfg, nets, step = consistency_step(classifier_h5, 2.0)
    g, d, clf = nets["generator"], nets["discriminator"], step.attribute_classifier
    assert step.loss_names[-1] == "attribute_loss" and len(step.combined.outputs) == 2
    weights = {name: [w.copy() for w in m.get_weights()] for name, m in (("g", g), ("d", d), ("clf", clf))}
    before_clf = [w.copy() for w in clf.get_weights()]
    updates = []

    class Watched(Recipe):
        def train_losses(self, model, x, y):
            d0, g0 = [w.copy() for w in d.get_weights()], [w.copy() for w in g.get_weights()]
            losses = super().train_losses(model, x, y)
            d_moved = any(not np.array_equal(a, b) for a, b in zip(d0, d.get_weights()))
            g_moved = any(not np.array_equal(a, b) for a, b in zip(g0, g.get_weights()))
            updates.append((model.name, d_moved, g_moved))
            return losses

    step.use_execution(Watched())
    source, rng = BatchSource(faces(), cfg.batch_size), np.random.default_rng(0)
    losses = [step.train_step(k, source, rng) for k in (1, 2, 3)]
    assert [u[0] for u in updates] == ["discriminator", "discriminator", "gan"] * 3
    assert all(d_moved and not g_moved for name, d_moved, g_moved in updates if name == "discriminator")
    assert all(g_moved and not d_moved for name, d_moved, g_moved in updates if name == "gan")
    assert all(np.array_equal(a, b) for a, b in zip(before_clf, clf.get_weights())), "the classifier must not train"
    assert len(clf.get_weights()) == len(weights["clf"]) > 0
    for row in losses:
        assert list(row) == ["d_loss_real", "d_loss_fake", "d_loss", "g_loss", "attribute_loss"]
        assert np.isfinite(list(row.values())).all() and 0 < row["attribute_loss"] < 5


def test_the_term_targets_the_attributes_each_face_s_noise_carries(classifier_h5):
    """The classifier's target for each generated face is the attribute vector overlaid on that face's
    own noise: the same draws by hand (faces first, then r), row for row."""
    _, _, step = consistency_step(classifier_h5, 1.0)
    noise, (real, attributes) = step.generator_draws(6, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    chosen = rng.integers(0, len(step.attribute_outputs), 6)
    r = rng.standard_normal((6, 160), dtype=np.float32)
    assert len(set(chosen.tolist())) > 1  # distinct faces, so another row's vector would differ
    np.testing.assert_array_equal(attributes, step.attribute_outputs[chosen])
    np.testing.assert_allclose(noise, attribute_noise(attributes, r, 0.6, 0.8), rtol=1e-6)
    np.testing.assert_array_equal(real, step.loss.labels(6, real=True))


def test_weight_0_is_the_papers_method_exactly(classifier_h5, tmp_path):
    """--attribute-weight 0 trains the very updates of the paper's method (the default)."""
    from gans.datasets.base import ImageDataset
    from gans.training.execution import Recipe
    from helpers import assert_same, train_iterations as run

    config, data = tiny_config(classifier_h5), ImageDataset(faces())
    zero = config.replace(step_options={**config.step_options, "attribute_weight": 0.0})
    paper = run("attribute", tmp_path / "paper", Recipe(), config=config, data=data)
    weight0 = run("attribute", tmp_path / "zero", Recipe(), config=zero, data=data)
    assert_same(paper, weight0, atol=0, what="weight 0 vs the paper's method")
    assert list(weight0[0][0]) == ["d_loss_real", "d_loss_fake", "d_loss", "g_loss"]


@pytest.mark.parametrize("args, message", [
    (["train", "attribute", "--data", "DATA", "--classifier", "CLF", "--attribute-weight", "-1"],
     "argument --attribute-weight: a loss weight must be >= 0"),
    (["train", "dcgan", "--dataset", "mnist", "--attribute-weight", "1"],
     "--attribute-weight goes with 'gans train attribute' only"),
])
def test_a_bad_attribute_weight_is_one_line(args, message, celeba_folder, classifier_h5, tmp_path, capsys):
    args = [str(celeba_folder) if a == "DATA" else str(classifier_h5) if a == "CLF" else a for a in args]
    assert main([*args, "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
