"""The Inside tab's views of single units: read along with one, find the ones that track a property of
the text, and select a stretch to find where else the same units are on (LSTMVis)."""

import numpy as np
import pandas as pd
import streamlit as st

from core.inside.properties import PROPERTIES, absent
from core.inside.units import VARIANCE, match, units_on
from explorer.common import state
from explorer.inside import analysis, figures, painting
from explorer.inside.painting import MAX_DRAWN


def within(key: str, high: int) -> None:
    """Keep a number box's remembered value (session or URL) inside its range when the range shrinks (a
    shorter text, a run with fewer units): Streamlit refuses a value above max_value."""
    if st.session_state.get(key, 0) > high:
        st.session_state[key] = high


# ---- read along ------------------------------------------------------------------------------------
def unit_ui(tr, prefix: str = "in") -> tuple[np.ndarray, str]:
    """Layer, output or cell state, and unit -> (its activation over the text [N], its label)."""
    layers, units = tr.hidden.shape[0], tr.hidden.shape[2]
    cols = st.columns(3)
    layer = cols[0].selectbox("Layer", range(1, layers + 1), key=f"{prefix}_layer", bind=state.URL)
    kinds = ["output h"] + (["cell state c"] if tr.cell is not None else [])
    kind = cols[1].radio("Values", kinds, horizontal=True, key=f"{prefix}_kind", bind=state.URL)
    within(f"{prefix}_unit", units - 1)
    unit = cols[2].number_input(
        f"Unit (0–{units - 1})", 0, units - 1, 0, key=f"{prefix}_unit", bind=state.URL
    )
    values = (tr.hidden if kind == "output h" else tr.cell)[layer - 1, :, unit]
    return values, f"layer {layer} {kind[-1]} {unit}"


def read_along(run_dir, tr, runs) -> None:
    colour = st.radio(
        "Colour by",
        ["a unit's activation", "surprisal"],
        horizontal=True,
        key="in_colour",
        bind=state.URL,
        help="A unit's value after reading each character, or how surprised the network was by it.",
    )
    n = min(len(tr.text), MAX_DRAWN)
    if colour == "surprisal":
        bits = np.concatenate([[np.nan], tr.surprisal_bits])  # character t's surprisal, predicted at t-1
        tips = [
            f"{painting.visible(c)}: {b:.2f} bits" if t else "(first character)"
            for t, (c, b) in enumerate(zip(tr.text[:n], bits[:n]))
        ]
        st.html(
            painting.coloured(tr.text[:n], bits[:n], tips, scale=8.0, low=painting.WORSE, high=painting.WORSE)
        )
        st.caption("Darker: more bits to encode the character (8 bits or more fully dark). Hover for values.")
    else:
        values, label = unit_ui(tr)
        st.html(painting.coloured(tr.text[:n], values[:n], guesses(tr, values, n)))
        st.html(painting.legend("negative", "positive"))
        st.caption(
            f"{label}: hover a character for its value and the network's top-5 guesses for the next one."
        )
    position_ui(tr)
    st.plotly_chart(
        figures.surprisal_figure(tr.text, {"network": tr.surprisal_bits}),
        key="in_surprisal",
        config={"displayModeBar": False},
    )


def guesses(tr, values, n: int) -> list[str]:
    """Per character: its value and the top-5 next-character guesses, as hover text."""
    top = np.argsort(-tr.probs[:n], axis=1)[:, :5]  # [n, 5]
    chars = tr.vocab.chars
    return [
        f"{painting.visible(tr.text[t])}: {values[t]:+.3f} · next: "
        + ", ".join(f"{painting.visible(chars[i])} {tr.probs[t, i]:.0%}" for i in top[t])
        for t in range(n)
    ]


def position_ui(tr) -> None:
    """One position in words and numbers: the character, the next one, and the network's guesses."""
    within("in_position", len(tr.text) - 1)
    t = st.number_input(f"Position (0–{len(tr.text) - 1})", 0, len(tr.text) - 1, 0, key="in_position")
    actual = tr.text[t + 1] if t + 1 < len(tr.text) else None
    rows = [{"next character": painting.visible(c), "probability": p} for c, p in tr.top(t, 5)]
    left, right = st.columns([2, 3])
    left.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "probability": st.column_config.ProgressColumn(
                "probability", format="%.3f", min_value=0, max_value=1
            )
        },
    )
    if actual is not None:
        right.markdown(
            f"After **{painting.visible(tr.text[t])}** (position {t}) the text goes on with "
            f"**{painting.visible(actual)}**: {tr.surprisal_bits[t]:.2f} bits for the network."
        )


