"""gans: rebuild, rerun and compare the GAN experiments of the thesis and its four companion papers.

Importing the package makes every custom layer, constraint and loss known to Keras, so a generator
saved by a run loads in a fresh process with ``keras.models.load_model`` once ``gans`` is imported.

Importing it does not load Keras, though: ``gans --help`` and the command line's argument errors
answer in a fraction of a second instead of the ten it takes TensorFlow to start. When Keras is
already loaded the custom objects are registered at once; otherwise :func:`_register_after_keras`
registers them the moment Keras finishes loading, whoever imports it (``import gans; import keras``
works as ``import keras; import gans`` does).
"""

import importlib
import os
import sys

# TensorFlow prints several lines of C++ start-up chatter (oneDNN, CUDA probing) on import. Quiet it
# unless the user asked for something else; this only takes effect if TensorFlow is not loaded yet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

__all__ = ["layers", "losses", "__version__"]

_REGISTERING = ("gans.layers", "gans.losses")  # importing these registers the serializable objects


def _register() -> None:
    for name in _REGISTERING:
        importlib.import_module(name)


class _AfterKeras:
    """A one-shot import hook: lets Keras load as usual, then registers the package's objects.

    It sits first on ``sys.meta_path`` until Keras is imported, hands the import to the finders after
    it, and wraps the loader so that :func:`_register` runs right after Keras' module has executed.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        _remove_hook()
        import importlib.util

        spec = importlib.util.find_spec("keras")
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisteringLoader(spec.loader)
        return spec


class _RegisteringLoader:
    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):  # everything else (resources, get_code, ...) as the real loader
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _register()


def _remove_hook() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _AfterKeras)]


def _register_after_keras() -> None:
    if "keras" in sys.modules:
        _register()
    elif not any(isinstance(f, _AfterKeras) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterKeras())


def __getattr__(name):  # ``gans.layers`` and ``gans.losses`` without importing them up front
    if name in ("layers", "losses"):
        return importlib.import_module(f"gans.{name}")
    raise AttributeError(f"module 'gans' has no attribute {name!r}")


_register_after_keras()
