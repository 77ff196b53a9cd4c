"""Which units of a trained network track what: rank units against the properties of a text, and, as in
LSTMVis (Strobelt et al. 2017), select the units on over a stretch and find the other stretches where the
same units are on.

Everything reads an activation matrix `acts` [N, U]: row t holds every unit's value after the network has
read character t of an N-character text.
"""

from typing import NamedTuple

import numpy as np

from core.inside.properties import PROPERTIES

VARIANCE = "variance"  # rank_all's extra key: units ranked by how much they move at all
MOST = 0.8  # share of the selected units that must be on at a step for match to count the step
_CHUNK = 4096  # rows of acts correlated at once, so the float64 temporaries stay tens of MB


class UnitScore(NamedTuple):
    """A unit and how well it tracks something: |Pearson r| in [0, 1] (or, under "variance", its variance);
    sign +1 when the unit rises with the property, -1 when it falls, 0 when its score is 0."""

    unit: int
    score: float
    sign: int


class Match(NamedTuple):
    """A stretch [start, end) of the text where the selected units are on; higher score, better match."""

    start: int
    end: int
    score: float


def _checked(acts) -> np.ndarray:
    """acts as an array [N, U], or a ValueError saying what is wrong with it."""
    acts = np.asarray(acts)
    if acts.ndim != 2:
        raise ValueError(f"activations must be a 2-D array [characters, units], not of shape {acts.shape}")
    if acts.shape[0] == 0:
        raise ValueError("the text is empty, so there are no activations to analyse")
    if acts.shape[1] == 0:
        raise ValueError("the activations have no units")
    if not np.isfinite(acts).all():
        raise ValueError("the activations contain NaN or infinity")
    return acts


def _standardised(x: np.ndarray) -> np.ndarray:
    """[N, K] float64 columns with mean 0 and standard deviation 1; a constant column is all 0."""
    x = x.astype(np.float64)
    constant = np.ptp(x, axis=0) == 0
    x -= x.mean(axis=0)
    x /= np.where(constant, 1.0, x.std(axis=0))
    x[:, constant] = 0.0
    return x


