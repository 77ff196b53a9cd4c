"""The Runs tab: a table of runs, their losses overlaid, and download or delete one."""

import pandas as pd
import streamlit as st

from core.runs.store import RunNotFound
from explorer.common import figures, services, state, tables, ui


def visible_runs(owner: str) -> list:
    """This session's runs, or everyone's when asked."""
    everyone = st.checkbox(
        "Show runs from other sessions too",
        key="all_runs",
        bind=state.URL,
        help="Runs started in other browser sessions or from the command line.",
    )
    return services.store().list(owner=None if everyone else owner)


def render(owner: str) -> None:
    runs = visible_runs(owner)
    if not runs:
        st.info("No runs yet: start one from the Train tab.")
        return
    snaps = {r.run_id: services.snapshot(r.run_id) for r in runs}
    st.dataframe(
        pd.DataFrame([tables.summary(s) for s in snaps.values()]), hide_index=True, column_config=_columns()
    )
    for run_dir in runs:
        problem = services.checkpoint_problem(run_dir)
        if problem:
            st.warning(f"{run_dir.run_id}: {problem}.")
    compare_ui(snaps)
    manage_ui(snaps)


def _columns() -> dict:
    number = st.column_config.NumberColumn
    return {
        "train_loss": number("train loss", format="%.3f"),
        "best_val_loss": number("best val", format="%.3f"),
        "best_val_bits": number("bits/char", format="%.3f"),
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


def manage_ui(snaps: dict) -> None:
    st.subheader("Download or delete")
    selected = st.session_state.get(state.RUN)
    options = list(snaps)
    run_id = st.selectbox(
        "Run",
        options,
        index=options.index(selected) if selected in snaps else 0,
        key="manage",
        format_func=lambda r: ui.run_name(r, snaps[r].config.get("meta", {}), snaps[r].status),
        help="The run to download or delete.",
    )
    snap = snaps[run_id]
    cols = st.columns(3)
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
    with cols[2].popover("Delete…", help="Remove the run's folder, checkpoints included."):
        st.write(f"Delete **{run_id}** and its checkpoints? This cannot be undone.")
        st.button("Delete", key="delete", type="primary", on_click=_delete, args=(run_id,))
    if st.session_state.get("delete_message"):
        st.info(st.session_state.pop("delete_message"))


def _delete(run_id: str) -> None:
    if services.is_live(run_id):
        st.session_state["delete_message"] = f"{run_id} is training: stop it first."
        return
    try:
        services.store().delete(run_id)
    except RunNotFound:
        pass
    except OSError as err:
        st.session_state["delete_message"] = f"Could not delete {run_id}: {ui.reason(err)}"
        return
    if st.session_state.get(state.RUN) == run_id:
        st.session_state[state.RUN] = None
    st.session_state["delete_message"] = f"Deleted {run_id}."
