"""``--keep-checkpoints N`` (and ``--keep-every K``): a run keeps the .h5 checkpoints of its last N
checkpoint steps and every K-th, never the ones its saved state is at, and resumes after pruning.

The pruning is one step of the generic training path (:class:`gans.training.callbacks.StateCheckpoint`,
after the state is written), so every family gets it; a progressive run's phase checkpoints are
never touched (tests/training/test_pggan.py grows a run from them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gans.cli import main
from gans.errors import ConfigError
from gans.training import RunSettings, train
from gans.training.callbacks import prune_checkpoints
from gans.training.state import read_meta

from helpers import Stop, StopAt, labelled_faces, labelled_images, log_steps, tiny_caae, tiny_config


def checkpoint_steps(run: Path, role: str = "generator") -> list[int]:
    return sorted(int(p.stem.rsplit("_", 1)[1]) for p in (run / "checkpoints").glob(f"{role}_step_*.h5"))


def test_pruning_keeps_the_last_n_the_milestones_and_the_protected_step_and_nothing_else(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for step in range(1, 11):
        for role in ("generator", "encoder"):
            (folder / f"{role}_step_{step:06d}.h5").write_bytes(b"h5")
    others = ["generator_8x8_stable.h5", "raw_generator_8x8_faded.h5", "notes.txt"]
    for name in others:
        (folder / name).write_bytes(b"keep")
    removed = prune_checkpoints(folder, keep_last=2, milestone=4, protect=3)
    kept = [3, 4, 8, 9, 10]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        others + [f"{role}_step_{s:06d}.h5" for s in kept for role in ("generator", "encoder")])
    assert len(removed) == 2 * (10 - len(kept))
    assert prune_checkpoints(folder, keep_last=2, milestone=4, protect=3) == []  # nothing more to do
    with pytest.raises(ValueError):
        prune_checkpoints(folder, keep_last=0)


def test_a_run_keeps_exactly_what_it_promises_and_records_it(tmp_path):
    settings = RunSettings(checkpoint_every=2, sample_every=100, tensorboard=False, keep_checkpoints=2, keep_every=3, progress=False)
    run = tmp_path / "run"
    train(tiny_config(3), run, data=labelled_images(32), steps=13, settings=settings)
    # checkpoints at 2, 4, ..., 12 and the last step 13; milestones: multiples of 3 x 2 = 6
    assert checkpoint_steps(run) == [6, 12, 13]
    assert read_meta(run / "state" / "state.npz")["step"] == 13
    record = json.loads((run / "config.json").read_text())["run"]
    assert (record["keep_checkpoints"], record["keep_every"]) == (2, 3)


def test_the_states_checkpoint_survives_a_stop_and_the_run_resumes_after_pruning(tmp_path):
    """Stopped after step 8's checkpoint is written and before its state is: the state is at 6, and
    step 6's checkpoint is still there (pruning comes after the state). The resume continues from 6,
    whatever the number kept, and the default keeps every checkpoint."""
    run = tmp_path / "run"
    settings = RunSettings(checkpoint_every=2, sample_every=100, tensorboard=False, keep_checkpoints=1, progress=False)
    with pytest.raises(Stop):
        train(tiny_config(3), run, data=labelled_images(32), steps=12, settings=settings, extra_callbacks=[StopAt(8)])
    saved = read_meta(run / "state" / "state.npz")["step"]
    assert saved == 6 and saved in checkpoint_steps(run) and checkpoint_steps(run) == [6, 8]
    trainer = train(tiny_config(3), run, data=labelled_images(32), steps=12, resume=True,
                    settings=RunSettings(checkpoint_every=2, sample_every=100, tensorboard=False, keep_checkpoints=2, progress=False))
    assert trainer.step == 12 and log_steps(run / "losses.csv") == list(range(1, 13))
    assert checkpoint_steps(run) == [10, 12]
    assert json.loads((run / "config.json").read_text())["run"]["resumed"] is True
    # more steps without --keep-checkpoints: nothing is removed any more
    train(tiny_config(3), run, data=labelled_images(32), steps=16, resume=True,
          settings=RunSettings(checkpoint_every=2, sample_every=100, tensorboard=False, progress=False))
    assert checkpoint_steps(run) == [10, 12, 14, 16]


def test_keep_every_without_keep_checkpoints_is_one_line(capsys):
    with pytest.raises(ConfigError, match="give --keep-checkpoints too"):
        RunSettings(keep_every=5)
    assert main(["train", "lsgan", "--keep-every", "5", "--steps", "1"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "give --keep-checkpoints too" in err[0], err
    assert main(["train", "lsgan", "--keep-checkpoints", "0"]) == 2
    assert "--keep-checkpoints: must be >= 1" in capsys.readouterr().err


def test_a_caae_run_prunes_its_encoder_with_its_generator_and_its_pair_still_loads(tmp_path):
    from gans.models.caae import load_pair

    run = tmp_path / "run"
    settings = RunSettings(checkpoint_every=2, sample_every=100, keep_checkpoints=1, progress=False, tensorboard=False)
    train(tiny_caae(32, batch=8), run, data=labelled_faces(n=24), steps=6, settings=settings)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["encoder_step_000006.h5",
                                                                        "generator_step_000006.h5"]
    encoder, generator = load_pair(run)
    assert encoder is not None and generator is not None
