"""The progressive GAN's app side: ``gans export`` (TFLite run with tf.lite.Interpreter, SavedModel,
.keras) and ``gans demo``'s page, driven by real HTTP requests."""

import io
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

import gans  # noqa: F401
from gans.datasets.base import ImageDataset
from gans.training import RunSettings, train

from helpers import run_gans as _gans
from helpers import smooth_faces as faces, tiny_pggan as tiny_config  # the names this file has always used


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pggan_run")  # the step writes the per-phase generators itself
    train(tiny_config(target_resolution=8, batch_sizes=4, images_per_phase=8), folder,
          ImageDataset(faces(16, side=8), source="faces"),
          settings=RunSettings(progress=False, tensorboard=False, sample_every=100, checkpoint_every=100))
    return folder


def test_tflite_export_matches_the_keras_generator(run_dir, tmp_path):
    from gans.export import app_model, export_generator, run_tflite
    from gans.models import load_generator
    from gans.training.progressive import phase_checkpoint

    generator = load_generator(phase_checkpoint(run_dir, 8))
    path = export_generator(generator, "tflite", tmp_path / "face8.tflite")
    z = np.random.default_rng(0).standard_normal((3, 8), dtype=np.float32)
    lite = run_tflite(path, z)
    expected = app_model(generator)(z).numpy()
    assert lite.shape == (3, 8, 8, 3) and 0 <= lite.min() and lite.max() <= 255
    np.testing.assert_allclose(lite, expected, atol=0.05)  # 0.05 of 255: float32 kernels differ in order only
    assert np.ptp(lite) > 1  # an image, not a constant


@pytest.mark.slow  # three fresh processes
def test_export_command_writes_savedmodel_and_keras_and_refuses_a_discriminator(run_dir, tmp_path):
    import keras
    import tensorflow as tf

    from gans.export import app_model
    from gans.models import load_generator
    from gans.training.progressive import phase_checkpoint

    done = _gans("export", run_dir, "--resolution", 4, "--format", "savedmodel", "--out", tmp_path / "sm")
    assert done.returncode == 0, done.stderr[-2000:]
    done = _gans("export", run_dir, "--resolution", 4, "--format", "keras", "--out", tmp_path / "g.keras")
    assert done.returncode == 0, done.stderr[-2000:]
    z = np.random.default_rng(1).standard_normal((2, 8), dtype=np.float32)
    expected = app_model(load_generator(phase_checkpoint(run_dir, 4)))(z).numpy()
    saved = tf.saved_model.load(str(tmp_path / "sm"))  # kept: its functions read its variables
    np.testing.assert_allclose(saved.serve(z).numpy(), expected, atol=1e-4)
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "g.keras", safe_mode=True)(z).numpy(), expected,
                               atol=1e-4)
    from gans.models.pggan import grow_discriminator

    critic = grow_discriminator(target_resolution=4, filters=4)[4].stable
    critic.save(tmp_path / "critic.h5")
    done = _gans("export", tmp_path / "critic.h5", "--format", "tflite", "--out", tmp_path / "c.tflite")
    lines = [line for line in done.stderr.splitlines() if line.startswith("gans ")]
    assert done.returncode == 2 and len(lines) == 1 and "not a generator" in lines[0], done.stderr[-2000:]
    assert not (tmp_path / "c.tflite").exists()


def test_demo_page_serves_faces_at_the_chosen_resolution(run_dir):
    from PIL import Image

    from gans.demo import make_server

    server = make_server(run_dir, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        page = urllib.request.urlopen(f"{base}/?resolution=4&seed=2", timeout=60).read().decode()
        assert '<option value="8">' in page and "faces.png?resolution=4&amp;seed=2" in page
        for resolution in (4, 8):
            reply = urllib.request.urlopen(f"{base}/faces.png?resolution={resolution}&seed=5", timeout=60)
            assert reply.headers["Content-Type"] == "image/png"
            image = np.asarray(Image.open(io.BytesIO(reply.read())))
            assert image.shape == (resolution, resolution, 3) and np.ptp(image) > 0
        again = urllib.request.urlopen(f"{base}/faces.png?resolution=8&seed=5", timeout=60).read()
        other = urllib.request.urlopen(f"{base}/faces.png?resolution=8&seed=6", timeout=60).read()
        assert again != other  # the seed decides the face
        grid = np.asarray(Image.open(io.BytesIO(
            urllib.request.urlopen(f"{base}/faces.png?resolution=8&seed=5&n=4", timeout=60).read())))
        assert grid.shape == (2 * 9 + 1, 2 * 9 + 1, 3)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/faces.png?resolution=64&seed=5", timeout=60)
        assert refused.value.code == 400
    finally:
        server.shutdown()
        server.server_close()


def test_growth_notebook_shows_the_strip_and_the_phase_boundaries(run_dir):
    from notebook_runner import execute_notebook

    text, figures = execute_notebook("pggan_growth.ipynb", {"GANS_RUN_DIR": str(run_dir)})
    assert figures == 2
    assert "3 phases shown, top resolution 8x8 stable" in text and "seconds_per_1000_images" in text
