"""Two Inside views that act on the network rather than read it: what a prediction depends on
(core.inside.connectivity), and holding units at a value (core.inside.intervene)."""

import numpy as np
import pandas as pd
import streamlit as st

from core.config import ConfigError, SampleConfig
from core.errors import Refusal
from explorer.common import ui
from explorer.inside import analysis, figures, painting
from explorer.inside.reading import within

DEPENDS_CHARS = 200  # characters of the text the matrix covers at first (a T x T batch: a few seconds)


# ---- what a prediction depends on --------------------------------------------------------------------
def depends_on(run_dir, tr, runs) -> None:
    from core.inside.connectivity import MAX_CHARS

    st.markdown(
        "Each prediction depends on the characters read before it. For the prediction after position *t*, "
        "the shade of each earlier character is **how much that prediction would change if that character "
        "were different** (the gradient's size). It shows how far back the network looks."
    )
    n = min(len(tr.text), MAX_CHARS)
    length = st.slider("Characters", 10, n, min(DEPENDS_CHARS, n), 10, key="in_dep_len") if n > 10 else n
    text = tr.text[:length]
    try:
        with st.spinner(f"Differentiating {length - 1} predictions…"):
            found = analysis.connectivity(run_dir, text)
    except (Refusal, ValueError) as err:
        st.error(ui.reason(err))
        return
    within("in_dep_t", length - 2)
    t = st.slider("Prediction after position", 0, length - 2, length - 2, key="in_dep_t")
    row = found.influence[t, : t + 1]
    tips = [f"position {s}: {v:.3g}" for s, v in enumerate(row)]
    st.html(painting.coloured(text[: t + 1], row, tips))
    share = row / max(row.sum(), 1e-30)
    far = int(np.argmax(np.cumsum(share[::-1]) >= 0.9))  # characters back that hold 90 % of it
    st.caption(
        f"Predicting **{painting.visible(text[t + 1])}** after position {t}: 90 % of this prediction's "
        f"sensitivity lies in the last {far + 1} characters read."
    )
    left, right = st.columns(2)
    left.plotly_chart(figures.connectivity_figure(text, found.influence), key="in_dep_matrix")
    curves = {run_dir.run_id: found.by_distance()}
    others = [r.run_id for r in runs if r.run_id != run_dir.run_id]
    chosen = right.multiselect(
        "Compare with runs", others, key="in_dep_runs", help="The same text, read by other runs' networks."
    )
    for other in chosen:
        try:
            curves[other] = analysis.connectivity(_run(runs, other), text).by_distance()
        except (Refusal, ValueError) as err:
            right.caption(f"{other}: {ui.reason(err)}")
    right.plotly_chart(figures.distance_figure(curves), key="in_dep_curve")


def _run(runs, run_id):
    return next(r for r in runs if r.run_id == run_id)


# ---- hold units --------------------------------------------------------------------------------------
def hold_units(run_dir, tr, runs) -> None:
    st.markdown(
        "Hold a unit at a value of your choice, from a chosen position on, and compare with the network "
        "left alone: the same seed, the same text. Hold a unit that tracks being inside a string on, and "
        "watch whether the network closes the quote."
    )
    _, labels = tr.units()
    matched = [u for u in st.session_state.get("in_matched", []) if u in labels]
    options = (["the units 'Select and match' found"] if matched else []) + labels
    cols = st.columns([2, 1, 1])
    picked = cols[0].selectbox("Hold", options, key="in_hold_unit", help="Labels as 'Find units' gives them.")
    units = tuple(matched) if picked not in labels else (picked,)
    value = cols[1].slider("at", -3.0, 3.0, 1.0, 0.1, key="in_hold_value", help="0 switches it off.")
    where = cols[2].radio("on", ["this text", "generated text"], key="in_hold_where")
    if where == "this text":
        _hold_on_text(run_dir, tr, units, value)
    else:
        _hold_generating(run_dir, tr, units, value)


def _hold_on_text(run_dir, tr, units, value) -> None:
    from core.inside.intervene import Clamp

    text = tr.text[: painting.MAX_DRAWN]
    within("in_hold_start", len(text) - 1)
    start = st.number_input("Held from position", 0, len(text) - 1, 0, key="in_hold_start")
    try:
        with st.spinner("Reading the text twice…"):
            free, held = analysis.held_reading(run_dir, text, Clamp(units, value, int(start)))
    except (Refusal, ValueError) as err:
        st.error(ui.reason(err))
        return
    vocab = tr.vocab
    change = held.surprisal_bits(vocab) - free.surprisal_bits(vocab)  # [N-1], + : the network is worse
    tips = [f"{painting.visible(c)}: {d:+.2f} bits" for c, d in zip(text[1:], change, strict=True)]
    st.html(painting.coloured(text[1:], change, tips, low=painting.BETTER, high=painting.WORSE))
    st.caption(
        f"Each character shaded by how much more (orange) or less (green) it surprises the network with "
        f"{', '.join(units[:3])}{' …' if len(units) > 3 else ''} held at {value}: "
        f"{np.mean(change[int(start) :]):+.3f} bits a character on average from position {start}."
    )
    st.plotly_chart(
        figures.surprisal_figure(
            text, {"left alone": free.surprisal_bits(vocab), "held": held.surprisal_bits(vocab)}
        ),
        key="in_hold_surprisal",
    )


def _hold_generating(run_dir, tr, units, value) -> None:
    from core.inside.intervene import Clamp

    cols = st.columns(4)
    prime = cols[0].text_input("Prime", tr.text[:20], key="in_hold_prime")
    length = cols[1].number_input("Characters", 20, 1000, 200, 20, key="in_hold_len")
    start = cols[2].number_input("Held from character", 0, int(length) - 1, 0, key="in_hold_from")
    seed = cols[3].number_input("Seed", 0, 2**31 - 1, 0, key="in_hold_seed")
    try:
        cfg = SampleConfig(length=int(length), prime=prime, seed=int(seed))
        with st.spinner("Generating twice from the same seed…"):
            free, held = analysis.held_generation(run_dir, cfg, Clamp(units, value, int(start)))
    except (Refusal, ValueError, ConfigError) as err:
        st.error(ui.reason(err))
        return
    left, right = st.columns(2)
    for col, name, reading in ((left, "Left alone", free), (right, f"Held at {value}", held)):
        col.markdown(f"**{name}**")
        col.code(reading.text, language=None, wrap_lines=True)
        trace = pd.DataFrame(reading.units[reading.first - 1 : -1], columns=list(units)).iloc[:, :4]
        col.line_chart(trace, height=160, x_label="generated character", y_label="value")
    st.caption(f"The two texts agree up to character {start}: the same seed draws the same numbers.")
