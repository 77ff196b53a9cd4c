"""TensorFlow in the app's process: imported once, in a thread started when the first page is drawn, and
waited for before anything that computes with it is drawn.

The first page (the sidebar, the Tour's first section) goes without it, so it is drawn in the seconds the
import takes. TensorFlow's import must not run in two threads at once (each holds a module the other needs:
Python stops one with a deadlock error and TensorFlow is left half imported), so nothing else in the app
imports it while this thread does: every tab and Tour section that computes with it calls `wait()` first.
"""

import gc
import threading

import streamlit as st


@st.cache_resource(show_spinner=False)
def _loader() -> threading.Thread:
    thread = threading.Thread(target=_load, name="load-tensorflow", daemon=True)
    thread.start()
    return thread


def start() -> None:
    """Begin the import, once per process (the first page calls it once it is drawn)."""
    _loader()


def wait() -> None:
    """Return once TensorFlow is imported, beginning the import if nothing has."""
    thread = _loader()
    if thread.is_alive():
        with st.spinner("Loading TensorFlow…"):
            thread.join()


def _load() -> None:
    import core.model.sampler  # noqa: F401  TensorFlow, Keras, the cells and the unrollers with them
    import core.model.trace  # noqa: F401
    import core.model.unrollers  # noqa: F401
    import core.runs.checkpoints  # noqa: F401

    # Streamlit clears the Keras session after every script run (each live-view refresh), and
    # clear_session() runs a full gc.collect() over TensorFlow's many objects, a pause on every refresh.
    # Moving everything imported so far out of the collector's reach makes it next to free (time
    # gc.collect() after importing tensorflow, with and without gc.freeze(), to see it). No gc.collect()
    # first: it would cost that pause, to free next to nothing.
    gc.freeze()
