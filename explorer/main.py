"""The page: sidebar settings, then the Tour, Train, Runs, Generate, Inside and Build time tabs (one module
each); the Tour opens first, on a first visit.

The first page (the sidebar and the Tour's first section) is drawn without TensorFlow; once it is, a thread
imports it (explorer/common/loading.py), and every other tab waits for that import before it is drawn.
"""

import streamlit as st

from explorer.common import loading, present, services, state, ui
from explorer.generate import view as generate_view
from explorer.inside import view as inside_view
from explorer.lab import view as build_time_view
from explorer.runs import view as runs_view
from explorer.tour import view as tour_view
from explorer.train import view as train_view

TABS = {
    "Tour": tour_view.render,
    "Train": train_view.render,
    "Runs": runs_view.render,
    "Generate": generate_view.render,
    "Inside": inside_view.render,
    "Build time": build_time_view.render,
}
WITHOUT_TENSORFLOW = {"Tour"}  # tabs drawn before TensorFlow has loaded (the Tour waits section by section)


def main() -> None:
    present.page_config()
    present.style()
    owner = state.owner_id()
    with st.sidebar, ui.shown_as_error("the settings"):
        train_view.sidebar(owner)
    title, toggle = st.columns([3, 1], vertical_alignment="bottom")
    title.title("RNN Explorer")
    with toggle:
        present.toggle_ui()
    if "tab" not in st.session_state and not st.query_params.get("tab") and st.query_params.get(state.RUN):
        st.session_state["tab"] = "Train"  # a link that names a run, and no tab: show the run
    tabs = st.tabs(list(TABS), key="tab", bind=state.URL)
    for tab, (name, render) in zip(tabs, TABS.items()):
        with tab:
            if tab.open is not False:  # only the open tab's content is computed
                with ui.shown_as_error(f"the {name} tab"):
                    if name not in WITHOUT_TENSORFLOW:
                        loading.wait()
                    render(owner)
    # A moment after the page is drawn (importing TensorFlow beside it would slow it): the spare worker, so
    # that it is warm before Start, and TensorFlow in this process, for the other tabs.
    loading.start(first=services.job_manager().warm)
