"""What a prediction depends on: the gradient of each prediction with respect to every earlier input.

For a text x_0 .. x_{T-1}, prediction t is log p(x_{t+1} | x_0..x_t): the network's log-probability of the
character that really comes next. Its connectivity to input s is the norm of the gradient of that
log-probability with respect to the input vector at s (the embedding row the network read there, or its
one-hot vector). A large value: changing what was read at s would change this prediction a lot. Inputs
after t cannot matter (the network reads left to right), so those entries are exactly 0.

All T predictions come from one forward and one backward pass: the text is copied into a batch of T rows,
row t keeps only prediction t, and since rows never mix, the gradient of the sum with respect to row t's
inputs is prediction t's gradient alone. (distill.pub's "Memorization in RNNs" draws the same quantity.)
"""

import weakref
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from core.model.unrollers import UNROLLERS

MAX_CHARS = 400  # a T x T batch of T steps: 400 characters is 160,000 cell steps, a few seconds on 2 cores
UNROLLED_BY = "dynamic"  # any implementation gives the same numbers; this one takes plain inputs


@dataclass(frozen=True)
class Connectivity:
    """influence [T-1, T]: row t (prediction t, of character t+1) against input s; 0 where s > t."""

    text: str
    influence: np.ndarray

    def by_distance(self) -> np.ndarray:
        """[T-1]: the mean share of a prediction's total influence that comes from d characters back
        (d = 0: the character just read), over the predictions that reach back that far."""
        rows = self.influence / np.maximum(self.influence.sum(axis=1, keepdims=True), 1e-30)
        n = rows.shape[0]
        return np.array([np.mean([rows[t, t - d] for t in range(d, n)]) for d in range(n)])


def _log_probs(model, inputs, targets):
    """inputs [B, T, F] -> log p(targets[b, t]) [B, T] (the zero state, no dropout)."""
    state = model.zero_state(tf.shape(inputs)[0])
    outputs, _ = UNROLLERS[UNROLLED_BY].impl(model.stack, inputs, tuple(state), training=False)
    logp = tf.nn.log_softmax(model.head(outputs), axis=-1)  # [B, T, vocab]
    return tf.gather(logp, targets, axis=2, batch_dims=2)


_COMPILED = weakref.WeakKeyDictionary()  # model -> its compiled gradient pass (texts of any length)


def _gradients(model):
    """The model's pass: (inputs [n, n, F], targets [n, n]) -> d(sum of row t's prediction t)/d inputs."""
    if model not in _COMPILED:

        def grads(inputs, targets):
            n = tf.shape(inputs)[0]
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                kept = _log_probs(model, inputs, targets) * tf.eye(n)  # row t keeps prediction t only
                total = tf.reduce_sum(kept)
            return tape.gradient(total, inputs)

        _COMPILED[model] = tf.function(grads, reduce_retracing=True)
    return _COMPILED[model]


def connectivity(model, vocab, text: str) -> Connectivity:
    """The influence of every input on every prediction of `text` (2..MAX_CHARS characters)."""
    if not 2 <= len(text) <= MAX_CHARS:
        raise ValueError(f"connectivity needs 2..{MAX_CHARS} characters, got {len(text)}")
    ids = np.asarray(vocab.encode(text), np.int32)  # [T]
    n = len(ids) - 1  # predictions: of characters 1..T-1
    inputs = tf.repeat(model.embed(ids[None, :-1]), n, axis=0)  # [n, n, F]: one copy of the text per row
    targets = tf.constant(np.repeat(ids[None, 1:], n, axis=0))  # [n, n]
    grads = _gradients(model)(inputs, targets)  # [n, n, F]: row t, input s
    influence = np.zeros((n, n + 1), np.float32)
    influence[:, :n] = np.linalg.norm(grads.numpy(), axis=2)  # the last character is read by no prediction
    return Connectivity(text, np.tril(influence))


def log_prob_of(model, vocab, text: str, t: int, inputs=None) -> float:
    """log p(x_{t+1} | x_0..x_t) alone, optionally on given input vectors [1, T-1, F] (finite differences)."""
    ids = np.asarray(vocab.encode(text), np.int32)
    inputs = model.embed(ids[None, :-1]) if inputs is None else inputs
    return float(_log_probs(model, inputs, tf.constant(ids[None, 1:]))[0, t])
