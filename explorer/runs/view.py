"""The Runs tab: a table of runs, their losses overlaid, and download or delete one."""

import pandas as pd
import streamlit as st

from core.runs.store import RunNotFound
from explorer.common import figures, notices, services, state, tables, ui
from explorer.common.notices import Notice


def visible_runs(owner: str) -> list:
    """This session's runs, or everyone's when asked."""
    everyone = st.checkbox(
        "Show runs from other sessions too",
        key="all_runs",
        bind=state.URL,
        help="Runs started in other browser sessions or from the command line.",
    )
    return services.runs_for(owner, everyone)


def render(owner: str) -> None:
    runs = visible_runs(owner)
    damaged_ui(owner)
    if not runs:
        st.info("No runs yet: start one from the Train tab.")
        import_ui(owner)
        return
    snaps = {r.run_id: services.snapshot(r.run_id) for r in runs}
    examples = [r for r in runs if r.read_only]
    if examples:  # a label is text from a file: shown as text (ui.plain); a run id is letters and digits
        said = [
            f"{r.run_id}: an example run that ships with the app ({ui.plain(_what(r))})" for r in examples
        ]
        st.caption("; ".join(said) + ". Read-only: copy one below to train it further.")
    st.dataframe(
        pd.DataFrame([tables.summary(s) for s in snaps.values()]), hide_index=True, column_config=_columns()
    )
    for run_dir in runs:
        problem = services.checkpoint_problem(run_dir) or services.checkpoint_note(run_dir)
        if problem:
            st.warning(f"{run_dir.run_id}: {problem}.")
    compare_ui(snaps)
    st.caption(
        f"Every run also writes TensorBoard event files (its `tb/` folder): `tensorboard --logdir "
        f"{services.runs_root()}` shows losses, learning rate, gradient norm, samples, and each evaluation's "
        "weight and gate histograms, all runs side by side."
    )
    manage_ui(snaps, owner)


def _columns() -> dict:
    number = st.column_config.NumberColumn
    return {
        "train_loss": number("train loss", format="%.3f"),
        "best_val_loss": number("best val", format="%.3f"),
        "best_val_bits": number("bits/char", format="%.3f"),
        "best_val_at_s": number(
            "best val at s", format="%.0f", help="Seconds after Start, start-up included."
        ),
        "chars_per_s": number("chars/s", format="%.0f"),
        "trace_s": number("trace s", format="%.2f"),
        "first_call_s": number("first call s", format="%.2f"),
        "train_s": number("train s", format="%.1f"),
    }


def compare_ui(snaps: dict) -> None:
    st.subheader("Compare")
    names = {run_id: ui.run_name(run_id, s.config.get("meta", {})) for run_id, s in snaps.items()}
    chosen = st.multiselect(
        "Runs to overlay",
        list(snaps),
        default=list(snaps)[:3],
        key="compare",
        format_func=names.get,
        bind=state.URL,
        help="Their losses are drawn on shared axes.",
    )
    left, right = st.columns(2)
    which = left.radio(
        "Loss",
        ["validation", "training"],
        key="cmp_which",
        horizontal=True,
        bind=state.URL,
        help="Validation loss, or the smoothed training loss.",
    )
    x_axis = right.radio(
        "Against",
        list(figures.X_AXES),
        key="cmp_x",
        horizontal=True,
        bind=state.URL,
        format_func=lambda k: {"step": "step", "time": "training time"}[k],
        help="Training time excludes the graph build.",
    )
    if chosen:
        runs = [(names[run_id], snaps[run_id]) for run_id in chosen]
        st.plotly_chart(
            figures.compare_figure(runs, x_axis, which), key="compare_chart", config={"displayModeBar": False}
        )
        quality_ui(runs)


def quality_ui(runs: list) -> None:
    """The same runs' validation loss against the clock: the quality a choice buys per minute."""
    st.markdown("**Quality against time**")
    axis = st.radio(
        "Against",
        list(figures.QUALITY_AXES),
        key="quality_x",
        horizontal=True,
        bind=state.URL,
        format_func=lambda k: figures.QUALITY_AXES[k][0],
        help="Minutes after Start count TensorFlow's start-up and the graph build, as a person waiting does.",
    )
    st.plotly_chart(figures.quality_figure(runs, axis), key="quality_chart", config={"displayModeBar": False})
    undated = [
        ui.plain(name, figures.NAME_CHARS)
        for name, snap in runs
        if snap.evals and snap.evals[-1].wall_s is None
    ]
    if undated and axis == "wall":
        st.caption(
            f"Not on the clock: {', '.join(undated)} (trained before runs recorded when each loss came)."
        )