def _correlations(acts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of every unit with every column of values [N, P] -> ([U, P], each unit's variance [U]).

    float64, a chunk of rows at a time, so a long text never needs a float64 copy of all of acts; r is 0
    where the unit or the values are constant."""
    n, units = acts.shape
    z = _standardised(values)  # [N, P]
    mean = acts.mean(axis=0, dtype=np.float64)  # [U]
    cov, squares = np.zeros((units, z.shape[1])), np.zeros(units)
    for row in range(0, n, _CHUNK):
        centred = acts[row : row + _CHUNK].astype(np.float64) - mean  # [chunk, U]
        cov += centred.T @ z[row : row + _CHUNK]
        squares += np.einsum("ij,ij->j", centred, centred)  # column sums of squares, no [chunk, U] temporary
    variance = squares / n
    alive = np.ptp(acts, axis=0) > 0  # tested exactly, so rounding cannot make a constant unit look alive
    std = np.where(alive, np.sqrt(variance), 1.0)
    r = np.where(alive[:, None], cov / (n * std[:, None]), 0.0)
    return np.clip(r, -1.0, 1.0), np.where(alive, variance, 0.0)


def _ranked(scores: np.ndarray, signs: np.ndarray, top: int) -> list[UnitScore]:
    """The `top` units by score, best first; ties go to the lower unit index."""
    order = np.argsort(-scores, kind="stable")[:top]
    return [UnitScore(int(u), float(scores[u]), int(signs[u])) for u in order]


def _check_top(top: int) -> None:
    if top < 1:
        raise ValueError(f"top must be at least 1, not {top}")


def rank_units(acts: np.ndarray, values: np.ndarray, top: int = 10) -> list[UnitScore]:
    """The `top` units whose activation best tracks `values` [N], by |Pearson correlation|, best first.

    A unit that never changes, or values that never change, correlate 0 (never NaN)."""
    acts = _checked(acts)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (acts.shape[0],):
        raise ValueError(
            f"values must have one entry per row of the activations ({acts.shape[0]}), not {values.shape}"
        )
    if not np.isfinite(values).all():
        raise ValueError("the values contain NaN or infinity")
    _check_top(top)
    r = _correlations(acts, values[:, None])[0][:, 0]  # [U]
    return _ranked(np.abs(r), np.sign(r), top)


def _checked_text(acts, text: str) -> np.ndarray:
    """acts checked, and checked to have one row per character of `text`."""
    if not text:
        raise ValueError("the text is empty, so there is nothing to compare the units with")
    acts = _checked(acts)
    if acts.shape[0] != len(text):
        raise ValueError(f"the text has {len(text)} characters but the activations have {acts.shape[0]} rows")
    return acts


def rank_all(acts: np.ndarray, text: str, top: int = 5) -> dict[str, list[UnitScore]]:
    """For every property in PROPERTIES, the `top` units that track it best (see rank_units); and under
    VARIANCE the `top` units with the largest variance over the text (sign +1; 0 for a constant unit)."""
    acts = _checked_text(acts, text)
    _check_top(top)
    values = np.stack([prop(text) for prop in PROPERTIES.values()], axis=1)  # [N, properties]
    r, variance = _correlations(acts, values)  # [U, properties], [U]
    ranks = {name: _ranked(np.abs(r[:, i]), np.sign(r[:, i]), top) for i, name in enumerate(PROPERTIES)}
    ranks[VARIANCE] = _ranked(variance, (variance > 0).astype(int), top)
    return ranks


def best_units(acts: np.ndarray, text: str) -> dict[str, UnitScore]:
    """The best unit for each property (and for VARIANCE), leaving out those no unit tracks at all
    (score 0: the property is constant over this text, e.g. no quotes, or every unit is)."""
    ranks = rank_all(acts, text, top=1)
    return {name: ranked[0] for name, ranked in ranks.items() if ranked[0].score > 0}


def _check_range(start: int, end: int, n: int, what: str) -> None:
    if not 0 <= start < end <= n:
        raise ValueError(
            f"the {what} [{start}, {end}) must be a non-empty range within the text's {n} characters"
        )


def units_on(acts: np.ndarray, start: int, end: int, threshold: float) -> np.ndarray:
    """Indices of the units whose activation is above `threshold` at every position in [start, end);
    empty when none is."""
    acts = _checked(acts)
    _check_range(start, end, acts.shape[0], "selection")
    return np.flatnonzero((acts[start:end] > threshold).all(axis=0))


def _runs(steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends of the maximal runs of True in steps [N] bool: run i is [starts[i], ends[i])."""
    edges = np.diff(np.concatenate([[0], steps.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _extra_share(on: np.ndarray, selected: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """[runs]: share of the units outside `selected` that are on throughout each run of on [N, U]."""
    bounds = np.stack([starts, ends], axis=1).ravel()  # reduceat's segments alternate run, gap, run, ...
    bounds = bounds[bounds < len(on)]
    throughout = np.logical_and.reduceat(on, bounds, axis=0)[::2]  # [runs, U]
    throughout[:, selected] = False
    others = on.shape[1] - len(selected)
    return throughout.sum(axis=1) / max(others, 1)


def _scores(
    on: np.ndarray, selected: np.ndarray, share: np.ndarray, starts: np.ndarray, ends: np.ndarray, length: int
) -> np.ndarray:
    """[runs] (coverage - extra) * fit of each run [starts, ends), as match's docstring defines them;
    on [N, U] bool, share [N] the share of selected units on at each step."""
    sums = np.concatenate([[0.0], np.cumsum(share)])
    lengths = ends - starts
    coverage = (sums[ends] - sums[starts]) / lengths
    fit = np.minimum(lengths, length) / np.maximum(lengths, length)
    return (coverage - _extra_share(on, selected, starts, ends)) * fit


def _check_match_args(acts: np.ndarray, selected: np.ndarray, length: int, exclude, top: int, most: float):
    """A ValueError for a unit outside acts, a length below 1, a bad exclude range, top below 1, or a
    `most` outside (0, 1]."""
    units = acts.shape[1]
    if len(selected) and (selected[0] < 0 or selected[-1] >= units):
        raise ValueError(f"unit indices must be between 0 and {units - 1}, not {selected.tolist()}")
    if length < 1:
        raise ValueError(f"the length to match must be at least 1 character, not {length}")
    if exclude is not None:
        _check_range(exclude[0], exclude[1], acts.shape[0], "excluded range")
    _check_top(top)
    if not 0 < most <= 1:
        raise ValueError(f"most (the share of selected units that must be on) must be in (0, 1], not {most}")


def match(
    acts: np.ndarray,
    on_units,
    threshold: float,
    length: int,
    exclude: tuple[int, int] | None = None,
    top: int = 10,
    most: float = MOST,
) -> list[Match]:
    """Other stretches of the text where the units `on_units` are on (above `threshold`), best first.

    A stretch is a maximal run of steps where at least `most` of the selected units are on. Its score is
    (coverage - extra) * fit: coverage, the share of selected units on, averaged over the stretch; extra,
    the share of all other units that are on throughout it (LSTMVis's "minus extra cells"); fit,
    min(len, length) / max(len, length). A stretch of `length` steps with every selected unit on and no
    other unit on throughout scores 1. Stretches that overlap `exclude` (the selection) are left out; no
    selected units give no matches.
    """
    acts = _checked(acts)
    selected = np.unique(np.asarray(on_units, dtype=np.int64))
    _check_match_args(acts, selected, length, exclude, top, most)
    if len(selected) == 0:
        return []
    on = acts > threshold  # [N, U]
    share = on[:, selected].mean(axis=1)  # [N]
    starts, ends = _runs(share >= most)
    if exclude is not None:
        keep = (ends <= exclude[0]) | (starts >= exclude[1])
        starts, ends = starts[keep], ends[keep]
    if len(starts) == 0:
        return []
    scores = _scores(on, selected, share, starts, ends, length)
    order = np.lexsort((starts, -scores))[:top]  # best first; ties to the earlier stretch
    return [Match(int(starts[i]), int(ends[i]), float(scores[i])) for i in order]
