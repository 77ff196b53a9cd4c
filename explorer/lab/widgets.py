"""What the lab's sections share: the start button, the live panel of a running task, the result
picker, the machine a result was measured on, and what each implementation builds.

Worker threads never call st.*: the panel reads the lab's snapshot (a TaskView) once a second.
"""

from pathlib import Path

import streamlit as st

from core.lab import jobs, results
from core.lab.results import ResultError
from explorer.common import services, ui
from explorer.lab import implementations

REFRESH_S = 1.0  # live panel refresh while a task measures; AppTest cannot fire it, a browser does
SPAWN_NOTE = (
    "Each measurement runs in a fresh process, so one never colours the next; that process spends "
    "seconds importing TensorFlow before it measures anything."
)


# ---- starting ------------------------------------------------------------------------------------------
def results_folder() -> Path:
    """Where this app saves what it measures: <runs dir>/_buildtime."""
    return results.folder_of(services.runs_root())


def start_ui(label: str, key: str, problem: str, view, owner: str, help: str) -> bool:
    """The start button, disabled (with the reason) while the settings cannot work or the lab is busy."""
    if problem:
        st.error(problem)
    busy = view is not None and view.running
    if busy:
        message = jobs.busy_message(view, owner)
        st.info(f"{message[:1].upper()}{message[1:]}.")
    return st.button(label, key=key, type="primary", disabled=bool(problem) or busy, help=help)


def start(begin) -> None:
    """Call begin() (which starts a task); any refusal becomes a sentence on the page."""
    try:
        begin()
    except Exception as err:  # LabBusy, a bad setting, a process that would not start
        st.error(f"Not started: {ui.reason(err)}")


def training_note() -> None:
    """Training runs share the CPU: say so, since they slow every figure measured meanwhile."""
    active = len(services.job_manager().active())
    if active:
        st.warning(
            f"{active} training run{'s are' if active > 1 else ' is'} using the CPU now: figures "
            "measured meanwhile will be slower than on an idle machine."
        )


# ---- while it measures ---------------------------------------------------------------------------------
@st.fragment(run_every=REFRESH_S)
def live_panel(kind: str, owner: str, lab, draw) -> None:
    """Redrawn every REFRESH_S from the lab's snapshot; one full rerun once the task has ended."""
    view = lab.current()
    if view is None or not view.running:
        st.rerun()  # it ended: redraw the page once, with the saved result picked
    progress_ui(view, owner, lab)
    if view.kind == kind:
        draw({results.KINDS[kind]: list(view.rows)})
    else:
        st.caption(f"The running {results.NAMES[view.kind]}'s rows show in its own section.")


def progress_ui(view, owner: str, lab) -> None:
    """Which measurement of how many, how long it and the whole task have taken; Cancel for its owner."""
    done, total = len(view.rows), len(view.labels)
    text = (
        f"Measuring {min(done + 1, total)} of {total}: {view.current_label} · this one "
        f"{ui.duration(view.row_elapsed_s())} · elapsed {ui.duration(view.elapsed_s())}"
    )
    st.progress(done / total if total else 0.0, text=text)
    if view.cancelling:
        st.caption("Cancelling… (the measuring process is ended at once)")
    elif view.owner == owner:
        st.button(
            "Cancel",
            key="bt_cancel",
            on_click=lab.cancel,
            help="End the measuring process now; the rows measured so far stay on the page, unsaved.",
        )
    else:
        st.caption("Started in another browser session: it can be cancelled there.")


def last_status(view, kind: str) -> None:
    """How the last task of this kind ended (it stays in the app process until the next one)."""
    if view is None or view.running or view.kind != kind:
        return
    if view.status == "finished":
        st.success(
            f"Finished: {view.message}; saved in the runs folder as {results.FOLDER}/{Path(view.saved).name}."
        )
    elif view.status == "cancelled":
        st.warning(f"Cancelled: {view.message}")
    else:
        st.error(f"The {results.NAMES[kind]} failed: {view.message}")


# ---- results -------------------------------------------------------------------------------------------
def results_ui(kind: str, owner: str, lab, view, draw) -> None:
    """While a task measures, its live panel; else how the last one ended, and the result picked.
    draw(payload) shows a result (a saved file's contents, or {"rows"/"results": rows so far})."""
    if view is not None and view.running:
        live_panel(kind, owner, lab, draw)
        return
    last_status(view, kind)
    payload = result_ui(kind, view)
    if payload is not None:
        draw(payload)


def sources(kind: str, view) -> dict:
    """option -> (label, what to load): the last unsaved task, results saved here (newest first), the reference."""
    options = {}
    if view is not None and view.kind == kind and not view.running and not view.saved and view.rows:
        rows = {results.KINDS[kind]: list(view.rows)}
        options["last"] = (f"the {view.status} {results.NAMES[kind]} (not saved)", rows)
    for path in results.saved(results_folder(), kind):
        options[path.name] = (f"measured here, {results.stamp_of(path)}", path)
    ref = results.reference(kind)
    if ref is not None:
        options["reference"] = (f"reference: {results.describe(ref, kind)}", ref)
    return options


def result_ui(kind: str, view) -> dict | None:
    """A select box of results, the newest first; the chosen result's contents (None if there is none)."""
    options = sources(kind, view)
    if kind in results.REFERENCES and results.reference(kind) is None:
        st.caption(
            f"No reference result yet: assets/{results.REFERENCES[kind].name}, measured on a "
            "known machine, will appear here once it ships."
        )
    if not options:
        reference = f", and no reference {kind} yet" if kind in results.REFERENCES else ""
        st.info(f"Nothing measured yet{reference}: start one above.")
        return None
    first = next(iter(options))  # in the key: a newer result makes a new box, which then shows it
    choice = st.selectbox(
        "Result",
        list(options),
        key=f"bt_{kind}_result_{first}",
        format_func=lambda o: options[o][0],
        help="Results measured on this machine are saved under the runs folder; the reference "
        "was measured on a known machine and ships with the app.",
    )
    return _load(kind, options[choice][1], reference=choice == "reference")


def _load(kind: str, source, reference: bool) -> dict | None:
    """Rows kept in memory as they are; a file read, with the machine it was measured on said."""
    if isinstance(source, dict):
        return source
    try:
        payload = results.load(source, kind)
    except ResultError as err:
        st.error(str(err))
        return None
    st.caption(("Reference measured on " if reference else "Measured on ") + results.machine_label(payload))
    return payload


# ---- explanations --------------------------------------------------------------------------------------
def explain_ui(name: str) -> None:
    """What `name` builds, and the lines of the project's code that build it."""
    with st.expander(f"What `{name}` builds"):
        st.markdown(implementations.explanation(name))
        st.code(implementations.snippet(name), language="python", wrap_lines=True)  # a half-width column
        st.caption(f"From {implementations.source_of(name)}.")
