"""Connectivity (core.inside.connectivity): causal, equal to finite differences, on every cell."""

import numpy as np
import pytest
import tensorflow as tf

from core.config import ModelConfig
from core.data.corpus import Vocab
from core.inside.connectivity import connectivity, log_prob_of
from core.model.char_rnn import CharRNN

VOCAB = Vocab.from_text("abcde \n")
TEXT = "abc de\nab cd"


@pytest.fixture(scope="module", params=["rnn", "lstm", "gru", "ln_lstm", "ln_gru"])
def model(request):
    return CharRNN(ModelConfig(cell=request.param, state_size=12, num_layers=2), len(VOCAB), seed=6)


def test_no_input_influences_an_earlier_prediction_and_every_earlier_one_does(model):
    found = connectivity(model, VOCAB, TEXT)
    n = len(TEXT) - 1
    assert found.influence.shape == (n, len(TEXT))
    assert np.all(found.influence[np.triu_indices(n, k=1, m=len(TEXT))] == 0)
    assert np.all(found.influence[np.tril_indices(n, m=len(TEXT))] > 0)


def test_the_gradient_matches_a_finite_difference(model):
    t, s, eps = 8, 3, 1e-3  # prediction 8 (of character 9) against what was read at position 3
    found = connectivity(model, VOCAB, TEXT)
    ids = np.asarray(VOCAB.encode(TEXT), np.int32)
    g = _single_gradient(model, ids, t)[s]  # [F], from a batch of one: the straightforward way
    assert np.linalg.norm(g) == pytest.approx(found.influence[t, s], rel=1e-4, abs=1e-6)
    base = model.embed(ids[None, :-1]).numpy()

    def moved(step):  # log p of prediction t with input s moved along the gradient's direction
        inputs = base.copy()
        inputs[0, s] += step * g / np.linalg.norm(g)
        return log_prob_of(model, VOCAB, TEXT, t, tf.constant(inputs))

    numeric = (moved(eps) - moved(-eps)) / (2 * eps)  # central difference: the slope along the gradient
    assert numeric == pytest.approx(found.influence[t, s], rel=0.02, abs=1e-3)


def _single_gradient(model, ids, t):
    """d log p(prediction t) / d inputs [T-1, F], from a batch of one (the straightforward way)."""
    from core.inside.connectivity import _log_probs

    inputs = model.embed(ids[None, :-1])
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        value = _log_probs(model, inputs, tf.constant(ids[None, 1:]))[0, t]
    return tape.gradient(value, inputs)[0].numpy()


def test_the_distance_curve_is_a_share_of_each_prediction():
    model = CharRNN(ModelConfig(cell="gru", state_size=12), len(VOCAB), seed=2)
    found = connectivity(model, VOCAB, TEXT)
    curve = found.by_distance()
    assert curve.shape == (len(TEXT) - 1,)
    assert np.all(curve >= 0) and np.all(curve <= 1)
    assert curve[0] == pytest.approx(
        np.mean([found.influence[t, t] / found.influence[t].sum() for t in range(len(TEXT) - 1)])
    )
