"""How a step's iteration is carried out: the thesis recipe, or the same updates fused into one graph.

A family writes its iteration once, as :meth:`~gans.training.steps.base.Step.iterate` over the numpy
inputs it drew (:meth:`~gans.training.steps.base.Step.draw`) and an *execution*, the object given as
``run`` below, which offers two operations:

- ``run.generate(model, inputs)``: the model's output in inference mode;
- ``run.train(model, x, y)``: one optimizer update of ``model`` on ``(x, y)`` through the model's
  own compiled loss and optimizer, returning the batch loss;
- ``run.measure(fn, *inputs)``: a number the step reports but does not train on, ``fn`` (written
  with ``keras.ops``) of draws and generated batches, e.g. the CAAE's reconstruction error.

Two executions implement them:

- :class:`Recipe` (``--execution recipe``): the thesis's loop, each update one ``train_on_batch``;
  generated batches come from a compiled inference function on a worker thread, so they overlap the
  discriminator's real-batch update.
- :class:`Fused` (``--execution fused``, the default): the whole iteration is traced into one
  ``tf.function``. Each ``run.train`` is the model's own Keras ``train_step`` (the function
  ``train_on_batch`` runs), so losses, label handling, loss reduction, optimizers and constraints
  (the WGAN clip) are Keras' own, in the recipe's order. The ``trainable`` flags the iteration sets
  with :func:`~gans.training.freeze.set_trainable` are read while tracing, exactly as
  ``train_on_batch`` reads them when it traces, so the frozen discriminator of the generator update
  is frozen in the graph too. Optionally XLA-compiled (``jit``), and optionally run on every replica
  of a ``tf.distribute`` strategy, the global batch split evenly across them.

Both executions see the same numpy draws, so from the same seed they take the same updates; the
equality tests compare every weight and optimizer slot after several iterations. They agree bit for
bit with grappler's trace-dependent rewrites off (:func:`trace_independent_rewrites`, and
``--deterministic``); with them on, as by default, a trace may round differently, as two runs under
load may.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import weakref
from typing import Any

import numpy as np

from gans.errors import ConfigError
from gans.models import inference_function

log = logging.getLogger(__name__)

EXECUTIONS = ("recipe", "fused")
JIT_CHOICES = ("auto", "on", "off")

class _Ready:
    """A finished result with the interface of a future."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def resolve_inputs(x):
    """``x`` with every pending generated batch (a future of :meth:`Recipe.generate`) waited for."""
    if hasattr(x, "result"):
        return x.result()
    if isinstance(x, (list, tuple)):
        return [resolve_inputs(v) for v in x]
    return x


class Recipe:
    """The thesis's loop: one ``train_on_batch`` per update, read back as a float.

    ``generate`` starts the generator on a worker thread (after a model's first, traced, call) and
    ``train`` waits for it only when it needs the images: the discriminator's real-batch update does
    not read the generator's weights, so the overlap changes no number.
    """

    name = "recipe"

    def __init__(self):
        self._executor = None
        self._traced: "weakref.WeakSet" = weakref.WeakSet()

    def generate(self, model, inputs):
        fn = inference_function(model)
        if model not in self._traced:  # the first call traces: never concurrently with a training trace
            self._traced.add(model)
            return _Ready(fn(inputs).numpy())
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gans-generate")
        return self._executor.submit(lambda: fn(inputs).numpy())

    def train(self, model, x, y) -> float:
        return self.train_losses(model, x, y)["loss"]

    def train_losses(self, model, x, y) -> dict[str, float]:
        """One update of ``model``; its total ``loss`` and, for a model of several outputs, each output's
        own (``<output>_loss``, unweighted)."""
        return {k: float(v) for k, v in model.train_on_batch(resolve_inputs(x), y, return_dict=True).items()}

    def measure(self, fn, *inputs) -> float:
        return float(fn(*resolve_inputs(list(inputs))))

    def __call__(self, step, draws) -> dict[str, float]:
        return step.iterate(draws, self)

    def reset(self) -> None:
        """The step's networks changed; each model's train function traces itself on its first call."""

    def describe(self) -> dict[str, Any]:
        return {"mode": "recipe"}

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


