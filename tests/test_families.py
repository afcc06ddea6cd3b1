"""The family registry: a sixth family, registered from outside the library in a few lines, trains,
samples and resumes through ``gans train`` with no change to the library."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from gans import families
from gans.cli import main
from gans.config import GANConfig, NetworkSpec, OptimizerSpec
from gans.errors import ConfigError
from gans.families import Family, Option


def toy_base() -> GANConfig:
    """A tiny fully connected GAN under the toy family's own name."""
    return GANConfig(variant="toy", dataset="mnist", steps=4, latent_dim=8, batch_size=8, loss="mse",
                     optimizer=OptimizerSpec("adam", 1e-3, 0.5), discriminator_loss="mse",
                     discriminator_optimizer=OptimizerSpec("adam", 1e-3, 0.5),
                     networks={"generator": NetworkSpec("gan", {"units": (16,)}),
                               "discriminator": NetworkSpec("gan", {"units": (16,), "output_activation": "linear"})},
                     image_shape=(28, 28, 1), interval=2)


def toy_configure(args, base):
    return base if args.toy_smoothing is None else base.replace(label_smoothing=args.toy_smoothing)


@pytest.fixture
def toy_family():
    """The sixth family: its step, its base configuration and one option of its own, registered."""
    from gans.training.steps.adversarial import AdversarialStep

    class ToyStep(AdversarialStep):
        """The adversarial iteration, under a family of its own."""

    family = families.register(Family(
        "toy", ToyStep, base=toy_base, configure=toy_configure, options_title="toy family",
        options=(Option(("--toy-smoothing",), "one-sided label smoothing of the toy", kind="weight"),)))
    yield family
    families.unregister("toy")


@pytest.fixture
def digits(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "digits.npz"
    np.savez(path, images=rng.integers(0, 256, (32, 28, 28, 1), dtype=np.uint8))
    return path


def test_a_registered_family_trains_samples_and_resumes_through_gans_train(toy_family, digits, tmp_path, capsys):
    run = tmp_path / "toy-run"
    common = ["train", "toy", "--data", str(digits), "--out", str(run), "--no-progress", "--no-tensorboard",
              "--toy-smoothing", "0.1"]
    assert main([*common, "--steps", "2"]) == 0
    config = GANConfig.from_dict(__import__("json").loads((run / "config.json").read_text()))
    assert config.variant == "toy" and config.label_smoothing == 0.1  # its option reached its configuration
    assert main([*common, "--steps", "4", "--resume"]) == 0
    with open(run / "losses.csv", newline="") as f:
        steps = [int(r["step"]) for r in csv.DictReader(f)]
    assert steps == [1, 2, 3, 4]  # resumed at 3, nothing repeated or skipped
    assert "run folder" in capsys.readouterr().out
    grid = tmp_path / "grid.png"
    assert main(["sample", str(run), "--n", "4", "--out", str(grid)]) == 0  # the run folder names its generator
    assert grid.stat().st_size > 0


def test_a_familys_option_is_refused_with_another_family(toy_family, digits, capsys):
    assert main(["train", "dcgan", "--data", str(digits), "--toy-smoothing", "0.1", "--steps", "1"]) == 2
    assert "--toy-smoothing goes with 'gans train toy' only" in capsys.readouterr().err


def test_the_registry_refuses_a_second_family_of_the_same_name(toy_family):
    with pytest.raises(ConfigError, match="registered already"):
        families.register(Family("toy", object))
    with pytest.raises(ConfigError, match="unknown variant 'no-such'"):
        families.get("no-such")
