"""Evaluation: FID (InceptionV3 or offline LeNet features), classifier inception score, diagnostics.

Modules:
    fid: the FID entry points (arrays, generators, statistics) and :class:`~gans.evaluation.fid.FIDResult`.
    features: the feature extractor (resize, channel matching, a network, batched).
    inception: InceptionV3 pool features and where their weights come from (offline message).
    extractors: choosing an extractor by name, the default for a data set, its options.
    statistics: mean and unbiased covariance of features, saved and loaded as .npz.
    frechet: the Frechet distance between two Gaussians (reference and eigh routes).
    reference: cached reference statistics of real images and their one cache key.
    sources: what ``gans fid`` can compare (image files, .npz, statistics, generators).
    cache: the user cache folder.
    classifier: LeNet-5 for MNIST-like data, trained once and cached; its features give an offline FID.
    inception_score: classifier inception score and conditional-agreement accuracy.
    diagnostics: mode collapse and non-convergence verdicts from what a run records.
    callbacks: FID and diagnostics callbacks for the training loop.
    report: thesis-style FID tables (Tables 4.6/4.7) and FID-over-steps figures for a folder of runs.

Nothing heavy is imported here, so ``gans --help`` stays fast; import the submodules you need.
"""
