"""The Inside tab: what a network sees, predicts and remembers, on any run with a checkpoint (the shipped
example included), also while it trains (its latest checkpoint is read).

    a run and a text  ->  analysis.trace (cached per checkpoint and text)  ->  six views of it:
    read along · find units · select and match · gates · beyond an n-gram · compare runs · depends on ·
    hold a unit
"""

import streamlit as st

from core.errors import Refusal
from explorer.common import priority, services, state, ui
from explorer.inside import acting, analysis, comparing, reading
from explorer.inside.painting import MAX_DRAWN

MAX_ANALYSED = 10_000  # characters read at once (how long: python benchmarks/inside_targets.py)
OWN_TEXT = (
    "ROMEO:\nBut, soft! what light through yonder window breaks?\nIt is the east, and Juliet is the sun."
)
VIEWS = {  # the views of one trace, in the order of their tabs
    "Read along": reading.read_along,
    "Find units": reading.find_units,
    "Select and match": reading.select_and_match,
    "Gates": comparing.gates,
    "Beyond an n-gram": comparing.beyond_ngram,
    "Compare runs": comparing.compare_runs,
    "Depends on": acting.depends_on,
    "Hold a unit": acting.hold_units,
}


def render(owner: str) -> None:
    """The tab, drawn at idle priority: a run training meanwhile keeps its speed (explorer/common/priority.py)."""
    with st.spinner("Reading the run…"):  # the first visit loads its weights: a second or two
        priority.drawn_at_idle_priority(draw, owner)


def draw(owner: str) -> None:
    runs, _ = services.readable_runs(owner)
    if not runs:
        st.info("No run has a checkpoint yet: train one, or keep the example run in assets/examples.")
        return
    tip = "Read from the run's latest checkpoint, also while it trains."
    run_dir = ui.run_select(runs, "in_run", tip, state.selected_run())
    note = services.checkpoint_note(run_dir)
    if note:
        st.warning(f"This run's {note}.")
    text = text_ui(run_dir, owner)
    if not text:
        return
    try:
        with st.spinner("Reading the text…"):
            tr, step = analysis.trace(run_dir, text)
    except Refusal as err:  # characters the run never saw, a checkpoint that cannot be read
        st.error(str(err))
        return
    drawn = min(len(text), MAX_DRAWN)
    if len(text) < 2:
        st.info("One character gives the network nothing to predict: give it a longer text.")
        return
    st.caption(
        f"{run_dir.run_id} at step {step:,} read {len(text):,} characters: {tr.bits_per_char:.3f} bits/char."
        + (
            f" Coloured text shows the first {drawn:,}; charts and rankings cover all."
            if drawn < len(text)
            else ""
        )
    )
    tabs = st.tabs(list(VIEWS), key="inside_view", bind=state.URL)
    for tab, (name, view) in zip(tabs, VIEWS.items()):
        with tab:
            if tab.open is not False:  # only the open view is computed
                with ui.shown_as_error(name):
                    view(run_dir, tr, runs)


def text_ui(run_dir, owner: str) -> str | None:
    """The text to read: a stretch of the held-out split, a sample from the run, or the user's own."""
    source = st.radio(
        "Text",
        ["validation excerpt", "a sample from the run", "your own"],
        horizontal=True,
        key="in_source",
        bind=state.URL,
        help="The held-out tail of the run's corpus, text the run writes itself, or anything you type.",
    )
    try:
        if source == "your own":
            return st.text_area("Your text", OWN_TEXT, max_chars=MAX_ANALYSED, key="in_own", height=120)
        cols = st.columns(2)
        length = cols[0].slider("Characters", 100, MAX_ANALYSED, 1_000, 100, key="in_length", bind=state.URL)
        if source == "a sample from the run":
            seed = cols[1].number_input("Seed", 0, 2**31 - 1, 0, key="in_seed")
            return analysis.sample(run_dir, length, seed)
        validation = analysis.validation_text(run_dir, owner)
        last = max(0, len(validation) - length)
        reading.within("in_start", last)
        start = cols[1].number_input(f"Start (0–{last:,})", 0, last, 0, 100, key="in_start", bind=state.URL)
        return validation[start : start + length]
    except Refusal as err:
        st.error(str(err))
        return None
