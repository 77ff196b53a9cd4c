"""One-step recurrent cells: take the input at step t and the state at t-1, return (h_t, new state).

Every cell is `cell(x_t, state) -> (h_t, new_state)` with x_t [batch, input_size], h_t [batch, units]
and state always a tuple of [batch, units] tensors, so the LSTM's (h, c) pair fits the same contract.
Weights are created up front and laid out as Keras's own cells lay them out (kernel [in, gates*units],
recurrent_kernel [units, gates*units], gate order as Keras), so weights can be copied between the two.
Each cell's name and words (and whether it reads one-hot characters) are its entry in core/catalogue.py.
"""

import keras
import tensorflow as tf

from core.catalogue import CELL_CHOICES
from core.registry import Registry

CELLS = Registry(CELL_CHOICES)  # the catalogue's cells, each with its class below
LN_EPSILON = 1e-5


def dense(x, kernel):
    """x [..., in] · kernel [in, out] -> [..., out]; a plain matmul per step, one tensordot for a sequence."""
    return tf.matmul(x, kernel) if x.shape.rank == 2 else tf.tensordot(x, kernel, axes=1)


def layer_norm(x, gain, shift):
    """Normalise x [batch, n] over its last axis, then scale and shift ([n] each)."""
    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + LN_EPSILON) * gain + shift


