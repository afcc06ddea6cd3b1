"""``gans export``: a generator as a model for an app, mapping a latent vector to an image in [0, 255].

The seed's Android app (seed 001) loaded its generator and let the user pick a resolution. An export
is the generator followed by :class:`gans.layers.ToPixels`, written as

- ``tflite``: a TensorFlow Lite flat buffer (``tf.lite.TFLiteConverter``), float32 in and out, which
  LiteRT or ``tf.lite.Interpreter`` runs on a phone;
- ``savedmodel``: a TensorFlow SavedModel folder (``keras.Model.export``), serving signature
  ``serve`` taking ``z``;
- ``keras``: a ``.keras`` file that loads with ``keras.models.load_model`` (safe mode) after
  ``import gans``.
"""

from __future__ import annotations

from pathlib import Path

from gans.errors import ConfigError

FORMATS = ("tflite", "savedmodel", "keras")


def check_generator(model, source: str = "the model") -> tuple[int, tuple[int, int, int]]:
    """(latent size, image shape) of a generator, or a ConfigError: one input (batch, latent) and one
    output of images (batch, H, W, 1 or 3)."""
    inputs, outputs = model.inputs, model.outputs
    if len(inputs) != 1 or len(outputs) != 1:
        raise ConfigError(f"{source} is not an unconditional generator: it has {len(inputs)} inputs and "
                          f"{len(outputs)} outputs; export a generator checkpoint (RUN/checkpoints/generator_*.h5).")
    z, image = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if len(z) != 2 or z[1] is None or len(image) != 4 or image[-1] not in (1, 3) or None in image[1:]:
        raise ConfigError(f"{source} is not a generator: it maps {z} to {image}, not a latent vector (batch, D) to "
                          "images (batch, H, W, 1 or 3); a discriminator or classifier cannot be exported for the app.")
    return int(z[1]), tuple(int(v) for v in image[1:])


def app_model(generator):
    """``generator`` followed by :class:`~gans.layers.ToPixels`: z -> image in [0, 255]."""
    import keras

    from gans.layers import ToPixels

    latent, _ = check_generator(generator)
    z = keras.Input(shape=(latent,), name="z")
    return keras.Model(z, ToPixels(name="to_pixels")(generator(z)), name=f"{generator.name}_app")


def export_generator(generator, fmt: str, out: str | Path) -> Path:
    """Write ``generator`` for an app as ``fmt`` (one of :data:`FORMATS`) to ``out``; returns the path."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
    out = Path(out).expanduser()
    model = app_model(generator)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "keras":
        if out.suffix != ".keras":
            raise ConfigError(f"--out {out} must end in .keras for --format keras.")
        model.save(out)
        return out
    if fmt == "savedmodel":
        model.export(str(out), format="tf_saved_model", verbose=False)
        return out
    import tempfile

    import tensorflow as tf

    from gans.io import atomic_path

    # Through a SavedModel: the converter then freezes the weights into constants (converting a
    # function that reads Keras variables leaves READ_VARIABLE ops with nothing to read).
    with tempfile.TemporaryDirectory() as folder:
        model.export(folder, format="tf_saved_model", verbose=False)
        flat = tf.lite.TFLiteConverter.from_saved_model(folder).convert()
    with atomic_path(out) as tmp:
        Path(tmp).write_bytes(flat)
    return out


def run_tflite(path: str | Path, z):
    """Run an exported .tflite on latent vectors ``z`` (n, latent), one at a time as an app does;
    returns float32 images (n, H, W, C) in [0, 255]."""
    import numpy as np
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    inp, outp = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    images = []
    for row in np.asarray(z, np.float32):
        interpreter.set_tensor(inp["index"], row[None])
        interpreter.invoke()
        images.append(interpreter.get_tensor(outp["index"])[0])
    return np.stack(images)


def cmd_export(args) -> int:
    """``gans export CHECKPOINT|RUN_DIR [--resolution R] --format tflite|savedmodel|keras --out PATH``."""
    from gans.models import load_generator

    source = Path(args.checkpoint)
    if source.is_dir() or args.resolution is not None:
        from gans.training.steps import run_generator

        source = run_generator(source, args.resolution)
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise ConfigError(f"--out {out} already exists; pass --overwrite to replace it.")
    generator = load_generator(source)
    check_generator(generator, str(source))
    path = export_generator(generator, args.format, out)
    _, shape = check_generator(generator)
    print(f"{source} -> {path} ({args.format}: z of {generator.inputs[0].shape[-1]} -> {shape[0]}x{shape[1]}x"
          f"{shape[2]} image in [0, 255])")
    return 0
