"""The train and evaluation steps, each one tf.function: forward, backward, the gradients summed over the
replicas, clipped and applied.

    train step: x, y [batch, time] ids, state (a tuple of [batch, units]), wish [2]
                -> StepResult(loss, state, finite, grad_norm, agreed)
    eval step:  x, y [batch, time] ids, state -> loss, state
"""

from typing import NamedTuple

import keras
import tensorflow as tf

from core.training.replicas import Replicas

OPTIMIZER_CLASSES = {
    "adam": keras.optimizers.Adam,
    "rmsprop": keras.optimizers.RMSprop,
    "sgd": keras.optimizers.SGD,
}


class StepResult(NamedTuple):
    """What a train step returns (a NamedTuple: tf.function and tf.distribute carry it as they would a
    tuple, at no cost). In this order, so that `loss, state, *_ = step(...)` still reads."""

    loss: object  # mean nats/char over the global batch, a scalar
    state: tuple  # the state after the batch, [batch, units] each (each replica's rows of it)
    finite: object  # bool scalar: every weight is finite after the update (else never checkpoint it)
    grad_norm: object  # the gradients' global norm before clipping (what clip_norm is compared with)
    agreed: object  # [2]: the chief's wish as every worker now has it (core/training/budget.py)


def input_specs(batch_size: int, num_steps: int, model) -> tuple:
    """A step's inputs for its signature: (ids [batch, time] int32, state: [batch, units] float32 each)."""
    ids = tf.TensorSpec([batch_size, num_steps], tf.int32)
    return ids, tuple(tf.TensorSpec([batch_size, n], tf.float32) for n in model.stack.state_size)


def make_train_step(model, optimizer, replicas: Replicas, step: tf.Variable, clip_norm: float, impl: str,
                    signature: list | None):  # fmt: skip
    """The train step unrolled by `impl`, on every replica; every implementation's step shares the model,
    the optimizer and the step counter."""

    def on_replica(x, y, state, wish):
        """x, y [rows, time] ids (this replica's rows of the batch), state the tuple it carries, wish [2]
        (this process's Wish.numbers(): core/training/budget.py) -> StepResult, this replica's."""
        with tf.GradientTape() as tape:
            logits, state = model(x, state, training=True, impl=impl)  # [rows, time, vocab]
            per_char = tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)  # [rows, time]
            # This replica's share of the mean over the global batch: summed over replicas, the mean.
            loss = tf.reduce_mean(per_char) / replicas.n
        variables = model.trainable_variables
        grads = tape.gradient(loss, variables)
        grads, loss, agreed = replicas.all_reduce(grads, loss, wish)
        grad_norm = tf.linalg.global_norm(grads)  # what clip_norm is compared with: char-rnn's number
        if clip_norm:
            grads, _ = tf.clip_by_global_norm(grads, clip_norm, use_norm=grad_norm)
        optimizer.apply(grads, variables)
        step.assign_add(1)
        # A finite loss can still come with an update that overflows the weights: never checkpoint those.
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in variables])
        return StepResult(loss, state, finite, grad_norm, agreed)

    def train_step(x, y, state, wish) -> StepResult:
        per_replica = replicas.run(on_replica, x, y, state, wish)
        first = replicas.first  # the reduced values, alike on every replica
        return StepResult(
            loss=first(per_replica.loss),
            state=per_replica.state,  # each replica's own rows
            finite=first(per_replica.finite),
            grad_norm=first(per_replica.grad_norm),
            agreed=first(per_replica.agreed),
        )

    return tf.function(train_step, input_signature=signature)


def eval_loss(model, x, y, state):
    """x, y [batch, time] ids, state -> (mean loss in nats/char, final state); no dropout."""
    logits, state = model(x, state, training=False)  # [batch, time, vocab]
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)), state


def make_eval_step(model, signature: list):
    return tf.function(lambda x, y, state: eval_loss(model, x, y, state), input_signature=signature)
