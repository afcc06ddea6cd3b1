"""Every custom layer and constraint of the library, each registered with Keras and fully configurable.

Keeping them in one module means ``import gans`` registers everything a saved model can contain, so a
checkpoint loads with ``keras.models.load_model`` (safe mode on) in a fresh process.
"""

from __future__ import annotations

import keras
from keras import ops

from gans import batchnorm
from gans.errors import ConfigError

PACKAGE = "gans"


@keras.saving.register_keras_serializable(package=PACKAGE)
class BatchNormalization(keras.layers.BatchNormalization):
    """Keras' BatchNormalization, with a choice of what it does while frozen in a training pass.

    Trainable, or in inference, it is Keras' own layer, to the bit. Frozen (``trainable=False``) and
    called with ``training=True`` (the discriminator inside the combined model of a generator update),
    it normalizes by ``frozen_statistics``:

    - ``"moving"`` (Keras 3, tf.keras since TensorFlow 2.0): the moving mean and variance;
    - ``"batch"`` (Keras 2 and TensorFlow 1): the current batch's mean and variance, exactly as the
      trainable layer computes them, while neither gamma, beta nor the moving statistics change.

    See :mod:`gans.batchnorm` for why it matters and which family's reference used which; a run sets
    it on its networks with :func:`gans.training.freeze.set_frozen_batchnorm`.

    Args:
        frozen_statistics: ``"moving"`` or ``"batch"``.
        **kwargs: as for ``keras.layers.BatchNormalization``.
    """

    def __init__(self, *args, frozen_statistics: str = "moving", **kwargs):
        super().__init__(*args, **kwargs)
        self.frozen_statistics = batchnorm.check(frozen_statistics, "frozen_statistics")

    def call(self, inputs, training=None, mask=None):
        if not (training and not self.trainable and self.frozen_statistics == "batch"):
            return super().call(inputs, training=training, mask=mask)
        if self.renorm:
            raise ConfigError("frozen_statistics='batch' does not support renorm; use 'moving'.")
        # Keras' training branch without the moving-statistics update (the same ops, so the frozen
        # pass computes what D's own update computed on the same batch).
        inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        mean, variance = self._moments(inputs, mask)
        outputs = ops.batch_normalization(
            x=inputs, mean=mean, variance=variance, axis=self.axis,
            offset=ops.cast(self.beta, inputs.dtype) if self.center else None,
            scale=ops.cast(self.gamma, inputs.dtype) if self.scale else None,
            epsilon=self.epsilon)
        return ops.cast(outputs, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "frozen_statistics": self.frozen_statistics}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ClipConstraint(keras.constraints.Constraint):
    """Clip every entry of a weight to ``[-clip_value, clip_value]`` after each optimizer update.

    This is the WGAN critic's Lipschitz device: Arjovsky et al. (2017) keep the critic's weights in a
    small hypercube, 0.01 in the paper and in the thesis (section 3.3.3). As a kernel constraint it
    runs inside the optimizer's update, so no weights are copied through numpy on every step.

    Args:
        clip_value: half-width of the hypercube, > 0.
    """

    def __init__(self, clip_value: float = 0.01):
        clip_value = float(clip_value)
        if not clip_value > 0:
            raise ConfigError(f"clip_value must be > 0, got {clip_value}.")
        self.clip_value = clip_value

    def __call__(self, w):
        return ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self):
        return {"clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package=PACKAGE)
class VirtualBatchNormalization(keras.layers.Layer):
    """Batch normalization whose statistics come from one half of the batch only.

    The MNIST DCGAN/CCGAN paper (Rzayev and Weldegebriel, KAIST CS492(A)) describes its virtual batch
    normalization as choosing half of the batch and normalizing the other half with that half's
    statistics: a per-batch variant of Salimans et al. (2016), whose reference batch is fixed once
    for the whole training run. What this layer computes, for a batch of ``n`` samples:

    - training: the reference is the first ``r = ceil(n / 2)`` samples (all of them when ``n == 1``).
      Per channel (``axis``), ``mean`` and ``variance`` (biased, as in BatchNormalization) are taken
      over the reference samples and every other axis, and the whole batch is normalized with them::

          y = gamma * (x - mean_ref) / sqrt(variance_ref + epsilon) + beta

      so the reference half comes out with zero mean and unit variance per channel and the other
      half is expressed in the reference's statistics rather than its own. The training loop draws
      batches at random, so the first half is a random half; a fixed position keeps the layer
      deterministic and lets a caller choose the reference by putting it first. The moving
      statistics then move towards the reference's: ``moving = momentum * moving + (1 - momentum) *
      reference``.
    - inference: the moving mean and variance normalize every sample and are not updated, as in
      Keras's BatchNormalization.
    - a frozen layer (``trainable=False``) in a training pass, e.g. the discriminator inside the
      combined model during a generator step: by ``frozen_statistics``, as
      :class:`BatchNormalization` does: the moving statistics (``"moving"``) or the reference half's
      (``"batch"``), neither updated.

    Args:
        axis: the channel axis (one int; -1 for channels-last images and Dense features).
        momentum: momentum of the moving statistics, in [0, 1).
        epsilon: added to the variance before the square root, > 0.
        center: learn an offset ``beta``.
        scale: learn a gain ``gamma``.
        beta_initializer: initializer of ``beta``.
        gamma_initializer: initializer of ``gamma``.
        moving_mean_initializer: initializer of the moving mean.
        moving_variance_initializer: initializer of the moving variance.
        beta_regularizer: optional regularizer of ``beta``.
        gamma_regularizer: optional regularizer of ``gamma``.
        beta_constraint: optional constraint on ``beta`` (e.g. :class:`ClipConstraint`).
        gamma_constraint: optional constraint on ``gamma``.
        frozen_statistics: ``"moving"`` or ``"batch"``, for a frozen layer in a training pass.

    Reference:
        Salimans et al. (2016), Improved Techniques for Training GANs, section 3.4; Rzayev and
        Weldegebriel, MNIST DCGAN/CCGAN report, section 2.3.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 frozen_statistics: str = "moving", **kwargs):
        super().__init__(**kwargs)
        self.frozen_statistics = batchnorm.check(frozen_statistics, "frozen_statistics")
        if not isinstance(axis, int):
            raise ConfigError(f"axis must be one int (the channel axis, e.g. -1), got {axis!r}.")
        if not 0.0 <= float(momentum) < 1.0:
            raise ConfigError(f"momentum must be in [0, 1), got {momentum}.")
        if not float(epsilon) > 0.0:
            raise ConfigError(f"epsilon must be > 0, got {epsilon}.")
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.moving_mean_initializer = keras.initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = keras.initializers.get(moving_variance_initializer)
        self.beta_regularizer = keras.regularizers.get(beta_regularizer)
        self.gamma_regularizer = keras.regularizers.get(gamma_regularizer)
        self.beta_constraint = keras.constraints.get(beta_constraint)
        self.gamma_constraint = keras.constraints.get(gamma_constraint)

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ConfigError(f"axis {self.axis} is not a feature axis of an input of rank {rank}; use -1.")
        channels = input_shape[self.axis]
        if channels is None:
            raise ConfigError(f"the channel axis {self.axis} of input shape {input_shape} must be known.")
        shape = (int(channels),)
        self.gamma = self.add_weight(shape=shape, name="gamma", initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                                     trainable=True) if self.scale else None
        self.beta = self.add_weight(shape=shape, name="beta", initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                                    trainable=True) if self.center else None
        self.moving_mean = self.add_weight(shape=shape, name="moving_mean", trainable=False,
                                           initializer=self.moving_mean_initializer)
        self.moving_variance = self.add_weight(shape=shape, name="moving_variance", trainable=False,
                                               initializer=self.moving_variance_initializer)

    def call(self, inputs, training=None):
        input_dtype = keras.backend.standardize_dtype(inputs.dtype)
        # Half-precision statistics lose too much; compute in float32 as BatchNormalization does.
        x = ops.cast(inputs, "float32") if input_dtype in ("float16", "bfloat16") else inputs
        rank = len(x.shape)
        channel_axis = self.axis % rank
        # Broadcast the per-channel vectors along every axis but the channel axis.
        broadcast = [1] * rank
        broadcast[channel_axis] = -1
        if training and (self.trainable or self.frozen_statistics == "batch"):
            reference = x[: (ops.shape(x)[0] + 1) // 2]
            reduce_axes = [a for a in range(rank) if a != channel_axis]
            mean = ops.mean(reference, axis=reduce_axes)
            variance = ops.var(reference, axis=reduce_axes)
            if self.trainable:
                self.moving_mean.assign(self.momentum * self.moving_mean + (1.0 - self.momentum) * mean)
                self.moving_variance.assign(
                    self.momentum * self.moving_variance + (1.0 - self.momentum) * variance)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        mean = ops.cast(ops.reshape(mean, broadcast), x.dtype)
        inv = ops.cast(ops.reshape(ops.rsqrt(ops.add(variance, self.epsilon)), broadcast), x.dtype)
        if self.gamma is not None:
            inv = inv * ops.cast(ops.reshape(self.gamma, broadcast), x.dtype)
        outputs = (x - mean) * inv
        if self.beta is not None:
            outputs = outputs + ops.cast(ops.reshape(self.beta, broadcast), x.dtype)
        return ops.cast(outputs, input_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": keras.initializers.serialize(self.beta_initializer),
            "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": keras.initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": keras.initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": keras.regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": keras.regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": keras.constraints.serialize(self.beta_constraint),
            "gamma_constraint": keras.constraints.serialize(self.gamma_constraint),
            "frozen_statistics": self.frozen_statistics,
        })
        return config


# ---------------------------------------------------------------------- progressive growing GAN (Karras et al. 2018)
@keras.saving.register_keras_serializable(package=PACKAGE)
class PixelNormalization(keras.layers.Layer):
    """Normalize each pixel's feature vector to unit average square (Karras et al. 2018, section 4.2).

    ``y = x / sqrt(mean(x ** 2 over channels) + epsilon)``; it has no weights. The paper puts it after
    each convolution of the generator, in place of batch normalization, so that the magnitudes of
    the generator's and discriminator's signals cannot escalate.

    Args:
        epsilon: added under the square root, > 0 (the paper's 1e-8).
    """

    def __init__(self, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        if not float(epsilon) > 0:
            raise ConfigError(f"epsilon must be > 0, got {epsilon}.")
        self.epsilon = float(epsilon)

    def call(self, inputs):
        # In float32 under a mixed policy: 1e-8 is zero in float16, and squares above 65504 overflow.
        x = ops.cast(inputs, "float32")
        return ops.cast(x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + self.epsilon), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MinibatchStdDev(keras.layers.Layer):
    """Append one feature map holding the average standard deviation over the minibatch (Karras et al.
    2018, section 3), so the discriminator can see how varied a batch is and penalize a collapsed one.

    The batch is split into groups of ``group_size`` (the whole batch when it does not divide it or
    when ``group_size`` is None); within each group the standard deviation of every feature at every
    position is taken over the group's members, averaged over features and positions, and the
    resulting scalar is appended as a constant map to each member's input.

    Args:
        group_size: members per group (the paper's 4), or None for the whole batch.
        epsilon: added to the variance before the square root.
    """

    def __init__(self, group_size: int | None = 4, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        if group_size is not None and int(group_size) < 1:
            raise ConfigError(f"group_size must be >= 1 or None, got {group_size}.")
        self.group_size = None if group_size is None else int(group_size)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        shape = ops.shape(inputs)
        n, h, w, c = shape[0], shape[1], shape[2], shape[3]
        static_n = inputs.shape[0]
        group = self.group_size
        if group is None or static_n is None or static_n % group != 0 or group > static_n:
            group = n
        # The variance in float32 under a mixed policy (epsilon 1e-8 is zero in float16).
        x = ops.reshape(ops.cast(inputs, "float32"), (group, -1, h, w, c))  # (member, group id, H, W, C)
        std = ops.sqrt(ops.var(x, axis=0) + self.epsilon)  # (group id, H, W, C)
        score = ops.mean(std, axis=(1, 2, 3), keepdims=True)  # (group id, 1, 1, 1)
        score = ops.tile(score, (group, h, w, 1))  # member i of group g sits at row i * groups + g
        return ops.concatenate([inputs, ops.cast(score, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], None if input_shape[-1] is None else input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=PACKAGE)
class FadeIn(keras.layers.Layer):
    """The progressive GAN's fade-in: ``(1 - alpha) * old + alpha * new`` (Karras et al. 2018, Figure 2).

    ``alpha`` is a non-trainable weight of the layer, so a training loop assigns it every step
    (``layer.alpha.assign(a)`` or :meth:`set_alpha`) and a compiled train function reads the new value
    without being traced again. It is saved with the model's weights.

    Args:
        alpha: the initial weight of the new branch, in [0, 1].
    """

    def __init__(self, alpha: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(alpha) <= 1.0:
            raise ConfigError(f"alpha must be in [0, 1], got {alpha}.")
        self.initial_alpha = float(alpha)
        self.alpha = self.add_weight(shape=(), name="alpha", trainable=False,
                                     initializer=keras.initializers.Constant(self.initial_alpha))

    def set_alpha(self, value: float) -> None:
        """Assign the weight of the new branch (no retracing)."""
        if not 0.0 <= float(value) <= 1.0:
            raise ConfigError(f"alpha must be in [0, 1], got {value}.")
        self.alpha.assign(float(value))

    def call(self, inputs):
        old, new = inputs
        a = ops.cast(self.alpha, new.dtype)
        return (1.0 - a) * old + a * new

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "alpha": self.initial_alpha}


def _he_scale(fan_in: int, gain: float) -> float:
    return float(gain) / float(fan_in) ** 0.5


def _bias_and_activation(layer, x):
    """The end of an equalized layer's call: its bias (if any), then its activation (if any)."""
    if layer.bias is not None:
        x = x + layer.bias
    return layer.activation(x) if layer.activation is not None else x


@keras.saving.register_keras_serializable(package=PACKAGE)
class EqualizedConv2D(keras.layers.Layer):
    """A 2-D convolution with the equalized learning rate (Karras et al. 2018, section 4.1).

    The kernel is initialized from N(0, 1) and multiplied at run time by He's constant
    ``gain / sqrt(fan_in)``, so every weight has the same dynamic range and adaptive optimizers
    (Adam) update all layers at the same speed. Stride 1, "same" padding, channels last.

    Args:
        filters: output channels.
        kernel_size: side of the square kernel.
        gain: the constant's numerator (sqrt(2) for leaky ReLU layers, 1 for the toRGB layer).
        use_bias: add a bias (initialized to zero).
        activation: an optional activation applied after the bias.
    """

    convolutional = True  # for code that asks whether a network convolves (it is not a keras Conv2D)

    def __init__(self, filters: int, kernel_size: int = 3, gain: float = 2.0 ** 0.5, use_bias: bool = True,
                 activation=None, **kwargs):
        super().__init__(**kwargs)
        if int(filters) < 1 or int(kernel_size) < 1:
            raise ConfigError(f"filters and kernel_size must be >= 1, got {filters} and {kernel_size}.")
        self.filters, self.kernel_size, self.gain = int(filters), int(kernel_size), float(gain)
        self.use_bias = bool(use_bias)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(self.kernel_size, self.kernel_size, channels, self.filters),
                                      name="kernel", initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros") if self.use_bias else None
        self.scale = _he_scale(self.kernel_size * self.kernel_size * channels, self.gain)

    def call(self, inputs):
        return _bias_and_activation(self, ops.conv(inputs, self.kernel * self.scale, strides=1, padding="same"))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size, "gain": self.gain,
                "use_bias": self.use_bias, "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package=PACKAGE)
class EqualizedDense(keras.layers.Layer):
    """A dense layer with the equalized learning rate (see :class:`EqualizedConv2D`).

    Args:
        units: output features.
        gain: numerator of He's constant ``gain / sqrt(fan_in)``.
        use_bias: add a bias (initialized to zero).
        activation: an optional activation applied after the bias.
    """

    def __init__(self, units: int, gain: float = 2.0 ** 0.5, use_bias: bool = True, activation=None, **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ConfigError(f"units must be >= 1, got {units}.")
        self.units, self.gain, self.use_bias = int(units), float(gain), bool(use_bias)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(fan_in, self.units), name="kernel",
                                      initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="zeros") if self.use_bias else None
        self.scale = _he_scale(fan_in, self.gain)

    def call(self, inputs):
        return _bias_and_activation(self, ops.matmul(inputs, self.kernel * self.scale))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gain": self.gain, "use_bias": self.use_bias,
                "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ToPixels(keras.layers.Layer):
    """Map generator output in [-1, 1] to pixel values in [0, 255] (float32, clipped), the form an app
    shows directly. It has no weights; ``gans export`` puts it after a generator."""

    def call(self, inputs):
        return ops.clip((ops.cast(inputs, "float32") + 1.0) * 127.5, 0.0, 255.0)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class WassersteinLoss(keras.losses.Loss):
    """``mean(y_true * y_pred)``: with labels -1 for real and +1 for fake, minimising it makes the
    critic score real samples high and fake ones low (Arjovsky et al. 2017)."""

    def __init__(self, name: str = "wasserstein", reduction: str = "sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        return ops.mean(y_true * y_pred, axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class WassersteinGPCriticLoss(keras.layers.Layer):
    """The WGAN-GP critic loss of the progressive GAN paper, per sample, as a layer around the critic.

    For real images ``x``, generated images ``g`` and mixing factors ``u`` in [0, 1] (one per sample),
    with ``x_hat = x + u * (g - x)``::

        loss = D(g) - D(x) + penalty_weight * (||grad_x_hat D(x_hat)||_2 - 1)^2 + drift * D(x)^2

    Gulrajani et al. (2017) keep the critic 1-Lipschitz with the gradient penalty (lambda 10); Karras
    et al. (2018, appendix A.1) add the drift term (epsilon 0.001) that keeps the critic's output from
    drifting away from zero. A model whose output is this layer's, compiled with the Wasserstein loss
    and targets of 1, trains the critic through Keras' own ``train_step`` (``train_on_batch`` or the
    fused execution alike): the input gradient is taken with a ``tf.GradientTape`` inside the forward
    pass, so the outer training tape differentiates through it (second-order gradients). That tape is
    TensorFlow's: this layer needs the TensorFlow backend, which the library runs on.

    Args:
        critic: the critic (a Keras model mapping images to (batch, 1) scores); its weights are this
            layer's, and it is saved inside the layer's config.
        penalty_weight: lambda, > 0 (10 in both papers).
        drift: epsilon, >= 0 (0.001 in the PGGAN paper).

    Call with ``[real, fake, mix]``: two image batches of one shape and ``mix`` of shape (batch, 1, 1, 1).
    Returns (batch, 1).
    """

    def __init__(self, critic, penalty_weight: float = 10.0, drift: float = 0.001, **kwargs):
        super().__init__(**kwargs)
        if not float(penalty_weight) > 0:
            raise ConfigError(f"the gradient penalty's weight must be > 0 (the paper's 10), got {penalty_weight}.")
        if not float(drift) >= 0:
            raise ConfigError(f"the drift weight must be >= 0 (the paper's 0.001), got {drift}.")
        self.critic = critic
        self.penalty_weight, self.drift = float(penalty_weight), float(drift)

    @property
    def metrics(self):
        # A compiled critic carries its own loss tracker, named "loss" too; a Keras model skips the
        # metrics of the models nested in it, but not of a layer's, so without this the critic's idle
        # tracker would overwrite the trainer's loss in the logs.
        return []

    def gradient_penalty(self, real, fake, mix, training=None):
        """``penalty_weight * (||grad D(x_hat)|| - 1)^2`` per sample, shape (batch,)."""
        import tensorflow as tf

        mixed = real + ops.cast(mix, real.dtype) * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            total = ops.sum(self.critic(mixed, training=training))  # inside the tape, or it is not recorded
        grads = tape.gradient(total, mixed)
        norms = ops.sqrt(ops.sum(ops.square(grads), axis=tuple(range(1, len(grads.shape)))))
        return self.penalty_weight * ops.square(norms - 1.0)

    def call(self, inputs, training=None):
        real, fake, mix = inputs
        real_score = self.critic(real, training=training)
        fake_score = self.critic(fake, training=training)
        penalty = self.gradient_penalty(real, fake, mix, training=training)
        return fake_score - real_score + penalty[:, None] + self.drift * ops.square(real_score)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

    def get_config(self):
        return {**super().get_config(), "critic": keras.saving.serialize_keras_object(self.critic),
                "penalty_weight": self.penalty_weight, "drift": self.drift}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["critic"] = keras.saving.deserialize_keras_object(config["critic"])
        return cls(**config)
