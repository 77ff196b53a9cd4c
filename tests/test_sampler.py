"""Sampling: reproducible with a seed, top-k respected, primes checked against the vocabulary."""

import numpy as np
import pytest

from core.config import ModelConfig, SampleConfig
from core.data.corpus import Vocab
from core.model.char_rnn import CharRNN
from core.model.sampler import SampleError, Sampler, pick

VOCAB = Vocab.from_text("abcdefgh \n")


@pytest.fixture(scope="module")
def sampler():
    return Sampler(CharRNN(ModelConfig(cell="lstm", state_size=16), len(VOCAB), seed=1), VOCAB)


def test_same_seed_same_text(sampler):
    cfg = SampleConfig(length=40, prime="abc", seed=7)
    text = sampler.generate(cfg)
    assert len(text) == 40 and set(text) <= set(VOCAB.chars)
    assert sampler.generate(cfg) == text
    assert sampler.generate(SampleConfig(length=40, prime="abc", seed=8)) != text


def test_argmax_is_deterministic_whatever_the_seed(sampler):
    a = sampler.generate(SampleConfig(length=20, prime="a", argmax=True, seed=1))
    b = sampler.generate(SampleConfig(length=20, prime="a", argmax=True, seed=2))
    assert a == b


def test_top_k_only_draws_among_the_k_likeliest():
    logits = np.array([0.0, 3.0, 1.0, 2.5, -1.0])
    rng = np.random.default_rng(0)
    draws = {pick(logits, SampleConfig(top_k=2, temperature=5.0), rng) for _ in range(500)}
    assert draws == {1, 3}
    assert pick(logits, SampleConfig(top_k=1), rng) == 1


def test_a_temperature_near_zero_takes_the_likeliest_as_its_limit_does():
    logits = np.array([0.0, 3.0, 1.0, 2.5, -1.0])
    rng = np.random.default_rng(0)
    for temperature in (1e-320, 1e-300):  # logits / temperature overflows to inf
        assert {pick(logits, SampleConfig(temperature=temperature), rng) for _ in range(20)} == {1}


def test_temperature_sharpens():
    logits = np.array([0.0, 1.0, 2.0])
    rng = np.random.default_rng(0)
    cold = [pick(logits, SampleConfig(temperature=0.05), rng) for _ in range(200)]
    hot = [pick(logits, SampleConfig(temperature=10.0), rng) for _ in range(200)]
    assert cold.count(2) == 200
    assert len(set(hot)) == 3


def test_prime_outside_the_vocabulary_is_a_clear_error(sampler):
    with pytest.raises(SampleError, match="prime text has characters not in the model's vocabulary: 'z'"):
        sampler.generate(SampleConfig(prime="abz"))
