"""The progressive GAN's app side (seed 001): ``gans export`` with static shapes at every resolution
(the .tflite run with the LiteRT interpreter, the SavedModel, the .keras file, each against Keras),
the contract beside each export, ``gans demo``'s page over HTTP and in headless Chromium, and a
finished run grown to a higher resolution."""

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest

import gans  # noqa: F401
from gans.callbacks import Callback
from gans.datasets.base import ImageDataset
from gans.training import RunSettings, train

from helpers import ONE_THREAD, child_env, gans_argv
from helpers import smooth_faces as faces, tiny_pggan as tiny_config  # the names this file has always used

SETTINGS = RunSettings(progress=False, tensorboard=False, sample_every=100, checkpoint_every=100)
LATENT = 8  # tiny_config's


def _data():
    return ImageDataset(faces(16, side=16), source="faces")  # 16x16: the run can grow to 16


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """4x4 stable (steps 1-2), 8x8 fade-in (3-4), 8x8 stable (5-6)."""
    folder = tmp_path_factory.mktemp("pggan_run")  # the step writes the per-phase generators itself
    train(tiny_config(target_resolution=8, batch_sizes=4, images_per_phase=8), folder, _data(), settings=SETTINGS)
    return folder


# ---------------------------------------------------------------------- exports: static shapes at every resolution
def _interpreter(path):
    """The LiteRT interpreter a phone's runtime matches (TensorFlow's where LiteRT is not installed),
    tensors not yet allocated: what the model declares before anything runs."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    return Interpreter(model_path=str(path))


@pytest.fixture(scope="module")
def random_generators():
    """Every stable and fade-in generator to 32x32 with random weights (4 filters), the fade-ins mixed
    at alpha 0.5."""
    from gans.models import pggan

    stages = pggan.grow_generator(latent_dim=LATENT, target_resolution=32, filters=4, equalized=True)
    for stage in stages.values():
        if stage.fade_layer is not None:
            stage.fade_layer.set_alpha(0.5)
    return stages


def check_tflite(generator, path, resolution):
    """The .tflite at ``path`` declares [1, latent] -> [1, R, R, 3] before any invoke, its contract says
    the same, and it runs (builtin operators only) as Keras does: within 1 of 255 at most, 0.05 on average."""
    from gans.export import app_model, contract_path, run_tflite

    interpreter = _interpreter(path)
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    assert list(inp["shape_signature"]) == [1, LATENT] and list(inp["shape"]) == [1, LATENT]
    assert list(out["shape_signature"]) == [1, resolution, resolution, 3]
    assert list(out["shape"]) == [1, resolution, resolution, 3]  # before any invoke
    contract = json.loads(contract_path(path).read_text())
    assert contract["output"]["shape"] == [1, resolution, resolution, 3] and contract["resolution"] == resolution
    assert contract["input"]["shape"] == [1, LATENT] and contract["output"]["range"] == [0, 255]
    assert contract["input"]["tensor"] == inp["name"] and contract["output"]["tensor"] == out["name"]
    z = np.random.default_rng(resolution).standard_normal((2, LATENT), dtype=np.float32)
    lite = run_tflite(path, z)
    expected = np.concatenate([app_model(generator)(row[None]).numpy() for row in z])
    assert lite.shape == (2, resolution, resolution, 3) and 0 <= lite.min() and lite.max() <= 255
    error = np.abs(lite - expected)
    assert error.max() < 1.0 and error.mean() < 0.05, (error.max(), error.mean())  # XNNPACK's float order only
    assert np.ptp(lite) > 1  # an image, not a constant
    return float(error.max()), float(error.mean())


@pytest.mark.parametrize("resolution,kind", [(4, "stable"), (8, "stable"), (16, "stable"), (32, "stable"),
                                             (16, "fade")])
def test_the_tflite_export_has_static_shapes_and_runs_as_keras(random_generators, tmp_path, resolution, kind):
    from gans.export import export_generator

    stage = random_generators[resolution]
    generator = stage.stable if kind == "stable" else stage.fade
    path = export_generator(generator, "tflite", tmp_path / f"face{resolution}.tflite")
    check_tflite(generator, path, resolution)


def check_savedmodel_and_keras(generator, folder: Path, resolution):
    """The SavedModel's serving signature and the .keras model have static shapes [1, latent] ->
    [1, R, R, 3] and compute what Keras does; the .keras file loads (safe mode) once gans is imported."""
    import keras
    import tensorflow as tf

    from gans.export import app_model, contract_path, export_generator

    z = np.random.default_rng(resolution).standard_normal((1, LATENT), dtype=np.float32)
    expected = app_model(generator)(z).numpy()
    saved = export_generator(generator, "savedmodel", folder / f"face{resolution}_savedmodel")
    loaded = tf.saved_model.load(str(saved))  # kept: its functions read its variables
    serve = loaded.signatures["serve"]
    assert serve.structured_input_signature[1]["z"].shape.as_list() == [1, LATENT]
    (out,) = serve.structured_outputs.values()
    assert out.shape.as_list() == [1, resolution, resolution, 3]
    (result,) = serve(z=tf.constant(z)).values()
    np.testing.assert_allclose(result.numpy(), expected, atol=1e-3)
    errors = [float(np.abs(result.numpy() - expected).max())]
    contract = json.loads(contract_path(saved).read_text())
    assert contract["output"]["shape"] == [1, resolution, resolution, 3] and contract["signature"] == "serve"
    path = export_generator(generator, "keras", folder / f"face{resolution}.keras")
    model = keras.models.load_model(path, safe_mode=True)
    assert tuple(model.inputs[0].shape) == (1, LATENT) and tuple(model.outputs[0].shape) == (1, resolution,
                                                                                           resolution, 3)
    np.testing.assert_allclose(model(z).numpy(), expected, atol=1e-3)
    assert json.loads(contract_path(path).read_text())["output"]["shape"] == [1, resolution, resolution, 3]
    return errors + [float(np.abs(model(z).numpy() - expected).max())]


@pytest.mark.parametrize("resolution", [8, 16, 32])  # 4 to 256 in the slow test below
def test_the_savedmodel_and_keras_exports_have_static_shapes_and_compute_as_keras(random_generators, tmp_path,
                                                                                  resolution):
    check_savedmodel_and_keras(random_generators[resolution].stable, tmp_path, resolution)


@pytest.mark.slow  # about 3 minutes on 2 cores: 13 generators in three formats
def test_every_generator_to_256_exports_with_static_shapes_in_every_format(tmp_path):
    from gans.export import export_generator
    from gans.models import pggan

    stages = pggan.grow_generator(latent_dim=LATENT, target_resolution=256, filters=4, equalized=True)
    assert sorted(stages) == [4, 8, 16, 32, 64, 128, 256]
    for resolution, stage in stages.items():
        for kind, generator in (("stable", stage.stable), ("fade", stage.fade)):
            if generator is None:
                continue
            if kind == "fade":
                stage.fade_layer.set_alpha(0.5)
            folder = tmp_path / f"{resolution}_{kind}"
            lite = check_tflite(generator, export_generator(generator, "tflite", folder / "face.tflite"), resolution)
            saved, keras_file = check_savedmodel_and_keras(generator, folder, resolution)
            print(f"{resolution}x{resolution} {kind}: |tflite - keras| max {lite[0]:.4f} mean {lite[1]:.5f}; "
                  f"savedmodel {saved:.1e}, .keras {keras_file:.1e} (of 255)")


@pytest.mark.slow  # a fresh process per load
def test_the_keras_export_needs_gans_imported_and_the_savedmodel_does_not(random_generators, tmp_path):
    from gans.export import export_generator

    export_generator(random_generators[8].stable, "keras", tmp_path / "g.keras")
    export_generator(random_generators[8].stable, "savedmodel", tmp_path / "sm")
    load = "import keras{}; keras.models.load_model(r'{}', safe_mode=True)"
    bare = subprocess.run([sys.executable, "-c", load.format("", tmp_path / "g.keras")], capture_output=True,
                          text=True, cwd=tmp_path, env={**os.environ, **ONE_THREAD, "PYTHONPATH": ""})
    assert bare.returncode != 0 and "PixelNormalization" in bare.stderr  # what docs/app.md says
    with_gans = subprocess.run([sys.executable, "-c", load.format(", gans", tmp_path / "g.keras")],
                               capture_output=True, text=True, env=child_env(ONE_THREAD))
    assert with_gans.returncode == 0, with_gans.stderr[-2000:]
    saved = subprocess.run([sys.executable, "-c", f"import tensorflow as tf, numpy as np; "
                            f"print(tf.saved_model.load(r'{tmp_path / 'sm'}').signatures['serve']"
                            "(z=np.zeros((1, 8), np.float32))['output_0'].shape)"],
                           capture_output=True, text=True, cwd=tmp_path, env={**os.environ, **ONE_THREAD,
                                                                             "PYTHONPATH": ""})
    assert saved.returncode == 0 and "(1, 8, 8, 3)" in saved.stdout, saved.stderr[-2000:]


# ---------------------------------------------------------------------- gans export
def test_export_command_writes_the_contract_with_the_run_and_step_it_came_from(run_dir, tmp_path, capsys):
    from gans.cli import main

    out = tmp_path / "face8.tflite"
    assert main(["export", str(run_dir), "--resolution", "8", "--format", "tflite", "--out", str(out)]) == 0
    contract = json.loads((tmp_path / "face8.tflite.json").read_text())
    assert contract["file"] == "face8.tflite" and contract["format"] == "tflite"
    assert (contract["resolution"], contract["latent_dim"], contract["batch"]) == (8, LATENT, 1)
    assert contract["input"]["name"] == "z" and contract["output"]["dtype"] == "float32"
    assert contract["source"]["run"] == str(Path(run_dir).resolve())
    assert contract["source"]["step"] == 6 and contract["source"]["phase"] == "8x8 stable"  # phases.csv's
    assert contract["source"]["checkpoint"].endswith("generator_8x8_stable.h5")
    assert "contract" in capsys.readouterr().out
    capsys.readouterr()
    assert main(["export", str(run_dir), "--resolution", "8", "--format", "tflite", "--out", str(out)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("fmt,name", [("tflite", "face.tflite"), ("savedmodel", "face_savedmodel"),
                                      ("keras", "face.keras")])
def test_bad_export_outputs_get_one_line_before_the_model_loads(run_dir, tmp_path, capsys, fmt, name):
    from gans.cli import main

    (tmp_path / "afile").write_text("a file where a folder belongs")
    cases = [
        (["--resolution", "16", "--out", str(tmp_path / name)], "has no generator at 16x16; it has 4x4, 8x8"),
        # /sys refuses new files to everyone, root included: a read-only place wherever the tests run
        (["--resolution", "8", "--out", f"/sys/gans-export-test/{name}"], "cannot write in /sys/gans-export-test"),
        (["--resolution", "8", "--out", str(tmp_path / "afile" / name)], "is a file, not a folder"),
    ]
    for extra, words in cases:
        capsys.readouterr()
        assert main(["export", str(run_dir), "--format", fmt, *extra]) == 2, extra
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("gans export: error:") and words in lines[0], lines
    assert not (tmp_path / name).exists() and not (tmp_path / f"{name}.json").exists()


# ---------------------------------------------------------------------- gans demo over HTTP
@pytest.fixture(scope="module")
def server(run_dir):
    from gans.demo import make_server

    server = make_server(run_dir, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _get(url):
    try:
        reply = urllib.request.urlopen(url, timeout=60)
        return reply.status, reply.headers["Content-Type"], reply.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers["Content-Type"], refused.read()


def test_demo_page_serves_faces_at_the_chosen_resolution(server):
    from PIL import Image

    status, _, page = _get(f"{server}/?resolution=4&seed=2")
    assert status == 200 and '<option value="8">' in page.decode() and "faces.png?resolution=4&amp;seed=2" in page.decode()
    for resolution in (4, 8):
        status, kind, body = _get(f"{server}/faces.png?resolution={resolution}&seed=5")
        assert status == 200 and kind == "image/png"
        image = np.asarray(Image.open(io.BytesIO(body)))
        assert image.shape == (resolution, resolution, 3) and np.ptp(image) > 0
    again, other = (_get(f"{server}/faces.png?resolution=8&seed={s}")[2] for s in (5, 6))
    assert again == _get(f"{server}/faces.png?resolution=8&seed=5")[2] and again != other  # the seed decides
    grid = np.asarray(Image.open(io.BytesIO(_get(f"{server}/faces.png?resolution=8&seed=5&n=4")[2])))
    assert grid.shape == (2 * 9 + 1, 2 * 9 + 1, 3)
    status, kind, body = _get(f"{server}/contract.json?resolution=8")
    contract = json.loads(body)
    assert status == 200 and contract["output"]["shape"] == [1, 8, 8, 3] and contract["source"]["step"] == 6


def test_demo_faces_are_the_exported_models_faces(run_dir, server, tmp_path):
    """The page makes each face as an app makes it from the export: z of the contract's shape from the
    seed, the .tflite's pixels rounded to uint8."""
    from PIL import Image

    from gans.export import export_generator, run_tflite
    from gans.models import load_generator
    from gans.training.progressive import phase_checkpoint

    path = export_generator(load_generator(phase_checkpoint(run_dir, 8)), "tflite", tmp_path / "face8.tflite")
    z = np.random.default_rng(11).standard_normal((1, LATENT)).astype(np.float32)
    app = np.clip(np.rint(run_tflite(path, z)[0]), 0, 255)
    page = np.asarray(Image.open(io.BytesIO(_get(f"{server}/faces.png?resolution=8&seed=11")[2])), np.float64)
    assert np.abs(page - app).max() <= 1  # a rounding step apart at most


