"""Stacking and dropout wrap cells in one place: a StackedCell is itself a one-step cell."""

import keras
import tensorflow as tf

from core.model.cells import make_cell


class StackedCell(keras.layers.Layer):
    """`num_layers` cells run bottom to top within one time step.

    The state is one flat tuple (layer 1's tensors, then layer 2's, ...) so every unroller, tf.scan
    and keras.layers.RNN can carry it as they carry a single cell's state. Dropout follows the post's
    DropoutWrapper: on each layer's input, and on the top layer's output, only while training. With
    `input_dropout` False, layer 1's input (the characters) is never dropped: dropout acts between the
    layers and on the output only, which lets `fused` keep its embedding fold (core/model/unrollers.py).
    """

    def __init__(self, cells, dropout: float = 0.0, input_dropout: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.cells = list(cells)
        self.dropout = dropout
        self.input_dropout = input_dropout
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

    def drop_into(self, x, layer: int, training):
        """x as layer `layer` (0: the first) reads it: dropped as `drop` does, except layer 1's input
        when input_dropout is off. Every unroller that drops per layer asks here."""
        return self.drop(x, training) if layer or self.input_dropout else x

    def drops_input(self, training) -> bool:
        """Whether this call changes layer 1's input (the rows fused looks up are then not the table's)."""
        return bool(training) and self.dropout > 0 and self.input_dropout

    def call(self, inputs, states, training=None):
        x, new_state = inputs, []  # x: [batch, features] at this step
        for i, (cell, layer_state) in enumerate(zip(self.cells, self.split_state(tuple(states)))):
            x, layer_state = cell.step(self.drop_into(x, i, training), layer_state)
            new_state.extend(layer_state)
        return self.drop(x, training), tuple(new_state)


def make_stack(
    cell: str,
    input_size: int,
    units: int,
    num_layers: int,
    dropout: float = 0.0,
    seed: int = 0,
    input_dropout: bool = True,
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
    return StackedCell(cells, dropout, input_dropout, name="stack")
