"""The companion papers' sweeps, as data: a base configuration and its grid axes, runnable by name
with ``gans sweep NAME``.

Seed 004 (the MNIST paper) trains every combination of capacity F in 1-3, discriminator depth D in
1-3 and batch size B in 32/64/128, "over 20-25 epochs" of the 60,000 training digits, for its DCGAN
and for its class-conditional GAN (its Figures 2-6 and 17 name each run "F-D-B"). The sweep length
is counted in epochs, so each batch size sees the same number of images (20 epochs; the paper's
lower bound).

Learning rates, as the seed gives them: the CCGAN section says Adam 0.0001 for both networks; the
DCGAN section says Adam "0.002" for both. Both are kept as written. Everything the seed does not
give (beta1, batch-norm momentum, the discriminator's activation) follows the ``ccgan-mnist``
configuration, whose choices are documented in :mod:`gans.experiments`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gans.config import GANConfig, NetworkSpec, OptimizerSpec


@dataclass(frozen=True)
class SweepPlan:
    """A named sweep: what is trained, over which axes, for how long.

    Attributes:
        name: the name ``gans sweep`` takes.
        config: the base configuration every grid point starts from.
        axes: axis name -> values (names as ``--grid`` takes them; see :mod:`gans.studies.grid`).
        epochs: passes over the training data per run (None: ``config.steps`` iterations).
        description: one line for ``gans sweep --help`` and ``gans list``.
        points: the listed points of a sweep that is not a full grid (a paper's table rows), each a
            dict over the same names; None: every combination of ``axes``.
        published: run name -> what the paper published for that point (shown beside ours).
    """

    name: str
    config: GANConfig
    axes: dict[str, tuple]
    epochs: int | None = None
    description: str = ""
    points: tuple[dict, ...] | None = None
    published: dict[str, dict] | None = None


FDB_AXES = {"F": (1, 2, 3), "D": (1, 2, 3), "B": (32, 64, 128)}


def _mnist_paper_plans() -> list[SweepPlan]:
    from gans.experiments import NAMED

    ccgan = NAMED["ccgan-mnist"]
    adam_dcgan = OptimizerSpec("adam", 2e-3, 0.5)
    dcgan = ccgan.replace(
        variant="mnist_dcgan", num_classes=None, label_smoothing=0.0, experiment="dcgan-mnist-fdb",
        optimizer=adam_dcgan, discriminator_optimizer=adam_dcgan,
        networks={"generator": NetworkSpec("mnist_dcgan", dict(ccgan.generator.options)),
                  "discriminator": NetworkSpec("mnist_dcgan", dict(ccgan.discriminator.options))},
        description="MNIST paper: unconditional DCGAN (Adam 0.002 as the seed gives it)")
    ccgan = ccgan.replace(label_smoothing=0.0, experiment="ccgan-mnist-fdb",
                          description="MNIST paper: class-conditional GAN (Adam 1e-4), no label smoothing")
    return [
        SweepPlan("dcgan-mnist-fdb", dcgan, dict(FDB_AXES), epochs=20,
                  description="seed 004 Figures 2-4: DCGAN, F x D x B = 27 runs of 20 epochs"),
        SweepPlan("ccgan-mnist-fdb", ccgan, dict(FDB_AXES), epochs=20,
                  description="seed 004 Figures 6, 17: CCGAN, F x D x B = 27 runs of 20 epochs"),
    ]


def _caae_plan() -> SweepPlan:
    """Seed 000's Table 1: result ids 3 and 10-21, each with its own epochs, learning rate and batch
    size (listed points, not a grid), with the published losses beside ours."""
    from gans.experiments.caae import TABLE1, caae_config

    points = tuple({"result_id": r.result_id, "epochs": r.epochs, "lr": r.learning_rate, "batch_size": r.batch_size}
                   for r in TABLE1.values())
    published = {f"result_id{r.result_id}": {k: getattr(r, k) for k in ("loss_value", "eg", "dz", "di", "valid")}
                 for r in TABLE1.values()}
    axes = {name: tuple(dict.fromkeys(p[name] for p in points)) for name in points[0]}
    return SweepPlan("caae-utkface-table1", caae_config(), axes, points=points, published=published,
                     description="seed 000 Table 1: CAAE, result ids 3 and 10-21 (epochs, lr, batch size)")


def sweep_plans() -> dict[str, SweepPlan]:
    """Every named sweep, by name."""
    return {plan.name: plan for plan in (*_mnist_paper_plans(), _caae_plan())}