@pytest.mark.parametrize("query,status,words", [
    ("faces.png?resolution=64&seed=5", 400, "resolution must be one of this run's 4, 8, got '64'."),
    ("faces.png?resolution=8&seed=abc", 400, "seed must be a whole number from 0 to 4294967295, got 'abc'."),
    ("faces.png?resolution=8&seed=99999999999", 400, "seed must be a whole number from 0 to 4294967295"),
    ("faces.png?resolution=8&n=65", 400, "n must be a whole number from 1 to 64, got '65'."),
    ("faces.png?resolution=8&n=0", 400, "n must be a whole number from 1 to 64, got '0'."),
    ("faces.png?resolution=-8", 400, "resolution must be one of this run's 4, 8, got '-8'."),
    ("?seed=" + "9" * 5000, 400, "the query is too long"),
    ("nothing", 404, "no page '/nothing'"),
])
def test_bad_requests_get_one_short_line(server, query, status, words):
    got, kind, body = _get(f"{server}/{query}")
    text = body.decode()
    assert got == status and kind.startswith("text/plain") and words in text, (got, text)
    assert text.count("\n") == 1 and len(text) < 200 and "Traceback" not in text and "int()" not in text


def test_a_request_makes_a_bounded_number_of_pixels():
    from gans.demo import BadRequest, parse_request

    resolutions = [4, 8, 16, 32, 64, 128, 256]
    assert parse_request({"resolution": ["256"], "n": ["4"]}, resolutions) == (256, 0, 4)
    assert parse_request({"resolution": ["64"], "n": ["64"]}, resolutions) == (64, 0, 64)
    for resolution, n, most in ((256, 5, 4), (128, 17, 16)):
        with pytest.raises(BadRequest, match=f"n must be at most {most} at {resolution}x{resolution}"):
            parse_request({"resolution": [str(resolution)], "n": [str(n)]}, resolutions)


