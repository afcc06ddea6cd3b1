"""The handlers of ``gans fid`` (FID and KID), ``gans report`` and ``gans diagnose`` (arguments in :mod:`gans.cli`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gans.evaluation.extractors import extractor_options, get_extractor, lenet_data


def _lenet_sources(source: str) -> list[str]:
    """Where the images of a ``gans fid`` source come from: a generator inside a run folder, the run's
    training data; anything else, itself."""
    from gans.io import read_json

    path = Path(source).expanduser()
    config = path.parent.parent / "config.json"
    if path.is_file() and path.parent.name == "checkpoints" and config.is_file():
        record = read_json(config, "a run's config.json")
        return [str(record.get("run", {}).get("data_source", "")) if isinstance(record, dict) else "", source]
    return [source]


def _extractor_factory(args):
    cache = {}

    def make():
        if "extractor" not in cache:
            # --lenet-data as given; else the one rule of every run (gans.evaluation.extractors.lenet_data)
            data = args.lenet_data or lenet_data(*(s for source in (args.a, args.b) if source
                                                   for s in _lenet_sources(source)))
            options = extractor_options(args.extractor, inception_weights=args.inception_weights,
                                        lenet_data=data, resize_mode=args.resize,
                                        batch_size=args.batch_size, progress=not args.no_progress)
            cache["extractor"] = get_extractor(args.extractor, **options)
        return cache["extractor"]

    return make


def cmd_fid(args) -> int:
    from gans.errors import ConfigError
    from gans.evaluation.cache import slug
    from gans.evaluation.sources import load_source, statistics_of
    from gans.evaluation.statistics import activation_statistics

    if args.b is None and not args.save_stats:
        raise ConfigError("give two sources A and B, or one source with --save-stats DIR.")
    if args.n < 2:
        raise ConfigError(f"--n must be at least 2, got {args.n}.")
    if args.save_stats and Path(args.save_stats).exists() and not Path(args.save_stats).is_dir():
        raise ConfigError(f"--save-stats {args.save_stats} is a file; pass a folder for the statistics files.")
    extractor = _extractor_factory(args)
    sources = [s for s in (args.a, args.b) if s is not None]
    # Every source is read (and checked) before an extractor is built and features are computed.
    loaded = [load_source(s, n=args.n, batch_size=args.batch_size, seed=args.seed) for s in sources]
    # Images become features once: FID summarises them, KID compares them directly.
    features = [extractor()(x, batch_size=args.batch_size, progress=not args.no_progress)
                if isinstance(x, np.ndarray) else None for x in loaded]
    stats = [statistics_of(x, extractor, batch_size=args.batch_size, progress=not args.no_progress)
             if f is None else activation_statistics(f, extractor().name) for x, f in zip(loaded, features)]
    if args.save_stats:
        from gans.io import refuse_existing

        # Named after the extractor and the count, known only now: every name is checked before one is written.
        outs = [Path(args.save_stats) / f"{slug(Path(source).stem)}_{slug(st.extractor)}_n{st.n}.npz" for source, st in
                zip(sources, stats)]
        refuse_existing(outs, "--save-stats:", args.overwrite)
        for source, st, out in zip(sources, stats, outs):
            st.save(out)
            print(f"statistics of {source} ({st.n} samples, {st.extractor}) -> {out}")
    if len(stats) == 2:
        from gans.evaluation.fid import fid_from_statistics

        fid = fid_from_statistics(stats[0], stats[1], method=args.method)
        if features[0] is not None and features[1] is not None:
            from gans.evaluation.kid import kernel_inception_distance

            kid = kernel_inception_distance(features[0], features[1], fid.extractor, seed=args.seed)
        else:  # a statistics .npz holds a mean and a covariance, not the features KID compares
            kid = "KID not computed (a statistics .npz has no features; pass images or a generator)"
        print(f"{fid}; {kid}")
    return 0


def cmd_report(args) -> int:
    import sys

    from gans.evaluation.report import check_report_folder, collect_runs, markdown_tables, write_report

    check_report_folder(args.runs_dir, args.out, args.overwrite)  # the user's --out first, before any run is read
    skipped = []
    results = collect_runs(args.runs_dir, skipped)
    if not results:  # nothing to tabulate: say so, and write no empty report
        from gans.errors import DataError

        raise DataError(f"no run folder under {args.runs_dir} has an FID to report ({len(skipped)} skipped"
                        + (f"; first: {skipped[0]}" if skipped else "") + "); train with --fid-every K, or pass the "
                        "folder that holds measured runs.")
    paths = write_report(args.runs_dir, args.out, results=results, skipped=skipped, overwrite=args.overwrite)
    print(markdown_tables(results, skipped))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    for skip in skipped:
        print(f"gans report: warning: skipped {skip}", file=sys.stderr)
    return 0


def cmd_diagnose(args) -> int:
    from gans.evaluation.diagnostics import write_diagnosis

    diagnosis = write_diagnosis(args.run_dir)
    print(diagnosis.to_markdown(f"Training diagnostics: {Path(args.run_dir).name}"))
    return 0 if diagnosis.healthy else 1
