"""The attribute GAN's projection discriminator (not in the paper; Miyato and Koyama 2018): D reads a real
face beside the frozen classifier's reading of that same face and a generated one beside the attributes
overlaid on its noise. It builds, round-trips and reloads in a fresh process; each real face is read
beside its own reading; ``--attribute-discriminator projection`` is recorded, resumed and a sweep axis;
bad input gets one line and exit status 2. The freeze rule (D learns in its own steps and is
bit-identical in G's, the classifier never trains) and the recipe's updates under the fused execution
are checked beside the paper's D's, in test_attribute_gan.py."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import gans  # noqa: F401
from gans.cli import main
from gans.config import NetworkSpec
from gans.errors import ConfigError
from gans.models.attribute import attribute_noise, build_discriminator
from gans.training.data import BatchSource
from gans.training.steps import make_step

from helpers import child_env
# the names test_attribute_gan.py uses; its fixtures classifier_h5 and celeba_folder are in conftest.py
from helpers import ATTRIBUTE_PROJECTION as PROJECTION, ATTRIBUTE_SHAPE as SHAPE, attribute_faces as faces
from helpers import tiny_attribute as tiny_config

pytestmark = pytest.mark.faces  # the CelebA-layout folder and the attribute runs need OpenCV (the faces extra)
cv2 = pytest.importorskip("cv2")


def prepared_step(classifier):
    """A projection step on 48 random faces, the classifier's outputs read, and its batch source."""
    config = tiny_config(classifier).replace(discriminator=PROJECTION)
    keras.utils.set_random_seed(0)
    step = make_step(config)
    images = faces()
    step.prepare_data(images, None)
    return config, step, BatchSource(images, config.batch_size, labels=step.batch_labels(None))


