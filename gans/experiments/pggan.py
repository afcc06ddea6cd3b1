"""The progressive GAN's configurations (seed 001): one function that states a run as a GANConfig."""

from __future__ import annotations

from gans.config import GANConfig, NetworkSpec, OptimizerSpec
from gans.errors import ConfigError
from gans.families import Option
from gans.models.growth import Schedule, recipe_loss


def pggan_config(target_resolution: int = 32, images_per_phase: int = 20_000, recipe: str = "mse",
                 batch_sizes=None, filters=None, latent_dim: int = 128, pixel_norm: bool = True,
                 equalized: bool = True, minibatch_stddev: bool = True, momentum: float = 0.8,
                 optimizer: OptimizerSpec = OptimizerSpec("adam", 1e-3, 0.0),
                 discriminator_optimizer: OptimizerSpec | None = None, dataset: str = "celeba",
                 experiment: str | None = None, description: str = "", ema: float = 0.0,
                 optimizer_reset: str = "phase") -> GANConfig:
    """The :class:`GANConfig` of a progressive run; ``steps`` is the schedule's length.

    Args:
        target_resolution: last resolution, a power of two from 4 (the seed: 256).
        images_per_phase: real images shown in each fade-in and each stable phase.
        recipe: "mse" (least squares, no batch norm; the seed's stable choice), "bce" (minimax with
            batch norm 0.8 in G, the seed's first try, which collapsed at 32x32) or "wasserstein".
        batch_sizes: per resolution (see :class:`gans.training.steps.pggan.Schedule`).
        filters: per resolution (see :func:`gans.models.pggan.filters_for`).
        latent_dim: size of z.
        pixel_norm: pixel normalization of z and after every generator convolution (the PGGAN paper's;
            on by default: without it, the mse recipe's generator saturated its tanh to one flat
            colour within the 4x4 phase on the CelebA faces, measured).
        equalized: the PGGAN paper's equalized learning rate, on by default (the seed lists it as
            one of its next steps). Measured on the CelebA faces with the mse recipe and Adam 1e-3:
            without it the losses blew up at 16x16 and 32x32 (d_loss 3e3, then 7e8) and the samples
            were flat colours.
        minibatch_stddev: the PGGAN paper's minibatch standard deviation, on by default (the seed
            lists it as one of its next steps).
        momentum: batch-norm momentum of the "bce" recipe.
        optimizer: the generator's, Adam 1e-3, beta1 0 by default (the PGGAN paper's; its beta2 0.99
            is not an OptimizerSpec field, Keras' 0.999 stands). Measured on the CelebA faces at 4x4:
            with DCGAN's 2e-4 / 0.5 the discriminator won within 100 steps and the samples stayed
            dark noise; with 1e-3 / 0 they were face-coloured blobs.
        discriminator_optimizer: the discriminator's, the same default as ``optimizer``.
        ema: beta of the generator's exponential moving average, which samples and per-phase
            checkpoints then come from (the PGGAN paper's 0.999); 0 for none.
        optimizer_reset: "phase" (fresh Adam state at every fade-in and stable phase, as the PGGAN
            code's ``reset_opt_for_new_lod``) or "resolution" (kept from a fade-in into its stable phase).

    Both are step options, recorded in ``config.json`` only when they differ from these defaults, so
    runs made before they existed resume unchanged.
    """
    loss = recipe_loss(recipe)
    schedule = Schedule(target_resolution, images_per_phase, batch_sizes)
    common = {"target_resolution": int(target_resolution), "recipe": recipe, "equalized": bool(equalized)}
    if filters is not None:
        common["filters"] = filters if isinstance(filters, int) else list(filters)
    g_options = {**common, "pixel_norm": bool(pixel_norm), "momentum": float(momentum)}
    d_options = {**common, "minibatch_stddev": bool(minibatch_stddev)}
    step_options = {"images_per_phase": int(images_per_phase),
                    "batch_sizes": {str(r): n for r, n in schedule.batch_sizes.items()}}
    if ema:
        step_options["ema"] = float(ema)
    if optimizer_reset != "phase":
        step_options["optimizer_reset"] = str(optimizer_reset)
    return GANConfig(
        variant="pggan", dataset=dataset, steps=schedule.total_steps, latent_dim=int(latent_dim),
        batch_size=min(schedule.batch_sizes.values()), loss=loss, optimizer=optimizer, discriminator_loss=loss,
        discriminator_optimizer=discriminator_optimizer or optimizer,
        networks={"generator": NetworkSpec("pggan", g_options), "discriminator": NetworkSpec("pggan", d_options)},
        image_shape=(int(target_resolution), int(target_resolution), 3), step_options=step_options,
        experiment=experiment, interval=500,
        description=description or f"progressive GAN to {target_resolution}x{target_resolution}, {recipe} recipe")


