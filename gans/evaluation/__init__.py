"""Evaluation: FID (InceptionV3 or offline LeNet features), classifier inception score, diagnostics.

Modules:
    fid: feature extractors, activation statistics, the Frechet distance, FID entry points and cached
        reference statistics.
    classifier: LeNet-5 for MNIST-like data, trained once and cached; its features give an offline FID.
    inception_score: classifier inception score and conditional-agreement accuracy.
    diagnostics: mode collapse and non-convergence verdicts from what a run records.
    callbacks: FID and diagnostics callbacks for the training loop.
    report: thesis-style FID tables (Tables 4.6/4.7) and FID-over-steps figures for a folder of runs.

Nothing heavy is imported here, so ``gans --help`` stays fast; import the submodules you need.
"""
