"""Cells: the one-step contract, and agreement with Keras's own cells on the same weights."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.model.cells import CELLS, make_cell

B, F, H = 3, 5, 8


@pytest.mark.parametrize("name", CELLS.names())
def test_step_contract(name):
    cell = make_cell(name, F, H)
    state = cell.zero_state(B)
    assert isinstance(state, tuple) and len(state) == cell.n_states
    h, new_state = cell(tf.random.normal([B, F]), state)
    assert h.shape == (B, H)
    assert isinstance(new_state, tuple) and len(new_state) == cell.n_states
    assert all(s.shape == (B, H) for s in new_state)
    np.testing.assert_allclose(h, new_state[0])  # h is the first state tensor for every cell
    assert CELLS[name].description


@pytest.mark.parametrize("name", CELLS.names())
def test_state_changes_the_output(name):
    cell = make_cell(name, F, H)
    x = tf.random.normal([B, F])
    h0, s1 = cell(x, cell.zero_state(B))
    h1, _ = cell(x, s1)
    assert not np.allclose(h0, h1)


def test_lstm_matches_a_numpy_reference():
    cell = make_cell("lstm", F, H)
    x, h, c = (np.random.RandomState(0).randn(B, n).astype("float32") for n in (F, H, H))
    z = x @ cell.kernel.numpy() + h @ cell.recurrent_kernel.numpy() + cell.bias.numpy()
    i, f, g, o = np.split(z, 4, axis=1)
    sig = lambda v: 1 / (1 + np.exp(-v))
    c_ref = sig(f) * c + sig(i) * np.tanh(g)
    h_ref = sig(o) * np.tanh(c_ref)
    h_out, (h2, c2) = cell(x, (h, c))
    np.testing.assert_allclose(c2, c_ref, atol=1e-5)
    np.testing.assert_allclose(h_out, h_ref, atol=1e-5)


@pytest.mark.parametrize(
    "name, keras_cell",
    [
        ("rnn", lambda: keras.layers.SimpleRNNCell(H)),
        ("lstm", lambda: keras.layers.LSTMCell(H)),
        ("gru", lambda: keras.layers.GRUCell(H, reset_after=False)),
    ],
)
def test_same_numbers_as_keras_cells_on_the_same_weights(name, keras_cell):
    ours, theirs = make_cell(name, F, H), keras_cell()
    theirs.build((B, F))
    theirs.set_weights(ours.get_weights())  # same layout: kernel, recurrent_kernel, bias
    x = tf.random.normal([B, F])
    state = tuple(tf.random.normal([B, H]) for _ in range(ours.n_states))
    h_ours, s_ours = ours(x, state)
    h_theirs, s_theirs = theirs(x, list(state))
    np.testing.assert_allclose(h_ours, h_theirs, atol=1e-5)
    for a, b in zip(s_ours, s_theirs):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_layer_norm_cells_are_scale_invariant_in_their_inputs():
    # LN on every gate pre-activation: scaling the input kernel rows for the same x changes nothing
    # once the recurrent part is zero (h = 0), which a plain LSTM does not have.
    for name in ("ln_lstm", "ln_gru"):
        cell = make_cell(name, F, H)
        x = tf.random.normal([B, F])
        h1, _ = cell(x, cell.zero_state(B))
        h2, _ = cell(3.0 * x, cell.zero_state(B))
        np.testing.assert_allclose(h1, h2, atol=1e-4)