# ---- find units ------------------------------------------------------------------------------------
def find_units(run_dir, tr, runs) -> None:
    acts, labels = tr.units()
    ranked = analysis.ranks(run_dir, tr.text)
    rows = []
    for name, scores in ranked.items():
        if scores and scores[0].score > 0:
            best = scores[0]
            what = PROPERTIES[name].description if name in PROPERTIES else "how much the unit moves at all"
            rows.append(
                {
                    "property": name,
                    "best unit": labels[best.unit],
                    "score": best.score,
                    "rises with it": "" if name == VARIANCE else ("yes" if best.sign > 0 else "no (falls)"),
                    "what": what,
                }
            )
    missing = absent(tr.text)
    if missing:  # said, not silently left out: a quote unit cannot be found in a text without quotes
        st.caption(
            f"Not in this text: {', '.join(missing)}. Each stays the same over the whole text, so no unit "
            "can be matched to it; try the code corpus, or paste a text that has it."
        )
    if not rows:
        st.info("No unit tracks any property on this text (is it very short?).")
        return
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "score": st.column_config.NumberColumn(
                "score", format="%.3f", help="|Pearson r| with the property (variance for 'variance')"
            )
        },
    )
    shown = st.selectbox("Show the best unit for", [r["property"] for r in rows], key="in_property")
    best = ranked[shown][0]
    n = min(len(tr.text), MAX_DRAWN)
    values = acts[:, best.unit]
    st.html(painting.coloured(tr.text[:n], values[:n], guesses(tr, values, n)))
    st.caption(
        f"{labels[best.unit]}, score {best.score:.3f}. Runners-up: "
        + ", ".join(f"{labels[s.unit]} ({s.score:.2f})" for s in ranked[shown][1:])
    )


# ---- select and match ------------------------------------------------------------------------------
def select_and_match(run_dir, tr, runs) -> None:
    acts, labels = tr.units()
    n = len(tr.text)
    cols = st.columns(3)
    within("in_sel_start", n - 1)
    within("in_sel_end", n)
    start = cols[0].number_input("Selection starts at", 0, n - 1, min(40, n - 1), key="in_sel_start")
    end = cols[1].number_input("and ends before", 1, n, min(start + 10, n), key="in_sel_end")
    threshold = cols[2].slider("On above", -1.0, 1.0, 0.3, 0.05, key="in_threshold")
    if end <= start:
        st.error("The selection must end after it starts.")
        return
    st.html(painting.coloured(*_window(tr.text, start, end, np.full(n, np.nan))))
    on = units_on(acts, start, end, threshold)
    st.session_state["in_matched"] = [labels[u] for u in on]  # 'Hold a unit' can hold them together
    if not len(on):
        st.info("No unit stays above the threshold across the whole selection: lower it or select less.")
        return
    st.caption(
        f"{len(on)} units on across it: "
        + ", ".join(labels[u] for u in on[:40])
        + (" …" if len(on) > 40 else "")
    )
    found = match(acts, on, threshold, end - start, exclude=(start, end), top=10)
    if not found:
        st.info("Nowhere else in this text are the same units on together.")
        return
    for m in found:
        marks = np.full(n, np.nan)
        marks[m.start : m.end] = 1.0
        st.html(painting.coloured(*_window(tr.text, m.start, m.end, marks)))
        st.caption(f"positions {m.start}–{m.end - 1}, score {m.score:.2f}")


def _window(text: str, start: int, end: int, marks, context: int = 40) -> tuple:
    """The stretch [start, end) with some context each side, marked; (text, values, tips) for coloured."""
    a, b = max(0, start - context), min(len(text), end + context)
    values = np.where(np.isnan(marks[a:b]), 0.0, marks[a:b])
    values[start - a : end - a] = 1.0
    return text[a:b], values, [f"position {a + i}" for i in range(b - a)]
