"""The page: sidebar settings, then the Tour, Train, Runs, Generate, Inside and Build time tabs (one module
each); the Tour opens first, on a first visit.

The first page (the sidebar and the Tour's first section) is drawn without TensorFlow; once it is, a thread
imports it (explorer/common/loading.py), and every other tab waits for that import before it is drawn.
"""

import importlib

import streamlit as st

from explorer.common import loading, present, services, state, ui
from explorer.train import view as train_view

# Each tab's module, imported when the tab is first opened: the first page imports only the sidebar's and
# the Tour's (pandas and the other tabs' modules are a good part of the first script run's time).
TABS = {
    "Tour": "explorer.tour.view",
    "Train": "explorer.train.view",
    "Runs": "explorer.runs.view",
    "Generate": "explorer.generate.view",
    "Inside": "explorer.inside.view",
    "Build time": "explorer.lab.view",
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
    for tab, (name, module) in zip(tabs, TABS.items()):
        with tab:
            if tab.open is not False:  # only the open tab's content is computed
                with ui.shown_as_error(f"the {name} tab"):
                    if name not in WITHOUT_TENSORFLOW:
                        loading.wait()
                    importlib.import_module(module).render(owner)
    # A moment after the page is drawn (importing TensorFlow beside it would slow it): the spare worker, so
    # that it is warm before Start, and TensorFlow in this process, for the other tabs.
    loading.start(first=services.job_manager().warm)
