"""Stacking and dropout wrap cells in one place: a StackedCell is itself a one-step cell."""

import keras
import tensorflow as tf

from core.model.cells import make_cell


class StackedCell(keras.layers.Layer):
    """`num_layers` cells run bottom to top within one time step.

    The state is one flat tuple (layer 1's tensors, then layer 2's, ...) so every unroller, tf.scan
    and keras.layers.RNN can carry it as they carry a single cell's state. Dropout follows the post's
    DropoutWrapper: on each layer's input, and on the top layer's output, only while training.
    """

    def __init__(self, cells, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.cells = list(cells)
        self.dropout = dropout
        self.state_size = [n for cell in self.cells for n in cell.state_size]
        self.output_size = self.cells[-1].units
        self.built = True

    def split_state(self, state) -> list[tuple]:
        """Flat state tuple -> one tuple per layer."""
        out, i = [], 0
        for cell in self.cells:
            out.append(tuple(state[i : i + cell.n_states]))
            i += cell.n_states
        return out

    def zero_state(self, batch_size, dtype=tf.float32) -> tuple:
        return tuple(t for cell in self.cells for t in cell.zero_state(batch_size, dtype))

    def get_initial_state(self, batch_size=None):
        return list(self.zero_state(batch_size))

    def drop(self, x, training):
        return tf.nn.dropout(x, rate=self.dropout) if training and self.dropout > 0 else x

    def call(self, inputs, states, training=None):
        x, new_state = inputs, []  # x: [batch, features] at this step
        for cell, layer_state in zip(self.cells, self.split_state(tuple(states))):
            x, layer_state = cell.step(self.drop(x, training), layer_state)
            new_state.extend(layer_state)
        return self.drop(x, training), tuple(new_state)


def make_stack(
    cell: str, input_size: int, units: int, num_layers: int, dropout: float = 0.0, seed: int = 0
) -> StackedCell:
    """Layer 1 reads input_size features; every layer above reads the one below's units.

    Each cell's variables are named stack/layer_<n>/<weight>, the same in every process, which is what
    checkpoints (core/runs/checkpoints.py) store them under."""
    with keras.name_scope("stack"):
        cells = [
            make_cell(
                cell, input_size if i == 0 else units, units, seed=seed + 10 * i, layer_name=f"layer_{i + 1}"
            )
            for i in range(num_layers)
        ]
    return StackedCell(cells, dropout, name="stack")