def test_the_demo_refuses_a_port_out_of_range_or_taken_in_one_line(run_dir, capsys):
    from gans.cli import main

    for port, words in (("70000", "--port must be a whole number from 0 to 65535 (0 picks a free port)"),):
        capsys.readouterr()
        assert main(["demo", str(run_dir), "--port", port]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], lines
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        capsys.readouterr()
        assert main(["demo", str(run_dir), "--port", str(port)]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and f"port {port} on 127.0.0.1 is already in use" in lines[0], lines
        assert "--port 0 to pick a free one" in lines[0]


def test_the_demo_listens_on_this_machine_only_unless_told_and_warns_then(run_dir, server, capsys, monkeypatch):
    from http.server import ThreadingHTTPServer

    from gans.cli import main

    listening = []

    def stop(self, *args, **kwargs):  # instead of serving: note the address, then stop as Ctrl-C does
        listening.append(self.server_address[0])
        raise KeyboardInterrupt

    monkeypatch.setattr(ThreadingHTTPServer, "serve_forever", stop)
    for host, warned in ((None, False), ("0.0.0.0", True)):
        capsys.readouterr()
        with warnings.catch_warnings():  # shown whatever -W the tests run under, as a user's shell shows it
            warnings.simplefilter("always")
            assert main(["demo", str(run_dir), "--port", "0", *(["--host", host] if host else [])]) == 130
        err = capsys.readouterr().err
        assert ("gans: warning: --host 0.0.0.0 makes the demo reachable from other machines" in err) == warned, err
    assert listening == ["127.0.0.1", "0.0.0.0"]


# ---------------------------------------------------------------------- gans demo in a real browser
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _browser():
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def demo_process(run_dir, tmp_path_factory):
    """``gans demo RUN --port 0`` in its own process; yields the page's address it prints."""
    log = tmp_path_factory.mktemp("demo") / "stderr.txt"
    with open(log, "w") as stderr:
        process = subprocess.Popen(gans_argv("demo", run_dir, "--port", "0"), stdout=subprocess.PIPE,
                                   stderr=stderr, text=True, env=child_env(ONE_THREAD))
    try:
        line = process.stdout.readline()  # printed once it listens
        found = re.search(r"at (http://127\.0\.0\.1:(\d+)/)", line)
        assert found and int(found.group(2)) > 0, (line, log.read_text()[-2000:])
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _open_in_browser(url: str, screenshot: Path | None = None) -> str:
    """The page's DOM once its image has loaded, from headless Chromium (virtual time waits for the
    image's request); with ``screenshot``, a PNG of the page too."""
    argv = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--virtual-time-budget=60000", "--window-size=720,640", "--dump-dom"]
    if screenshot is not None:
        argv.append(f"--screenshot={screenshot}")
    done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _status(dom: str) -> dict:
    found = re.search(r'<p id="status"([^>]*)>', dom)
    assert found, dom[-2000:]
    return dict(re.findall(r'data-([a-z]+)="([^"]*)"', found.group(1)))


@pytest.mark.skipif(_browser() is None, reason="no Chromium on PATH (Debian: apt-get install chromium; .ci/run "
                                               "installs it where apt-get can)")
def test_the_page_in_headless_chromium_shows_the_chosen_resolution_and_seed(demo_process, tmp_path):
    from PIL import Image

    shot = tmp_path / "demo_page.png"
    first = _status(_open_in_browser(f"{demo_process}?resolution=8&seed=1", shot))
    assert "error" not in first and (first["width"], first["height"]) == ("8", "8"), first
    small = _status(_open_in_browser(f"{demo_process}?resolution=4&seed=1"))
    assert (small["width"], small["height"]) == ("4", "4")
    second = _status(_open_in_browser(f"{demo_process}?resolution=8&seed=2"))
    assert second["width"] == "8" and second["digest"] != first["digest"]  # another seed, another face
    picture = np.asarray(Image.open(shot).convert("RGB"))
    assert picture.shape[:2] == (640, 720) and len(np.unique(picture.reshape(-1, 3), axis=0)) > 20
    print(f"screenshot: {shot}")  # kept with pytest's temporary folders (the last three runs)


# ---------------------------------------------------------------------- growing a finished run
def test_a_finished_run_grows_to_a_higher_resolution(run_dir, tmp_path):
    from gans.config import GANConfig
    from gans.training.state import load_state
    from gans.training.steps import make_step

    grown = tmp_path / "grown"
    shutil.copytree(run_dir, grown)
    losses_before = (grown / "losses.csv").read_text().splitlines()
    assert len(losses_before) == 7  # header and steps 1-6
    config = tiny_config(target_resolution=16, batch_sizes=4, images_per_phase=8)

    # Restored only (steps at the saved one): every saved value sits in the layer it came from.
    restored = train(config, grown, _data(), steps=6, settings=SETTINGS, resume=True).step_obj
    saved = make_step(GANConfig.from_dict(json.loads((grown / "config.json").read_text())))
    load_state(grown / "state" / "state.npz", saved)
    for name in ("generator", "discriminator", "grown_generator", "grown_discriminator"):
        old = {v.path: v.numpy() for v in saved.models[name].variables}
        new = {v.path: v.numpy() for v in restored.models[name].variables}
        assert old and set(old) <= set(new), name
        for path, value in old.items():
            np.testing.assert_array_equal(new[path], value, err_msg=f"{name} {path}")
    assert any("16x16" in v.path for v in restored.models["grown_generator"].variables)

    class NewLayersAtStart(Callback):  # the 16x16 layers as the grown run starts training them
        def on_train_begin(self, trainer):
            self.values = {v.path: v.numpy() for v in trainer.step_obj.models["grown_generator"].variables
                           if "16x16" in v.path}

    start = NewLayersAtStart()
    trainer = train(config, grown, _data(), settings=SETTINGS, resume=True, extra_callbacks=[start])  # its own length
    fresh = start.values
    assert trainer.step == config.steps == 10
    losses = (grown / "losses.csv").read_text().splitlines()
    assert losses[:7] == losses_before  # the 8x8 phases' losses, unchanged
    assert len(losses) == 11 and all(np.isfinite(float(v)) for row in losses[7:] for v in row.split(",")[1:])
    trained = {v.path: v.numpy() for v in trainer.step_obj.models["grown_generator"].variables if v.path in fresh}
    moved = [p for p in fresh if "kernel" in p and not np.array_equal(trained[p], fresh[p])]
    assert moved and len(moved) == sum("kernel" in p for p in fresh)  # every new kernel trained
    phases = (grown / "phases.csv").read_text()
    assert ",16,fade,7,8," in phases and ",16,stable,9,10," in phases and ",8,stable,5,6," in phases
    record = json.loads((grown / "config.json").read_text())
    assert record["run"]["growth"] == [{"from": 8, "to": 16, "at_step": 6}]
    assert record["networks"]["generator"]["options"]["target_resolution"] == 16 and record["steps"] == 10
    from gans.cli import main

    assert main(["sample", str(grown), "--resolution", "16", "--n", "4", "--out", str(tmp_path / "g16.png")]) == 0
    assert (grown / "checkpoints" / "generator_16x16_stable.h5").is_file()


def test_a_run_is_not_grown_unasked_nor_shrunk(run_dir, tmp_path):
    from gans.errors import ConfigError
    from gans.experiments.pggan import default_target

    assert default_target(run_dir, resume=True) == 8  # a resume without --target-resolution keeps the run's
    assert default_target(run_dir, resume=False) == 32 and default_target(None, resume=True) == 32
    before = {p.name: p.read_bytes() for p in Path(run_dir).rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="cannot resume with --target-resolution 4: this run trains to 8x8, and a "
                                          "run can only grow"):
        train(tiny_config(target_resolution=4, batch_sizes=4, images_per_phase=8), run_dir, _data(), settings=SETTINGS,
              resume=True)
    assert {p.name: p.read_bytes() for p in Path(run_dir).rglob("*") if p.is_file()} == before


def test_growing_keeps_everything_else_of_the_run(run_dir):
    from gans.errors import ConfigError

    for changes, words in (({"images_per_phase": 4}, "images_per_phase was 8, now 4"),
                           ({"batch_sizes": [4, 8, 4]}, "step_options.batch_sizes.8 was 4, now 8"),
                           ({"filters": [8, 4, 4]}, "filters was 8, now [8, 4, 4]")):
        options = {"target_resolution": 16, "batch_sizes": 4, "images_per_phase": 8, **changes}
        with pytest.raises(ConfigError, match=re.escape(words)):
            train(tiny_config(**options), run_dir, _data(), settings=SETTINGS, resume=True)


def test_growth_notebook_shows_the_strip_and_the_phase_boundaries(run_dir):
    from notebook_runner import execute_notebook

    text, figures = execute_notebook("pggan_growth.ipynb", {"GANS_RUN_DIR": str(run_dir)})
    assert figures == 2
    assert "3 phases shown, top resolution 8x8 stable" in text and "seconds_per_1000_images" in text


@pytest.mark.slow  # three trainings and a sample, in-process through the command line
def test_gans_train_pggan_resume_grows_a_run_from_8_to_16(tmp_path, capsys):
    from PIL import Image

    from gans.cli import main
    from gans.datasets.npz import save_images

    data = save_images(tmp_path / "faces16.npz", faces(16, side=16))
    run = tmp_path / "run"
    base = ["train", "pggan", "--data", data, "--images-per-phase", 4, "--latent-dim", 4, "--no-tensorboard",
            "--no-progress", "--out", run]
    assert main([str(a) for a in (*base, "--batch-sizes", 4, 4, "--filters", 4, 4, "--target-resolution", 8)]) == 0
    losses = (run / "losses.csv").read_text().splitlines()
    grow = [str(a) for a in (*base, "--batch-sizes", 4, 4, 4, "--filters", 4, 4, 4, "--resume")]
    capsys.readouterr()
    assert main([*grow, "--target-resolution", "4"]) == 2
    assert "a run can only grow" in capsys.readouterr().err
    assert main([*grow, "--target-resolution", "16"]) == 0
    assert (run / "losses.csv").read_text().splitlines()[:len(losses)] == losses
    assert len((run / "losses.csv").read_text().splitlines()) == len(losses) + 2  # 16x16 fade-in and stable
    assert main([*grow]) == 0  # again without --target-resolution: the run's own 16, nothing to do
    assert json.loads((run / "config.json").read_text())["run"]["growth"] == [{"from": 8, "to": 16, "at_step": 3}]
    assert main(["sample", str(run), "--resolution", "16", "--n", "1", "--out", str(tmp_path / "one.png")]) == 0
    assert Image.open(tmp_path / "one.png").size[0] >= 16


def test_a_grown_run_restores_into_the_same_layers_in_the_same_order():
    """The saved state holds each network's variables by position: restored into the grown run, every
    position must name the same layer as in the run that saved it (the moving average's too)."""
    from gans.training.steps import make_step

    options = {"batch_sizes": 4, "images_per_phase": 8, "filters": 4, "ema": 0.9}
    configs = [tiny_config(target_resolution=r, **options) for r in (8, 16)]
    old, new = (make_step(c) for c in configs)
    assert new.continue_run(*(c.to_dict() for c in configs), 6)[1] == {"from": 8, "to": 16, "at_step": 6}
    state = {"phase": 2, "alpha": 1.0, "images_shown": 24}  # 8x8 stable, the saved run's last phase
    old.set_extra_state(state)
    new.set_extra_state(state)
    assert sorted(new.restored_models) == sorted(old.models) and "ema_generator" in old.models
    for name, model in old.models.items():
        was = [(v.path, tuple(v.shape)) for v in model.variables]
        assert was and [(v.path, tuple(v.shape)) for v in new.restored_models[name].variables] == was, name
    assert len(new.models["grown_generator"].variables) > len(old.models["grown_generator"].variables)