class Fused:
    """The iteration as one compiled function over the step's numpy draws.

    Args:
        jit: XLA-compile the iteration.
        strategy: a ``tf.distribute`` strategy whose scope built the step's networks and optimizers,
            or None for the default single device. Every leaf of the draws has the global batch as
            its first axis and is split evenly across the replicas; each loss is the mean over them.
        jit_reason: why ``jit`` was chosen, for the run record.

    Attributes:
        traces: how many times the iteration was traced (1 after any number of same-shaped calls).
    """

    name = "fused"

    def __init__(self, jit: bool = False, strategy=None, jit_reason: str = ""):
        self.jit = bool(jit)
        self.strategy = strategy
        self.jit_reason = jit_reason
        self._fn = None
        self._structure = None
        self._updates: dict = {}
        self.traces = 0

    # ---------------------------------------------------------------- the two operations, traced
    def generate(self, model, inputs):
        return model(inputs, training=False)

    def train(self, model, x, y):
        return self.train_losses(model, x, y)["loss"]

    def train_losses(self, model, x, y):
        fn = self._updates.get(model)
        if fn is None:

            def update(x, y):
                for metric in model.metrics:  # as train_on_batch does: this loss is the batch's own
                    metric.reset_state()
                return dict(model.train_step((x, y)))

            # The model's own train_step, traced inline with the trainable flags set now, as
            # train_on_batch traces its own. tf.function's automatic control dependencies run the
            # reads and writes of each variable in program order, so every update sees the previous
            # one's weights, as the recipe's separate calls do (tests/training/test_execution.py); wrapping
            # each update in a nested function of its own gave the same numbers and measured 2-8%
            # slower on the DCGAN (benchmarks/train_loop.py), as it kept the graph optimizer from
            # working across the updates.
            fn = self._updates[model] = update
        return fn(x, y)

    def measure(self, fn, *inputs):
        return fn(*inputs)

    # ---------------------------------------------------------------- calling it
    def _compile(self, step):
        import tensorflow as tf

        def one_replica(draws):
            self.traces += 1
            out = step.iterate(draws, self)
            self._structure = out
            return tf.stack([tf.cast(v, tf.float32) for v in tf.nest.flatten(out)])

        inner = tf.function(one_replica, jit_compile=self.jit) if self.jit else one_replica
        strategy = self.strategy

        @tf.function
        def iteration(draws):
            if strategy is None:
                return inner(draws)
            per_replica = strategy.run(inner, args=(draws,))
            return strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)

        return iteration

    def _distribute(self, draws):
        import tensorflow as tf

        strategy = self.strategy
        n = strategy.num_replicas_in_sync

        def part(context):
            i = context.replica_id_in_sync_group

            def cut(a):
                if a is None:
                    return None
                a = np.asarray(a)
                share = len(a) // n
                return a[i * share:(i + 1) * share]

            return tf.nest.map_structure(cut, draws)

        return strategy.experimental_distribute_values_from_function(part)

    def __call__(self, step, draws) -> dict[str, float]:
        import tensorflow as tf

        first = self._fn is None
        if first:
            with step.variable_scope():  # a variable may not be created inside the traced function later
                step.build_optimizers()
            self._fn = self._compile(step)
            started = time.perf_counter()
        args = draws if self.strategy is None else self._distribute(draws)
        try:
            values = self._fn(args).numpy()
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError, tf.errors.InternalError) as exc:
            if not (first and self.jit):
                raise
            self._fn = None
            if not self.jit_reason.startswith("auto"):
                raise XLAUnavailable(
                    f"XLA cannot compile this step on this device ({_first_line(exc)}); train with --jit off "
                    "(or --jit auto).") from exc
            log.warning("XLA could not compile the step (%s); training without it.", _first_line(exc))
            self.jit, self.jit_reason = False, f"{self.jit_reason}; XLA failed to compile, so off"
            return self(step, draws)
        if first:
            log.info("fused iteration traced%s in %.1f s", " and XLA-compiled" if self.jit else "",
                     time.perf_counter() - started)
        return tf.nest.pack_sequence_as(self._structure, [float(v) for v in values])

    def reset(self) -> None:
        """Forget the compiled iteration: the step's networks changed (a progressive GAN grew), so the
        next call traces the iteration of the new ones (and builds their optimizer slots)."""
        self._fn = None
        self._structure = None
        self._updates = {}

    def describe(self) -> dict[str, Any]:
        record = {"mode": "fused", "jit": "on" if self.jit else "off"}
        if self.jit_reason:
            record["jit_reason"] = self.jit_reason
        if self.strategy is not None:
            record["replicas"] = int(self.strategy.num_replicas_in_sync)
        return record

    def close(self) -> None:
        pass


class XLAUnavailable(ConfigError):
    """XLA could not compile the iteration on this device."""


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", exc)).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


# -------------------------------------------------------------------- choosing jit
def has_convolutions(models) -> bool:
    """Whether any of ``models`` contains a convolution (the compute-bound case)."""
    import keras

    conv = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, keras.layers.Conv2DTranspose,
            keras.layers.Conv3DTranspose, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)
    return any(isinstance(layer, conv) or getattr(layer, "convolutional", False)  # custom conv layers say so
               for model in models for layer in model._flatten_layers())


def auto_jit(models, device_type: str) -> tuple[bool, str]:
    """``--jit auto``: XLA where it measured faster (``benchmarks/train_loop.py``), and why.

    On CPU, XLA made the fully connected thesis step (experiment 3) about 2x faster and the
    convolutional one (experiment 2) several times slower, so: on for networks without convolutions,
    off for networks with them. On a GPU the same rule is applied; it has not been measured there.
    """
    conv = has_convolutions(models)
    where = "convolutional" if conv else "fully connected"
    measured = "measured on CPU" if device_type == "CPU" else f"measured on CPU, applied on {device_type}"
    return (not conv), f"auto: {where} networks ({measured})"


