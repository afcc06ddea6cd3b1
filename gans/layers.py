"""Every custom layer and constraint of the library, each registered with Keras and fully configurable.

Keeping them in one module means ``import gans`` registers everything a saved model can contain, so a
checkpoint loads with ``keras.models.load_model`` (safe mode on) in a fresh process.
"""

from __future__ import annotations

import keras
from keras import ops

from gans.errors import ConfigError

PACKAGE = "gans"


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
    - inference, or a frozen layer (``trainable=False``, e.g. the discriminator inside the combined
      model during a generator step): the moving mean and variance normalize every sample and are
      not updated, as in Keras's BatchNormalization.

    Args:
        axis: the channel axis (one int; -1 for channels-last images and Dense features).
        momentum: momentum of the moving statistics, in [0, 1).
        epsilon: added to the variance before the square root, > 0.
        center: learn an offset ``beta``.
        scale: learn a gain ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer, moving_variance_initializer:
            initializers of the four weights.
        beta_regularizer, gamma_regularizer: optional regularizers.
        beta_constraint, gamma_constraint: optional constraints (e.g. :class:`ClipConstraint`).

    Reference:
        Salimans et al. (2016), Improved Techniques for Training GANs, section 3.4; Rzayev and
        Weldegebriel, MNIST DCGAN/CCGAN report, section 2.3.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
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
        if training and self.trainable:
            reference = x[: (ops.shape(x)[0] + 1) // 2]
            reduce_axes = [a for a in range(rank) if a != channel_axis]
            mean = ops.mean(reference, axis=reduce_axes)
            variance = ops.var(reference, axis=reduce_axes)
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
        })
        return config
