"""TensorFlow in the app's process: imported once, in a thread that begins a moment after the first page
is drawn, and waited for before anything that computes with it is drawn.

The first page (the sidebar, the Tour's first section) goes without it. Once its script has run, the
browser still has to draw it; on 2 cores an import beside that (it holds the interpreter's lock, which the
server needs to send the page) and the spare training worker's own import made the page usable seconds
later. So both wait AFTER_FIRST_PAGE_S, unless something needs TensorFlow sooner: `wait()` cuts the pause
short. TensorFlow's import must not run in two threads at once (each holds a module the other needs:
Python stops one with a deadlock error and TensorFlow is left half imported), so nothing else in the app
imports it while this thread does: every tab and Tour section that computes with it calls `wait()` first.
"""

import gc
import threading
from collections.abc import Callable

import streamlit as st

AFTER_FIRST_PAGE_S = 2.5  # the first page's drawing in the browser, measured: docs/app-targets.md

_lock = threading.Lock()
_thread: threading.Thread | None = None
_hurry = threading.Event()  # set: something waits for TensorFlow, so the pause ends now


def start(first: Callable[[], None] = lambda: None) -> None:
    """Once per process: after AFTER_FIRST_PAGE_S (or as soon as something waits), run `first` (the app
    starts its spare training worker there) and import TensorFlow."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_load, args=(first,), name="load-tensorflow", daemon=True)
            _thread.start()


def wait() -> None:
    """Return once TensorFlow is imported, beginning the import now if it has not begun."""
    start()
    _hurry.set()
    if _thread.is_alive():
        with st.spinner("Loading TensorFlow…"):
            _thread.join()


def _load(first: Callable[[], None]) -> None:
    _hurry.wait(AFTER_FIRST_PAGE_S)
    first()
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
