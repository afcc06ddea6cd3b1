"""The one train-on-batch loop (:class:`Trainer`), per-family step objects, callbacks, run config."""

from gans.training.callbacks import Callback, IntervalCallback
from gans.training.config import GANConfig, NetworkSpec, OptimizerSpec
from gans.training.run import RunSettings, prepare, train
from gans.training.steps import AdversarialStep, WGANStep, make_step
from gans.training.trainer import Trainer

__all__ = ["AdversarialStep", "WGANStep", "make_step", "Trainer", "Callback", "IntervalCallback", "GANConfig",
           "NetworkSpec", "OptimizerSpec", "RunSettings", "prepare", "train"]
