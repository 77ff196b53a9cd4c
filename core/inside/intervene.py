"""Interventions: hold chosen units at a value from a chosen position on, and see what the network does.

A unit is named as the Inside tab names it, "layer 1 h 17" (layer 1's output h, unit 17) or "layer 2 c 5"
(an LSTM's cell state). Clamped, its value is replaced after each step from position `start` on, before
the layer above and the output layer read it, so the prediction at that very step already feels it.

    clamped = Clamped(model, vocab)
    free, held = clamped.generate(cfg, Clamp(("layer 1 c 37",), 1.0, start=20))  # sampled, same seed
    free, held = clamped.read(text, Clamp(("layer 1 c 37",), 0.0, start=0))  # a given text

Without a clamp (or with a unit held at the values it takes anyway) every number is the unclamped
network's, bit for bit: a held value replaces the computed one exactly (tf.where, no arithmetic).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import tensorflow as tf

from core.config import SampleConfig
from core.data.corpus import CorpusError
from core.model.sampler import SampleError, pick
from core.model.trace import surprisal_bits

UNIT = re.compile(r"layer (\d+) ([hc]) (\d+)")


@dataclass(frozen=True)
class Clamp:
    """Hold `units` at `value` (a number, or one number per position: a trace to replay) from `start` on:
    a position of the text read, or for generation the first generated character that feels it."""

    units: tuple[str, ...]
    value: float | Sequence[float]
    start: int = 0

    def value_at(self, t: int) -> float:
        return float(self.value if np.isscalar(self.value) else self.value[t])


@dataclass(frozen=True)
class Reading:
    """One pass: row t describes the network just after it read character t of `text`."""

    text: str  # everything read: a given text, or the prime and the generated characters
    first: int  # where the generated characters begin in `text` (0 for a given text)
    probs: np.ndarray  # [N, V] the next-character distribution after position t
    units: np.ndarray  # [N, K] the clamp's units after position t, as the network used them (held or not)

    @property
    def generated(self) -> str:
        return self.text[self.first :]

    def surprisal_bits(self, vocab) -> np.ndarray:
        """[N-1]: -log2 p(character t+1) after position t."""
        return surprisal_bits(self.probs, vocab.encode(self.text))


def parse_unit(label: str, model) -> tuple[int, int]:
    """'layer L h|c U' -> (index of its tensor in the stack's flat state, unit); ValueError if it is none."""
    match = UNIT.fullmatch(label.strip())
    cells = model.stack.cells
    if not match:
        raise ValueError(f"{label!r} is not a unit: write it as 'layer 1 h 17'")
    layer, kind, unit = int(match[1]) - 1, match[2], int(match[3])
    if not 0 <= layer < len(cells) or not 0 <= unit < cells[layer].units:
        raise ValueError(f"{label!r}: the network has {len(cells)} layers of {cells[0].units} units")
    if kind == "c" and cells[layer].n_states < 2:
        raise ValueError(f"{label!r}: only an LSTM has a cell state c; this cell has h only")
    return sum(c.n_states for c in cells[:layer]) + (kind == "c"), unit


class Clamped:
    """A model's one-step call with some units held: compiled once, for any units and values."""

    def __init__(self, model, vocab):
        self.model, self.vocab = model, vocab
        self._step = tf.function(self._held_step, reduce_retracing=True)

    def _held_step(self, ids, state, masks, values):
        """ids [1] -> (logits [1, V], flat state); masks/values: per state tensor, bool / float [1, H]."""
        x, new = self.model.embed(ids), []  # x [1, F]
        stack = self.model.stack
        held = zip(stack.split_state(masks), stack.split_state(values), strict=True)
        for cell, layer_state, (mask, value) in zip(stack.cells, stack.split_state(state), held, strict=True):
            _, layer_state = cell.step(x, layer_state)
            layer_state = tuple(tf.where(m, v, s) for s, m, v in zip(layer_state, mask, value, strict=True))
            x = layer_state[0]  # the layer's output is its h, as held
            new.extend(layer_state)
        return self.model.head(x), tuple(new)

    def _encode(self, text: str, what: str) -> list[int]:
        try:
            return list(self.vocab.encode(text))
        except CorpusError as err:
            raise SampleError(f"the {what} has {err}") from None

    def _run(self, ids: list[int], clamp: Clamp, held_from: int | None, until: int = 0, pick_next=None):
        """Read `ids` (and, with pick_next, extend them to `until` ids, one pick after each step), holding
        the clamp's units from position `held_from` on (None: never, only watched)."""
        where = [parse_unit(u, self.model) for u in clamp.units]
        zero = [np.zeros(s.shape, np.float32) for s in self.model.zero_state(1)]
        state, probs, units, t = self.model.zero_state(1), [], [], 0
        while t < len(ids):
            masks, values = [z.astype(bool) for z in zero], [z.copy() for z in zero]
            if held_from is not None and t >= held_from:
                for k, u in where:
                    masks[k][0, u], values[k][0, u] = True, clamp.value_at(t - held_from)
            logits, state = self._step(tf.constant([ids[t]], tf.int32), state, tuple(masks), tuple(values))
            logits = logits[0].numpy().astype(np.float64)
            if not np.all(np.isfinite(logits)):
                raise SampleError("the network's outputs are not finite numbers with these units held there")
            p = np.exp(logits - logits.max())
            probs.append(p / p.sum())
            units.append([state[k][0, u].numpy() for k, u in where])
            if pick_next is not None and t == len(ids) - 1 and len(ids) < until:
                ids.append(pick_next(logits))
            t += 1
        return np.array(probs), np.array(units, np.float32).reshape(len(ids), len(where))

    def read(self, text: str, clamp: Clamp) -> tuple[Reading, Reading]:
        """`text` read freely and with `clamp` held from position clamp.start: the two readings."""
        ids = self._encode(text, "text")
        free = self._run(list(ids), clamp, None)
        held = self._run(list(ids), clamp, clamp.start)
        return Reading(text, 0, *free), Reading(text, 0, *held)

    def generate(self, cfg: SampleConfig, clamp: Clamp) -> tuple[Reading, Reading]:
        """`cfg.length` characters after the prime, free and with `clamp`, from the same seed: the same
        characters before generated character clamp.start, then each its own way."""
        prime = self._encode(cfg.prime, "prime text")
        out = []
        for held_from in (None, len(prime) - 1 + clamp.start):  # the step whose output picks that character
            rng = np.random.default_rng(cfg.seed)
            ids = list(prime)
            probs, units = self._run(
                ids, clamp, held_from, len(prime) + cfg.length, partial(pick, cfg=cfg, rng=rng)
            )
            out.append(Reading(self.vocab.decode(ids), len(prime), probs, units))
        return out[0], out[1]
