"""A smoothed character n-gram counted on the training text: the baseline the Inside tab holds the RNN to.

Interpolated modified Kneser–Ney (Chen & Goodman 1998), recursive down to the uniform 1/V, so no p is 0:
  p(w | h) = max(c(hw) - D(c(hw)), 0) / c(h·) + γ(h) p(w | h'),   γ(h) = Σ_w D(c(hw)) / c(h·),
h' being h without its first character; c is the raw count at the top order and, below it, the number of
distinct characters seen before hw; D(c) is D1, D2 or D3+ per order, estimated from its counts of counts.
"""

from dataclasses import dataclass

import numpy as np

MAX_ORDER = 6  # the longest n-gram offered: the next character and up to five before it
_CHUNK = 4096  # text positions scored at once, so the [positions, V] temporaries stay a few MB
_PLAIN_DISCOUNT = 0.75  # D for every count when the counts of counts are too few to estimate D1, D2, D3+


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity, not element by element
class Level:
    """One order's smoothed table: every (context, next) pair and every context the training text holds."""

    gram_keys: np.ndarray  # [G] int64, sorted: context * V + next, the context read as a base-V number
    gram_probs: np.ndarray  # [G] float64: max(c - D(c), 0) / c(context ·)
    context_keys: np.ndarray  # [C] int64, sorted
    backoff: np.ndarray  # [C] float64: γ(context), the weight handed to the order below
    discounts: tuple[float, float, float]  # D1, D2, D3+

    def interpolate(self, contexts: np.ndarray, known: np.ndarray, lower: np.ndarray) -> np.ndarray:
        """[rows, V]: this order's discounted counts plus γ times the order below; where the context is
        unseen or the text before the row is too short for it (`known` False), the order below as it is."""
        vocab_size = lower.shape[1]
        at, seen = _find(self.context_keys, contexts)
        seen &= known
        probs = np.where(seen, self.backoff[at], 1.0)[:, None] * lower
        rows = np.flatnonzero(seen)
        keys = contexts[rows, None] * vocab_size + np.arange(vocab_size)  # [rows seen, V]
        gram, found = _find(self.gram_keys, keys)
        probs[rows] += np.where(found, self.gram_probs[gram], 0.0)
        return probs


@dataclass(frozen=True, eq=False)
class NGram:
    """A character n-gram model; it reads a text and predicts each next character, as the RNN does."""

    order: int  # characters per n-gram: the predicted one and up to order - 1 before it
    vocab_size: int  # V, the number of character ids
    levels: tuple[Level, ...]  # levels[k] predicts from k characters of context, k = 0 .. order - 1

    def distributions(self, ids: np.ndarray, history: np.ndarray | None = None) -> np.ndarray:
        """[N, V] float64: row t is p(ids[t + 1] = · | the order - 1 characters ending at ids[t]), the
        characters before ids[0] taken from `history` when given, else fewer of them in the first rows."""
        text, start = self._joined(ids, history)
        blocks = [self._rows(text, a, min(a + _CHUNK, len(text))) for a in range(start, len(text), _CHUNK)]
        return np.concatenate(blocks) if blocks else np.empty((0, self.vocab_size))

    def surprisal_bits(self, ids: np.ndarray, history: np.ndarray | None = None) -> np.ndarray:
        """[N - 1] float64: bits[t] = -log2 p(ids[t + 1] | ..ids[t]), row t of `distributions` read there."""
        text, start = self._joined(ids, history)
        blocks = [np.empty(0)]
        for a in range(start, len(text) - 1, _CHUNK):
            b = min(a + _CHUNK, len(text) - 1)
            probs = self._rows(text, a, b)  # [b - a, V]
            blocks.append(-np.log2(probs[np.arange(b - a), text[a + 1 : b + 1]]))
        return np.concatenate(blocks)

    def bits_per_char(self, ids: np.ndarray, history: np.ndarray | None = None) -> float:
        """The mean surprisal over the text, in bits per character."""
        bits = self.surprisal_bits(ids, history)
        if bits.size == 0:
            raise ValueError("bits per character need a text of at least two characters")
        return float(bits.mean())

    def _joined(self, ids, history) -> tuple[np.ndarray, int]:
        """The history and the text as one int64 array, and where the text starts in it."""
        text = _checked_ids(ids, self.vocab_size, "ids")
        before = _checked_ids([] if history is None else history, self.vocab_size, "history")
        return np.concatenate([before, text]), len(before)

    def _rows(self, text: np.ndarray, a: int, b: int) -> np.ndarray:
        """[b - a, V]: the prediction after each of text[a:b], from uniform up through every order."""
        ends = np.arange(a, b)
        probs = np.full((b - a, self.vocab_size), 1.0 / self.vocab_size)
        contexts = np.zeros(b - a, dtype=np.int64)  # the k characters ending at each row, base V
        known = np.ones(b - a, dtype=bool)  # rows with at least k characters of text up to them
        for k, level in enumerate(self.levels):
            if k > 0:
                first = ends - k + 1
                known &= first >= 0
                contexts = contexts + text[np.maximum(first, 0)] * self.vocab_size ** (k - 1)
            probs = level.interpolate(contexts, known, probs)
        return probs


