"""What one step of the post's basic RNN computes, on a text someone types:

    h_t = tanh(x_t·W + h_{t-1}·U + b)     the project's own cell "rnn" (core/model/cells.py), x_t one-hot
    p_t = softmax(h_t·V + c)             the CharRNN's head: a probability for every next character

Vectors are rows here, as Keras lays its weights out (W is [vocab, units]); the post writes W·x_t with
column vectors: the same numbers, transposed.
"""

import itertools
import time
from dataclasses import dataclass
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from core.config import ModelConfig
from core.data.batches import batch_iterator
from core.data.corpus import Vocab
from core.model.char_rnn import CharRNN

TOP = 5  # next characters shown per step


@dataclass(frozen=True)
class Weights:
    """The five tensors of the two equations, as numpy (so a page can cache them)."""

    W: np.ndarray  # [vocab, units]: a one-hot x_t picks row x_t
    U: np.ndarray  # [units, units]
    b: np.ndarray  # [units]
    V: np.ndarray  # [units, vocab]
    c: np.ndarray  # [vocab]

    @property
    def units(self) -> int:
        return self.U.shape[0]


class Step(NamedTuple):
    """One character read, and what the cell made of it."""

    char: str  # x_t
    h: np.ndarray  # [units] h_t, each in (-1, 1)
    top: tuple[tuple[str, float], ...]  # the TOP likeliest next characters and p_t of each, likeliest first


class Trained(NamedTuple):
    weights: Weights
    losses: list[float]  # per train step, nats per character
    seconds: float


def model_of(vocab_size: int, units: int, seed: int = 0) -> CharRNN:
    """A one-layer basic RNN as the app trains it: one-hot inputs, the cell, the softmax head."""
    return CharRNN(ModelConfig(cell="rnn", impl="dynamic", num_layers=1, state_size=units), vocab_size, seed)


def weights_of(model: CharRNN) -> Weights:
    cell, head = model.stack.cells[0], model.head
    return Weights(
        *(v.numpy() for v in (cell.kernel, cell.recurrent_kernel, cell.bias, head.kernel, head.bias))
    )


def with_weights(weights: Weights, vocab_size: int) -> CharRNN:
    """A model holding these weights."""
    model = model_of(vocab_size, weights.units)
    cell, head = model.stack.cells[0], model.head
    for var, value in zip(
        (cell.kernel, cell.recurrent_kernel, cell.bias, head.kernel, head.bias),
        (weights.W, weights.U, weights.b, weights.V, weights.c),
    ):
        var.assign(value)
    return model


def random_weights(vocab_size: int, units: int, seed: int = 0) -> Weights:
    """Untrained: the initial weights the app's own basic RNN starts from."""
    return weights_of(model_of(vocab_size, units, seed))


def train_briefly(ids: np.ndarray, vocab_size: int, units: int, steps: int, batch_size: int = 32,
                  num_steps: int = 25, learning_rate: float = 1e-2, seed: int = 0) -> Trained:  # fmt: skip
    """`steps` Adam updates on the text's first windows, the state carried from one to the next."""
    model = model_of(vocab_size, units, seed)
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function
    def update(x, y, state):  # x, y [batch, time] ids
        with tf.GradientTape() as tape:
            logits, state = model(x, state, training=True)  # [batch, time, vocab]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss, state

    t0, losses, state = time.perf_counter(), [], model.zero_state(batch_size)
    for x, y in itertools.islice(batch_iterator(ids, batch_size, num_steps), steps):
        loss, state = update(x, y, state)
        losses.append(float(loss))
    return Trained(weights_of(model), losses, time.perf_counter() - t0)


def run_steps(weights: Weights, vocab: Vocab, text: str) -> list[Step]:
    """Feed `text` one character at a time from a zero state; CorpusError names characters not in vocab."""
    ids = vocab.encode(text)
    model = with_weights(weights, len(vocab))
    cell = model.stack.cells[0]
    state, steps = cell.zero_state(1), []  # (h [1, units],)
    for i in ids:
        h, state = cell.step(tf.one_hot([i], len(vocab)), state)  # x_t [1, vocab] -> h_t [1, units]
        p = tf.nn.softmax(model.head(h))[0].numpy()  # [vocab]
        best = np.argsort(-p, kind="stable")[:TOP]
        steps.append(Step(vocab.chars[i], h[0].numpy(), tuple((vocab.chars[j], float(p[j])) for j in best)))
    return steps
