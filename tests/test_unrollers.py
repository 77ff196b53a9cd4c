"""Every unroller gives the same outputs, final states and gradients as every other, on the same weights."""

import numpy as np
import pytest
import tensorflow as tf

from core.model.cells import CELLS
from core.model.stack import make_stack
from core.model.unrollers import UNROLLERS, unroll

B, T, F, H = 3, 6, 5, 8
PAIRS = [
    (c, u)
    for c in CELLS.names()
    for u in UNROLLERS.names(trains_only=True)
    if u != "static" and UNROLLERS[u].works_with(c)
]


def run(impl, stack, xs, state):
    """Outputs, final state, and gradients of a loss touching both w.r.t. weights and inputs."""
    with tf.GradientTape() as tape:
        tape.watch(xs)
        out, final = unroll(impl, stack, xs, state)
        loss = tf.reduce_sum(out * tf.sin(tf.range(H, dtype=tf.float32))) + sum(
            tf.reduce_sum(s**2) for s in final
        )
    grads = tape.gradient(loss, stack.trainable_variables + [xs])
    return out, final, grads


@pytest.mark.parametrize("cell, impl", PAIRS)
def test_same_numbers_as_static(cell, impl):
    stack = make_stack(cell, F, H, num_layers=2, dropout=0.3)  # dropout inactive: training=False
    xs = tf.random.normal([B, T, F], seed=1)
    state = tuple(tf.random.normal([B, n], seed=2) for n in stack.state_size)
    ref_out, ref_state, ref_grads = run("static", stack, xs, state)
    out, final, grads = run(impl, stack, xs, state)
    assert out.shape == (B, T, H)
    np.testing.assert_allclose(out, ref_out, atol=1e-5)
    assert len(final) == len(ref_state)
    for a, b in zip(final, ref_state):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert len(grads) == len(stack.trainable_variables) + 1
    for g, g_ref in zip(grads, ref_grads):
        np.testing.assert_allclose(g, g_ref, atol=1e-4)


@pytest.mark.parametrize("impl", UNROLLERS.names(trains_only=True))
def test_same_numbers_inside_tf_function(impl):
    stack = make_stack("lstm", F, H, num_layers=1)
    xs = tf.random.normal([B, T, F])
    state = stack.zero_state(B)
    eager, _ = unroll(impl, stack, xs, state)
    graph, _ = tf.function(lambda x, s: unroll(impl, stack, x, s))(xs, state)
    np.testing.assert_allclose(graph, eager, atol=1e-5)


@pytest.mark.parametrize("impl", UNROLLERS.names(trains_only=True))
def test_dropout_acts_only_in_training(impl):
    stack = make_stack("gru", F, H, num_layers=2, dropout=0.5)
    xs, state = tf.random.normal([B, T, F]), stack.zero_state(B)
    a, _ = unroll(impl, stack, xs, state, training=False)
    b, _ = unroll(impl, stack, xs, state, training=False)
    c, _ = unroll(impl, stack, xs, state, training=True)
    np.testing.assert_allclose(a, b)
    assert not np.allclose(a, c)
    assert np.mean(c.numpy() == 0) > 0.3  # the top layer's output is dropped at about the rate


@pytest.mark.parametrize("impl", UNROLLERS.names(trains_only=True))
def test_without_input_dropout_layer_1_reads_the_inputs_as_they_are(impl):
    """One layer, dropout 0.9 on its output only: every output kept is the undropped one times 10 (had
    the input been dropped too, the kept outputs would differ)."""
    stack = make_stack("gru", F, H, num_layers=1, dropout=0.9, input_dropout=False)
    xs, state = tf.random.normal([B, T, F], seed=3), stack.zero_state(B)
    clean, _ = unroll(impl, stack, xs, state, training=False)
    dropped, _ = unroll(impl, stack, xs, state, training=True)
    kept = dropped.numpy() != 0
    assert 0.02 < kept.mean() < 0.3  # the output is dropped at about the rate
    np.testing.assert_allclose(dropped.numpy()[kept], 10 * clean.numpy()[kept], rtol=1e-4, atol=1e-5)
    both = make_stack("gru", F, H, num_layers=1, dropout=0.9)  # the post's: the input dropped as well
    both.set_weights(stack.get_weights())
    dropped, _ = unroll(impl, both, xs, state, training=True)
    kept = dropped.numpy() != 0
    assert not np.allclose(dropped.numpy()[kept], 10 * clean.numpy()[kept], rtol=1e-4, atol=1e-5)


def test_every_unroller_is_described():
    for name in UNROLLERS:
        assert len(UNROLLERS[name].description) > 20
