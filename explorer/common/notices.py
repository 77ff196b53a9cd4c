"""One-shot messages: a callback puts one (it cannot draw: the page is redrawn after it), the page shows
it once, where it belongs, on the rerun that follows.

    notices.put(Notice.DELETED, "Deleted r1.")    in a button's on_click
    notices.show(Notice.DELETED)                  where the page draws it: shown once, then gone
"""

from enum import StrEnum

import streamlit as st


class Notice(StrEnum):
    """Each one-shot message by name; the value is its key in st.session_state."""

    DELETED = "notice_deleted"  # Runs tab: a run deleted, or why it was not
    COPIED = "notice_copied"  # Runs tab: a run copied into a new one, or why it was not
    IMPORTED = "notice_imported"  # Runs tab: an archive imported, or why it was not
    NOT_CONTINUED = "notice_not_continued"  # Train tab: why Continue training did not start


ERRORS = {Notice.NOT_CONTINUED}  # shown as errors; the others as information


def put(notice: Notice, text: str) -> None:
    """Keep `text` for the next time the page shows `notice` (a newer one replaces it)."""
    st.session_state[notice.value] = text


def show(notice: Notice) -> None:
    """Show `notice` if one is waiting, once."""
    text = st.session_state.pop(notice.value, None)
    if text:
        (st.error if notice in ERRORS else st.info)(text)
