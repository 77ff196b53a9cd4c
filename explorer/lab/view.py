"""The Build time tab: a lab on why the way an RNN is unrolled decides how long its graph takes to build.

Four sections: the post's experiment replayed (explorer/lab/post.py), sweeps of num_steps and friends
per implementation (explorer/lab/explore.py), the post's comparison of cells (explorer/lab/cells.py), and
the build times of your own training runs.
Measurements run in the background, one set at a time for the whole app (core/lab/jobs.py).
"""

import pandas as pd
import streamlit as st

from core.lab.jobs import Lab
from explorer.common import figures, services, state, tables
from explorer.lab import cells, explore, post, widgets

SECTIONS = {"Reproduce the post": post.render, "Explore": explore.render, "Compare cells": cells.render}
RUNS = "Your training runs"
INTRO = (
    "Before its first step, a TensorFlow program **builds a graph** of the whole unrolled computation. "
    "How the cell is iterated over time decides how big that graph is: a Python loop copies the cell "
    "once per step, a symbolic loop holds it once. This lab measures the difference."
)


@st.cache_resource(show_spinner=False)
def lab() -> Lab:
    """One per app process, shared by every session: the lab measures one thing at a time, machine-wide."""
    return Lab()


def render(owner: str) -> None:
    st.markdown(INTRO)
    section = st.radio(
        "Section",
        [*SECTIONS, RUNS],
        key="lab",
        bind=state.URL,
        horizontal=True,
        label_visibility="collapsed",
        help="The post's experiment, your own sweeps, the post's comparison of cells, or the build times "
        "of your training runs.",
    )
    if section == RUNS:
        runs_section(owner)
        return
    widgets.training_note()
    runner = lab()
    SECTIONS[section](owner, runner, runner.current())


def runs_section(owner: str) -> None:
    """Each training run's graph build (trace, first call) against its training time."""
    runs = services.runs_for(owner, bool(st.session_state.get("all_runs")))
    rows = tables.build_rows([services.snapshot(r.run_id) for r in runs])
    if not rows:
        st.info("No run has built its graph yet: start one from the Train tab.")
        return
    st.markdown(
        "Before the first step, the train step is **traced** into a graph, and its **first call** "
        "optimises that graph and runs it once. Both are measured apart from training. The `static` "
        "implementation copies the cell once per time step, so its build grows with `num_steps`; "
        "`dynamic` and `scan` build one loop whatever the length."
    )
    st.plotly_chart(figures.build_time_figure(rows), key="build_chart", config={"displayModeBar": False})
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "trace_s": st.column_config.NumberColumn("trace s", format="%.2f"),
            "first_call_s": st.column_config.NumberColumn("first call s", format="%.2f"),
            "train_s": st.column_config.NumberColumn("training s", format="%.1f"),
        },
    )
