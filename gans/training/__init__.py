"""The one train-on-batch loop (:class:`Trainer`), the step contract and one step module per family,
the artefact callbacks, run assembly."""

from gans.callbacks import Callback, IntervalCallback
from gans.config import GANConfig, NetworkSpec, OptimizerSpec
from gans.training.run import RunSettings, prepare, train
from gans.training.steps import FAMILIES, AdversarialStep, ConditionalStep, Step, WGANStep, make_step
from gans.training.trainer import Trainer

__all__ = ["AdversarialStep", "ConditionalStep", "FAMILIES", "Step", "WGANStep", "make_step", "Trainer", "Callback",
           "IntervalCallback", "GANConfig", "NetworkSpec", "OptimizerSpec", "RunSettings", "prepare", "train"]
