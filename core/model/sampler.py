"""Stateful generation: one character at a time, carrying the RNN state instead of re-feeding context."""

from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from core.config import SampleConfig
from core.data.corpus import CorpusError, Vocab
from core.errors import Refusal


class SampleError(Refusal, ValueError):
    """A prime or setting the model cannot sample from."""


def pick(logits: np.ndarray, cfg: SampleConfig, rng: np.random.Generator) -> int:
    """Choose the next id from logits [vocab]: argmax, or a draw at `temperature` among the top_k."""
    if not np.all(np.isfinite(logits)):
        raise SampleError(
            "the model's outputs are not finite numbers (its weights grew too large in training); "
            "train again with a lower learning rate or gradient clipping"
        )
    if cfg.argmax:
        return int(np.argmax(logits))
    with np.errstate(over="ignore"):
        scaled = logits.astype(np.float64) / cfg.temperature
    if not np.all(np.isfinite(scaled)):  # a temperature so near 0 that the division overflows: its limit
        return int(np.argmax(logits))
    if 0 < cfg.top_k < len(scaled):
        # The post's pick_top_chars: everything below the k-th largest logit gets probability 0.
        kth = np.partition(scaled, -cfg.top_k)[-cfg.top_k]
        scaled = np.where(scaled >= kth, scaled, -np.inf)
    p = np.exp(scaled - scaled.max())
    return int(rng.choice(len(p), p=p / p.sum()))


class Sampler:
    """Wraps a CharRNN's one-step call in a tf.function and streams characters."""

    def __init__(self, model, vocab: Vocab):
        self.model, self.vocab = model, vocab
        self._step = tf.function(model.step, reduce_retracing=True)

    def primed(self, prime: str) -> tuple:
        """(logits [1, vocab], state) after feeding `prime` one character at a time from the zero state."""
        try:
            ids = self.vocab.encode(prime)
        except CorpusError as err:
            raise SampleError(f"the prime text has {err}") from None
        if not len(ids):
            raise SampleError("the prime text must have at least one character")
        state = self.model.zero_state(1)
        for i in ids:
            logits, state = self._step(tf.constant([i], tf.int32), state)
        return logits, state

    def step(self, ids, state) -> tuple:
        """ids [batch] int -> (logits [batch, vocab], state): one character further, for every row."""
        return self._step(tf.constant(ids, tf.int32), state)

    def stream(self, cfg: SampleConfig) -> Iterator[str]:
        """Feed the prime one character at a time, then yield `cfg.length` new characters."""
        logits, state = self.primed(cfg.prime)  # logits [1, vocab]
        rng = np.random.default_rng(cfg.seed)
        for _ in range(cfg.length):
            nxt = pick(logits[0].numpy(), cfg, rng)
            yield self.vocab.chars[nxt]
            logits, state = self._step(tf.constant([nxt], tf.int32), state)

    def generate(self, cfg: SampleConfig) -> str:
        return "".join(self.stream(cfg))
