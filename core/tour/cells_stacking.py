"""The Tour's stack and its dropout masks: a tiny untrained stack reads a text, as training would run it.

    model = tiny_stack(vocab_size, layers=3)
    reading = read_stack(model, ids, dropout=0.2, seed=0)   # -> StackReading: h per layer, masks drawn

The step is the project's own (core/model/stack.py's StackedCell.call: bottom to top, dropout on each
layer's input and on the top layer's output); only the masks are drawn from a seed, so a page shows the
same masks again for the same seed, and kept, so it can draw them.
"""

from typing import NamedTuple

import numpy as np
import tensorflow as tf

from core.config import ModelConfig
from core.model.char_rnn import CharRNN
from core.model.stack import StackedCell

UNITS = 16  # per layer: small enough to draw every unit of every layer


class StackReading(NamedTuple):
    """What a stack computed over a text, one character at a time."""

    hidden: np.ndarray  # [L, N, H] each layer's output h after each character (before any dropout on it)
    masks: np.ndarray  # [L+1, N, H] what dropout multiplied by: 0 (dropped) or 1/(1-rate) (kept);
    # row l < L: layer l+1's input, row L: the top layer's output
    dropout: float


def tiny_stack(vocab_size: int, layers: int, cell: str = "gru", units: int = UNITS, seed: int = 0) -> CharRNN:
    """A CharRNN with random (untrained) weights: embedding of `units`, `layers` cells of `units`."""
    config = ModelConfig(cell=cell, impl="dynamic", num_layers=layers, state_size=units)
    return CharRNN(config, vocab_size, seed=seed)


class SeededDrop(StackedCell):
    """The stack's own step with its masks drawn from a seed and kept (one per drop, in call order)."""

    def __init__(self, stack: StackedCell, dropout: float, seed: int):
        super().__init__(stack.cells, dropout, name="seeded_drop")
        self.seed, self.drawn = seed, []

    def drop(self, x, training):
        """x [1, features] -> x times a mask (tf.nn.dropout's rule: keep with 1-rate, scale by 1/(1-rate))."""
        if training and self.dropout > 0:
            mask = tf.nn.experimental.stateless_dropout(
                tf.ones_like(x), rate=self.dropout, seed=[self.seed, len(self.drawn)]
            )
        else:
            mask = tf.ones_like(x)
        self.drawn.append(mask[0].numpy())
        return x * mask


def read_stack(model: CharRNN, ids, dropout: float = 0.0, seed: int = 0) -> StackReading:
    """Read ids [N] one character at a time from a zero state, dropping as training does (rate `dropout`)."""
    stack = SeededDrop(model.stack, dropout, seed)
    state, hidden = model.zero_state(1), []
    xs = model.embed(tf.constant(ids, tf.int32)[None])[0]  # [N, features], looked up once
    for t in range(len(ids)):
        # StackedCell.call itself (Keras's __call__ around it only adds bookkeeping, per step)
        _, state = stack.call(xs[t : t + 1], state, training=True)  # x [1, features]
        hidden.append([layer[0][0].numpy() for layer in stack.split_state(state)])  # each layer's h [H]
    layers = len(stack.cells)
    masks = np.array(stack.drawn).reshape(len(ids), layers + 1, -1)  # [N, L+1, H]: L inputs, then the output
    return StackReading(np.array(hidden).transpose(1, 0, 2), masks.transpose(1, 0, 2), dropout)


def dropped_share(reading: StackReading) -> float:
    """The share of all the numbers dropout set to 0 in this reading."""
    return float((reading.masks == 0).mean())
