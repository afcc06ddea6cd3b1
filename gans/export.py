"""``gans export``: a generator as a model for an app, mapping a latent vector to an image in [0, 255].

The seed's Android app (seed 001) loaded its generator and let the user pick a resolution. An export
is the generator followed by :class:`gans.layers.ToPixels`, with every shape static: input ``z`` of
shape ``[1, latent]`` (one face per call, :data:`APP_BATCH`), output ``[1, R, R, C]`` float32 in
[0, 255], known before the model is first run, so an app sizes its buffers from the model. It is
written as

- ``tflite``: a LiteRT (TensorFlow Lite) flat buffer of builtin operators only (no Flex / TF Select
  kernels), which the LiteRT runtime a phone ships runs (``ai_edge_litert.interpreter.Interpreter``,
  ``org.tensorflow.lite.Interpreter`` on Android, ``tf.lite.Interpreter``);
- ``savedmodel``: a TensorFlow SavedModel folder (``keras.Model.export``), serving signature
  ``serve`` taking ``z``; it loads with ``tf.saved_model.load`` and needs nothing of this library;
- ``keras``: a ``.keras`` file that loads with ``keras.models.load_model(path, safe_mode=True)``
  *after* ``import gans``, which registers the generator's custom layers (pixel normalization,
  equalized convolutions, the fade-in, ``ToPixels``); without it Keras cannot rebuild them.

Beside each export, :func:`contract_path` names a small JSON *contract* (:func:`describe_export`):
resolution, latent size, input and output names, shapes and dtype, the pixel range, how to load it and
the run and step the generator came from, so an app reads how to call the model instead of guessing.
``gans demo`` calls its generators through the same contract.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from gans.errors import ConfigError

FORMATS = ("tflite", "savedmodel", "keras")
APP_BATCH = 1  # one face per call, as the app asks for them; every exported shape is static
PIXEL_RANGE = (0, 255)
SIGNATURE = "serve"  # the SavedModel's (and so the .tflite's) signature
INPUT_NAME = "z"
OUTPUT_LAYER = "to_pixels"
LOADING = {
    "tflite": "builtin operators only: LiteRT's Interpreter(model_path=FILE) (ai_edge_litert, or "
              "org.tensorflow.lite.Interpreter on Android), or tf.lite.Interpreter; no Flex delegate",
    "savedmodel": "tf.saved_model.load(FOLDER).signatures['serve'](z=...); no gans import needed",
    "keras": "import gans (registers its layers), then keras.models.load_model(FILE, safe_mode=True)",
}


def check_generator(model, source: str = "the model") -> tuple[int, tuple[int, int, int]]:
    """(latent size, image shape) of a generator, or a ConfigError: one input (batch, latent) and one
    output of images (batch, H, W, 1 or 3)."""
    inputs, outputs = model.inputs, model.outputs
    if len(inputs) > 1 and len(outputs) == 1:
        raise ConfigError(f"{source} is a conditional generator (inputs {', '.join(t.name for t in inputs)}); an app "
                          "export maps z alone to an image: export an unconditional run's generator.")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ConfigError(f"{source} is not a generator: it has {len(inputs)} inputs and {len(outputs)} outputs; "
                          "export a generator checkpoint (RUN/checkpoints/generator_*.h5).")
    z, image = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if len(z) != 2 or z[1] is None or len(image) != 4 or image[-1] not in (1, 3) or None in image[1:]:
        raise ConfigError(f"{source} is not a generator: it maps {z} to {image}, not a latent vector (batch, D) to "
                          "images (batch, H, W, 1 or 3); a discriminator or classifier cannot be exported for the app.")
    return int(z[1]), tuple(int(v) for v in image[1:])


def app_model(generator):
    """``generator`` followed by :class:`~gans.layers.ToPixels`: z ``(1, latent)`` -> image ``(1, H, W, C)``
    in [0, 255], every shape static (the batch is :data:`APP_BATCH`)."""
    import keras

    from gans.layers import ToPixels

    latent, _ = check_generator(generator)
    z = keras.Input(shape=(latent,), batch_size=APP_BATCH, name=INPUT_NAME)
    return keras.Model(z, ToPixels(name=OUTPUT_LAYER)(generator(z)), name=f"{generator.name}_app")


def contract_path(out: str | Path) -> Path:
    """The contract file beside an export: ``face16.tflite`` -> ``face16.tflite.json``."""
    out = Path(out)
    return out.with_name(out.name + ".json")


def check_export_path(out: str | Path, fmt: str, overwrite: bool = False) -> Path:
    """Where ``fmt`` may be written, checked before any model is loaded: the suffix (``.tflite``,
    ``.keras``), a file or a folder as the format writes, nothing replaced without ``overwrite``
    (nor the contract beside it), and a folder this process can write in (created if missing).

    Raises:
        ConfigError: naming the path and the fix.
    """
    from gans.io import check_writable_folder, refuse_existing

    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
    out = Path(out).expanduser()
    suffix = {"tflite": ".tflite", "keras": ".keras"}.get(fmt)
    if suffix and out.suffix.lower() != suffix:
        raise ConfigError(f"--out {out} must end in {suffix} for --format {fmt}.")
    if suffix and out.is_dir():
        raise ConfigError(f"--out {out} is a folder; --format {fmt} writes one file ending in {suffix}.")
    if not suffix and out.suffix.lower() in (".tflite", ".keras", ".h5", ".json"):
        raise ConfigError(f"--out {out}: --format savedmodel writes a folder, and a folder named {out.name} would "
                          "pass for a file of another format; give a folder name without that ending.")
    if not suffix and out.is_file():
        raise ConfigError(f"--out {out} is a file; --format savedmodel writes a folder. Pass a folder name.")
    refuse_existing((out, contract_path(out)), "--out", overwrite)
    check_writable_folder(out.parent, "--out")
    return out


def export_generator(generator, fmt: str, out: str | Path, source: dict | None = None) -> Path:
    """Write ``generator`` for an app as ``fmt`` (one of :data:`FORMATS`) to ``out``, and its contract
    (:func:`describe_export`) beside it; returns the path. Both are written atomically (a failed
    export leaves no partial file or folder).

    Args:
        generator: an unconditional generator (z -> images in [-1, 1]).
        fmt: "tflite", "savedmodel" or "keras".
        out: the .tflite / .keras file or the SavedModel folder.
        source: where the generator came from (:func:`gans.training.steps.checkpoint_origin`),
            recorded in the contract.
    """
    from gans.io import write_json

    out = check_export_path(out, fmt, overwrite=True)
    model = app_model(generator)
    if fmt == "keras":
        from gans.io import atomic_path

        with atomic_path(out) as tmp:
            model.save(tmp)
    elif fmt == "savedmodel":
        with _folder_swap(out) as tmp:
            _write_savedmodel(model, tmp)
    else:
        _write_tflite(model, out)
    write_json(contract_path(out), describe_export(out, fmt, model, source))
    return out


def _write_savedmodel(model, folder: Path) -> None:
    """``model`` as a SavedModel whose serving signature has the static input ``(1, latent)`` (Keras'
    own export leaves the batch dimension open, and with it every spatial shape a converter infers)."""
    import tensorflow as tf

    spec = tf.TensorSpec(tuple(model.inputs[0].shape), tf.float32, name=INPUT_NAME)
    tf_log = logging.getLogger("tensorflow")
    level = tf_log.level
    tf_log.setLevel(max(level, logging.WARNING))  # not its "Assets written to: <a temporary folder>"
    try:
        model.export(str(folder), format="tf_saved_model", verbose=False, input_signature=[spec])
    except tf.errors.OpError as exc:  # TensorFlow's own file errors (permission, space) are no OSError
        raise ConfigError(f"cannot write the SavedModel {folder}: {exc.message.splitlines()[0][:200]}") from exc
    finally:
        tf_log.setLevel(level)


def _write_tflite(model, out: Path) -> None:
    """Convert through a SavedModel (the converter then freezes the weights into constants; converting a
    function that reads Keras variables leaves READ_VARIABLE ops with nothing to read), with builtin
    operators only: a model that needed TensorFlow kernels fails here, not in the app."""
    import tempfile

    import tensorflow as tf

    from gans.io import atomic_path

    with tempfile.TemporaryDirectory() as folder:
        _write_savedmodel(model, Path(folder) / "model")
        converter = tf.lite.TFLiteConverter.from_saved_model(str(Path(folder) / "model"), signature_keys=[SIGNATURE])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        flat = converter.convert()
    with atomic_path(out) as tmp:
        Path(tmp).write_bytes(flat)


class _folder_swap:
    """A temporary folder beside ``out`` that becomes ``out`` when the block succeeds (an existing
    ``out`` is replaced only then) and is removed when it fails."""

    def __init__(self, out: Path):
        self.out = out
        self.tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")

    def __enter__(self) -> Path:
        shutil.rmtree(self.tmp, ignore_errors=True)
        return self.tmp

    def __exit__(self, kind, value, tb) -> None:
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
        if self.out.exists():
            os.replace(self.out, old)
        os.replace(self.tmp, self.out)
        shutil.rmtree(old, ignore_errors=True)


def model_io(path: str | Path, fmt: str, model=None) -> dict:
    """The input and output of an exported model as its file declares them, read without running it:
    ``{"input": {"name", "shape", "dtype"}, "output": {...}}`` (a .tflite adds each tensor's name and
    index; an open dimension is -1). ``model``: the in-memory model of a ``keras`` export."""
    import numpy as np

    if fmt == "tflite":
        interpreter = tflite_interpreter(path, allocate=False)
        found = {}
        for role, details in (("input", interpreter.get_input_details()), ("output", interpreter.get_output_details())):
            if len(details) != 1:
                raise ConfigError(f"{path} has {len(details)} {role}s; an app model has one.")
            d = details[0]
            found[role] = {"name": next(iter(interpreter.get_signature_list()[SIGNATURE][f"{role}s"])),
                           "tensor": d["name"], "index": int(d["index"]),
                           "shape": [int(v) for v in d["shape_signature"]], "dtype": np.dtype(d["dtype"]).name}
        return found
    if fmt == "savedmodel":
        import tensorflow as tf

        signature = tf.saved_model.load(str(path)).signatures[SIGNATURE]
        (name, spec), = signature.structured_input_signature[1].items()
        (out_name, out_spec), = signature.structured_outputs.items()
        return {"input": _spec(name, spec.shape, spec.dtype.name), "output": _spec(out_name, out_spec.shape,
                                                                                   out_spec.dtype.name)}
    if model is None:
        raise ConfigError("model_io of a .keras export needs the model (load it with keras.models.load_model).")
    return {"input": _spec(INPUT_NAME, model.inputs[0].shape, model.inputs[0].dtype),
            "output": _spec(OUTPUT_LAYER, model.outputs[0].shape, model.outputs[0].dtype)}


def _spec(name, shape, dtype) -> dict:
    return {"name": str(name), "shape": [-1 if v is None else int(v) for v in shape], "dtype": str(dtype)}


def describe_export(out: str | Path, fmt: str, model, source: dict | None = None) -> dict:
    """The app's contract of an export: what the file holds and how to call it (JSON-ready).

    The shapes are read back from the written file (:func:`model_io`) and must be static.

    Raises:
        RuntimeError: the written model has an open dimension (a bug of the export, not of the input).
    """
    import gans

    io = model_io(out, fmt, model)
    shapes = [io["input"]["shape"], io["output"]["shape"]]
    if any(v < 1 for shape in shapes for v in shape):
        raise RuntimeError(f"the exported {fmt} model has an open dimension ({shapes}); an app could not size its "
                           "buffers from it. This is a bug of gans export.")
    _, height, width, channels = io["output"]["shape"]
    return {
        "format": fmt,
        "file": Path(out).name,
        "load": LOADING[fmt],
        "resolution": height,
        "image_shape": [height, width, channels],
        "latent_dim": io["input"]["shape"][1],
        "batch": io["input"]["shape"][0],
        **({"signature": SIGNATURE} if fmt != "keras" else {}),
        "input": {**io["input"], "distribution": "standard normal: one row of latent_dim independent N(0, 1) "
                  "values per image"},
        "output": {**io["output"], "layout": "NHWC, " + ("RGB" if channels == 3 else "grey"),
                   "range": list(PIXEL_RANGE),
                   "to_uint8": "round and clip to 0-255 (the model already clips to the range)"},
        "source": source or {},
        "gans_version": gans.__version__,
    }


def memory_contract(model, source: dict | None = None) -> dict:
    """The contract of an app model in memory (``gans demo``'s generators), as a ``.keras`` export of it
    would state it, less the file."""
    return {**describe_export("", "keras", model, source), "format": "keras model in memory", "file": None,
            "load": None}


def tflite_interpreter(path: str | Path, allocate: bool = True):
    """A LiteRT interpreter of ``path`` (its tensors allocated, unless ``allocate`` is False: the
    declared shapes are readable before): ``ai_edge_litert``'s (the runtime a phone ships) when it is
    installed, else TensorFlow's ``tf.lite.Interpreter``."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import warnings

        import tensorflow as tf

        with warnings.catch_warnings():  # its deprecation notice, on every construction
            warnings.simplefilter("ignore")
            interpreter = tf.lite.Interpreter(model_path=str(path))
    else:
        interpreter = Interpreter(model_path=str(path))
    if allocate:
        interpreter.allocate_tensors()
    return interpreter


def run_tflite(path: str | Path, z):
    """Run an exported .tflite on latent vectors ``z`` (n, latent), one at a time as an app does;
    returns float32 images (n, H, W, C) in [0, 255]."""
    import numpy as np

    interpreter = tflite_interpreter(path)
    inp, outp = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    images = []
    for row in np.asarray(z, np.float32):
        interpreter.set_tensor(inp["index"], row[None])
        interpreter.invoke()
        images.append(interpreter.get_tensor(outp["index"])[0].copy())
    return np.stack(images)


def cmd_export(args) -> int:
    """``gans export CHECKPOINT|RUN_DIR [--resolution R] --format tflite|savedmodel|keras --out PATH``."""
    out = check_export_path(args.out, args.format, args.overwrite)  # before Keras and the model load

    from gans.models import load_generator
    from gans.training.steps import checkpoint_origin, run_generator

    source = Path(args.checkpoint).expanduser()
    if source.is_dir() or args.resolution is not None:
        source = run_generator(source, args.resolution)
    generator = load_generator(source)
    latent, shape = check_generator(generator, str(source))
    path = export_generator(generator, args.format, out, source=checkpoint_origin(source))
    print(f"{source} -> {path} ({args.format}: z of 1x{latent} -> 1x{shape[0]}x{shape[1]}x{shape[2]} image in "
          f"[0, 255]); contract {contract_path(path)}")
    return 0
