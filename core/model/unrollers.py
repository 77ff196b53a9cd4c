"""Ways to iterate a one-step cell over time: unroll(cell, xs, state, training) -> (outputs, state).

xs is [batch, time, features], outputs [batch, time, units], state the cell's tuple. All of them
compute the same numbers on the same weights (tests/test_unrollers.py); they differ in the graph
they build, so in how long tracing takes and how fast a step runs. One registered with reads_rows=True
may also be given Rows(table, ids), an embedding not yet looked up (core/model/char_rnn.py does).
"""

import weakref
from typing import NamedTuple

import keras
import tensorflow as tf

from core.model.cells import CELLS
from core.model.fused import engine as fused
from core.registry import Registry

UNROLLERS = Registry("implementation")


def time_major(x):
    """[batch, time, ...] <-> [time, batch, ...]."""
    return tf.transpose(x, [1, 0] + list(range(2, len(x.shape))))


@UNROLLERS.register(
    "static",
    "a Python list of per-step tensors (the post's tf.nn.rnn): one copy of the "
    "cell per step in the graph, so build time grows with num_steps",
    plain=(
        "writes the cell out once for every character of the window, one copy after another, so the "
        "bigger the window, the bigger the program TensorFlow must build"
    ),
)
def unroll_static(cell, xs, state, training=False):
    outputs = []
    for t in range(xs.shape[1]):  # a Python loop: traced num_steps times
        h, state = cell(xs[:, t], state, training=training)
        outputs.append(h)
    return tf.stack(outputs, axis=1), state


@UNROLLERS.register(
    "dynamic",
    "one symbolic loop (the post's dynamic_rnn): tf.while_loop over TensorArrays, "
    "build time independent of num_steps",
    plain=(
        "one loop that runs the same cell once per character: the program stays the same size whatever "
        "the window"
    ),
)
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


@UNROLLERS.register(
    "scan",
    "tf.scan over time-major inputs (the post's third way): a loop that also stacks every step's state",
    plain="the same kind of loop, written as a scan that also keeps every step's state",
)
def unroll_scan(cell, xs, state, training=False):
    def step(carry, x_t):
        return cell(x_t, carry[1], training=training)

    h0 = tf.zeros([tf.shape(xs)[0], cell.output_size], xs.dtype)
    hs, states = tf.scan(step, time_major(xs), initializer=(h0, tuple(state)))
    return time_major(hs), tuple(s[-1] for s in states)  # states: each [time, batch, units]


_keras_rnns = weakref.WeakKeyDictionary()  # cell -> its keras.layers.RNN, built once per cell


@UNROLLERS.register(
    "keras",
    "keras.layers.RNN around the same cell: Keras 3's own loop",
    plain="the library's general loop, run around this project's own cell",
)
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


KERAS_TWINS = tuple(name for name in CELLS if CELLS[name].impl.keras_layer is not None)


@UNROLLERS.register(
    "keras-fused",
    "the library's own keras.layers.LSTM / GRU, one layer after another, on the "
    f"same weights ({' and '.join(KERAS_TWINS)} only)",
    supports=KERAS_TWINS,
    plain="the library's ready-made LSTM and GRU layers, computing with the same weights",
)
def unroll_keras_fused(stack, xs, state, training=False):
    # Dropout on whole [batch, time, units] sequences between layers draws an independent mask per
    # step, exactly as the per-step DropoutWrapper in StackedCell does.
    new_state = []
    for cell, layer_state in zip(stack.cells, stack.split_state(tuple(state))):
        xs, *layer_state = fused_layer(cell)(
            stack.drop(xs, training), initial_state=list(layer_state), training=training
        )
        new_state.extend(layer_state)
    return stack.drop(xs, training), tuple(new_state)


class Rows(NamedTuple):
    """Inputs that are rows of a table, not yet looked up: an embedding's table [V, I] and the ids
    [batch, time]. An unroller registered with reads_rows=True is given these; every other, the rows."""

    table: object
    ids: object

    def looked_up(self):
        return tf.gather(self.table, self.ids)  # [batch, time, I], as keras.layers.Embedding gives them


@UNROLLERS.register(
    "fused",
    "a hand-derived backward (core/model/fused/engine.py): all layers in one forward loop and one "
    "backward loop, weight gradients as one large matmul each, an embedding folded into layer 1's "
    "input matmul; the fastest here for stacked layers and, on some machines, for one wide layer",
    reads_rows=True,
    # Its layers' small ops run side by side (layer l at step t beside layer l-1 at step t+1); an op
    # split over two threads as well waits on the other half and slows that overlap. On 2 cores, one
    # thread per op took the seed config's step from 0.229-0.240 s to 0.183-0.204 (README, "One thread
    # per op").
    op_threads=1,
    plain=(
        "this project's fastest loop: every layer in one pass forward and one pass back, with the "
        "backward written out by hand"
    ),
)
def unroll_fused(stack, xs, state, training=False):
    dropped = training and stack.dropout > 0
    if isinstance(xs, Rows) and not dropped:  # layer 1's x·W as a lookup in E·W (core/model/fused/engine.py)
        outputs, state = fused.unroll(stack, xs.table, state, ids=tf.transpose(xs.ids))  # ids [time, batch]
        return time_major(outputs), state
    if isinstance(xs, Rows):  # dropped-out inputs are rows of no table
        xs = xs.looked_up()
    xs = time_major(stack.drop(xs, training))  # [time, batch, features]
    masks = ()
    if dropped:  # the layers above the first: a mask per step, drawn up front
        masks = tuple(
            stack.drop(tf.ones(tf.concat([tf.shape(xs)[:2], [below.units]], 0)), training)
            for below in stack.cells[:-1]
        )  # [time, batch, the layer below's units]
    outputs, state = fused.unroll(stack, xs, state, masks)
    return stack.drop(time_major(outputs), training), state


def folds_embedding(model) -> bool:
    """Whether a run of `model` (a ModelConfig) trains with layer 1's x·W done on the embedding's table:
    its unroller reads rows (CharRNN hands it Rows when there is an embedding, not one-hot inputs) and
    no input dropout makes the rows differ from the table's (unroll_fused)."""
    reads_rows = model.impl in UNROLLERS and UNROLLERS[model.impl].reads_rows
    return reads_rows and not model.one_hot_inputs and not model.dropout


def unroll(name: str, cell, xs, state, training=False):
    """Run the registered unroller `name`."""
    return UNROLLERS[name].impl(cell, xs, state, training=training)


# The TF1 family registers itself in UNROLLERS: imported here, so every reader of UNROLLERS sees it.
from core.model import unrollers_tf1  # noqa: E402, F401
