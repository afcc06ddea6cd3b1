"""The class-conditional step (CCGAN, Mirza and Osindero 2014; the MNIST paper, seed 004).

The adversarial iteration of :class:`~gans.training.steps.adversarial.AdversarialStep` with the class
label fed to both networks: the discriminator sees real images with their true labels and fakes with
the labels they were generated for, drawn uniformly (the paper's p(l)); the generator is trained
through the combined model on fresh uniform labels. Label smoothing and flipping act on the
real/fake targets as in the unconditional step.
"""

from __future__ import annotations

import numpy as np

from gans.errors import ConfigError, DataError
from gans.training.steps.adversarial import AdversarialStep


class ConditionalStep(AdversarialStep):
    """One CCGAN iteration. Networks take ``[z, label]`` and ``[image, label]``.

    Args:
        generator: a conditional generator (inputs ``z`` then ``label``), e.g.
            :func:`gans.models.cgan.build_generator`.
        discriminator: a conditional discriminator (inputs ``image`` then ``label``).
        num_classes: classes the networks were built for; must match their label inputs.
        *args: as for :class:`AdversarialStep`.
        **kwargs: as for :class:`AdversarialStep`.
    """

    def __init__(self, generator, discriminator, *args, num_classes: int, **kwargs):
        from gans.models.conditioning import num_classes_of

        if len(generator.inputs) != 2 or len(discriminator.inputs) != 2:
            raise ConfigError("a conditional GAN needs a generator taking [z, label] and a discriminator taking "
                              "[image, label]; build them with gans.models.cgan.")
        for role, model in (("generator", generator), ("discriminator", discriminator)):
            if num_classes_of(model) != num_classes:
                raise ConfigError(f"the {role} was built for {num_classes_of(model)} classes, the run asks for "
                                  f"{num_classes}; build both networks with num_classes={num_classes}.")
        self.num_classes = int(num_classes)
        super().__init__(generator, discriminator, *args, **kwargs)

    @classmethod
    def family_options(cls, config) -> dict:
        if config.num_classes is None:
            raise ConfigError(f"the {config.variant} family is conditional: set num_classes (e.g. 10 for MNIST).")
        return {"num_classes": config.num_classes}

    def check_data(self, labels: np.ndarray | None) -> None:
        """Refuse training data whose labels cannot condition this model."""
        if labels is None:
            raise DataError("a conditional GAN trains on labelled images, and this data set has no labels; "
                            "use MNIST (labels from the IDX/.npz files) or an .npz with a 'labels' array.")
        labels = np.asarray(labels)
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"class labels must be one integer per image, got {labels.dtype} {labels.shape}.")
        present = np.unique(labels)
        if present.min() < 0 or present.max() >= self.num_classes:
            raise DataError(f"the data's classes run {int(present.min())}-{int(present.max())}, the model has "
                            f"{self.num_classes} (0-{self.num_classes - 1}); set num_classes to match the data.")

    def encode_labels(self, model, labels):
        from gans.models.conditioning import label_inputs

        return None if labels is None else label_inputs(model, labels)

    def draw_fake_labels(self, n, rng):
        return rng.integers(0, self.num_classes, n)
