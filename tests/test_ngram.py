"""The n-gram baseline: proper smoothed distributions, the RNN's alignment, and a plain-Python twin."""

from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from core.data.corpus import Vocab, load_corpus
from core.inside.ngram import MAX_ORDER, fit_ngram

ROOT = Path(__file__).resolve().parents[1]
SHAKESPEARE = ROOT / "assets" / "tinyshakespeare.txt"


@pytest.fixture(scope="module")
def small():
    """A few thousand characters of Shakespeare: train ids, held-out ids, and a vocabulary with room to spare."""
    text = SHAKESPEARE.read_text(encoding="utf-8")[:4_000]
    vocab = Vocab.from_text(text)
    ids = vocab.encode(text)
    return ids[:3_500], ids[3_500:], len(vocab) + 3  # three ids the text never uses


def unseen_text(vocab_size: int) -> np.ndarray:
    """Characters and contexts no training text here contains: the spare ids, in runs and mixed."""
    spare = [vocab_size - 3, vocab_size - 2, vocab_size - 1]
    return np.array([spare[0]] * 4 + [0, spare[1], 1, spare[2], spare[2], 0, spare[0]], dtype=np.int32)


@pytest.mark.parametrize("order", range(1, 6))
def test_rows_sum_to_one_with_no_zeros(small, order):
    train, val, vocab_size = small
    model = fit_ngram(train, vocab_size, order)
    for text in (val, unseen_text(vocab_size)):
        probs = model.distributions(text)
        assert probs.shape == (len(text), vocab_size) and probs.dtype == np.float64
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        assert probs.min() > 0
    assert np.all(np.isfinite(model.surprisal_bits(unseen_text(vocab_size))))


def test_order_one_is_the_smoothed_unigram():
    train = np.array([0] * 600 + [1] * 300 + [2] * 100, dtype=np.int32)
    model = fit_ngram(train, vocab_size=5, order=1)
    probs = model.distributions(np.array([3, 4, 0, 1, 2]))
    assert np.ptp(probs, axis=0).max() == 0  # no context at order 1: every row is the same
    np.testing.assert_allclose(probs[0, :3], [0.6, 0.3, 0.1], atol=2e-3)
    assert 0 < probs[0, 3] == probs[0, 4] < 1e-3  # unseen characters keep a little mass


def test_a_deterministic_pattern_costs_no_bits_at_order_three():
    train = np.tile([0, 1, 2], 300)
    held_out = np.tile([0, 1, 2], 50)
    assert fit_ngram(train, 4, 3).bits_per_char(held_out) < 0.02
    assert fit_ngram(train, 4, 1).bits_per_char(held_out) == pytest.approx(np.log2(3), abs=0.01)


@pytest.mark.parametrize("order", [1, 3, 5])
def test_surprisal_reads_the_distributions_at_the_next_ids(small, order):
    train, val, vocab_size = small
    model = fit_ngram(train, vocab_size, order)
    text = np.concatenate([val, unseen_text(vocab_size)])
    probs = model.distributions(text)
    bits = model.surprisal_bits(text)
    assert bits.shape == (len(text) - 1,)
    np.testing.assert_allclose(bits, -np.log2(probs[np.arange(len(text) - 1), text[1:]]), rtol=1e-12)
    assert model.bits_per_char(text) == pytest.approx(bits.mean(), rel=1e-12)


def test_row_t_sees_only_the_text_up_to_t_and_history_precedes_it(small):
    train, val, vocab_size = small
    model = fit_ngram(train, vocab_size, 4)
    probs = model.distributions(val[:60])
    changed = val[:60].copy()
    changed[30:] = vocab_size - 1
    np.testing.assert_array_equal(model.distributions(changed)[:30], probs[:30])
    assert not np.allclose(model.distributions(changed)[30:33], probs[30:33])
    tail = model.distributions(val[10:60], history=val[:10])
    np.testing.assert_array_equal(tail, probs[10:])
    np.testing.assert_array_equal(
        model.surprisal_bits(val[10:60], history=val[:10]), model.surprisal_bits(val[:60])[10:]
    )


