"""Training on several devices or processes with tf.distribute: which strategy, and what each replica holds.

    the global batch x [B, T]  --split-->  replica r: rows r*B/N .. (r+1)*B/N - 1      (N replicas in sync)
    the carried state          replica r: [B/N, units] for its own rows; saved whole ([B, units], `join`)
    each step                  the loss and the gradients summed over the replicas (all-reduce)

Row r of the text is walked by the same replica in every window, so the state a replica carries from
one window to the next is its own rows' state and truncated backprop stays exact. Strategy "none" uses
no tf.distribute at all: the single-device path is the trainer's own, unchanged.

On CPU, MirroredStrategy needs one logical device per replica, and those can only be made before
TensorFlow initialises (the CLI and the app's worker are a fresh process per run, which makes it
possible). MultiWorkerMirroredStrategy must be created before any other TensorFlow op, from TF_CONFIG.
"""

import contextlib
import faulthandler
import json
import os

import numpy as np
import tensorflow as tf

from core.config import TrainConfig
from core.errors import Refusal
from core.training.cluster_env import CONNECT_TIMEOUT_S


class DistributeError(Refusal):
    """A strategy that cannot be set up here; the message says why."""


class PeerLost(Refusal):
    """Another worker of a multi-worker run died or stopped answering; this one cannot go on."""

    # Words in TensorFlow's (pages long) message that say what happened to the peer.
    CLUES = ("unhealthy", "timed out", "aborted by", "Connection", "connect", "heartbeat")

    @classmethod
    def of(cls, err: Exception, workers: int) -> "PeerLost":
        """The failed collective `err`, in a sentence with its most telling line."""
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        clue = next((line for line in lines if any(c in line for c in cls.CLUES)), lines[0] if lines else "")
        return cls(
            f"another worker of this {workers}-worker run died or stopped answering ({type(err).__name__}: "
            f"{clue[:240].rstrip(':')}); no worker can go on without it: resume the run with all of its workers"
        )


# Errors a collective raises when a peer is gone (killed, hung past the timeout, unreachable).
PEER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.DeadlineExceededError,
    tf.errors.AbortedError,
    tf.errors.CancelledError,
    tf.errors.InternalError,
)


def cluster_spec() -> tuple[int, int]:
    """(this worker's index, number of workers) from TF_CONFIG; DistributeError if it is missing or bad."""
    raw = os.environ.get("TF_CONFIG", "")
    if not raw:
        raise DistributeError(
            "the multi-worker strategy needs TF_CONFIG (the cluster's workers and this one's index); "
            "python -m core.cluster --workers 2 -- <train flags> sets it for workers on this machine"
        )
    try:
        spec = json.loads(raw)
        workers, task = spec["cluster"]["worker"], spec["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as err:
        raise DistributeError(f"TF_CONFIG cannot be read ({err}): {raw[:200]}") from None
    if task.get("type") != "worker" or not 0 <= index < len(workers):
        raise DistributeError(f"TF_CONFIG's task must be a worker with an index below {len(workers)}: {raw}")
    return index, len(workers)


def logical_cpus(n: int) -> list[str]:
    """Names of n logical CPU devices, made now (before TensorFlow initialises) if need be."""
    cpus = tf.config.list_physical_devices("CPU")
    if n > 1 and len(tf.config.get_logical_device_configuration(cpus[0]) or []) != n:
        try:
            tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * n)
        except RuntimeError:
            raise DistributeError(
                f"the mirrored strategy needs {n} logical CPU devices, which TensorFlow can only make before "
                "it starts, and it has started in this process with "
                f"{len(tf.config.list_logical_devices('CPU'))}: train the run in a process of its own "
                "(python -m core.train, or the app)"
            ) from None
    return [d.name for d in tf.config.list_logical_devices("CPU")][:n]


@contextlib.contextmanager
def exit_unless_done(seconds: float):
    """End the process (exit code 1) if the block has not finished within `seconds`. For
    MultiWorkerMirroredStrategy's constructor, which waits for every worker to connect, forever if one
    never starts, holding the interpreter so that no Python timer can fire: faulthandler's can."""
    with open(os.devnull, "w") as devnull:  # its traceback would say nothing the caller has not
        faulthandler.dump_traceback_later(seconds, exit=True, file=devnull)
        try:
            yield
        finally:
            faulthandler.cancel_dump_traceback_later()


