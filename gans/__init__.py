"""gans: rebuild, rerun and compare the GAN experiments of the thesis and its four companion papers.

Importing the package registers every custom layer, constraint and loss with Keras, so a generator
saved by a run loads in a fresh process with ``keras.models.load_model`` once ``gans`` is imported.
"""

import os

# TensorFlow prints several lines of C++ start-up chatter (oneDNN, CUDA probing) on import. Quiet it
# unless the user asked for something else; this only takes effect if TensorFlow is not loaded yet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gans import layers, losses  # noqa: E402,F401  (import registers the serializable objects)

__version__ = "0.1.0"

__all__ = ["layers", "losses", "__version__"]
