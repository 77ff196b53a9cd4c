"""The page: sidebar settings, then the Train, Runs, Generate, Inside and Build time tabs (one module each)."""

import streamlit as st

from explorer.common import services, state, ui
from explorer.generate import view as generate_view
from explorer.inside import view as inside_view
from explorer.lab import view as build_time_view
from explorer.runs import view as runs_view
from explorer.train import view as train_view

TABS = {
    "Train": train_view.render,
    "Runs": runs_view.render,
    "Generate": generate_view.render,
    "Inside": inside_view.render,
    "Build time": build_time_view.render,
}


def main() -> None:
    st.set_page_config(page_title="RNN Explorer", layout="wide")
    owner = state.owner_id()
    services.job_manager()  # started with the first page, so a spare worker is warm before Start
    with st.sidebar, ui.shown_as_error("the settings"):
        train_view.sidebar(owner)
    st.title("RNN Explorer")
    tabs = st.tabs(list(TABS), key="tab", bind=state.URL)
    for tab, (name, render) in zip(tabs, TABS.items()):
        with tab:
            if tab.open is not False:  # only the open tab's content is computed
                with ui.shown_as_error(f"the {name} tab"):
                    render(owner)