def _is_multi_worker(strategy) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def make_execution(mode: str = "fused", jit: str = "auto", models=(), strategy=None):
    """The execution for ``--execution MODE --jit JIT``.

    Raises:
        ConfigError: an unknown mode or jit choice, or ``recipe`` with a distribution strategy.
    """
    if mode not in EXECUTIONS:
        raise ConfigError(f"--execution must be one of {', '.join(EXECUTIONS)}, got {mode!r}.")
    if jit not in JIT_CHOICES:
        raise ConfigError(f"--jit must be one of {', '.join(JIT_CHOICES)}, got {jit!r}.")
    if mode == "recipe":
        if strategy is not None:
            raise ConfigError("--distribute needs --execution fused: the recipe's train_on_batch calls run on one "
                              "device.")
        if jit == "on":
            raise ConfigError("--jit on needs --execution fused; the recipe runs Keras' own train functions.")
        return Recipe()
    multi_worker = strategy is not None and _is_multi_worker(strategy)
    if multi_worker and jit == "on":
        raise ConfigError("--jit on does not work with --distribute multi-worker: XLA cannot compile the collective "
                          "all-reduce across processes (measured: the workers crash); use --jit off or auto.")
    if jit == "auto" and multi_worker:
        use, reason = False, "auto: off with --distribute multi-worker (XLA cannot compile cross-process all-reduce)"
    elif jit == "auto":
        import tensorflow as tf

        device = "GPU" if tf.config.list_logical_devices("GPU") else "CPU"
        use, reason = auto_jit(models, device)
    else:
        use, reason = jit == "on", f"--jit {jit}"
    return Fused(jit=use, strategy=strategy, jit_reason=reason)


# -------------------------------------------------------------------- bit-identical reruns
def deterministic_runtime() -> None:
    """Make reruns and resumes of a run bit-identical on CPU, at the cost of speed (``--deterministic``).

    - One TensorFlow thread for kernels and one for scheduling: with the default pools the CPU
      kernels are not bit-reproducible under load (two uninterrupted runs differed by up to 2.5e-6 in
      3 of 24 trials).
    - TensorFlow's deterministic kernels (``enable_op_determinism``).
    - Grappler's constant folding off: with it, the fused WGAN iteration (five RMSprop critic updates
      with the clip) gave one of two results, 1e-7 apart after one iteration, from the same seed on one
      thread (measured: about 1 run in 4); with it off, 10 of 10 runs agreed bit for bit.
    - Grappler's dependency optimizer off: the fused iteration traces every update inline, and with
      the optimizer pruning the control edges between them, a resumed WGAN run differed from an
      uninterrupted one by up to 4e-8 (tests/training/test_resume.py); with it off they agree bit for bit.

    Call it before TensorFlow runs its first operation (``gans train --deterministic`` does); the
    thread counts cannot change later, and then the ``TF_NUM_INTRAOP_THREADS=1`` and
    ``TF_NUM_INTEROP_THREADS=1`` environment variables must have set them.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # the runtime is up: the environment variables decide
        if not (os.environ.get("TF_NUM_INTRAOP_THREADS") == "1" and os.environ.get("TF_NUM_INTEROP_THREADS") == "1"):
            log.warning("--deterministic: TensorFlow had started before the thread pools could be set to one thread; "
                        "set TF_NUM_INTRAOP_THREADS=1 and TF_NUM_INTEROP_THREADS=1 for bit-identical runs.")
    tf.config.experimental.enable_op_determinism()
    tf.config.optimizer.set_experimental_options({name: False for name in TRACE_DEPENDENT_REWRITES})


# Grappler passes after which two traces of the same iteration can round differently: their rewrites
# depend on the traced graph (its node names differ per build). Measured on the tiny fused WGAN
# iteration, traces against the recipe after 4 iterations (default thread pools): with both on, 1 of
# 10 traces differed by more than 5e-5 and 5 more by 2e-7 to 2e-5; with constant folding alone off, 2
# of 12 by more than 5e-5 and 3 more by 5e-8 to 2e-5; with the dependency optimizer alone off, or both
# off, 12 of 12 agreed bit for bit (and 12 of 12 with other families traced in between).
# The rounding lands where the update amplifies it: after one iteration every weight agreed within
# 3e-9 but the critic's last dense kernel, 2e-5 apart in 94 entries, because its gradient there is a
# near-cancelling difference of batch-normalized real and fake features, and RMSprop's first steps
# move a weight by about 3x the learning rate whatever the gradient's size.
TRACE_DEPENDENT_REWRITES = ("constant_folding", "dependency_optimization")


@contextlib.contextmanager
def trace_independent_rewrites():
    """Grappler's :data:`TRACE_DEPENDENT_REWRITES` off while the block traces and first runs functions
    (the options are read when a function is first run), the previous options back afterwards.

    ``--deterministic`` turns them off for a whole run; the equality tests of the executions use this
    to compare two separately traced iterations bit for bit.
    """
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options({name: False for name in TRACE_DEPENDENT_REWRITES})
    try:
        yield
    finally:
        restore = {name: before.get(name, True) for name in TRACE_DEPENDENT_REWRITES}
        tf.config.optimizer.set_experimental_options(restore)
