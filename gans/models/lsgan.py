"""Least-squares GAN (Mao et al. 2017) as the thesis builds it: the fully connected networks of
:mod:`gans.models.gan` with a linear discriminator output, trained with MSE on labels 1/0
(thesis experiments 3, 7, 8, 13, 19, 20; experiment 9 pairs this generator with a convolutional
discriminator from :mod:`gans.models.dcgan`).
"""

from gans.models import gan, specialize

build_generator = specialize(
    gan.build_generator,
    "build_generator",
    """The LSGAN generator: the fully connected stack of :func:`gans.models.gan.build_generator`
    (Dense 256/512/1024, LeakyReLU 0.2, BatchNorm 0.8, tanh); see there for every argument.""",
)

build_discriminator = specialize(
    gan.build_discriminator,
    "build_discriminator",
    """The LSGAN discriminator: fully connected with a linear output, as Mao et al. prescribe for the
    least-squares loss (Table 4.5 rows with "-" as last activation). Arguments as in
    :func:`gans.models.gan.build_discriminator`.""",
    output_activation="linear",
)
