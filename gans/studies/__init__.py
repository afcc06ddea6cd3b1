"""Studies that use trained models rather than train them: the MNIST paper's (seed 004) training of
LeNet on synthetic digits (:mod:`gans.studies.synthetic`) and its PCA baseline
(:mod:`gans.studies.pca`).

Nothing is imported here, so ``import gans.studies`` stays light; each command loads Keras when it runs.
"""
