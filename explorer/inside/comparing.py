"""The Inside tab's views across units and readers: gate saturation, the network against an n-gram, and
two runs on the same text."""

import numpy as np
import streamlit as st

from core.errors import Refusal
from core.runs.store import checkpoint_step
from explorer.common import services, state, ui
from explorer.inside import analysis, figures, painting
from explorer.inside.painting import MAX_DRAWN


# ---- gates -----------------------------------------------------------------------------------------
def gates(run_dir, tr, runs) -> None:
    if not tr.gates:
        st.info("The basic RNN has no gates: its state is a single tanh of the input and the last state.")
        return
    st.plotly_chart(
        figures.saturation_figure(tr.saturation()), key="in_saturation", config={"displayModeBar": False}
    )
    st.caption(
        "Each dot is a unit: how often its gate is shut (< 0.1) and how often wide open (> 0.9) "
        "over the text. Dots near the axes' ends are gates used as switches."
    )
    cols = st.columns(3)
    layer = cols[0].selectbox("Layer", range(1, tr.hidden.shape[0] + 1), key="in_gate_layer")
    gate = cols[1].selectbox("Gate", list(tr.gates), key="in_gate")
    count = cols[2].slider(
        "Units", 4, min(64, tr.hidden.shape[2]), min(32, tr.hidden.shape[2]), key="in_gate_units"
    )
    n = min(len(tr.text), 300)
    st.plotly_chart(
        figures.gate_heatmap(tr.text[:n], tr.gates[gate][layer - 1, :n], count),
        key="in_heatmap",
        config={"displayModeBar": False},
    )
    st.caption(f"The first {n} characters (hover for each value).")


# ---- beyond an n-gram ------------------------------------------------------------------------------
def beyond_ngram(run_dir, tr, runs) -> None:
    order = st.slider("n-gram order (characters, the next one included)", 1, 6, 5, key="in_order")
    try:
        theirs = analysis.ngram_bits(run_dir, tr.text, order, state.owner_id())
    except Refusal as err:
        st.error(str(err))
        return
    versus(tr, {"the network": tr.surprisal_bits, f"the {order}-gram": theirs}, f"the {order}-gram")
    st.caption(
        f"The {order}-gram is counted on the run's own training split with interpolated Kneser–Ney "
        "smoothing; both read the text from its start with no earlier context."
    )


def versus(tr, lines: dict, other: str) -> None:
    """Two readers' surprisal: their means, where the first wins, and the text coloured by the gap."""
    (name_a, a), (_, b) = lines.items()
    cols = st.columns(3)
    cols[0].metric(f"{name_a}, bits/char", f"{np.mean(a):.3f}")
    cols[1].metric(f"{other}, bits/char", f"{np.mean(b):.3f}")
    cols[2].metric(f"characters where {name_a} is less surprised", f"{np.mean(a < b):.0%}")
    n = min(len(tr.text), MAX_DRAWN)
    gap = np.concatenate([[np.nan], a - b])  # per predicted character: negative when the first wins
    tips = ["(first character)"] + [
        f"{painting.visible(c)}: {x:.2f} vs {y:.2f} bits" for c, x, y in zip(tr.text[1:n], a, b)
    ]
    st.html(
        painting.coloured(tr.text[:n], gap[:n], tips, scale=4.0, low=painting.BETTER, high=painting.WORSE)
    )
    st.html(
        painting.legend(
            f"{name_a} is less surprised",
            f"{other} is less surprised",
            low=painting.BETTER,
            high=painting.WORSE,
        )
    )
    st.plotly_chart(
        figures.surprisal_figure(tr.text, lines), key=f"in_versus_{other}", config={"displayModeBar": False}
    )


# ---- compare runs ----------------------------------------------------------------------------------
def compare_runs(run_dir, tr, runs) -> None:
    """This run against another, or against itself earlier (a milestone: steps 100, 200, 500, ...)."""
    others = [r for r in runs if r.run_id != run_dir.run_id or r.milestones()]
    if not others:
        st.info(
            "Nothing to compare with yet: train another run (e.g. another cell), or train this one past "
            "step 100, where it starts keeping its weights at steps 100, 200, 500, 1,000, … for good."
        )
        return
    names = {
        r.run_id: "this run, earlier" if r.run_id == run_dir.run_id else ui.run_name(r.run_id, r.meta())
        for r in others
    }
    cols = st.columns(2)
    other_id = cols[0].selectbox("Compare with", list(names), format_func=names.get, key="in_other")
    other = next(r for r in others if r.run_id == other_id)
    points = checkpoints_of(other, latest=other_id != run_dir.run_id)
    prefix = cols[1].selectbox(
        "At",
        list(points),
        format_func=points.get,
        key="in_other_at",
        help="Its latest checkpoint, or the weights it kept at steps 100, 200, 500, 1,000, …",
    )
    try:
        theirs, step = analysis.trace(other, tr.text, prefix)
    except Refusal as err:
        st.error(f"{other_id} cannot read this text: {err}")
        return
    name = f"step {step:,}" if other_id == run_dir.run_id else f"{other_id} at step {step:,}"
    versus(tr, {"this run": tr.surprisal_bits, name: theirs.surprisal_bits}, name)


def checkpoints_of(run_dir, latest: bool) -> dict[str, str]:
    """path prefix -> how it is offered: the run's newest whole checkpoint (if `latest`), then its
    milestones, newest first, each by the step its file is named after."""
    points = {}
    newest = services.usable_checkpoint(run_dir)
    if latest and newest:
        points[newest] = f"latest (step {checkpoint_step(newest):,})"
    for step, prefix in reversed(run_dir.milestones().items()):
        points[prefix] = f"step {step:,}"
    return points
