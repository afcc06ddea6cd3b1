"""Model builders, one module per variant.

Every module exposes ``build_generator(...)`` and ``build_discriminator(...)`` with explicit keyword
arguments, returning named functional ``keras.Model`` objects:

- :mod:`gans.models.gan`: the fully connected GAN of Goodfellow et al. (thesis experiments 1, 11);
- :mod:`gans.models.dcgan`: the convolutional DCGAN of Radford et al. (experiments 2, 5, 6, 12, 15-18);
- :mod:`gans.models.lsgan`: least-squares GAN, fully connected with a linear output (3, 7-9, 13, 19, 20);
- :mod:`gans.models.wgan`: convolutional WGAN with a clipped linear critic (4, 10, 14).
"""

from __future__ import annotations

import importlib

import keras

from gans.errors import ConfigError

VARIANTS = ("gan", "dcgan", "lsgan", "wgan")


def get_variant(name: str):
    """The builder module for a variant name ('gan', 'dcgan', 'lsgan', 'wgan')."""
    key = str(name).lower()
    if key not in VARIANTS:
        raise ConfigError(f"unknown variant {name!r}; expected one of {list(VARIANTS)}.")
    return importlib.import_module(f"gans.models.{key}")


def build_combined(generator: keras.Model, discriminator: keras.Model, name: str = "gan") -> keras.Model:
    """z -> G -> D: the model through which the generator is trained (thesis Figure 4.6).

    Freezing D inside it is the training step's job (see :func:`gans.training.freeze.set_trainable`).
    """
    z = keras.Input(shape=generator.input_shape[1:], name="z")
    return keras.Model(z, discriminator(generator(z)), name=name)


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


def load_generator(path) -> keras.Model:
    """Load a generator saved by a run (``checkpoints/generator_step_N.h5``), with safe mode on.

    Raises:
        DataNotFoundError: the file does not exist.
        DataError: it is not a Keras model file.
    """
    from pathlib import Path

    from gans.errors import DataError, DataNotFoundError

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(f"generator checkpoint {path} does not exist; runs write them to "
                                "RUN/checkpoints/generator_step_N.h5.")
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise DataError(f"cannot load {path} as a Keras model: {str(exc).splitlines()[0][:200]}") from exc
