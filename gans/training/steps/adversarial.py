"""Step objects: one training iteration of one GAN family, done with ``train_on_batch``.

A step object owns its networks, its compiled models, its labels and losses. The :class:`Trainer`
owns everything else (the loop, data, callbacks, checkpoints), so there is one loop for every family.

The iteration follows the thesis (sections 2.5 and 3.2.7): the discriminator is trained on a batch of
real images, then separately on a batch of generated ones, then the generator is trained through the
combined model with the discriminator frozen, its fakes labelled real.
"""

from __future__ import annotations

import keras
import numpy as np

from gans.errors import ConfigError
from gans.losses import AdversarialLoss, check_label_options, get_loss, real_labels_for_discriminator
from gans.models import build_combined
from gans.training.data import BatchSource
from gans.training.freeze import set_trainable

LOSS_KEYS = ("d_loss_real", "d_loss_fake", "d_loss", "g_loss")


def _loss_value(logs) -> float:
    return float(logs["loss"])


class _Ready:
    """A finished result with the interface of a future."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class AdversarialStep:
    """One iteration for the minimax and least-squares families (GAN, DCGAN, LSGAN).

    Args:
        generator: maps (batch, latent_dim) noise to images in [-1, 1].
        discriminator: maps images to (batch, 1) scores.
        loss: the combined model's adversarial loss (name or :class:`AdversarialLoss`).
        optimizer: the combined model's optimizer (it updates the generator only).
        discriminator_optimizer: the discriminator's optimizer.
        discriminator_loss: the discriminator's loss; defaults to ``loss``.
        label_smoothing: one-sided soft real labels in [1 - s, 1] (thesis 3.2.8).
        label_flip: probability that a real label is flipped to fake (CelebA attributes paper).
        n_critic: discriminator iterations per generator iteration.
    """

    default_n_critic = 1

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        loss: str | AdversarialLoss,
        optimizer: keras.optimizers.Optimizer,
        discriminator_optimizer: keras.optimizers.Optimizer,
        discriminator_loss: str | AdversarialLoss | None = None,
        label_smoothing: float = 0.0,
        label_flip: float = 0.0,
        n_critic: int | None = None,
    ):
        if optimizer is discriminator_optimizer:
            raise ConfigError("the generator and discriminator need separate optimizer objects.")
        self.generator = generator
        self.discriminator = discriminator
        self.loss = get_loss(loss) if isinstance(loss, str) else loss
        d_loss = loss if discriminator_loss is None else discriminator_loss
        self.discriminator_loss = get_loss(d_loss) if isinstance(d_loss, str) else d_loss
        check_label_options(self.discriminator_loss, label_smoothing, label_flip)
        self.label_smoothing = float(label_smoothing)
        self.label_flip = float(label_flip)
        self.n_critic = int(n_critic or self.default_n_critic)
        if self.n_critic < 1:
            raise ConfigError(f"n_critic must be >= 1, got {n_critic}.")
        self.latent_dim = int(generator.input_shape[-1])
        self._generate_fn = None
        self._executor = None
        if tuple(generator.output_shape[1:]) != tuple(discriminator.input_shape[1:]):
            raise ConfigError(
                f"generator output {generator.output_shape[1:]} does not match discriminator input "
                f"{discriminator.input_shape[1:]}; build both with the same image_shape."
            )

        self.discriminator.compile(loss=self.discriminator_loss.make(), optimizer=discriminator_optimizer)
        self.combined = build_combined(generator, discriminator)
        self.combined.compile(loss=self.loss.make(), optimizer=optimizer)

    # ------------------------------------------------------------------ sampling
    def sample_latents(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Standard Gaussian z (thesis 3.2.6), float32 (n, latent_dim)."""
        return rng.standard_normal((n, self.latent_dim), dtype=np.float32)

    def generate(self, z: np.ndarray) -> np.ndarray:
        """Generator output for ``z`` in inference mode, as numpy float32 in [-1, 1].

        A compiled function traced once: ``predict`` rebuilds a data adapter on every call and
        ``predict_on_batch`` adds its own bookkeeping; both cost more than the call itself at GAN
        batch sizes.
        """
        if self._generate_fn is None:
            import tensorflow as tf

            generator = self.generator
            self._generate_fn = tf.function(lambda z: generator(z, training=False), reduce_retracing=True)
        return self._generate_fn(z).numpy()

    # ------------------------------------------------------------------ training
    def discriminator_step(self, real: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
        """D on the real batch, then D on an equally large generated batch (kept separate, 3.2.7).

        The fakes are generated on a worker thread while D trains on the real batch: a D update does
        not touch G's weights, so the fakes are exactly those of the sequential order, and the two
        computations share the cores instead of waiting for each other (TensorFlow releases the GIL
        while its kernels run). The first call runs in order, so tracing never happens concurrently.
        """
        n = len(real)
        z = self.sample_latents(n, rng)
        real_targets = real_labels_for_discriminator(self.discriminator_loss, n, rng, self.label_smoothing,
                                                     self.label_flip)
        set_trainable(self.discriminator, True)
        if self._generate_fn is None:
            fakes = _Ready(self.generate(z))
        else:
            fakes = self._worker().submit(self.generate, z)
        d_real = _loss_value(self.discriminator.train_on_batch(real, real_targets, return_dict=True))
        d_fake = _loss_value(self.discriminator.train_on_batch(
            fakes.result(), self.discriminator_loss.labels(n, real=False), return_dict=True))
        return d_real, d_fake

    def _worker(self):
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gans-generate")
        return self._executor

    def generator_step(self, n: int, rng: np.random.Generator) -> float:
        """G through the combined model, D frozen, fakes labelled real."""
        z = self.sample_latents(n, rng)
        set_trainable(self.discriminator, False)
        return _loss_value(self.combined.train_on_batch(z, self.loss.labels(n, real=True), return_dict=True))

    def train_step(self, step: int, data: BatchSource, rng: np.random.Generator) -> dict[str, float]:
        """Iteration ``step`` (1-based): ``n_critic`` discriminator updates, then one generator update.

        Returns:
            ``d_loss_real``, ``d_loss_fake`` (means over the critic iterations), ``d_loss`` (their
            mean) and ``g_loss``.
        """
        reals, fakes = [], []
        for i in range(self.n_critic):
            real = data.batch((step - 1) * self.n_critic + i, rng)
            d_real, d_fake = self.discriminator_step(real, rng)
            reals.append(d_real)
            fakes.append(d_fake)
        g_loss = self.generator_step(data.batch_size, rng)
        d_real, d_fake = float(np.mean(reals)), float(np.mean(fakes))
        return {"d_loss_real": d_real, "d_loss_fake": d_fake, "d_loss": 0.5 * (d_real + d_fake), "g_loss": g_loss}

    # ------------------------------------------------------------------ state
    @property
    def models(self) -> dict[str, keras.Model]:
        """The networks whose weights make up the training state."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    @property
    def optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        return {"discriminator": self.discriminator.optimizer, "gan": self.combined.optimizer}

    def build_optimizers(self) -> None:
        """Create the optimizers' slot variables exactly as the first steps would, so a saved
        optimizer state can be restored before training resumes."""
        set_trainable(self.discriminator, True)
        if not self.discriminator.optimizer.built:
            self.discriminator.optimizer.build(self.discriminator.trainable_variables)
        set_trainable(self.discriminator, False)
        if not self.combined.optimizer.built:
            self.combined.optimizer.build(self.combined.trainable_variables)


class WGANStep(AdversarialStep):
    """One WGAN iteration: 5 critic updates (labels -1 real / +1 fake), then one generator update.

    The critic's weights must be clipped (Arjovsky et al. 2017): build it with ``clip_value`` (a
    :class:`gans.layers.ClipConstraint` on every weight, applied inside the optimizer update). The
    step refuses an unclipped critic rather than train a WGAN without its Lipschitz constraint.
    """

    default_n_critic = 5

    def __init__(self, generator, discriminator, loss="wasserstein", *args, **kwargs):
        super().__init__(generator, discriminator, loss, *args, **kwargs)
        if self.discriminator_loss.name != "wasserstein":
            raise ConfigError(f"WGANStep trains with the Wasserstein loss, got {self.discriminator_loss.name!r}.")
        unclipped = [v.path for v in discriminator.trainable_variables if getattr(v, "constraint", None) is None]
        if unclipped:
            raise ConfigError(
                f"the WGAN critic has unclipped weights ({', '.join(unclipped[:3])}...); build it with "
                "clip_value=0.01 (gans.models.wgan.build_discriminator does by default)."
            )


def make_step(config, generator: keras.Model, discriminator: keras.Model) -> AdversarialStep:
    """The step object for a :class:`~gans.training.config.GANConfig`."""
    cls = WGANStep if get_loss(config.discriminator_loss).name == "wasserstein" else AdversarialStep
    return cls(
        generator, discriminator,
        loss=config.loss,
        optimizer=config.optimizer.build(),
        discriminator_optimizer=config.discriminator_optimizer.build(),
        discriminator_loss=config.discriminator_loss,
        label_smoothing=config.label_smoothing,
        label_flip=config.label_flip,
        n_critic=config.n_critic,
    )