def test_the_projection_discriminator_scores_image_and_attributes_and_reloads_in_a_fresh_process(tmp_path):
    keras.utils.set_random_seed(3)
    d = build_discriminator(image_shape=SHAPE, filters=(4, 8), num_attributes=40)
    assert [tuple(t.shape[1:]) for t in d.inputs] == [SHAPE, (40,)] and d.output_shape == (None, 1)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, *SHAPE)).astype(np.float32)
    o = rng.uniform(0, 1, (4, 40)).astype(np.float32)
    score = d([x, o], training=False).numpy()
    assert np.all((score > 0) & (score < 1))
    assert not np.allclose(score, d([x, 1 - o], training=False).numpy(), atol=1e-6), "the score must read o"
    # without V the attributes change nothing: psi(phi(x)) + <V o, phi(x)> with V = 0 is psi(phi(x))
    projection = d.get_layer("attribute_projection")
    projection.set_weights([np.zeros_like(w) for w in projection.get_weights()])
    np.testing.assert_allclose(d([x, o], training=False).numpy(), d([x, 1 - o], training=False).numpy(), atol=1e-7)
    projection.set_weights([rng.normal(0, 0.05, w.shape).astype(np.float32) for w in projection.get_weights()])
    expected = d([x, o], training=False).numpy()
    clone = keras.Model.from_config(d.get_config())
    clone.set_weights(d.get_weights())
    np.testing.assert_allclose(clone([x, o], training=False).numpy(), expected, atol=1e-6)
    path = tmp_path / "discriminator.h5"
    d.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "o.npy", o)
    code = (f"import numpy as np, keras, gans; d = keras.models.load_model({str(path)!r}, safe_mode=True); "
            f"print(repr(d([np.load({str(tmp_path / 'x.npy')!r}), np.load({str(tmp_path / 'o.npy')!r})], "
            f"training=False).numpy().ravel().tolist()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=child_env())
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(eval(done.stdout.strip().splitlines()[-1]), expected.ravel(), atol=1e-6)


def test_real_faces_come_with_their_own_reading_and_fakes_with_their_own_overlay(classifier_h5):
    """D's real input is each face beside the classifier's outputs on that very face (row for row, not
    another face's); each fake's and each generator-update face's attributes are the ones overlaid on
    its own noise (the same draws by hand: the batch, then faces, then r)."""
    config, step, source = prepared_step(classifier_h5)
    assert step.projection and len(step.combined.inputs) == 2
    draws = step.draw(1, source, np.random.default_rng(4))
    images, attributes = draws.real[0]
    read = step.attribute_classifier(images, training=False).numpy()
    np.testing.assert_allclose(attributes, read, rtol=1e-5, atol=1e-6)
    assert np.abs(np.roll(read, 1, axis=0) - read).max() > 1e-3  # another row's reading would be told apart
    rng = np.random.default_rng(4)
    n, total = config.batch_size, len(step.attribute_outputs)
    rng.integers(0, total, n)  # the real batch
    chosen = rng.integers(0, total, n)
    r = rng.standard_normal((n, 160), dtype=np.float32)
    np.testing.assert_array_equal(draws.fake_labels[0], step.attribute_outputs[chosen])
    np.testing.assert_allclose(draws.fake_inputs[0], attribute_noise(step.attribute_outputs[chosen], r), rtol=1e-6)
    (noise, overlaid), _ = step.generator_draws(6, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    chosen = rng.integers(0, total, 6)
    np.testing.assert_array_equal(overlaid, step.attribute_outputs[chosen])
    np.testing.assert_allclose(noise, attribute_noise(overlaid, rng.standard_normal((6, 160), dtype=np.float32)),
                               rtol=1e-6)


def test_the_option_is_recorded_resumed_and_a_sweep_axis(celeba_folder, classifier_h5, tmp_path, capsys):
    from gans.studies.grid import apply_values, resolve_axes

    run = tmp_path / "run"
    args = ["train", "attribute", "--data", str(celeba_folder), "--classifier", str(classifier_h5),
            "--image-size", "24", "20", "--limit", "32", "--batch-size", "8", "--sample-every", "2",
            "--out", str(run), "--no-progress", "--no-tensorboard"]
    both = ["--attribute-discriminator", "projection", "--attribute-weight", "1"]
    assert main([*args, *both, "--steps", "2"]) == 0
    recorded = json.loads((run / "config.json").read_text())
    assert recorded["networks"]["discriminator"]["options"]["num_attributes"] == 40
    assert recorded["step_options"]["attribute_weight"] == 1.0
    assert main([*args, *both, "--steps", "3", "--resume"]) == 0
    assert "(step 3 of 3)" in capsys.readouterr().out
    for dropped, named in ((both[:2], "step_options.attribute_weight was 1.0, now 0.0"),
                           (both[2:], "networks.discriminator.options.num_attributes was 40, now 0")):
        assert main([*args, *dropped, "--steps", "4", "--resume"]) == 2  # dropping an option changes the run
        err = capsys.readouterr().err
        assert "cannot resume" in err and named in err and len(err.strip().splitlines()) == 1, err
    paper = tiny_config(classifier_h5)
    axis, = resolve_axes(paper, {"num_attributes": (0, 40)})
    assert axis.target == "network:discriminator.num_attributes"
    point = apply_values(paper, [axis], {"num_attributes": 40})
    assert make_step(point).projection and not make_step(apply_values(paper, [axis], {"num_attributes": 0})).projection


def test_the_measured_best_configuration_trains_with_both_additions(celeba_folder, classifier_h5, tmp_path):
    run = tmp_path / "carried"
    assert main(["train", "--experiment", "attribute-celeba-carried", "--data", str(celeba_folder), "--classifier",
                 str(classifier_h5), "--image-size", "24", "20", "--limit", "32", "--batch-size", "8", "--steps", "2",
                 "--sample-every", "2", "--out", str(run), "--no-progress", "--no-tensorboard"]) == 0
    recorded = json.loads((run / "config.json").read_text())
    assert recorded["networks"]["discriminator"]["options"]["num_attributes"] == 40
    assert recorded["step_options"]["attribute_weight"] == 10.0
    assert "attribute_loss" in (run / "losses.csv").read_text().splitlines()[0]


@pytest.mark.parametrize("args, message", [
    (["train", "dcgan", "--dataset", "mnist", "--attribute-discriminator", "projection"],
     "--attribute-discriminator goes with 'gans train attribute' only"),
    (["train", "attribute", "--data", "DATA", "--classifier", "CLF", "--attribute-discriminator", "both"],
     "argument --attribute-discriminator: invalid choice: 'both'"),
    (["train", "attribute", "--data", "DATA", "--classifier", "TEN", "--attribute-discriminator", "projection"],
     "not the 40 CelebA attributes"),
])
def test_bad_input_is_one_line(args, message, celeba_folder, classifier_h5, tmp_path, capsys):
    ten = tmp_path / "ten.h5"
    keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(), keras.layers.Dense(10)]).save(ten)
    swap = {"DATA": str(celeba_folder), "CLF": str(classifier_h5), "TEN": str(ten)}
    args = [swap.get(a, a) for a in args]
    assert main([*args, "--steps", "1", "--image-size", "24", "20", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_projection_discriminator_of_another_attribute_count_is_refused(classifier_h5):
    ten = NetworkSpec("attribute", {"filters": (4, 8), "num_attributes": 10})
    with pytest.raises(ConfigError, match="projection discriminator of 10 attributes, but the classifier gives 40"):
        make_step(tiny_config(classifier_h5).replace(discriminator=ten))
    with pytest.raises(ConfigError, match="num_attributes must be 0"):
        build_discriminator(image_shape=SHAPE, num_attributes=-1)
    config, step, _ = prepared_step(classifier_h5)
    with pytest.raises(Exception, match="the classifier's reading of it"):
        step.draw(1, BatchSource(faces(), config.batch_size), np.random.default_rng(0))  # no labels given
