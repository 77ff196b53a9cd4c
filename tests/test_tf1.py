"""The TF1 family computes the same numbers as its TF2 twins on the same weights."""

import numpy as np
import pytest
import tensorflow as tf

from core.config import ModelConfig, RunConfig, TrainConfig
from core.measure.tf1 import TF1Graph
from core.model.char_rnn import CharRNN
from core.model.unrollers import UNROLLERS

V, B, T = 9, 3, 7


@pytest.mark.parametrize("impl", [n for n in UNROLLERS if UNROLLERS[n].family == "tf1"])
@pytest.mark.parametrize("cell", ["lstm", "ln_gru"])
def test_same_numbers_as_tf2(impl, cell):
    config = RunConfig(
        model=ModelConfig(cell=cell, impl="dynamic", num_layers=2, state_size=8),
        train=TrainConfig(batch_size=B, num_steps=T, learning_rate=0.01),
    )
    tf2 = CharRNN(config.model, V, seed=5)
    graph = TF1Graph(config, V, impl)
    weights = [v.numpy() for v in tf2.trainable_variables]
    assert [w.shape for w in weights] == [tuple(v.shape) for v in graph.variables]
    graph.set_weights(weights)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, V, (B, T), dtype=np.int32), rng.integers(0, V, (B, T), dtype=np.int32)
    state = tuple(rng.normal(size=(B, 8)).astype(np.float32) for _ in tf2.stack.state_size)
    logits, loss, final = graph.forward(x, y, state)
    ref_logits, ref_final = tf2(tf.constant(x), state)
    np.testing.assert_allclose(logits, ref_logits, atol=1e-5)
    for a, b in zip(final, ref_final):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # and it trains: an Adam step lowers the loss on the same batch
    graph.train_step(x, y, state)
    assert graph.forward(x, y, state)[1] < loss
    assert graph.build_s > 0
    graph.close()
