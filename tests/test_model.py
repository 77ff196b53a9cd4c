"""CharRNN: inputs as the post had them, explicit state, and one step equal to the unrolled call."""

import numpy as np
import pytest
import tensorflow as tf

from core.config import ModelConfig
from core.model.char_rnn import CharRNN

V, B, T = 11, 2, 7


@pytest.mark.parametrize("cell", ["rnn", "ln_lstm"])
def test_shapes_and_inputs(cell):
    model = CharRNN(ModelConfig(cell=cell, num_layers=2, state_size=12), V)
    ids = tf.random.uniform([B, T], 0, V, tf.int32)
    logits, state = model(ids)
    assert logits.shape == (B, T, V)
    assert len(state) == len(model.stack.state_size)
    assert (model.embedding is None) == (cell == "rnn")  # one-hot for the basic RNN only


def test_state_carries_across_calls():
    model = CharRNN(ModelConfig(cell="lstm", num_layers=2, state_size=12), V)
    ids = tf.random.uniform([B, 2 * T], 0, V, tf.int32)
    whole, whole_state = model(ids)
    first, state = model(ids[:, :T])
    second, state = model(ids[:, T:], state)
    np.testing.assert_allclose(tf.concat([first, second], 1), whole, atol=1e-5)
    for a, b in zip(state, whole_state):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_one_step_at_a_time_equals_the_unrolled_call():
    model = CharRNN(ModelConfig(cell="gru", impl="scan", state_size=12), V)
    ids = tf.random.uniform([B, T], 0, V, tf.int32)
    logits, _ = model(ids)
    state = model.zero_state(B)
    for t in range(T):
        step_logits, state = model.step(ids[:, t], state)
        np.testing.assert_allclose(step_logits, logits[:, t], atol=1e-5)
