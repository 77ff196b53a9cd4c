"""The Tour tab: the post's story in eight short sections, each with a small live experiment.

    section picker (bound to the URL's `step`)  ->  SECTIONS[step](owner)  ->  previous / next

Each section is a function in basics.py (1-4: the data, one step, unrolling, the loops) or
cells.py (5-8: better cells, stacking and dropout, layer normalisation, generating); their
computations live in core (core/tour/), their words here, plain language first and the code second.
Section 1 is drawn without TensorFlow (it is the app's first page); the others wait for its import
(explorer/common/loading.py), and cells.py is imported when one of its sections is first drawn.
"""

import streamlit as st

from explorer.common import loading, ui
from explorer.tour import basics


def _of_cells(name: str):
    """Section `name` of cells.py, imported when it is drawn."""

    def draw(owner: str) -> None:
        from explorer.tour import cells

        getattr(cells, name)(owner)

    return draw


SECTIONS = {  # the URL's value -> (title, the function that draws the section)
    "data": ("1 · The data", basics.data),
    "step": ("2 · One step", basics.one_step),
    "list": ("3 · Unrolling as a list", basics.unrolling),
    "loops": ("4 · dynamic_rnn and scan", basics.loops),
    "cells": ("5 · Better cells", _of_cells("better_cells")),
    "stacking": ("6 · Stacking and dropout", _of_cells("stacking")),
    "layernorm": ("7 · Layer normalisation", _of_cells("layer_norm")),
    "generating": ("8 · Generating text", _of_cells("generating")),
}
KEY = "step"  # the section's URL key
WITHOUT_TENSORFLOW = {"data"}  # sections drawn before TensorFlow has loaded


def render(owner: str) -> None:
    names = list(SECTIONS)
    if st.session_state.get(KEY) not in SECTIONS:  # a link names the section by its short name
        asked = st.query_params.get(KEY)
        st.session_state[KEY] = asked if asked in SECTIONS else names[0]
    name = st.radio(
        "Section",
        names,
        format_func=lambda n: SECTIONS[n][0],
        horizontal=True,
        key=KEY,
        label_visibility="collapsed",
    )
    st.query_params[KEY] = name  # kept by hand: a bound radio would keep its title, not the short name
    title, draw = SECTIONS[name]
    st.subheader(title)
    with ui.shown_as_error(f"the tour's {title!r}"):
        if name not in WITHOUT_TENSORFLOW:
            loading.wait()
        draw(owner)
    _neighbours(names, names.index(name))


def _neighbours(names: list, i: int) -> None:
    """Previous and next, at the foot of every section."""
    cols = st.columns(2)
    if i > 0:
        cols[0].button(f"← {SECTIONS[names[i - 1]][0]}", key="tour_prev", on_click=_go, args=(names[i - 1],))
    if i + 1 < len(names):
        cols[1].button(f"{SECTIONS[names[i + 1]][0]} →", key="tour_next", on_click=_go, args=(names[i + 1],))


def _go(name: str) -> None:
    st.session_state[KEY] = name
