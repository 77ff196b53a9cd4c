"""The lab's first section: the post's experiment, replayed on this machine beside the post's own figures.

r2rt.com's "Recurrent Neural Networks in Tensorflow II" timed the graph build of a basic RNN unrolled as a
list, then built and trained a 3-layer LSTM three ways (list, dynamic_rnn, scan). core.experiment replays
those rows in both families: the post's own tf.compat.v1 calls in a tf.Graph + Session, and their TF2 twins.
"""

import dataclasses

import pandas as pd
import streamlit as st

from core.lab import jobs, results
from core.measure.experiment import post_plan, ratios
from core.presets import PRESETS
from explorer.common import corpora, state
from explorer.lab import figures, implementations, widgets

KIND = "experiment"
# option -> (epochs per LSTM row, with the TF1 family?, what it is for)
VARIANTS = {
    "The whole experiment": (
        3,
        True,
        "3 epochs per LSTM row, TF1 and TF2, as the post did: the longest (its time on 2 cores: "
        "docs/post-replayed.md)",
    ),
    "One epoch": (1, True, "TF1 and TF2, one epoch each: every build time, a third of the training"),
    "Quick demo": (
        1,
        False,
        "TF2 only, one epoch: half the measurements, a third of the training each; "
        "short enough to show in class",
    ),
}
INTRO = (
    "The post built a basic RNN unrolled as a list of 200 steps, then a 3-layer LSTM (state 100, batch 32, "
    "200 steps) three ways — a **list** (`static_rnn`), **`dynamic_rnn`** and **`tf.scan`** — and trained "
    "each for 3 epochs. Its conclusions: the list takes far longer to build, and `scan` is a little slower "
    "than `dynamic_rnn`. Here every row is measured twice: with the post's own `tf.compat.v1` calls "
    "(a `tf.Graph` run by a `Session`: *TF1*) and with their TF2 twins (a traced `tf.function`). "
    "The post's *build* is graph construction: the trace here; the *first call* (graph optimisation "
    "plus one step) is shown apart."
)


def plan_for(variant: str):
    """(the plan of measurements, epochs per LSTM row) for a variant, on the seed preset (the post's setting)."""
    epochs, tf1, _ = VARIANTS[variant]
    base = dataclasses.replace(PRESETS["seed"], corpus=corpora.builtin_path())
    return post_plan(epochs, base=base, tf1=tf1), epochs


def render(owner: str, lab, view) -> None:
    st.markdown(INTRO)
    variant = st.radio(
        "What to run",
        list(VARIANTS),
        key="bt_variant",
        bind=state.URL,
        horizontal=True,
        captions=[v[2] for v in VARIANTS.values()],
        help="Every variant measures the post's setting (the seed preset); they differ in how "
        "long they train and whether the TF1 family is measured too.",
    )
    plan, epochs = plan_for(variant)
    st.caption(f"{len(plan)} measurements: " + "; ".join(m.label for m in plan) + ". " + widgets.SPAWN_NOTE)
    if widgets.start_ui(
        "Run the experiment",
        "bt_run",
        "",
        view,
        owner,
        help="Measure every row in the background; it keeps going if you leave or reload "
        "the page. The result is saved under the runs folder.",
    ):
        folder = widgets.results_folder()
        widgets.start(lambda: jobs.start_experiment(lab, owner, plan, epochs, folder))
        view = lab.current()
    explanations_ui(plan)
    widgets.results_ui(KIND, owner, lab, view, show)


def explanations_ui(plan) -> None:
    """What each implementation in the plan builds, TF2 and TF1 side by side."""
    impls = list(dict.fromkeys(m.impl for m in plan))
    tf1 = [name for name in impls if implementations.is_tf1(name)]
    columns = st.columns(2 if tf1 else 1)
    for name in impls:
        with columns[-1] if name in tf1 else columns[0]:
            widgets.explain_ui(name)


def show(payload: dict) -> None:
    """The rows beside the post's figures: a table, the post's ratios, build, training and loss charts."""
    rows = results.rows_of(payload, KIND)
    if not rows:
        st.caption("The first row appears here when its measurement ends.")
        return
    st.dataframe(pd.DataFrame(results.experiment_table(rows)), hide_index=True, column_config=_columns())
    ratios_ui(rows)
    config = {"displayModeBar": False}
    st.plotly_chart(figures.post_build_figure(rows), key="bt_post_build", config=config)
    left, right = st.columns(2)
    left.plotly_chart(figures.post_training_figure(rows), key="bt_post_train", config=config)
    right.plotly_chart(figures.post_loss_figure(rows), key="bt_post_loss", config=config)


def _columns() -> dict:
    number = st.column_config.NumberColumn
    return {name: number(name, format="%.2f") for name in ("build s", "post build s", "first call s")} | {
        name: number(name, format="%.1f") for name in ("training s", "post training s")
    }


def ratios_ui(rows: list[dict]) -> None:
    """The ratios the post drew its conclusions from, the post's own first, where both sides were measured."""
    found = ratios(rows)
    order = sorted(found, key=lambda name: (not name.startswith("post"), name))
    build, speed = st.columns(2)
    for name in order:
        column = build if "build" in name else speed
        column.metric(name, f"{found[name]:.2f}×", help=RATIO_HELP)
    st.caption(RATIO_HELP)


RATIO_HELP = (
    "Build: the list's graph build time over dynamic_rnn's. Speed: scan's time over dynamic_rnn's — here "
    "the median steady train step, in the post the 3 epochs' wall time; above 1 means scan is slower."
)
