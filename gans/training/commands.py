"""The handler of ``gans train`` (their arguments are declared in :mod:`gans.cli`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gans.errors import ConfigError


def config_from_args(args):
    """The GANConfig an invocation of ``gans train`` asks for."""
    from gans.config import OptimizerSpec
    from gans.experiments import get_experiment, variant_config
    from gans.models import VARIANTS

    if (args.experiment is None) == (args.variant is None):
        raise ConfigError(f"give either --experiment N or a VARIANT ({', '.join(VARIANTS)}), e.g. "
                          "'gans train --experiment 3' or 'gans train lsgan --dataset mnist'.")
    if args.experiment is not None:
        if args.dataset:
            raise ConfigError("--dataset goes with a VARIANT; an experiment has its own data set.")
        config = get_experiment(args.experiment)
    else:
        config = variant_config(args.variant, args.dataset)
    changes = {}
    for name, field in (("batch_size", "batch_size"), ("latent_dim", "latent_dim"), ("n_critic", "n_critic"),
                        ("label_smoothing", "label_smoothing"), ("label_flip", "label_flip"),
                        ("frozen_batchnorm", "frozen_batchnorm"), ("precision", "precision")):
        value = getattr(args, name)
        if value is not None:
            changes[field] = value

    def optimizer(spec: OptimizerSpec, lr):
        return OptimizerSpec(spec.name, lr if lr is not None else spec.learning_rate,
                             args.beta1 if args.beta1 is not None else spec.beta_1)

    changes["optimizer"] = optimizer(config.optimizer, args.lr)
    changes["discriminator_optimizer"] = optimizer(config.discriminator_optimizer, args.d_lr)
    if args.steps is not None:
        changes["steps"] = args.steps
    if getattr(args, "classifier", None):
        changes["step_options"] = {**config.step_options, "classifier": _classifier_option(config, args.classifier)}
    return config.replace(**changes)


def _classifier_option(config, path) -> str:
    """``--classifier`` for a family whose step reads one (recorded in config.json, absolute)."""
    import inspect

    from gans.training.steps import step_class

    if "classifier" not in inspect.signature(step_class(config.variant)).parameters:
        raise ConfigError(f"--classifier goes with a family that reads an attribute classifier (attribute); "
                          f"the {config.variant} family takes none: drop it.")
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"--classifier {path} does not exist; train one with 'gans train-classifier celeba "
                          "--data CELEBA_DIR --out DIR' (it writes DIR/classifier.h5).")
    return str(path.resolve())


def data_from_args(config, args):
    """The training data of ``gans train``: ``--data`` as the run loads it, cut to ``--limit`` images and
    resized to ``--image-size`` when asked (a CelebA folder decodes only those images, at that size)."""
    from gans.datasets.base import ImageDataset
    from gans.training.run import load_training_data
    from gans.training.steps import step_class

    size, limit = getattr(args, "image_size", None), getattr(args, "limit", None)
    own = step_class(config.variant).load_data(config, args.data, size, limit)
    if own is not None:  # a family that reads its data its own way
        return own
    if size is None and limit is None:
        return args.data
    if config.dataset == "celeba" and args.data is not None and Path(args.data).is_dir():
        from gans.datasets.celeba import load_celeba

        return load_celeba(args.data, limit=limit, size=None if size is None else tuple(size))
    dataset = load_training_data(config, args.data)
    images, labels = dataset.images[:limit], None if dataset.labels is None else dataset.labels[:limit]
    notes = [] if limit is None else [f"first {len(images)}"]
    if size is not None:
        from gans.datasets.npz import resize_images

        images = resize_images(images, tuple(size))
        notes.append(f"resized to {size[0]}x{size[1]}")
    return ImageDataset(images, labels, source=f"{dataset.source} [{', '.join(notes)}]", meta=dataset.meta)


def cmd_train(args) -> int:
    from gans.training.run import train

    # Every option is checked here, before data, networks or a LeNet are loaded (the parser has
    # checked each value on its own: counts >= 1, finite learning rates, ...).
    if args.steps is not None and args.epochs is not None:
        raise ConfigError("give --steps or --epochs, not both.")
    config = config_from_args(args)
    if isinstance(config.experiment, int):
        name = f"exp{config.experiment:02d}"
    else:
        name = config.experiment or f"{config.variant}-{config.dataset}"
    out = Path(args.out or Path("runs") / name)
    settings = settings_from_args(args)
    # Without --steps/--epochs a new run takes the experiment's steps, a resumed one its own length.
    trainer = train(config, out, data=data_from_args(config, args), steps=args.steps, epochs=args.epochs,
                    settings=settings, resume=args.resume)
    print(f"run folder: {out.resolve()}  (step {trainer.step} of {trainer.total_steps})")
    diagnosis = out / "diagnostics.json"
    if diagnosis.exists():
        found = json.loads(diagnosis.read_text(encoding="utf-8"))
        began = "" if found["healthy"] else f" from step {found['began_at_step']}"
        print(f"diagnosis: {found['verdict']}{began}  (evidence in {out / 'diagnostics.md'})")
    conditional = out / "conditional.csv"
    if conditional.exists():
        from gans.io import read_rows_until

        last = read_rows_until(conditional, trainer.step)[-1:]
        if last:
            print(f"conditional agreement: LeNet reads the asked class in {float(last[0]['agreement']):.1%} "
                  f"(per class in {conditional}; confusion matrix in {out / 'confusion_matrix.png'})")
    return 0


def settings_from_args(args):
    """The :class:`~gans.training.run.RunSettings` of a ``gans train`` command line (every family's)."""
    from gans.training.run import RunSettings

    return RunSettings(sample_every=args.sample_every, checkpoint_every=args.checkpoint_every, seed=args.seed,
                       batch_mode=args.batch_mode, progress=not args.no_progress and sys.stderr.isatty(),
                       fid_every=args.fid_every, fid_extractor=args.fid_extractor, fid_n=args.fid_n,
                       inception_weights=args.inception_weights, diagnose_every=args.diagnose_every,
                       execution=args.execution, jit=args.jit, distribute=args.distribute,
                       tensorboard=not args.no_tensorboard, deterministic=args.deterministic)
