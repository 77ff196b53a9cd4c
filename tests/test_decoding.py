"""Beam search, likelihoods and the temperature sweep (core.model.decoding), on small untrained models."""

import itertools

import numpy as np
import pytest

from core.config import ModelConfig, SampleConfig
from core.data.corpus import Vocab
from core.model.char_rnn import CharRNN
from core.model.decoding import beam_search, log_likelihood, temperature_sweep
from core.model.sampler import SampleError, Sampler

VOCAB = Vocab.from_text("abcde \n")


@pytest.fixture(scope="module", params=["rnn", "lstm", "gru", "ln_lstm", "ln_gru"])
def sampler(request):
    config = ModelConfig(cell=request.param, state_size=16, num_layers=2)
    return Sampler(CharRNN(config, len(VOCAB), seed=4), VOCAB)


def test_width_one_is_argmax(sampler):
    greedy = sampler.generate(SampleConfig(length=30, prime="ab", argmax=True))
    (found,) = beam_search(sampler, "ab", 30, width=1)
    assert found.text == greedy


def test_each_result_is_scored_as_the_model_scores_its_text(sampler):
    found = beam_search(sampler, "a ", 12, width=4)
    assert len({f.text for f in found}) == 4 and all(len(f.text) == 12 for f in found)
    assert [f.log_likelihood for f in found] == sorted((f.log_likelihood for f in found), reverse=True)
    for f in found:
        assert f.log_likelihood == pytest.approx(log_likelihood(sampler, "a ", f.text), abs=1e-4)


def test_a_beam_as_wide_as_the_vocabulary_finds_the_likeliest_pair_exactly():
    sampler = Sampler(CharRNN(ModelConfig(cell="gru", state_size=8), len(VOCAB), seed=9), VOCAB)
    every = {a + b: log_likelihood(sampler, "c", a + b) for a, b in itertools.product(VOCAB.chars, repeat=2)}
    best = max(every, key=every.get)
    (top, *_) = beam_search(sampler, "c", 2, width=len(VOCAB.chars))
    assert top.text == best and top.log_likelihood == pytest.approx(every[best], abs=1e-5)


def test_the_sweep_keeps_prime_and_seed_and_cooler_samples_score_likelier():
    model = CharRNN(ModelConfig(cell="lstm", state_size=16), len(VOCAB), seed=2)
    model.head.kernel.assign(model.head.kernel * 40)  # untrained outputs are near uniform: make them sure
    sampler = Sampler(model, VOCAB)
    cfg = SampleConfig(length=200, prime="ab", seed=5)
    sweep = temperature_sweep(sampler, cfg, [0.3, 1.0, 3.0])
    assert [s.temperature for s in sweep] == [0.3, 1.0, 3.0]
    assert sweep[1].text == sampler.generate(cfg)  # temperature 1, the same seed: the Generate tab's text
    bits = [s.bits_per_char for s in sweep]
    assert bits[0] < bits[1] < bits[2], bits
    assert np.isfinite(bits).all()


def test_bad_widths_and_primes_are_refused_in_a_sentence(sampler):
    with pytest.raises(SampleError, match="width"):
        beam_search(sampler, "a", 5, width=0)
    with pytest.raises(SampleError, match="prime"):
        beam_search(sampler, "xyz", 5, width=2)
