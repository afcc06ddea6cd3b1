"""Wasserstein GAN (Arjovsky et al. 2017) as the thesis builds it (experiments 4, 10, 14): the
convolutional networks of :mod:`gans.models.dcgan` with kernel 4 in the generator and a linear critic
whose every weight is clipped to [-0.01, 0.01] by a :class:`gans.layers.ClipConstraint`.

Train it with :func:`gans.losses.get_loss` ("wasserstein"), RMSprop(5e-5) and 5 critic steps per
generator step (the WGAN step object does this).
"""

from gans.models import dcgan, specialize

build_generator = specialize(
    dcgan.build_generator,
    "build_generator",
    """The WGAN generator: :func:`gans.models.dcgan.build_generator` with kernel_size 4 (Table 4.4,
    experiments 4, 10, 14); see there for every argument.""",
    kernel_size=4,
)

build_discriminator = specialize(
    dcgan.build_discriminator,
    "build_discriminator",
    """The WGAN critic: :func:`gans.models.dcgan.build_discriminator` with 16-32-64-128 filters, a
    linear output and clip_value 0.01 (every kernel, bias and batch-norm scale/offset is clipped after
    each update). See there for every argument.""",
    filters=(16, 32, 64, 128),
    output_activation="linear",
    clip_value=0.01,
)
