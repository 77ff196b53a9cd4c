"""The lab's second section: sweep num_steps (or layers, batch, state) per implementation, and see which
graphs grow with it. Measured as `python -m core.bench --sweep` measures, and saved in its JSON format."""

import pandas as pd
import streamlit as st

from core.catalogue import CELL_CHOICES
from core.config import ModelConfig, TrainConfig, control_of, help_of
from core.lab import jobs, results
from core.measure.plan import SWEEPABLE
from core.presets import PRESETS
from explorer.common import corpora, state
from explorer.lab import figures, implementations, widgets

KIND = "sweep"
SEED = PRESETS["seed"]  # the settings not swept start at the post's
DEFAULT_IMPLS = ("static", "dynamic", "scan")  # ticked at first: the post's three
DEFAULT_VALUES = {
    "num_steps": "25,50,100,200,400",
    "num_layers": "1,2,3,4",
    "batch_size": "8,16,32,64",
    "state_size": "32,64,128,256",
}
DEFAULT_TIMED = 5  # timed steps per measurement: enough for a median, cheap beside the build
INTRO = (
    "Pick implementations and sweep one setting; every other one starts at the post's (the `seed` preset). "
    "Each point is one measurement: the **trace** (building the graph), the **first call** (optimising and "
    "running it once) and the median of a few steady **train steps**. Watch `static` grow with "
    "`num_steps` while the loops stay flat."
)


def render(owner: str, lab, view) -> None:
    st.markdown(INTRO)
    request = controls_ui()
    plan, problem = sweep_of(request)
    count = 0 if plan is None else len(plan.points())
    count = f"{count} measurement{'s' if count != 1 else ''}. " if count else ""
    st.caption(count + widgets.SPAWN_NOTE + " A `static` graph of a few hundred steps takes tens of seconds.")
    if widgets.start_ui(
        "Measure",
        "bt_measure",
        problem,
        view,
        owner,
        help="Measure every implementation at every value in the background; the result is "
        "saved under the runs folder.",
    ):
        folder = widgets.results_folder()
        widgets.start(lambda: jobs.start_sweep(lab, owner, plan, folder))
        view = lab.current()
    widgets.results_ui(KIND, owner, lab, view, show)


# ---- controls ------------------------------------------------------------------------------------------
def controls_ui() -> dict:
    """Cell, the swept setting and its values, the other settings, timed steps and the implementations."""
    left, middle, right = st.columns(3)
    cell = left.selectbox(
        "Cell",
        CELL_CHOICES.names(),
        index=CELL_CHOICES.names().index(SEED.model.cell),
        key="bt_cell",
        bind=state.URL,
        help=_help("cell"),
    )
    key = middle.radio(
        "Sweep over",
        list(SWEEPABLE),
        key="bt_sweep",
        bind=state.URL,
        horizontal=True,
        help="The setting that changes from one measurement to the next.",
    )
    values = right.text_input(
        "Values",
        DEFAULT_VALUES.get(key, ""),
        key=f"bt_values_{key}",
        bind=state.URL,
        help=f"{key} values, separated by commas. {_help(key)}",
    )
    return {"cell": cell, "key": key, "values": values, **settings_ui(key), "impls": impls_ui(cell)}


def settings_ui(swept: str) -> dict:
    """Every sweepable setting but the swept one, from the seed preset; and the timed steps."""
    others = [k for k in SWEEPABLE if k != swept]
    columns = st.columns(len(others) + 1)
    settings = {
        k: col.number_input(
            k,
            min_value=1,
            max_value=_control(k).high,  # the config's own bound
            value=_seed(k),
            step=1,
            key=f"bt_{k}",
            bind=state.URL,
            help=_help(k),
        )
        for k, col in zip(others, columns)
    }
    timed = columns[-1].number_input(
        "Timed steps",
        min_value=1,
        max_value=100,
        value=DEFAULT_TIMED,
        step=1,
        key="bt_timed",
        bind=state.URL,
        help=f"Steady train steps timed per measurement (their median is shown), "
        f"after the first call and {jobs.WARMUP} untimed step.",
    )
    return {"settings": settings, "timed": timed}


def impls_ui(cell: str) -> list[str]:
    """A box per implementation (TF2, then the TF1 family), each with what it builds beside it."""
    tf2, tf1 = st.columns(2)
    tf2.markdown("**TF2**: a `tf.function` traced from Python")
    tf1.markdown("**TF1 family**: the post's calls in a `tf.Graph`, run by a `Session`")
    chosen = []
    for name in implementations.names():
        with tf1 if implementations.is_tf1(name) else tf2:
            if impl_ui(name, cell):
                chosen.append(name)
    return chosen


def impl_ui(name: str, cell: str) -> bool:
    works = bool(jobs.usable([name], cell))
    entry = implementations.entry(name)
    ticked = st.checkbox(
        name,
        value=name in DEFAULT_IMPLS,
        key=f"bt_use_{name}",
        bind=state.URL,
        disabled=not works,
        help=entry.description + ("" if works else f" (so not the {cell} cell)"),
    )
    widgets.explain_ui(name)
    return ticked and works


def _seed(key: str) -> int:
    return getattr(getattr(SEED, SWEEPABLE[key]), key)


def _control(name: str):
    return control_of(ModelConfig if SWEEPABLE[name] == "model" else TrainConfig, name)


def _help(name: str) -> str:
    return state.sentence(
        help_of(ModelConfig if name == "cell" or SWEEPABLE.get(name) == "model" else TrainConfig, name)
    )


def sweep_of(request: dict):
    """(the benchmark plan of this sweep, '') or (None, why it cannot run)."""
    try:
        values = jobs.parse_values(request["values"])
        return jobs.sweep_plan(
            request["impls"],
            request["cell"],
            request["key"],
            values,
            request["settings"],
            request["timed"],
            corpora.builtin_path(),
        ), ""
    except ValueError as err:  # ConfigError, or the bench's own refusal
        return None, f"Cannot measure this: {err}"


# ---- results -------------------------------------------------------------------------------------------
def show(payload: dict) -> None:
    """Build time against the swept setting, the parts of each measurement, throughput, then the table."""
    rows, key = results.rows_of(payload, KIND), results.swept_key(payload)
    if not rows:
        st.caption("The first point appears here when its measurement ends.")
        return
    config = {"displayModeBar": False}
    log_y = st.checkbox(
        "Log scale for the build time",
        key="bt_log",
        bind=state.URL,
        help="Shows the flat loops and the growing static graph on one readable scale.",
    )
    st.plotly_chart(figures.sweep_build_figure(rows, key, log_y), key="bt_sweep_build", config=config)
    left, right = st.columns(2)
    left.plotly_chart(figures.sweep_parts_figure(rows, key), key="bt_sweep_parts", config=config)
    right.plotly_chart(figures.sweep_rate_figure(rows, key), key="bt_sweep_rate", config=config)
    st.dataframe(
        pd.DataFrame(results.sweep_table(rows, key)),
        hide_index=True,
        column_config={
            "trace_s": st.column_config.NumberColumn("trace s", format="%.2f"),
            "first_call_s": st.column_config.NumberColumn("first call s", format="%.2f"),
            "step_s": st.column_config.NumberColumn("step s", format="%.3f"),
            "chars_per_s": st.column_config.NumberColumn("chars/s", format="%.0f"),
            "gflop_per_s": st.column_config.NumberColumn("GFLOP/s", format="%.2f"),
            "peak_rss_mb": st.column_config.NumberColumn("peak MB", format="%.0f"),
        },
    )
