"""The Tour's samples side by side: the same prime and seed at several temperatures, and with top-k, each
with the mean bits per character the model itself (at temperature 1) gives what was written.

    cfg = column_config(prime="ROMEO:\\n", temperature=0.5, seed=3)
    text = sampler.generate(cfg)                                  # core/model/sampler.py
    bits = continuation_bits(tracer(cfg.prime + text), cfg.prime)   # core/model/trace.py
"""

import numpy as np

from core.config import SampleConfig
from core.model.trace import Trace

TEMPERATURES = (0.5, 1.0, 1.5)  # the three columns' starting temperatures
TOP_K = 5  # the top-k column's starting k
LENGTH = 200  # characters per sample: a few lines, a fraction of a second each


def column_config(prime: str, temperature: float, seed: int, top_k: int = 0, length: int = LENGTH):
    """One column's SampleConfig (ConfigError, in words, for a setting that cannot work)."""
    return SampleConfig(length=length, prime=prime, temperature=temperature, top_k=top_k, seed=seed)


def continuation_bits(trace: Trace, prime: str) -> float:
    """Mean bits per character of what follows `prime` in the traced text, under the model's own
    distribution (temperature 1): how surprising the model finds what was sampled.

    surprisal_bits[t] prices character t+1 from the state after character t, so the first written
    character (at len(prime)) is priced at len(prime) - 1."""
    if not trace.text.startswith(prime) or len(trace.text) <= len(prime):
        raise ValueError("the traced text must be the prime followed by at least one sampled character")
    return float(np.mean(trace.surprisal_bits[len(prime) - 1 :]))
