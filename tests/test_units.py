"""The Inside tab's analysis: text properties per character, units ranked against them, LSTMVis select/match."""

import numpy as np
import pytest

from core.inside.properties import PROPERTIES
from core.inside.units import VARIANCE, best_units, match, rank_all, rank_units, units_on

TEXT = 'He said "hi (there)" ok\nAb'


def ones_at(n: int, *ranges: tuple[int, int]) -> list[int]:
    """[n] 0/1 list with 1 over each [start, end)."""
    out = [0] * n
    for start, end in ranges:
        out[start:end] = [1] * (end - start)
    return out


def values(name: str, text: str) -> list[int]:
    got = PROPERTIES[name](text)
    assert got.shape == (len(text),) and got.dtype == np.float32
    return got.astype(int).tolist()


# --- properties


def test_every_property_is_described_and_handles_an_empty_text():
    for prop in PROPERTIES.values():
        assert prop.description and prop("").shape == (0,)


def test_inside_quotes_opens_at_the_mark_and_closes_at_its_partner():
    assert values("inside quotes", TEXT) == ones_at(len(TEXT), (8, 19))  # the closing quote (19) is outside


def test_single_quotes_as_shakespeare_uses_them():
    text = "we'll o' the 'tis 'Go now,' quoth he"
    assert values("inside quotes", text) == ones_at(len(text), (18, 26))  # only 'Go now,'


def test_a_single_quote_never_closed_in_its_speech_is_an_elision():
    text = "'scaped the net,\nthey said\n\nand 'Yes.'"
    assert values("inside quotes", text) == ones_at(len(text), (32, 37))


def test_a_blank_line_ends_a_double_quote():
    text = 'a "b\n\nc'
    assert values("inside quotes", text) == [0, 0, 1, 1, 1, 0, 0]


def test_inside_brackets_nests():
    assert values("inside brackets", TEXT) == ones_at(len(TEXT), (12, 18))
    assert values("inside brackets", "a(b[c]d)e)f") == [
        0,
        1,
        1,
        1,
        1,
        1,
        1,
        0,
        0,
        0,
        0,
    ]  # a stray ) is ignored


def test_position_in_line_restarts_after_each_newline():
    assert values("position in line", TEXT) == list(range(24)) + [0, 1]
    assert values("position in line", "a\n\nbc") == [0, 1, 0, 0, 1]


def test_after_newline_marks_each_line_start():
    assert values("after newline", TEXT) == ones_at(len(TEXT), (0, 1), (24, 25))


def test_letters_upper_case_and_vowels():
    assert values("upper case", TEXT) == ones_at(len(TEXT), (0, 1), (24, 25))
    assert values("vowel", TEXT) == ones_at(
        len(TEXT), (1, 2), (4, 6), (10, 11), (15, 16), (17, 18), (21, 22), (24, 25)
    )
    assert values("inside word", "we'll 'x' a") == [1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 1]


# --- ranking units


def random_text(rng: np.random.Generator, n_words: int = 400) -> str:
    """Words, some of them quoted, on lines of varying length."""
    words = []
    for _ in range(n_words):
        word = "".join(rng.choice(list("abcdefghij"), size=rng.integers(1, 7)))
        words.append(f'"{word}"' if rng.random() < 0.3 else word)
        words.append("\n" if rng.random() < 0.1 else " ")
    return "".join(words)


@pytest.fixture
def planted():
    """A text, and acts [N, 20] of noise with unit 7 following inside quotes, unit 3 following position in
    line (falling), unit 0 constant."""
    rng = np.random.default_rng(0)
    text = random_text(rng)
    acts = rng.normal(size=(len(text), 20)).astype(np.float32)
    acts[:, 7] = np.tanh(2 * PROPERTIES["inside quotes"](text) - 1) + 0.1 * rng.normal(size=len(text))
    acts[:, 3] = -0.05 * PROPERTIES["position in line"](text) + 0.1 * rng.normal(size=len(text))
    acts[:, 0] = 0.5
    return text, acts


def test_units_built_to_follow_a_property_rank_first(planted):
    text, acts = planted
    ranks = rank_all(acts, text)
    assert set(ranks) == set(PROPERTIES) | {VARIANCE}
    assert ranks["inside quotes"][0].unit == 7 and ranks["inside quotes"][0].sign == 1
    assert ranks["inside quotes"][0].score > 0.9
    assert ranks["position in line"][0].unit == 3 and ranks["position in line"][0].sign == -1
    assert all(len(ranked) == 5 for ranked in ranks.values())


