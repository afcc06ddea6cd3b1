"""Model builders, one module per variant.

Every module exposes ``build_generator(...)`` and ``build_discriminator(...)`` with explicit keyword
arguments, returning named functional ``keras.Model`` objects:

- :mod:`gans.models.gan`: the fully connected GAN of Goodfellow et al. (thesis experiments 1, 11);
- :mod:`gans.models.dcgan`: the convolutional DCGAN of Radford et al. (experiments 2, 5, 6, 12, 15-18);
- :mod:`gans.models.lsgan`: least-squares GAN, fully connected with a linear output (3, 7-9, 13, 19, 20);
- :mod:`gans.models.wgan`: convolutional WGAN with a clipped linear critic (4, 10, 14);
- :mod:`gans.models.cgan`: the class-conditional GAN (CCGAN) and the capacity/depth DCGAN of the
  MNIST paper;
- :mod:`gans.models.mnist_dcgan`: the MNIST paper's unconditional DCGAN (the CCGAN's networks without
  the label), with the same F and D;
- :mod:`gans.models.attribute`: the CelebA attribute classifier, equation 1's attribute noise and
  the attribute-biased GAN of the CelebA attributes paper;
- :mod:`gans.models.pggan`: the progressive growing GAN of the CelebA-HQ paper (4x4 up to 256x256,
  with fade-in), whose builders return every resolution's stable and fade-in networks;
- :mod:`gans.models.caae`: the conditional adversarial autoencoder of the UTKFace paper (encoder,
  generator, discriminator_z, discriminator_img).

This package imports Keras only inside its functions and builder modules, so the variant names can
be read without loading TensorFlow.
"""

from __future__ import annotations

import importlib
import re
import weakref
from typing import TYPE_CHECKING

from gans.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import keras

def builder_modules() -> tuple[str, ...]:
    """The builder modules of this package: every module with a ``build_<role>`` function, named as a
    :class:`~gans.config.NetworkSpec` names its builder ("gan", "dcgan", "cgan", ...). A new family's
    builders are a new module here; nothing lists them."""
    import pkgutil
    from pathlib import Path

    found = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        text = (Path(__file__).parent / f"{info.name}.py").read_text(encoding="utf-8") if not info.ispkg else ""
        if not info.name.startswith("_") and re.search(r"^(def build_\w+|build_\w+\s*=|from \S+ import .*\bas build_\w+)", text, re.M):
            found.append(info.name)
    return tuple(sorted(found))


def get_variant(name: str):
    """The builder module of a name (one of :func:`builder_modules`)."""
    key = str(name).lower()
    known = builder_modules()
    if key not in known:
        raise ConfigError(f"unknown builders {name!r}; expected one of {list(known)}.")
    return importlib.import_module(f"gans.models.{key}")


def get_builder(variant: str, role: str):
    """``build_<role>`` of a variant's module, e.g. ``get_builder("cgan", "discriminator")``."""
    module = get_variant(variant)
    builder = getattr(module, f"build_{role}", None)
    if builder is None:
        roles = sorted(n[len("build_"):] for n in dir(module) if n.startswith("build_"))
        raise ConfigError(f"the {variant} builders have no {role!r} network; they build {roles}.")
    return builder


def build_combined(generator: "keras.Model", discriminator: "keras.Model", name: str = "gan") -> "keras.Model":
    """inputs -> G -> D: the model through which the generator is trained (thesis Figure 4.6).

    The combined model takes the generator's inputs. Its first input is the noise z; any further ones
    (a class label) condition both networks: a discriminator with more than one input receives the
    generated image followed by those same inputs, as a conditional GAN's does (Mirza and Osindero
    2014). With one input this is exactly the thesis's z -> G -> D.

    Freezing D inside it is the training step's job (see :func:`gans.training.freeze.set_trainable`).
    """
    import keras

    inputs = [keras.Input(shape=t.shape[1:], dtype=t.dtype, name=t.name) for t in generator.inputs]
    if len(discriminator.inputs) not in (1, len(inputs)):
        raise ConfigError(
            f"the discriminator takes {len(discriminator.inputs)} inputs and the generator {len(inputs)}: a "
            "conditional discriminator takes the image plus the generator's conditioning inputs."
        )
    image = generator(inputs[0] if len(inputs) == 1 else inputs)
    score = discriminator(image if len(discriminator.inputs) == 1 else [image, *inputs[1:]])
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, score, name=name)


def specialize(builder, name: str, doc: str, **defaults):
    """A builder with other defaults: the same keyword arguments, documented and introspectable.

    The thesis's LSGAN and WGAN differ from its GAN and DCGAN only in defaults (output activation,
    kernel size, clipping), so their modules specialize the shared builders instead of copying them.
    ``inspect.signature`` and ``help()`` show the new defaults.
    """
    import functools
    import inspect

    signature = inspect.signature(builder)
    unknown = set(defaults) - set(signature.parameters)
    if unknown:  # a typo here would silently build the wrong network
        raise TypeError(f"{builder.__name__} has no parameters {sorted(unknown)}")
    signature = signature.replace(parameters=[
        p.replace(default=defaults[p.name]) if p.name in defaults else p for p in signature.parameters.values()
    ])

    @functools.wraps(builder)
    def specialized(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return builder(**bound.arguments)

    specialized.__signature__ = signature
    specialized.__name__ = specialized.__qualname__ = name
    specialized.__doc__ = doc
    return specialized


def load_generator(path) -> "keras.Model":
    """Load a generator saved by a run (``checkpoints/generator_step_N.h5``), with safe mode on.

    Raises:
        DataNotFoundError: the file does not exist.
        DataError: it is not a Keras model file.
    """
    return load_model_file(path, "generator checkpoint", "runs write them to RUN/checkpoints/generator_step_N.h5.")


def load_model_file(path, what: str, fix: str) -> "keras.Model":
    """Any model file the library writes (.h5 or .keras), loaded uncompiled with safe mode on.

    Args:
        path: the file.
        what: what it should be, for messages ("age classifier").
        fix: where such a file comes from, for the missing-file message.

    Raises:
        DataNotFoundError: the file does not exist (the message names ``what`` and ``fix``).
        DataError: it is not a Keras model file.
    """
    from pathlib import Path

    import keras

    from gans.errors import DataError, DataNotFoundError

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"{what} {path} does not exist; {fix}")
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise DataError(f"cannot load {path} as a Keras model: {str(exc).splitlines()[0][:200]}") from exc


_INFERENCE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def inference_function(model):
    """``model(x, training=False)`` as a compiled function, one per model (traced per input shape).

    ``predict`` rebuilds a data adapter on every call and ``predict_on_batch`` adds its own
    bookkeeping; both cost more than the call itself at GAN batch sizes.
    """
    fn = _INFERENCE.get(model)
    if fn is None:
        import tensorflow as tf

        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        _INFERENCE[model] = fn
    return fn
