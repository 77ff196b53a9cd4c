"""Presentation mode, for a class watching a projector: larger type, the sidebar folded away, the chart
first; and the few styles every view needs to stay readable at 1024×768 (metric labels that wrap
instead of being cut). A toggle, kept in the URL as `present=true`, so a teacher can hand out the link."""

import streamlit as st

from explorer.common import state

KEY = "present"

ALWAYS = """
[data-testid="stMetricLabel"] p, [data-testid="stMetricLabel"] div { white-space: normal; overflow: visible; }
[data-testid="stMetricLabel"] { height: auto; }
"""
PRESENTING = """
html { font-size: 19px; }
[data-testid="stMainBlockContainer"] { padding-top: 3.5rem; }
h1 { font-size: 2rem !important; padding-top: 0 !important; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.1rem; }
[data-testid="stMetricValue"] { font-size: 2.2rem; }
button[role="tab"] p { font-size: 1.15rem; }
[data-testid="stCaptionContainer"] { font-size: 0.95rem; }
"""


def presenting() -> bool:
    """Whether this session shows the page for a projector (read before the toggle is drawn)."""
    if KEY in st.session_state:
        return bool(st.session_state[KEY])
    return st.query_params.get(KEY) == "true"


def page_config() -> None:
    """The page's configuration: the sidebar starts folded away while presenting."""
    st.set_page_config(
        page_title="RNN Explorer",
        layout="wide",
        initial_sidebar_state="collapsed" if presenting() else "auto",
    )


def style() -> None:
    st.html(f"<style>{ALWAYS}{PRESENTING if presenting() else ''}</style>")


def toggle_ui() -> None:
    st.toggle(
        "Presenting",
        key=KEY,
        bind=state.URL,
        help="For a projector: larger type, the sidebar folded away (open it with the arrow at the top "
        "left), the chart first. The link keeps it on.",
    )