def fit_ngram(train_ids: np.ndarray, vocab_size: int, order: int) -> NGram:
    """Count every n-gram up to `order` in the training ids and smooth them with modified Kneser–Ney."""
    ids = _checked_ids(train_ids, vocab_size, "train_ids")
    if ids.size == 0:
        raise ValueError("train_ids is empty: an n-gram model needs training text to count")
    _check_order(order, vocab_size, len(ids))
    grams = _count_grams(ids, vocab_size, order)
    levels = []
    for k in range(1, order + 1):
        keys, counts = grams[k - 1]
        if k < order:  # continuation counts: how many distinct characters precede each k-gram
            keys, counts = np.unique(grams[k][0] % vocab_size**k, return_counts=True)
        levels.append(_level(keys, counts, vocab_size))
    return NGram(order, vocab_size, tuple(levels))


def _count_grams(ids: np.ndarray, vocab_size: int, order: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """For k = 1 .. order: the sorted distinct k-gram keys (base V) in ids and how often each occurs."""
    keys = ids  # keys[p] encodes ids[p : p + k]
    grams = [np.unique(keys, return_counts=True)]
    for k in range(2, order + 1):
        keys = keys[:-1] * vocab_size + ids[k - 1 :]
        grams.append(np.unique(keys, return_counts=True))
    return grams


def _level(keys: np.ndarray, counts: np.ndarray, vocab_size: int) -> Level:
    """Discount one order's counts and normalise them per context; γ is the mass the discounts freed."""
    counts = counts.astype(np.float64)
    contexts, starts = np.unique(keys // vocab_size, return_index=True)  # keys sorted: contexts contiguous
    discounts = _discounts(counts)
    taken = np.asarray(discounts)[np.minimum(counts, 3).astype(np.int64) - 1]  # [G] D(c)
    totals = np.add.reduceat(counts, starts)  # [C] c(context ·)
    per_gram_total = np.repeat(totals, np.diff(np.append(starts, len(keys))))
    return Level(
        keys, (counts - taken) / per_gram_total, contexts, np.add.reduceat(taken, starts) / totals, discounts
    )


def _discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """D1, D2, D3+ from the counts of counts n1..n4 (Chen & Goodman), kept inside (0, c) so p stays > 0."""
    n1, n2, n3, n4 = (np.count_nonzero(counts == r) for r in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:
        return (_PLAIN_DISCOUNT,) * 3
    y = n1 / (n1 + 2 * n2)
    estimates = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    return tuple(float(np.clip(d, 0.1, r - 0.1)) for r, d in zip((1, 2, 3), estimates))


def _find(sorted_keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each query sits in sorted_keys (clipped to a valid index), and whether it is there."""
    at = np.minimum(np.searchsorted(sorted_keys, queries), len(sorted_keys) - 1)
    return at, sorted_keys[at] == queries


def _checked_ids(ids, vocab_size: int, name: str) -> np.ndarray:
    """ids as a 1-D int64 array, or a ValueError saying what is wrong with them."""
    array = np.asarray(ids)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"{name} must be a 1-D array of integer character ids, not {array.dtype} {array.shape}"
        )
    low, high = int(array.min()), int(array.max())
    if low < 0 or high >= vocab_size:
        bad = low if low < 0 else high
        raise ValueError(f"{name} holds id {bad}, outside the vocabulary of {vocab_size} characters")
    return array.astype(np.int64)


def _check_order(order: int, vocab_size: int, n_train: int) -> None:
    """A ValueError unless order, vocabulary and training text can make an n-gram model together."""
    if not isinstance(order, int | np.integer) or not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be between 1 and {MAX_ORDER}, not {order}")
    if vocab_size < 1 or vocab_size**order >= 2**63:
        raise ValueError(
            f"a vocabulary of {vocab_size} characters cannot key order-{order} n-grams in 64 bits"
        )
    if n_train < order:
        raise ValueError(f"an order-{order} model needs at least {order} training characters, not {n_train}")
