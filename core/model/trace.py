"""What the network computes as it reads a text, at every position, in one pass.

    tracer = Tracer(model, vocab)        # one compiled loop per model, reused for every text
    tr = tracer("ROMEO:\\nBut soft")       # -> Trace

Row t of every array describes the network just after it read character t: each layer's output h, its
cell state c (LSTMs), each sigmoid gate, and `probs[t]`, its distribution over character t+1. The loop
is the fused engine's forward loop over the text with a batch of one, carrying only the states; each
layer's gates then come from those states for every position at once, through the very step training
takes (`Cell.gated` is `Cell.recur` with the gates kept), so its states are training's states
(tests/test_inside.py). Reading a run's checkpoints into a Tracer is core/inside/trace.py's.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from core.data.corpus import CorpusError, Vocab
from core.model.fused import engine as fused


class LSTMState(NamedTuple):
    """One LSTM layer's state, in the order the cell keeps it (`h, c = state` in LSTMCell.gated)."""

    h: np.ndarray
    c: np.ndarray


def cell_states(flat: np.ndarray) -> np.ndarray:
    """Each LSTM layer's c from the stack's flat state, layer after layer: [2·L, N, H] -> [L, N, H]."""
    layers = [LSTMState(*flat[i : i + 2]) for i in range(0, len(flat), 2)]
    return np.stack([layer.c for layer in layers])


def surprisal_bits(probs: np.ndarray, ids) -> np.ndarray:
    """probs [N, V] (row t: the distribution after character t), ids [N] -> [N-1] -log2 p(ids[t+1])."""
    ids = np.asarray(ids)
    actual = probs[np.arange(len(ids) - 1), ids[1:]]
    return -np.log2(np.maximum(actual, np.finfo(np.float32).tiny))


@dataclass(frozen=True, eq=False)
class Trace:
    """A text read by a network: per position, its states, gates and predictions (numpy arrays)."""

    text: str
    ids: np.ndarray  # [N] int32, the text's characters
    hidden: np.ndarray  # [L, N, H] each layer's output h after reading character t
    cell: np.ndarray | None  # [L, N, H] each layer's cell state c (LSTM, LN-LSTM), else None
    gates: dict  # gate name -> [L, N, H], the cell's sigmoid gates ({} for the basic RNN)
    probs: np.ndarray  # [N, V] the next-character distribution after character t
    vocab: Vocab

    @property
    def surprisal_bits(self) -> np.ndarray:
        """[N-1]: -log2 p(the actual character t+1) as predicted after character t."""
        return surprisal_bits(self.probs, self.ids)

    @property
    def bits_per_char(self) -> float:
        return float(np.mean(self.surprisal_bits))

    def top(self, t: int, k: int = 5) -> list[tuple[str, float]]:
        """The k likeliest next characters after position t, with their probabilities."""
        best = np.argsort(-self.probs[t])[:k]
        return [(self.vocab.chars[i], float(self.probs[t, i])) for i in best]

    def saturation(self, low: float = 0.1, high: float = 0.9) -> dict:
        """Per gate, how often each unit is left- (< low) and right-saturated (> high), as Karpathy, Johnson
        & Fei-Fei (2015) plot it: gate name -> (left [L, H], right [L, H]), fractions of the positions."""
        return {name: ((v < low).mean(axis=1), (v > high).mean(axis=1)) for name, v in self.gates.items()}

    def units(self) -> tuple[np.ndarray, list[str]]:
        """Every unit's activation side by side ([N, U]) and a label for each: 'layer 1 h 17', ..."""
        parts, labels = [], []
        for kind, values in (("h", self.hidden), ("c", self.cell)):
            if values is None:
                continue
            for layer, block in enumerate(values):  # [N, H]
                parts.append(block)
                labels += [f"layer {layer + 1} {kind} {unit}" for unit in range(block.shape[1])]
        return np.concatenate(parts, axis=1), labels


class Tracer:
    """A model's compiled reading loop (texts of any length, no retrace)."""

    def __init__(self, model, vocab: Vocab):
        self.model, self.vocab = model, vocab
        self.cells = model.stack.cells
        self.gate_names = type(self.cells[0]).gate_names
        self.has_cell_state = self.cells[0].n_states == 2  # (h, c): the LSTMs
        self._run = tf.function(self._read, input_signature=[tf.TensorSpec([None], tf.int32)])

    def __call__(self, text: str) -> Trace:
        """Read `text` from a zero state; CorpusError for an empty text or characters the run never saw."""
        if not text:
            raise CorpusError("the text is empty: give the network something to read")
        ids = self.vocab.encode(text)
        hidden, states, gates, probs = (x.numpy() for x in self._run(tf.constant(ids)))
        cell = cell_states(states) if self.has_cell_state else None
        named = {name: gates[i :: len(self.gate_names)] for i, name in enumerate(self.gate_names)}
        return Trace(text, ids, hidden, cell, named, probs, self.vocab)

    def _read(self, ids):
        """ids [N] -> (h [L, N, H], flat state [S, N, H], gates [L·G, N, H] layer by layer, probs [N, V])."""
        xs = self.model.embed(ids[None])[0]  # [N, F]
        first = self.cells[0]
        # The loop carries only the state (the fused engine's forward loop: layer 1's x·W for every step
        # is one matmul before it); the gates come after it, every step at once, from the states it kept.
        per_layer = fused.state_sequences(self.model.stack, xs[:, None, :], self.model.zero_state(1))
        states = [s[:, 0] for layer in per_layer for s in layer]  # the flat state after each step: [N, H]s
        split = self.model.stack.split_state
        hidden, gates, inputs = [], [], xs
        for cell, layer_states in zip(self.cells, split(states)):
            # Each layer's step once more with the N positions as its batch: the state before each step in,
            # its gates out (`gated` is the step `recur` took, with the gates kept).
            before = tuple(tf.concat([tf.zeros_like(s[:1]), s[:-1]], 0) for s in layer_states)
            _, _, layer_gates = type(cell).gated(cell, cell.project(inputs), before)
            hidden.append(layer_states[0])
            gates += layer_gates
            inputs = layer_states[0]
        stacked = lambda ts: tf.stack(ts) if ts else tf.zeros([0, tf.shape(ids)[0], first.units])
        probs = tf.nn.softmax(self.model.head(hidden[-1]))  # [N, V]
        return stacked(hidden), stacked(states), stacked(gates), probs
