"""Ways to iterate a one-step cell over time: unroll(cell, xs, state, training) -> (outputs, state).

xs is [batch, time, features], outputs [batch, time, units], state the cell's tuple. All of them
compute the same numbers on the same weights (tests/test_unrollers.py); they differ in the graph
they build, so in how long tracing takes and how fast a step runs. Their names and words are their entries
in core/catalogue.py. One whose entry says reads_rows may also be given Rows(table, ids), an embedding not
yet looked up (core/model/char_rnn.py does).
"""

import weakref
from typing import NamedTuple

import keras
import tensorflow as tf

from core.catalogue import IMPL_CHOICES
from core.model.fused import engine as fused
from core.registry import Registry

# The catalogue's implementations: the TF2 ones registered below, the TF1 family in unrollers_tf1.py
# (imported by the registry when one of them is first looked up).
UNROLLERS = Registry(IMPL_CHOICES)


def time_major(x):
    """[batch, time, ...] <-> [time, batch, ...]."""
    return tf.transpose(x, [1, 0] + list(range(2, len(x.shape))))


@UNROLLERS.register("static")
def unroll_static(cell, xs, state, training=False):
    outputs = []
    for t in range(xs.shape[1]):  # a Python loop: traced num_steps times
        h, state = cell(xs[:, t], state, training=training)
        outputs.append(h)
    return tf.stack(outputs, axis=1), state


@UNROLLERS.register("dynamic")
def unroll_dynamic(cell, xs, state, training=False):
    steps = tf.shape(xs)[1]
    # Reading inputs through a TensorArray, not xs[t]: indexing a tensor inside the loop makes the
    # backward pass build a full-size [time, batch, features] gradient at every step.
    inputs = tf.TensorArray(xs.dtype, size=steps).unstack(time_major(xs))
    outputs = tf.TensorArray(xs.dtype, size=steps)

    def body(t, outputs, state):
        h, state = cell(inputs.read(t), state, training=training)
        return t + 1, outputs.write(t, h), state

    _, outputs, state = tf.while_loop(lambda t, *_: t < steps, body, (tf.constant(0), outputs, tuple(state)))
    return time_major(outputs.stack()), state


@UNROLLERS.register("scan")
def unroll_scan(cell, xs, state, training=False):
    def step(carry, x_t):
        return cell(x_t, carry[1], training=training)

    h0 = tf.zeros([tf.shape(xs)[0], cell.output_size], xs.dtype)
    hs, states = tf.scan(step, time_major(xs), initializer=(h0, tuple(state)))
    return time_major(hs), tuple(s[-1] for s in states)  # states: each [time, batch, units]


_keras_rnns = weakref.WeakKeyDictionary()  # cell -> its keras.layers.RNN, built once per cell


@UNROLLERS.register("keras")
def unroll_keras(cell, xs, state, training=False):
    if cell not in _keras_rnns:
        _keras_rnns[cell] = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    outputs, *state = _keras_rnns[cell](xs, initial_state=list(state), training=training)
    return outputs, tuple(state)


_fused_layers = weakref.WeakKeyDictionary()  # one of our cells -> a Keras LSTM/GRU layer on its weights


def fused_layer(cell):
    """keras.layers.LSTM/GRU whose cell computes with *our* cell's variables (same layout, shared)."""
    if cell not in _fused_layers:
        layer = cell.keras_layer(cell.units, return_sequences=True, return_state=True, **cell.keras_options)
        layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias = (
            cell.kernel,
            cell.recurrent_kernel,
            cell.bias,
        )
        layer.cell.built = layer.built = True  # so building never makes weights of its own
        _fused_layers[cell] = layer
    return _fused_layers[cell]


@UNROLLERS.register("keras-fused")
def unroll_keras_fused(stack, xs, state, training=False):
    # Dropout on whole [batch, time, units] sequences between layers draws an independent mask per
    # step, exactly as the per-step DropoutWrapper in StackedCell does.
    new_state = []
    for i, (cell, layer_state) in enumerate(zip(stack.cells, stack.split_state(tuple(state)))):
        xs, *layer_state = fused_layer(cell)(
            stack.drop_into(xs, i, training), initial_state=list(layer_state), training=training
        )
        new_state.extend(layer_state)
    return stack.drop(xs, training), tuple(new_state)


class Rows(NamedTuple):
    """Inputs that are rows of a table, not yet looked up: an embedding's table [V, I] and the ids
    [batch, time]. An unroller whose entry says reads_rows is given these; every other, the rows."""

    table: object
    ids: object

    def looked_up(self):
        return tf.gather(self.table, self.ids)  # [batch, time, I], as keras.layers.Embedding gives them


@UNROLLERS.register("fused")
def unroll_fused(stack, xs, state, training=False):
    if isinstance(xs, Rows) and stack.drops_input(training):  # dropped-out inputs are rows of no table
        xs = xs.looked_up()
    if isinstance(xs, Rows):  # layer 1's x·W as a lookup in E·W (core/model/fused/engine.py)
        inputs, ids = xs.table, tf.transpose(xs.ids)  # the table [V, I]; ids [time, batch]
        steps_batch = tf.shape(ids)
    else:
        inputs, ids = time_major(stack.drop_into(xs, 0, training)), None  # [time, batch, features]
        steps_batch = tf.shape(inputs)[:2]
    masks = ()
    if training and stack.dropout > 0:  # the layers above the first: a mask per step, drawn up front
        masks = tuple(
            stack.drop(tf.ones(tf.concat([steps_batch, [below.units]], 0)), training)
            for below in stack.cells[:-1]
        )  # [time, batch, the layer below's units]
    outputs, state = fused.unroll(stack, inputs, state, masks, ids=ids)
    return stack.drop(time_major(outputs), training), state


def folds_embedding(model) -> bool:
    """Whether a run of `model` (a ModelConfig) trains with layer 1's x·W done on the embedding's table:
    its unroller reads rows (CharRNN hands it Rows when there is an embedding, not one-hot inputs) and
    no input dropout makes the rows differ from the table's (unroll_fused)."""
    reads_rows = model.impl in UNROLLERS and UNROLLERS[model.impl].reads_rows
    return reads_rows and not model.one_hot_inputs and not (model.dropout and model.input_dropout)


def unroll(name: str, cell, xs, state, training=False):
    """Run the registered unroller `name`."""
    return UNROLLERS[name].impl(cell, xs, state, training=training)
