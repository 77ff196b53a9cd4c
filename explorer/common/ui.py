"""Small display helpers every page uses: errors without tracebacks, statuses, durations, run names."""

import logging
import re
from contextlib import contextmanager

import streamlit as st

from core.config import AUTO
from core.errors import Refusal
from core.runs.record import Status
from core.text import shown

log = logging.getLogger("rnn_explorer")
# A run folder in one of these and no job: interrupted.
LIVE = (Status.CREATED, Status.BUILDING, Status.TRAINING, Status.PAUSED)


@contextmanager
def shown_as_error(what: str):
    """Run a block; an unexpected error becomes an st.error line (the traceback goes to the server log)."""
    try:
        yield
    except Exception as err:  # st.rerun/st.stop raise BaseExceptions and pass through
        log.exception("error while drawing %s", what)
        st.error(f"Something went wrong while drawing {what}: {type(err).__name__}: {err}")


def reason(err: Exception) -> str:
    """An error as a sentence for the page: our errors' messages are written for people; others get their
    type too, and their traceback goes to the server log."""
    if isinstance(err, Refusal):
        return str(err)
    log.error("unexpected error", exc_info=err)
    return f"{type(err).__name__}: {err}"


# Markdown's punctuation, and & (an entity such as &#8238; would become the character it names).
MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")


def plain(text: str, limit: int | None = None) -> str:
    """Text a person typed (a label, a file name) made safe to put in Markdown: shown as typed, never as
    bold, a link or an image, on one line, without the characters core.text.shown drops, and at most
    `limit` characters (a name: core.text.MAX_SHOWN)."""
    return MARKDOWN.sub(r"\\\1", shown(text, limit))


def whose(run_dir, owned: bool) -> str:
    """Who a run belongs to, as the page says it."""
    if run_dir.read_only:
        return "An example that ships with the app (read-only; the Runs tab copies it)"
    if run_dir.meta().get("owner") == "cli":
        return "Trained from the command line" + ("" if owned else " on the server (view only)")
    return "" if owned else "View only: this run belongs to another browser session"


def duration(seconds) -> str:
    """'0:42', '12:05', '1:02:03'; '–' when unknown."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def seconds(value) -> str:
    return "–" if value is None else f"{value:.2f} s"


def run_name(run_id: str, meta: dict, status: str = "") -> str:
    """How a run appears in select boxes and legends, as plain text: its label (if any, as core.text.shown
    makes it), its id and its status."""
    label = shown(meta.get("label") or "")
    name = f"{label} · {run_id}" if label else run_id
    return f"{name} ({status})" if status else name


def run_select(runs: list, key: str, help: str, selected: str | None = None):
    """A select box of runs (label, id and status each), on `selected` if it is one of them; the run."""
    names = {r.run_id: run_name(r.run_id, r.meta(), r.status().get("status", "")) for r in runs}
    run_id = st.selectbox(
        "Run",
        list(names),
        index=list(names).index(selected) if selected in names else 0,
        key=key,
        format_func=names.get,
        help=help,
    )
    return next(r for r in runs if r.run_id == run_id)


def status_box(snap, live: bool) -> None:
    """The run's status and message, coloured by how it went."""
    status, message = snap.status, plain(snap.message)  # a run's files may come from anyone: text only
    if status in LIVE and not live:
        st.warning(
            f"Interrupted: this run was {status} when its training process went away (the app was "
            "restarted?). Its last checkpoint is kept; continue it below."
        )
    elif status in (Status.CREATED, Status.BUILDING) and snap.config.get("train", {}).get("size_by_speed"):
        st.info(
            "Building the graph… (a few steps are timed first, to size the model to this machine's speed, "
            "when the model is the preset's)"
        )
    elif status in (Status.CREATED, Status.BUILDING):
        st.info("Building the graph… (its trace and first-call times are measured apart from training)")
    elif status == Status.TRAINING and snap.config.get("model", {}).get("impl") == AUTO and not snap.probe:
        st.info(
            "Training — its first steps also time each implementation, to train the rest with the fastest"
        )
    elif status == Status.TRAINING:
        st.info("Training")
    elif status == Status.PAUSED:
        st.warning(f"Paused at step {snap.progress.step:,}")
    elif status == Status.FINISHED:
        st.success(f"Finished: {message}")
    elif status == Status.STOPPED:
        st.warning(f"Stopped: {message}")
    else:  # diverged, failed
        st.error(f"{status.capitalize()}: {message}")
