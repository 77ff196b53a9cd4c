"""The lab's third section: the post's second experiment, which cell learns best when all else is equal.

r2rt.com's "Recurrent Neural Networks in Tensorflow II" trained a GRU, an LSTM and a layer-normalised LSTM
on the same stack (3 layers, state 100, batch 32, 80-step windows, Adam at 1e-4) with dynamic_rnn for 20
epochs each. core.measure.experiment.cells_plan holds that plan; each cell trains in a fresh process, one
after another, through the lab's runner (core/lab/); the page draws the three loss curves on one chart.
"""

import dataclasses
import inspect
import textwrap
from pathlib import Path

import pandas as pd
import streamlit as st

from core.catalogue import CELL_CHOICES
from core.lab import jobs, results
from core.measure.experiment import CELLS_BASE, CELLS_COMPARED, POST_CELLS_SOURCE, SHORT_STEPS, cells_plan
from core.paths import ROOT
from explorer.common import corpora, state
from explorer.lab import figures, widgets

KIND = "cells"
TC = CELLS_BASE.train  # the post's training settings for this experiment
# option -> (short?, what it is for)
VARIANTS = {
    "Short, for a class": (True, f"the first {SHORT_STEPS:,} steps of each cell: short enough for a class"),
    "The post's full run": (
        False,
        f"{TC.epochs} epochs of each cell, as the post did: far longer (both times on 2 cores: "
        "docs/post-replayed.md)",
    ),
}
INTRO = (
    "The **cell** is the small network a recurrent net runs once per character: it reads the character "
    "and its memory (the *state*) and writes the new memory. After timing the ways to unroll it, the post "
    "swapped the cell and asked which one learns Shakespeare best when everything else is equal: a **GRU**, "
    "an **LSTM**, or an LSTM with **layer normalisation** (LN-LSTM). Here each is trained as the post did — "
    f"{CELLS_BASE.model.num_layers} layers of {CELLS_BASE.model.state_size} units, {TC.batch_size} rows of "
    f"{TC.num_steps} characters at a time, Adam at a learning rate of {TC.learning_rate:g} — with the "
    "`dynamic` loop (the post's `dynamic_rnn`), one cell after another, each in a fresh process."
)
READING = (
    "**Reading the chart.** The loss says how surprised the network is by the next character (in nats; "
    "lower is better): guessing evenly among the 65 characters of the text scores ln 65 ≈ 4.17. The first "
    "drop is the network learning how common each character is; the slower descent after it, which "
    "characters follow which. Each line is the training loss (each point the mean over an equal run of "
    "steps); the diamond at its end is the **validation loss**, on text the network never trained on. "
    "Training time leaves out the graph build and the validation."
)
COMMAND = "python -m core.experiment --cells --short   # or without --short: the full run"


def plan_for(variant: str):
    """(the plan of measurements, short?) for a variant, on the built-in corpus."""
    short, _ = VARIANTS[variant]
    return cells_plan(short, base=dataclasses.replace(CELLS_BASE, corpus=corpora.builtin_path())), short


def render(owner: str, lab, view) -> None:
    st.markdown(INTRO)
    variant = st.radio(
        "How long",
        list(VARIANTS),
        key="bt_cells_variant",
        bind=state.URL,
        horizontal=True,
        captions=[v[1] for v in VARIANTS.values()],
        help="Both train the three cells on the post's setting; the short one stops each cell early.",
    )
    plan, short = plan_for(variant)
    st.caption(f"{len(plan)} measurements: " + "; ".join(m.label for m in plan) + ". " + widgets.SPAWN_NOTE)
    if widgets.start_ui(
        "Start",
        "bt_cells_run",
        "",
        view,
        owner,
        help="Train the three cells one after another in the background; it keeps going if you leave "
        "or reload the page. The result is saved under the runs folder.",
    ):
        folder = widgets.results_folder()
        widgets.start(lambda: jobs.start_cells(lab, owner, plan, short, folder))
        view = lab.current()
    cells_ui()
    widgets.results_ui(KIND, owner, lab, view, show)


def cells_ui() -> None:
    """Each cell in plain words, then the lines of the project's code that compute one step of it."""
    columns = st.columns(len(CELLS_COMPARED))
    for column, name in zip(columns, CELLS_COMPARED):
        entry = CELL_CHOICES[name]
        with column.expander(f"What the `{name}` cell computes"):
            st.markdown(f"{entry.plain[:1].upper()}{entry.plain[1:]}.")
            st.caption(entry.description)
            st.code(step_code(name), language="python")
            st.caption(f"From {source_of(name)}.")


def _cell_class(name: str):
    """The registered cell class (imports TensorFlow: only the code needs it, not the words)."""
    from core.model.cells import CELLS

    return CELLS[name].impl


def step_code(name: str) -> str:
    """The cell's one step (its `gated`), as core/model/cells.py has it now."""
    return textwrap.dedent(inspect.getsource(_cell_class(name).gated)).rstrip()


def source_of(name: str) -> str:
    """'core/model/cells.py, line 150': where step_code's lines live."""
    path = Path(inspect.getsourcefile(_cell_class(name))).resolve()
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return f"{where}, line {inspect.getsourcelines(_cell_class(name).gated)[1]}"


def show(payload: dict) -> None:
    """The three loss curves on one chart, a table of where each cell ended, and the post's figures."""
    rows = results.rows_of(payload, KIND)
    if not rows:
        st.caption("The first cell's curve appears here when its training ends.")
        return
    st.markdown(READING)
    st.plotly_chart(figures.cells_loss_figure(rows), key="bt_cells_loss", config={"displayModeBar": False})
    st.dataframe(pd.DataFrame(results.cells_table(rows)), hide_index=True, column_config=_columns())
    st.markdown(f"**The post's figures (2016).** {POST_CELLS_SOURCE}")
    st.caption(f"From the command line: `{COMMAND}`")


def _columns() -> dict:
    number = st.column_config.NumberColumn
    return {
        "final training loss": number(format="%.3f", help="the mean training loss of the last steps"),
        "validation loss": number(format="%.3f", help="on the held-out tenth of the text, after training"),
        "training s": number(format="%.1f", help="training steps only: build and validation apart"),
        "s per step": number(format="%.3f"),
    }