def make_replicas(tc: TrainConfig, connect_timeout_s: float = CONNECT_TIMEOUT_S) -> "Replicas":
    """The config's strategy, built (call it before any other TensorFlow op of the process). A multi-worker
    process that is not connected to every other worker within `connect_timeout_s` exits (code 1)."""
    if tc.strategy == "none":
        return Replicas()
    if tc.strategy == "mirrored":
        gpus = tf.config.list_physical_devices("GPU")
        if len(gpus) >= tc.replicas:
            devices = [f"/gpu:{i}" for i in range(tc.replicas)]
            return Replicas(tf.distribute.MirroredStrategy(devices))
        # No NCCL between CPU devices: the sums go through one device.
        cross = tf.distribute.ReductionToOneDevice()
        return Replicas(tf.distribute.MirroredStrategy(logical_cpus(tc.replicas), cross_device_ops=cross))
    index, workers = cluster_spec()
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING,  # the CPU collective
        timeout_seconds=tc.collective_timeout_s,
    )
    with exit_unless_done(connect_timeout_s):  # it waits for every worker to connect
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    replicas = Replicas(strategy, chief=index == 0, workers=workers)
    if tc.batch_size % replicas.n:
        raise DistributeError(
            f"batch_size {tc.batch_size} cannot be split evenly over {replicas.n} replicas ({workers} workers)"
        )
    return replicas


class Replicas:
    """The strategy a run trains under, and the few things the trainer asks of it. With no strategy
    (the default) every method is the identity: one replica holds the whole batch."""

    def __init__(self, strategy=None, chief: bool = True, workers: int = 1):
        self.strategy, self.chief, self.workers = strategy, chief, workers
        self.n = strategy.num_replicas_in_sync if strategy is not None else 1

    @property
    def distributed(self) -> bool:
        return self.strategy is not None

    def describe(self) -> str:
        """One line for the run's log."""
        if not self.distributed:
            return "one device"
        kind = type(self.strategy).__name__
        where = (
            f"{self.workers} workers"
            if self.workers > 1
            else ", ".join(self.strategy.extended.worker_devices)
        )
        return f"{kind}: {self.n} replicas in sync ({where})"

    def scope(self):
        """Where the model, the optimizer and the step counter are made (mirrored across replicas)."""
        return self.strategy.scope() if self.distributed else contextlib.nullcontext()

    def split(self, rows):
        """A global [B, ...] array (numpy or a tuple of them) as each replica's B/N rows."""
        if not self.distributed:
            return rows
        if isinstance(rows, tuple):
            return tuple(self.split(r) for r in rows)
        rows = np.asarray(rows)
        per = rows.shape[0] // self.n

        def mine(ctx):  # replica_id_in_sync_group counts the replicas of every worker
            r = ctx.replica_id_in_sync_group
            return tf.constant(rows[r * per : (r + 1) * per])

        return self.strategy.experimental_distribute_values_from_function(mine)

    def join(self, values: tuple) -> tuple:
        """Per-replica state back into whole [B, units] arrays, rows in order. Under multi-worker this is
        a collective: every worker must call it at the same point."""
        if not self.distributed:
            return values
        return tuple(self.strategy.gather(v, axis=0) for v in values)

    def run(self, fn, *args):
        """fn on every replica (inside a tf.function: one graph for all of them)."""
        return self.strategy.run(fn, args=args) if self.distributed else fn(*args)

    def first(self, value):
        """A value every replica computed alike (the reduced loss, the norm), from the first local one."""
        return self.strategy.experimental_local_results(value)[0] if self.distributed else value

    def all_reduce(self, grads: list, loss, wish):
        """In a replica: gradients and loss summed over the replicas, and `wish` [k] as replica 0 (on the
        chief) has it, so that every worker acts on the chief's decisions (stop, the time budget)."""
        # The embedding's gradient comes as IndexedSlices, one slice per character of the batch, many
        # for the same row. Made dense ([vocab, width]: small) the slices of a row are summed first, which
        # Keras 3's Adam needs: given the slices it adds their squares into its second moment, not the
        # square of their sum (1² + 3² for a row whose gradient is 1 + 3), and tf.linalg.global_norm
        # measures the slices, not the gradient. Dense, it is the table's size to all-reduce, far less
        # than rows × time slices to gather.
        grads = [tf.convert_to_tensor(g) for g in grads]
        if not self.distributed:
            return grads, loss, wish
        ctx = tf.distribute.get_replica_context()
        chiefs = tf.where(tf.equal(ctx.replica_id_in_sync_group, 0), wish, tf.zeros_like(wish))
        small = ctx.all_reduce(tf.distribute.ReduceOp.SUM, tf.concat([[loss], chiefs], 0))  # [1 + k]
        return ctx.all_reduce(tf.distribute.ReduceOp.SUM, grads), small[0], small[1:]

    def summed_already(self, optimizer) -> None:
        """Have a Keras 3 optimizer take the gradients as all_reduce leaves them. Under a strategy its
        apply() sums them over the replicas again (`_all_reduce_sum_gradients`): a second all-reduce of
        every gradient each step, which doubled the step's exchange. The tests that hold N replicas to
        one device's steps would catch a Keras that changed this."""
        if self.distributed:
            optimizer._all_reduce_sum_gradients = lambda grads_and_vars: grads_and_vars