def reference_distribution(train: list[int], vocab_size: int, order: int, context: tuple) -> np.ndarray:
    """Interpolated modified Kneser–Ney written out with dictionaries, one context at a time."""
    k = len(context)
    uniform = np.full(vocab_size, 1.0 / vocab_size)
    lower = reference_distribution(train, vocab_size, order, context[1:]) if k > 0 else uniform
    counts = reference_counts(tuple(train), k + 1, top=k + 1 == order)
    row = np.array([counts.get(context + (w,), 0) for w in range(vocab_size)], dtype=np.float64)
    if row.sum() == 0:
        return lower
    discounts = reference_discounts(list(counts.values()))
    taken = np.array([0.0 if c == 0 else discounts[min(int(c), 3) - 1] for c in row])
    return (row - taken) / row.sum() + taken.sum() / row.sum() * lower


@cache
def reference_counts(train: tuple, n: int, top: bool) -> dict:
    """n-gram -> its count at the top order, else the number of distinct characters seen before it."""
    grams = [train[p : p + n] for p in range(len(train) - n + 1)]
    if top:
        return dict(Counter(grams))
    before = {(train[p - 1], gram) for p, gram in enumerate(grams) if p > 0}
    return dict(Counter(gram for _, gram in before))


def reference_discounts(counts: list[int]) -> list[float]:
    n = [counts.count(r) for r in (1, 2, 3, 4)]
    if min(n) == 0:
        return [0.75] * 3
    y = n[0] / (n[0] + 2 * n[1])
    return [float(np.clip(r - (r + 1) * y * n[r] / n[r - 1], 0.1, r - 0.1)) for r in (1, 2, 3)]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_vectorised_model_matches_the_dictionary_one(small, order):
    train, val, vocab_size = small
    train, text = train[:1_500], np.concatenate([val[:40], unseen_text(vocab_size)])
    probs = fit_ngram(train, vocab_size, order).distributions(text)
    for t in range(len(text)):
        context = tuple(int(i) for i in text[max(0, t - order + 2) : t + 1]) if order > 1 else ()
        expected = reference_distribution([int(i) for i in train], vocab_size, order, context)
        np.testing.assert_allclose(probs[t], expected, rtol=1e-10, atol=1e-15, err_msg=f"row {t}")


def test_longer_context_predicts_held_out_shakespeare_better(capsys):
    corpus = load_corpus(SHAKESPEARE, val_fraction=0.1)
    val = corpus.val_ids[:5_000]
    bits = [fit_ngram(corpus.train_ids, len(corpus.vocab), order).bits_per_char(val) for order in (1, 3, 5)]
    assert bits[0] > bits[1] > bits[2]
    assert 4.0 < bits[0] < 5.0 and bits[2] < 2.5  # a unigram near 4.5 bits, a 5-gram near 2
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: fit_ngram(np.array([0, 1]), 3, 0), "order must be between 1"),
        (lambda: fit_ngram(np.array([0, 1]), 3, MAX_ORDER + 1), "order must be between 1"),
        (lambda: fit_ngram(np.array([], dtype=np.int32), 3, 2), "empty"),
        (lambda: fit_ngram(np.array([0, 3]), 3, 1), "id 3, outside the vocabulary of 3"),
        (lambda: fit_ngram(np.array([0, 1]), 3, 3), "at least 3 training characters"),
        (lambda: fit_ngram(np.array([0, 1]), 3, 1).distributions(np.array([0, 5])), "ids holds id 5"),
        (lambda: fit_ngram(np.array([0, 1]), 3, 1).bits_per_char([0], history=[-1]), "history holds id -1"),
        (lambda: fit_ngram(np.array([0, 1]), 3, 1).bits_per_char(np.array([0])), "at least two characters"),
    ],
)
def test_bad_input_is_a_readable_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
