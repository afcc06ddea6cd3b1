"""``gans list``: the variants, the thesis's experiments, the companion papers' configurations and the
named sweeps. It reads only the plain-data tables, so it answers without loading TensorFlow."""

from __future__ import annotations


def cmd_list(args) -> int:
    from gans import families
    from gans.experiments import EXPERIMENTS, NAMED

    print("Variants (gans train VARIANT), with the frozen discriminator's batch norm in the generator update"
          " (--frozen-batchnorm) as the family's reference had it:")
    for family in families.FAMILIES.values():
        base = family.base
        start = ("only through --experiment" if base is None else
                 f"defaults of {'experiment' if isinstance(base, int) else 'configuration'} {base}"
                 if isinstance(base, (int, str)) else "its own defaults")
        mode, source = family.frozen_batchnorm
        print(f"  {family.name:<11} {family.summary}; {start}; frozen BN {mode} ({source})")
    print("\nThesis experiments (gans train --experiment N):")
    print(f"  {'N':>2}  {'variant':<6} {'data':<6} {'steps':>6} {'z':>4} {'batch':>5} {'loss':<20} {'frozen BN':<9} "
          f"{'FID (thesis)':>12}  description")
    for n, e in EXPERIMENTS.items():
        print(f"  {n:>2}  {e.variant:<6} {e.dataset:<6} {e.steps:>6} {e.latent_dim:>4} {e.batch_size:>5} "
              f"{e.loss:<20} {e.frozen_batchnorm:<9} {e.published_fid:>12.4f}  {e.description}")
    print("\nCompanion papers' configurations (gans train --experiment NAME):")
    for name, e in NAMED.items():
        print(f"  {name:<16} {e.variant:<9} {e.dataset:<6} {e.steps:>6} {e.latent_dim:>4} {e.batch_size:>5} "
              f"frozen BN {e.frozen_batchnorm:<6}  {e.description}")
    from gans.experiments.studies import sweep_plans

    print("\nNamed sweeps (gans sweep NAME --out DIR):")
    for name, plan in sweep_plans().items():
        axes = " x ".join(f"{k}={','.join(map(str, v))}" for k, v in plan.axes.items())
        print(f"  {name:<16} {axes}  {plan.description}")
    return 0