def manage_ui(snaps: dict, owner: str) -> None:
    st.subheader("Download, copy or delete")
    selected = state.selected_run()
    options = list(snaps)
    run_id = st.selectbox(
        "Run",
        options,
        index=options.index(selected) if selected in snaps else 0,
        key="manage",
        format_func=lambda r: ui.run_name(r, snaps[r].config.get("meta", {}), snaps[r].status),
        help="The run to download, copy or delete.",
    )
    snap = snaps[run_id]
    run_dir = services.store().get(run_id)
    cols = st.columns(4)
    cols[0].download_button(
        "Metrics (CSV)",
        tables.metrics_csv(snap),
        file_name=f"{run_id}-metrics.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_csv",
        help="Every training step's loss, with validation loss where measured.",
    )
    cols[1].download_button(
        "Whole run (JSON)",
        tables.run_json(snap),
        file_name=f"{run_id}.json",
        mime="application/json",
        on_click="ignore",
        key="download_json",
        help="Config, status, timings, metrics, evaluations, samples and log.",
    )
    cols[1].download_button(
        "Whole run (zip)",
        lambda: services.archive_of(run_dir, owner),  # made on click, in its own thread
        file_name=f"{run_id}.zip",
        mime="application/zip",
        on_click="ignore",
        key="download_zip",
        help="Config, vocabulary, metrics, samples, checkpoints and TensorBoard files (and the corpus, if it "
        "is one you uploaded): import it on another machine's Runs tab.",
    )
    with cols[2].popover("Copy…", help="A new run of yours with this run's weights, metrics and samples."):
        more = st.number_input("More epochs to train", 1, 100, 2, key="copy_epochs")
        st.button(
            "Copy into a new run",
            key="copy",
            on_click=_copy,
            args=(run_id, owner, more),
            help="The copy waits, stopped, on the Train tab: press Continue training there.",
        )
    if services.owns(run_dir, owner):
        with cols[3].popover("Delete…", help="Remove the run's folder, checkpoints included."):
            st.write(f"Delete **{run_id}** and its checkpoints? This cannot be undone.")
            st.button("Delete", key="delete", type="primary", on_click=_delete, args=(run_id, owner))
    else:
        cols[3].caption(ui.whose(run_dir, owned=False) + ": it cannot be deleted here.")
    notices.show(Notice.COPIED)
    notices.show(Notice.DELETED)
    export_ui(run_dir)
    import_ui(owner)


def damaged_ui(owner: str) -> None:
    """Runs whose files do not read back (edited by hand, cut short): said, with Delete for the owner's,
    instead of breaking the tables and charts that read them."""
    everyone = bool(st.session_state.get("all_runs"))
    for run_dir, problem in services.damaged_runs(owner, everyone):
        cols = st.columns([5, 1])
        cols[0].warning(f"{ui.plain(problem)}. It is left out of the tables, charts and pickers.")
        # Whose it is may be unreadable too: then only on a machine its one user reaches.
        unknown = not run_dir.meta() and services.local_server()
        if (services.owns(run_dir, owner) or unknown) and not services.is_live(run_dir.run_id):
            cols[1].button(
                "Delete",
                key=f"delete_damaged_{run_dir.run_id}",
                on_click=_delete,
                args=(run_dir.run_id, owner),
                help="Remove this run's folder, checkpoints included. This cannot be undone.",
            )


def import_ui(owner: str) -> None:
    """Take in a run someone sent (a zip from "Whole run (zip)"), checked before anything is written."""
    st.file_uploader(
        "Import a run (zip)",
        type=["zip"],
        key="import_run",
        on_change=_import,
        args=(owner,),
        help="A run exported from this app: it becomes a run of yours, to view, sample, inspect or continue.",
    )
    notices.show(Notice.IMPORTED)


def _import(owner: str) -> None:
    upload = st.session_state.get("import_run")
    if upload is None:
        return
    try:
        run_dir = services.import_run(upload.getvalue(), owner, name=ui.plain(upload.name))
    except Exception as err:  # a hostile or broken archive: one sentence, nothing written
        notices.put(Notice.IMPORTED, f"Not imported: {ui.reason(err)}")
        return
    state.show(run_dir.run_id)
    notices.put(Notice.IMPORTED, f"Imported as {run_dir.run_id}: it is selected on the Train tab.")


def export_ui(run_dir) -> None:
    """The run's latest checkpoint as a SavedModel anyone can load with TensorFlow alone (a zip)."""
    if not run_dir.has_checkpoint() or services.checkpoint_problem(run_dir):
        return
    key = f"saved_model_{run_dir.run_id}_{run_dir.latest_checkpoint()}"
    if not st.session_state.get(key):
        st.button(
            "Export as a SavedModel…",
            key="export",
            on_click=st.session_state.__setitem__,
            args=(key, True),
            help="Step and generate signatures, the vocabulary inside (`python -m core.export` does the same).",
        )
        return
    with st.spinner("Exporting…"):
        data = services.saved_model_zip(run_dir)
    st.download_button(
        "SavedModel (zip)",
        data,
        file_name=f"{run_dir.run_id}-saved_model.zip",
        mime="application/zip",
        on_click="ignore",
        key="download_saved_model",
        help="Unzip, then tf.saved_model.load(folder): README.md shows the five lines that generate.",
    )


def _copy(run_id: str, owner: str, more_epochs: int) -> None:
    try:
        copy = services.copy_run(run_id, owner, more_epochs)
    except Exception as err:  # a live run, a full disk: said on the page
        notices.put(Notice.COPIED, f"Not copied: {ui.reason(err)}")
        return
    state.show(copy.run_id)
    notices.put(
        Notice.COPIED,
        f"Copied {run_id} into {copy.run_id}: it is selected on the Train tab, where it can be continued.",
    )


def _delete(run_id: str, owner: str) -> None:
    try:
        services.delete_run(run_id, owner)
    except RunNotFound:
        pass
    except Exception as err:  # another session's run, a live one, a folder that will not go
        notices.put(Notice.DELETED, f"Could not delete {run_id}: {ui.reason(err)}")
        return
    if st.session_state.get(state.RUN) == run_id:
        st.session_state[state.RUN] = None
    notices.put(Notice.DELETED, f"Deleted {run_id}.")


def _what(example) -> str:
    """An example's label without its "example: " (the quick preset, trained; an LSTM on Python's source)."""
    label = str(example.meta().get("label", ""))
    return label.removeprefix("example: ") or "trained"
