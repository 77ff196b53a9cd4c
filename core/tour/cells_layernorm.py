"""The Tour's layer normalisation on numbers: one step of a tiny untrained `ln_lstm` cell, a gate's
pre-activations before and after they are normalised.

    cell = tiny_ln_cell()
    n = normalise_step(cell, "forget", scale=10.0)   # -> Normalised: z, (z - mean) / std, the gate's values

The numbers are the cell's own: its weights, core/model/cells.py's layer_norm, its gain and shift.
"""

from typing import NamedTuple

import numpy as np
import tensorflow as tf

from core.model.cells import LayerNormLSTMCell, layer_norm, make_cell

GATES = ("input", "forget", "candidate", "output")  # the four blocks of the LSTM's z, in Keras's order
UNITS, INPUTS = 256, 64  # enough units for a histogram to have a shape


class Normalised(NamedTuple):
    """One gate's pre-activations for one step, before and after layer normalisation."""

    gate: str
    z: np.ndarray  # [H] x·W + h·U: what the gate would read with no normalisation (and no bias)
    normalised: np.ndarray  # [H] (z - mean) / sqrt(var + eps) over the H units: mean 0, std 1
    after: np.ndarray  # [H] normalised · gain + shift: what the gate's squashing function reads
    plain_gate: np.ndarray  # [H] the gate's values had z gone in unnormalised (z + shift, as a bias)
    ln_gate: np.ndarray  # [H] the gate's values as the cell computes them

    @property
    def squash(self) -> str:
        return "tanh" if self.gate == "candidate" else "sigmoid"


def tiny_ln_cell(units: int = UNITS, inputs: int = INPUTS, seed: int = 0) -> LayerNormLSTMCell:
    """A layer-normalised LSTM cell with random (untrained) weights: gain 1, shift 0 (forget's 1)."""
    return make_cell("ln_lstm", inputs, units, seed=seed, layer_name="tour_ln_lstm")


def step_inputs(cell, scale: float, seed: int = 0) -> tuple:
    """A made-up step: x [1, inputs] drawn with standard deviation `scale`, and the state (h, c) before it,
    h in (-1, 1) as an LSTM's output is, c zero."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, scale, (1, cell.input_size)).astype(np.float32)
    h = np.tanh(rng.normal(0.0, 1.0, (1, cell.units))).astype(np.float32)
    return tf.constant(x), (tf.constant(h), tf.zeros([1, cell.units]))


def normalise_step(cell: LayerNormLSTMCell, gate: str, scale: float = 1.0, seed: int = 0) -> Normalised:
    """`gate`'s numbers for one step of `cell` on step_inputs(scale, seed)."""
    x, (h, c) = step_inputs(cell, scale, seed)
    k, u = GATES.index(gate), cell.units
    z = (cell.project(x) + tf.matmul(h, cell.recurrent_kernel))[:, k * u : (k + 1) * u]  # [1, H]
    gain, shift = cell.gain[k * u : (k + 1) * u], cell.shift[k * u : (k + 1) * u]  # [H] each
    normalised = layer_norm(z, tf.ones([u]), tf.zeros([u]))  # the same function, before gain and shift
    after = layer_norm(z, gain, shift)
    squash = tf.tanh if gate == "candidate" else tf.sigmoid
    row = lambda t: t[0].numpy()  # [1, H] -> [H]
    return Normalised(gate, row(z), row(normalised), row(after), row(squash(z + shift)), row(squash(after)))


def saturated(values: np.ndarray, squash: str) -> float:
    """The share of a gate's units pinned near an end (sigmoid: < 0.1 or > 0.9; tanh: |v| > 0.9), where
    its slope, and so what training can change, is small."""
    low = -0.9 if squash == "tanh" else 0.1
    return float(((values < low) | (values > 0.9)).mean())
