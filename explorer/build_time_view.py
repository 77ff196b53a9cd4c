"""The Build time tab: each run's graph build (trace, first call) against its training time.

A fuller build-time lab (sweeping num_steps per implementation) is planned; it grows from here.
"""
import pandas as pd
import streamlit as st

from explorer import figures, services, tables


def render(owner: str) -> None:
    runs = services.store().list(owner=None if st.session_state.get("all_runs") else owner)
    rows = tables.build_rows([services.snapshot(r.run_id) for r in runs])
    if not rows:
        st.info("No run has built its graph yet: start one from the Train tab.")
        return
    st.markdown("Before the first step, the train step is **traced** into a graph, and its **first call** "
                "optimises that graph and runs it once. Both are measured apart from training. The `static` "
                "implementation copies the cell once per time step, so its build grows with `num_steps`; "
                "`dynamic` and `scan` build one loop whatever the length.")
    st.plotly_chart(figures.build_time_figure(rows), key="build_chart", config={"displayModeBar": False})
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "trace_s": st.column_config.NumberColumn("trace s", format="%.2f"),
        "first_call_s": st.column_config.NumberColumn("first call s", format="%.2f"),
        "train_s": st.column_config.NumberColumn("training s", format="%.1f")})
