"""From a tour section to the tab where its experiment continues, with the settings filled in."""

import streamlit as st

from explorer.common import state


def open_tab(tab: str, settings: dict | None = None) -> None:
    """A button's on_click: set these sidebar settings (keyed by their URL keys: "cell", "layers", ...)
    and switch to `tab` ("Train", "Runs", "Generate", "Inside", "Build time")."""
    state.apply_settings(settings or {})
    state.show(tab=tab)


def continue_in(tab: str, label: str, settings: dict | None = None, key: str = "") -> None:
    """A button that goes on in `tab` with `settings` in the sidebar; `label` says what happens there."""
    st.button(
        f"{label} → {tab}",
        key=f"tour_to_{key or tab}",
        on_click=open_tab,
        args=(tab, settings),
        help=f"Opens the {tab} tab" + (" with these settings in the sidebar." if settings else "."),
    )
