"""notebooks/inspect_run.ipynb opens a real run folder and shows its config, losses and grids."""

from gans.datasets.base import ImageDataset
from gans.training import RunSettings, train

from helpers import random_images, tiny_config
from notebook_runner import execute_notebook


def test_inspect_run_notebook_shows_config_losses_and_grids(tmp_path):
    run = tmp_path / "run"
    train(tiny_config(3), run, data=ImageDataset(random_images()), steps=6,
          settings=RunSettings(sample_every=2, checkpoint_every=3, progress=False))
    text, figures = execute_notebook("inspect_run.ipynb", {"GANS_RUN_DIR": str(run)})
    assert "derived from" in text and "lsgan" in text and "latent dimension" in text
    assert "last iteration 6" in text and "3 sample grids" in text
    assert "2 generator checkpoints, latest generator_step_000006.h5" in text
    assert figures == 3  # loss curves, grids over time, latest grid
