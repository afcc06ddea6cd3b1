"""Training on several devices with ``tf.distribute``: the strategy, who writes, and the batch rule.

``--distribute mirrored`` replicates the networks on every local GPU (on a machine without one, on
every logical CPU device TensorFlow was configured with, which is how the tests run two replicas in
one process); ``--distribute multi-worker`` is ``tf.distribute.MultiWorkerMirroredStrategy``, one
process per machine, its cluster read from the ``TF_CONFIG`` environment variable. In both, the
networks and optimizers are built in the strategy's scope, the fused execution runs the iteration
on every replica with an even share of the global batch (``--batch-size`` stays the global batch),
gradients are summed across replicas by the optimizers, and each logged loss is the mean over them.

**Learning rate and batch.** A run on N replicas with the same global batch takes the same updates
as one device, up to float summation order, so the learning rates stay as they are. To use N devices
for N times the batch, scale the learning rates with it (the linear scaling rule, Goyal et al. 2017,
which the CAAE study of seed 000 examines: lr 2e-4 at batch 64 becomes 4e-4 at 128).

Every worker draws the same numpy inputs from the same seed and takes its replicas' share, so the
workers stay in step without sending batches around. Only the chief (worker 0) writes the run
folder; worker K writes its own copy into ``RUN_DIR/worker-K`` (on a shared file system these are
the same run; locally they keep the workers from locking each other out).
"""

from __future__ import annotations

import json
import os

from gans.errors import ConfigError

DISTRIBUTE_CHOICES = ("none", "mirrored", "multi-worker")


def make_strategy(name: str | None):
    """The ``tf.distribute`` strategy for ``--distribute NAME`` (None for ``none``).

    Raises:
        ConfigError: an unknown name, or ``multi-worker`` without a usable ``TF_CONFIG``.
    """
    if name in (None, "none"):
        return None
    if name not in DISTRIBUTE_CHOICES:
        raise ConfigError(f"--distribute must be one of {', '.join(DISTRIBUTE_CHOICES)}, got {name!r}.")
    if name == "multi-worker":
        tf_config()  # checked, with a clear error, before TensorFlow starts its collective runtime
        import tensorflow as tf

        return tf.distribute.MultiWorkerMirroredStrategy()
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    return tf.distribute.MirroredStrategy(devices=devices)


def tf_config() -> dict:
    """``TF_CONFIG`` parsed and checked: a cluster with workers and this process's task.

    Raises:
        ConfigError: naming what is missing and what a valid value looks like.
    """
    example = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}\'')
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        raise ConfigError(f"--distribute multi-worker reads the cluster from TF_CONFIG, which is not set. Set it "
                          f"on every worker, e.g. {example} (index 1 on the second), or use --distribute mirrored "
                          "for the devices of one machine.")
    try:
        value = json.loads(raw)
        workers = value["cluster"]["worker"]
        task = value["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"TF_CONFIG is not a valid cluster description ({exc}); expected e.g. {example}.") from None
    if not isinstance(workers, list) or not workers or not 0 <= index < len(workers):
        raise ConfigError(f"TF_CONFIG's task index {index} is not one of its {len(workers) if isinstance(workers, list) else 0} "
                          f"workers; expected e.g. {example}.")
    return value


def worker_index(strategy) -> int:
    """This process's worker number (0 is the chief; always 0 without multi-worker training)."""
    if strategy is None or not hasattr(strategy, "cluster_resolver") or strategy.cluster_resolver is None:
        return 0
    resolver = strategy.cluster_resolver
    return int(resolver.task_id or 0) if resolver.task_type in ("worker", "chief") else 0


def worker_folder(run_dir, strategy):
    """The folder this process writes: ``run_dir`` for the chief, ``run_dir/worker-K`` for worker K."""
    index = worker_index(strategy)
    return run_dir / f"worker-{index}" if index else run_dir


def check_batch(batch_size: int, strategy) -> None:
    """The global batch must split evenly across the replicas.

    Raises:
        ConfigError: naming the nearest batch sizes that do.
    """
    if strategy is None:
        return
    n = int(strategy.num_replicas_in_sync)
    if batch_size % n:
        lower, upper = max(n, batch_size - batch_size % n), batch_size + n - batch_size % n
        raise ConfigError(f"batch size {batch_size} does not split evenly across {n} replicas; use --batch-size "
                          f"{lower} or {upper} (a multiple of {n}).")