def test_scores_are_absolute_pearson_correlations(planted):
    text, acts = planted
    quotes = PROPERTIES["inside quotes"](text)
    for unit, score, sign in rank_units(acts, quotes, top=20):
        r = 0.0 if unit == 0 else np.corrcoef(acts[:, unit], quotes)[0, 1]
        assert score == pytest.approx(abs(r), abs=1e-9) and sign == np.sign(r)


def test_a_constant_unit_scores_zero_not_nan(planted):
    text, acts = planted
    scores = {s.unit: s for s in rank_units(acts, PROPERTIES["vowel"](text), top=20)}
    assert scores[0].score == 0.0 and scores[0].sign == 0
    assert all(np.isfinite(s.score) for s in scores.values())
    assert rank_all(acts, text, top=20)[VARIANCE][-1] == (0, 0.0, 0)


def test_best_units_leaves_out_what_the_text_lacks(planted):
    text, acts = planted
    best = best_units(acts, text)
    assert best["inside quotes"].unit == 7
    assert "inside brackets" not in best and "upper case" not in best  # the text has neither
    constant = np.ones((len(text), 4), np.float32)
    assert best_units(constant, text) == {}


# --- select and match (LSTMVis)


@pytest.fixture
def stretches():
    """acts [300, 12] off everywhere (threshold 0.5) except units {2, 5} on over the selection [10, 20),
    [50, 60), [100, 110), a short [150, 153), [200, 210) with every other unit on too, and unit 2 alone
    over [250, 260)."""
    rng = np.random.default_rng(1)
    acts = rng.uniform(-1, 0.4, size=(300, 12)).astype(np.float32)
    for start, end in [(10, 20), (50, 60), (100, 110), (150, 153), (200, 210)]:
        acts[start:end, [2, 5]] = 0.9
    acts[200:210] = 0.9
    acts[250:260, 2] = 0.9
    return acts


def test_units_on_over_a_selection(stretches):
    assert units_on(stretches, 10, 20, 0.5).tolist() == [2, 5]
    assert units_on(stretches, 5, 20, 0.5).tolist() == []  # no unit is on before 10


def test_match_finds_the_planted_stretches_first(stretches):
    found = match(stretches, [2, 5], 0.5, length=10, exclude=(10, 20))
    spans = [(m.start, m.end) for m in found]
    assert set(spans[:2]) == {(50, 60), (100, 110)}
    assert found[0].score == pytest.approx(1.0)
    assert spans[2:] == [(150, 153), (200, 210)]  # too short, then every unit on: lower
    assert (10, 20) not in spans and (250, 260) not in spans  # the selection; half the units only
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)


def test_match_without_exclude_finds_the_selection_too(stretches):
    spans = [(m.start, m.end) for m in match(stretches, [2, 5], 0.5, length=10, top=3)]
    assert spans == [(10, 20), (50, 60), (100, 110)]


def test_match_with_no_units_or_nothing_on_is_empty(stretches):
    assert match(stretches, [], 0.5, length=10) == []
    assert match(stretches, np.array([], int), 0.5, length=10) == []
    assert match(stretches, [0], 0.95, length=10) == []


# --- validation


@pytest.mark.parametrize(
    "call",
    [
        lambda a: rank_units(a[0], np.zeros(30)),  # 1-D acts
        lambda a: rank_units(a, np.zeros(29)),  # values of the wrong length
        lambda a: rank_units(np.full((30, 4), np.nan), np.zeros(30)),
        lambda a: rank_units(a, np.zeros(30), top=0),
        lambda a: rank_all(a, ""),
        lambda a: rank_all(a, "too short"),
        lambda a: rank_all(np.zeros((0, 4)), ""),
        lambda a: units_on(a, 5, 5, 0.0),  # empty selection
        lambda a: units_on(a, 20, 40, 0.0),  # past the end
        lambda a: units_on(a, -1, 3, 0.0),
        lambda a: units_on(np.zeros((0, 4)), 0, 1, 0.0),
        lambda a: match(a, [4], 0.0, length=5),  # no unit 4
        lambda a: match(a, [0], 0.0, length=0),
        lambda a: match(a, [0], 0.0, length=5, exclude=(10, 5)),
        lambda a: match(a, [0], 0.0, length=5, most=0),
    ],
)
def test_bad_input_is_a_readable_value_error(call):
    acts = np.zeros((30, 4), np.float32)
    with pytest.raises(ValueError) as error:
        call(acts)
    message = str(error.value)
    assert len(message) > 15 and "\n" not in message