class Cell(keras.layers.Layer):
    """Shared plumbing: sizes, weight creation, and a zero state."""

    n_states = 1  # tensors in the state tuple
    gates = 1  # blocks of `units` columns in the kernels
    # Keras's own layer computing this very cell on the same weights, and its options (None: none).
    keras_layer = None
    keras_options: dict = {}
    gate_names: tuple[str, ...] = ()  # the sigmoid gates `gated` returns, in order (the Inside tab's)

    def __init__(self, input_size: int, units: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.input_size, self.units = input_size, units
        self.state_size = [units] * self.n_states  # what keras.layers.RNN reads
        self.output_size = units
        self.kernel = self.add_weight(
            shape=(input_size, self.gates * units),
            name="kernel",
            initializer=keras.initializers.GlorotUniform(seed),
        )
        self.recurrent_kernel = self.add_weight(
            shape=(units, self.gates * units),
            name="recurrent_kernel",
            initializer=keras.initializers.Orthogonal(seed=seed + 1),
        )
        self.build_extra()
        self.built = True

    def build_extra(self):
        """Bias (or layer-norm gains and shifts), created after the two kernels."""
        self.bias = self.add_weight(shape=(self.gates * self.units,), name="bias", initializer="zeros")

    def zero_state(self, batch_size, dtype=tf.float32) -> tuple:
        return tuple(tf.zeros([batch_size, self.units], dtype) for _ in range(self.n_states))

    def get_initial_state(self, batch_size=None):
        """keras.layers.RNN asks for this when no initial state is given."""
        return list(self.zero_state(batch_size))

    def call(self, inputs, states, training=None):
        h, new_state = self.step(inputs, tuple(states))
        return h, new_state

    def step(self, x, state):
        """One step: x [batch, input_size] -> (h [batch, units], new state)."""
        return self.recur(self, self.project(x), state)

    def project(self, x):
        """The input's share of every gate, x·W (+ b): [..., input_size] -> [..., gates*units].

        It needs no state, so an unroller may compute it for all steps at once, outside its loop."""
        return dense(x, self.kernel) + self.bias

    @classmethod
    def recur(cls, w, xw, state):
        """The rest of a step, given xw = project(x_t): the recurrent matmul and the gates.

        A function of the weights `w` (the cell itself, or the weights of several layers stacked on a
        leading axis: then every tensor here carries that extra axis, and each matmul is a batched
        one); so gates split on the last axis, and 1-D weights broadcast from the right."""
        h, state, _ = cls.gated(w, xw, state)
        return h, state

    @staticmethod
    def gated(w, xw, state):
        """recur's step, and the values of its gates: (h, new state, one [batch, units] per gate_names)."""
        raise NotImplementedError


@CELLS.register("rnn")
class BasicRNNCell(Cell):
    """The post's first model; it reads one-hot characters (`one_hot_inputs` in its catalogue entry)."""

    @staticmethod
    def gated(w, xw, state):
        (h,) = state  # [batch, units]
        h = tf.tanh(xw + tf.matmul(h, w.recurrent_kernel))
        return h, (h,), ()


@CELLS.register("lstm")
class LSTMCell(Cell):
    n_states, gates = 2, 4
    gate_names = ("input", "forget", "output")
    keras_layer = keras.layers.LSTM

    def build_extra(self):
        # Forget-gate bias starts at 1 (as TF1's forget_bias=1.0 and Keras's unit_forget_bias).
        init = tf.concat([tf.zeros([self.units]), tf.ones([self.units]), tf.zeros([2 * self.units])], 0)
        self.bias = self.add_weight(shape=(4 * self.units,), name="bias", initializer=lambda *a, **k: init)

    @staticmethod
    def gated(w, xw, state):
        h, c = state  # [batch, units] each
        z = xw + tf.matmul(h, w.recurrent_kernel)  # [batch, 4*units]
        i, f, g, o = tf.split(z, 4, axis=-1)
        i, f, o = tf.sigmoid(i), tf.sigmoid(f), tf.sigmoid(o)
        c = f * c + i * tf.tanh(g)
        h = o * tf.tanh(c)
        return h, (h, c), (i, f, o)


@CELLS.register("gru")
class GRUCell(Cell):
    gates = 3
    gate_names = ("update", "reset")
    keras_layer, keras_options = keras.layers.GRU, {"reset_after": False}  # reset before U·h, as here

    @staticmethod
    def gated(w, xw, state):
        (h,) = state
        xz, xr, xh = tf.split(xw, 3, axis=-1)  # [batch, units] each
        uz, ur, uh = tf.split(w.recurrent_kernel, 3, axis=-1)  # [units, units] each
        z = tf.sigmoid(xz + tf.matmul(h, uz))
        r = tf.sigmoid(xr + tf.matmul(h, ur))
        candidate = tf.tanh(xh + tf.matmul(r * h, uh))
        h = z * h + (1.0 - z) * candidate
        return h, (h,), (z, r)


class LayerNormCell(Cell):
    """Layer norm's shift replaces the bias: a gain and shift per gate."""

    def build_extra(self):
        n = self.gates * self.units
        self.gain = self.add_weight(shape=(n,), name="gain", initializer="ones")
        self.shift = self.add_weight(shape=(n,), name="shift", initializer=self.shift_init)

    def shift_init(self, shape, dtype=None):
        return tf.zeros(shape, dtype)

    def project(self, x):
        return dense(x, self.kernel)  # no bias: LN's shift takes its place


def normed_gates(w, z, gates: int) -> list:
    """LN each gate's pre-activation separately: z [batch, gates*units] -> `gates` tensors [batch, units]."""
    zs = tf.split(z, gates, axis=-1)
    gains, shifts = tf.split(w.gain, gates, axis=-1), tf.split(w.shift, gates, axis=-1)
    return [layer_norm(zg, g, s) for zg, g, s in zip(zs, gains, shifts)]


@CELLS.register("ln_lstm")
class LayerNormLSTMCell(LayerNormCell):
    n_states, gates = 2, 4
    gate_names = ("input", "forget", "output")

    def build_extra(self):
        super().build_extra()  # then LN of c before the output tanh has its own gain and shift
        self.out_gain = self.add_weight(shape=(self.units,), name="out_gain", initializer="ones")
        self.out_shift = self.add_weight(shape=(self.units,), name="out_shift", initializer="zeros")

    def shift_init(self, shape, dtype=None):
        u = self.units  # forget gate's shift starts at 1, as the post's forget_bias
        return tf.concat([tf.zeros([u]), tf.ones([u]), tf.zeros([2 * u])], 0)

    @staticmethod
    def gated(w, xw, state):
        h, c = state
        i, f, g, o = normed_gates(w, xw + tf.matmul(h, w.recurrent_kernel), 4)  # z: [batch, 4*units]
        i, f, o = tf.sigmoid(i), tf.sigmoid(f), tf.sigmoid(o)
        c = f * c + i * tf.tanh(g)
        h = o * tf.tanh(layer_norm(c, w.out_gain, w.out_shift))
        return h, (h, c), (i, f, o)


@CELLS.register("ln_gru")
class LayerNormGRUCell(LayerNormCell):
    gates = 3
    gate_names = ("update", "reset")

    @staticmethod
    def gated(w, xw, state):
        (h,) = state
        # The candidate's LN covers x·W + (r*h)·U together, so no gain or shift is left over for it.
        xz, xr, xh = tf.split(xw, 3, axis=-1)
        uz, ur, uh = tf.split(w.recurrent_kernel, 3, axis=-1)
        gz, gr, gh = tf.split(w.gain, 3, axis=-1)
        sz, sr, sh = tf.split(w.shift, 3, axis=-1)
        z = tf.sigmoid(layer_norm(xz + tf.matmul(h, uz), gz, sz))
        r = tf.sigmoid(layer_norm(xr + tf.matmul(h, ur), gr, sr))
        candidate = tf.tanh(layer_norm(xh + tf.matmul(r * h, uh), gh, sh))
        h = z * h + (1.0 - z) * candidate
        return h, (h,), (z, r)


def make_cell(name: str, input_size: int, units: int, seed: int = 0, layer_name: str | None = None) -> Cell:
    """A registered cell; `layer_name` (default `<name>_cell`) names its variables' scope."""
    return CELLS[name].impl(input_size, units, seed=seed, name=layer_name or f"{name}_cell")
