"""Decoding beside sampling: beam search, a text's likelihood under the model, and a temperature sweep.

Sampling draws one character at a time; beam search keeps the `width` likeliest continuations so far and
extends each by every character, so it finds text the model finds likelier than any single greedy path
(width 1 *is* the greedy path: argmax). Every result is scored the same way, by the model at temperature 1:
its log-likelihood in nats and, per character, in bits — the trade-off between sure and varied text.
"""

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from core.config import SampleConfig
from core.data.corpus import CorpusError
from core.model.sampler import SampleError, Sampler

MAX_WIDTH = 16


@dataclass(frozen=True)
class Scored:
    """A continuation of the prime and how likely the model finds it."""

    text: str
    log_likelihood: float  # nats: sum over the text of log p(character | prime and text before it)
    temperature: float | None = None  # what it was sampled at (None: beam search)

    @property
    def bits_per_char(self) -> float:
        return -self.log_likelihood / max(len(self.text), 1) / math.log(2)


def _log_softmax(logits) -> np.ndarray:
    """logits [batch, vocab] (a tensor or array) -> log-probabilities [batch, vocab] float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _finite(logp: np.ndarray) -> np.ndarray:
    if not np.isfinite(logp).all():
        raise SampleError(
            "the model's outputs are not finite numbers (its weights grew too large in training)"
        )
    return logp


def beam_search(sampler: Sampler, prime: str, length: int, width: int) -> list[Scored]:
    """The `width` likeliest continuations of `prime` that beam search finds, each `length` characters,
    likeliest first. Ties go to the lower character id, as argmax's do."""
    if not 1 <= width <= MAX_WIDTH:
        raise SampleError(f"the beam width must be 1..{MAX_WIDTH}, got {width}")
    if not 1 <= length <= 10_000:
        raise SampleError(f"the length must be 1..10000, got {length}")
    logits, state = sampler.primed(prime)
    scores = np.zeros(1)  # [beams] log-likelihood of each beam so far
    texts: list[list[int]] = [[]]
    for _ in range(length):
        total = scores[:, None] + _finite(_log_softmax(logits))  # [beams, vocab]
        best = np.argsort(-total, axis=None, kind="stable")[:width]  # flat indices, likeliest first
        beams, chars = np.unravel_index(best, total.shape)
        scores = total[beams, chars]
        texts = [texts[b] + [int(c)] for b, c in zip(beams, chars, strict=True)]
        state = tf.nest.map_structure(lambda s, rows=beams: tf.gather(s, rows), state)  # each [beams, units]
        logits, state = sampler.step(chars, state)
    return [Scored(sampler.vocab.decode(t), float(s)) for t, s in zip(texts, scores, strict=True)]


def log_likelihood(sampler: Sampler, prime: str, text: str) -> float:
    """Nats: log p(text | prime) under the model at temperature 1, one character at a time."""
    logits, state = sampler.primed(prime)
    try:
        ids = sampler.vocab.encode(text)
    except CorpusError as err:  # a character outside the vocabulary
        raise SampleError(f"the text has {err}") from None
    total = 0.0
    for i in ids:
        total += _finite(_log_softmax(logits))[0, i]
        logits, state = sampler.step([i], state)
    return float(total)


def temperature_sweep(sampler: Sampler, cfg: SampleConfig, temperatures) -> list[Scored]:
    """One sample per temperature, all from the same prime and seed, each scored at temperature 1."""
    out = []
    for temperature in temperatures:
        text = sampler.generate(dataclasses.replace(cfg, temperature=float(temperature), argmax=False))
        out.append(Scored(text, log_likelihood(sampler, cfg.prime, text), float(temperature)))
    return out