# ---------------------------------------------------------------------- gans train pggan
OPTIONS = (
    Option(("--target-resolution",), "last resolution, a power of two from 4 (default 32; the seed's 256; on "
           "--resume the run's own, and a higher one grows the finished run)", kind="count4", metavar="R"),
    Option(("--images-per-phase",), "real images shown in each fade-in and each stable phase (default 20000)",
           kind="count", metavar="N"),
    Option(("--recipe",), "mse (default: least squares, no batch norm), bce (batch norm 0.8, sigmoid) or wasserstein",
           choices=("mse", "bce", "wasserstein")),
    Option(("--batch-sizes",), "batch size per resolution from 4x4 up (default 32 to 32x32, 16 to 128x128, then 8)",
           kind="count", nargs="+", metavar="B"),
    Option(("--filters",), "filters per resolution from 4x4 up (default 128 to 16x16, 64 at 32x32, then fewer)",
           kind="count", nargs="+", metavar="F"),
    Option(("--no-pixel-norm",), "no pixel normalization in the generator (on by default)", negates=True),
    Option(("--no-equalized",), "plain layers instead of the equalized learning rate (on by default)", negates=True),
    Option(("--no-minibatch-stddev",), "no minibatch standard deviation in the discriminator (on by default)",
           negates=True),
    Option(("--ema",), "sample from an exponential moving average of the generator's weights with this beta (the "
           "PGGAN paper's 0.999); 0 (default) = off. Per-phase checkpoints and samples then come from it, the "
           "trained generator's beside them as raw_generator_*.h5", kind="float", metavar="BETA"),
    Option(("--optimizer-reset",), "when Adam's state starts afresh: phase (default: every fade-in and stable "
           "phase, as the PGGAN code's reset_opt_for_new_lod) or resolution (kept from a fade-in into its stable "
           "phase)", choices=("phase", "resolution")),
)


def config_from_args(args, base: GANConfig | None = None) -> GANConfig:
    """The configuration of a ``gans train pggan`` command line (``--experiment NAME`` keeps that
    configuration and takes none of the options above)."""
    if getattr(args, "experiment", None) is not None:
        given = [o.flags[0] for o in OPTIONS if getattr(args, o.name, None) is not None]
        if given:
            raise ConfigError(f"{given[0]} builds a progressive run from options; --experiment "
                              f"{args.experiment} is a fixed configuration: drop one of them.")
        return base
    target = getattr(args, "target_resolution", None)
    if target is None:
        target = default_target(getattr(args, "out", None), getattr(args, "resume", False))
    lr, beta1 = getattr(args, "lr", None), getattr(args, "beta1", None)
    optimizer = OptimizerSpec("adam", lr or 1e-3, 0.0 if beta1 is None else beta1)
    return pggan_config(target, getattr(args, "images_per_phase", None) or 20_000, getattr(args, "recipe", None) or "mse",
                        batch_sizes=getattr(args, "batch_sizes", None), filters=getattr(args, "filters", None),
                        latent_dim=getattr(args, "latent_dim", None) or 128,
                        pixel_norm=getattr(args, "pixel_norm", None) is not False,
                        equalized=getattr(args, "equalized", None) is not False,
                        minibatch_stddev=getattr(args, "minibatch_stddev", None) is not False, optimizer=optimizer,
                        dataset=getattr(args, "dataset", None) or "celeba", ema=getattr(args, "ema", None) or 0.0,
                        optimizer_reset=getattr(args, "optimizer_reset", None) or "phase")


DEFAULT_TARGET = 32


def default_target(out, resume: bool) -> int:
    """The target resolution when none is given: a resumed progressive run's own (so a resume never
    grows a run unasked), else :data:`DEFAULT_TARGET`.

    Raises:
        ConfigError: the run's ``config.json`` cannot be read.
    """
    import json
    from pathlib import Path

    path = Path(out).expanduser() / "config.json" if out is not None else None
    if resume and path is not None and path.is_file():
        try:
            target = target_of(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path} cannot be read as a run's config.json ({exc}); restore it, or train a new run "
                              "with another --out.") from None
        if target is not None:
            return target
    return DEFAULT_TARGET


def target_of(record: dict) -> int | None:
    """The target resolution of a progressive run's ``config.json`` (None for another family's)."""
    if record.get("variant") != "pggan":
        return None
    return int(record["networks"]["generator"]["options"]["target_resolution"])


def grown_record(saved: dict, current: dict) -> dict:
    """``saved`` (a progressive run's ``config.json``) as the same run grown to ``current``'s higher
    target resolution: its target, per-resolution filters and batch sizes and the smallest batch
    size become ``current``'s where ``current`` keeps every saved value at the resolutions the run
    already has. Whatever else differs stays in the record, for the resume check to name and refuse.
    """
    import copy

    grown = copy.deepcopy(saved)
    for role in ("generator", "discriminator"):
        old = grown["networks"][role]["options"]
        new = current["networks"][role]["options"]
        old["target_resolution"] = new["target_resolution"]
        filters, wanted = old.get("filters"), new.get("filters")
        if isinstance(filters, list) and isinstance(wanted, list) and wanted[:len(filters)] == filters:
            old["filters"] = wanted  # one more value per new resolution
    old_batches = grown["step_options"].get("batch_sizes", {})
    new_batches = current["step_options"].get("batch_sizes", {})
    if all(new_batches.get(r) == n for r, n in old_batches.items()):
        grown["step_options"]["batch_sizes"] = new_batches
        if grown.get("batch_size") == min(old_batches.values(), default=None):  # the smallest of them
            grown["batch_size"] = current["batch_size"]
    return grown
