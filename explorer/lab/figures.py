"""Pure Plotly figures of the Build-time lab: result rows in, a go.Figure out. No Streamlit here.

Experiment rows are core.experiment's (label, impl, post, trace_s, first_call_s, epoch_losses, train_s);
cell-comparison rows are too, with a loss_curve ([[steps done, mean loss], ...]) and a val_loss; sweep
rows are core.bench's (impl, the swept setting, trace_s, first_call_s, step_s, chars_per_s, config).
Rows with an "error" are left out of every figure (the page lists them). Their labels and implementation
names are read from result files, so each is escaped for Plotly.
"""

import plotly.graph_objects as go

from core.lab.results import x_of
from core.measure.experiment import POST_FIGURES
from core.text import plotly_text
from explorer.common.figures import log_axis

TRACE, FIRST, STEP, POST = "rgb(214,39,40)", "rgb(255,127,14)", "rgb(31,119,180)", "rgb(127,127,127)"
CELL_COLORS = ("rgb(31,119,180)", "rgb(214,39,40)", "rgb(44,160,44)", "rgb(148,103,189)")
LABELS = {
    "num_steps": "num_steps (time steps per window)",
    "num_layers": "num_layers (stacked cells)",
    "batch_size": "batch size",
    "state_size": "state size (units per cell)",
}


def _post(row: dict, field: str):
    """The post's figure for the measurement this row stands beside (None if the post had none)."""
    return POST_FIGURES.get(row.get("post"), {}).get(field)


def ok(rows: list[dict]) -> list[dict]:
    """The rows that were measured (no error)."""
    return [r for r in rows if "error" not in r]


def _layout(fig: go.Figure, x_title: str, y_title: str, revision: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=50, r=10, t=30, b=40),
        uirevision=revision,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
        xaxis_title=x_title,
        yaxis_title=y_title,
    )
    return fig


# ---- the post's experiment -----------------------------------------------------------------------------
def post_build_figure(rows: list[dict]) -> go.Figure:
    """Per measurement: our build (trace), our first call and the post's build, as horizontal bars (log s)."""
    rows = ok(rows)
    labels = [plotly_text(r["label"]) for r in rows]
    fig = go.Figure()
    fig.add_bar(
        y=labels,
        x=[r.get("trace_s") for r in rows],
        name="build (trace) here",
        orientation="h",
        marker_color=TRACE,
    )
    fig.add_bar(
        y=labels,
        x=[r.get("first_call_s") for r in rows],
        name="first call here",
        orientation="h",
        marker_color=FIRST,
    )
    fig.add_bar(
        y=labels,
        x=[_post(r, "build_s") for r in rows],
        name="build in the post (2016)",
        orientation="h",
        marker_color=POST,
    )
    fig.update_layout(barmode="group", yaxis_autorange="reversed")
    fig.update_xaxes(**log_axis())
    return _layout(fig, "seconds (log scale)", "", "post-build", height=max(280, 90 + 70 * len(rows)))


def post_training_figure(rows: list[dict]) -> go.Figure:
    """Training time of the trained rows, ours beside the post's (3 epochs in the post)."""
    rows = [r for r in ok(rows) if r.get("epochs")]
    labels = [plotly_text(r["label"]) for r in rows]
    fig = go.Figure()
    fig.add_bar(
        y=labels, x=[r.get("train_s") for r in rows], name="training here", orientation="h", marker_color=STEP
    )
    fig.add_bar(
        y=labels,
        x=[_post(r, "train_s") for r in rows],
        name="training in the post (3 epochs)",
        orientation="h",
        marker_color=POST,
    )
    fig.update_layout(barmode="group", yaxis_autorange="reversed")
    return _layout(fig, "seconds (build excluded)", "", "post-train", height=max(260, 90 + 60 * len(rows)))


def post_loss_figure(rows: list[dict]) -> go.Figure:
    """Mean training loss per epoch: every trained row of ours (solid), and the post's three (dotted)."""
    fig = go.Figure()
    for r in ok(rows):
        if r.get("epoch_losses"):
            losses = r["epoch_losses"]
            fig.add_scatter(
                x=list(range(1, len(losses) + 1)),
                y=losses,
                mode="lines+markers",
                name=plotly_text(r["label"]),
            )
    for post in dict.fromkeys(
        r.get("post") for r in ok(rows) if r.get("epochs") and r.get("post") in POST_FIGURES
    ):
        losses = POST_FIGURES[post].get("epoch_losses", [])
        fig.add_scatter(
            x=list(range(1, len(losses) + 1)),
            y=losses,
            mode="lines+markers",
            name=f"post: {post}",
            line=dict(dash="dot", color=POST),
        )
    fig.update_xaxes(dtick=1)
    return _layout(fig, "epoch", "mean training loss (nats/char)", "post-loss")


# ---- the post's cell comparison ------------------------------------------------------------------------
def cells_loss_figure(rows: list[dict]) -> go.Figure:
    """One training-loss curve per cell against the steps trained, and its validation loss at the end
    (a diamond of the same colour)."""
    fig = go.Figure()
    for i, r in enumerate(r for r in ok(rows) if r.get("loss_curve")):
        name, color = plotly_text(r["label"]), CELL_COLORS[i % len(CELL_COLORS)]
        steps, losses = zip(*r["loss_curve"])
        fig.add_scatter(x=steps, y=losses, mode="lines", name=name, line=dict(color=color), legendgroup=name)
        if r.get("val_loss") is not None:
            fig.add_scatter(
                x=[steps[-1]],
                y=[r["val_loss"]],
                mode="markers",
                name=f"{name}: validation",
                marker=dict(symbol="diamond", size=11, color=color),
                legendgroup=name,
            )
    return _layout(fig, "training steps", "loss (nats/char; lower is better)", "cells-loss", height=420)


# ---- sweeps --------------------------------------------------------------------------------------------
def by_impl(rows: list[dict], key: str) -> dict[str, list[dict]]:
    """Measured rows grouped by implementation (in first-seen order), each sorted by the swept value."""
    groups: dict[str, list[dict]] = {}
    for r in ok(rows):
        groups.setdefault(r["impl"], []).append(r)
    return {impl: sorted(group, key=lambda r: x_of(r, key)) for impl, group in groups.items()}


DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross")


def _lines(rows: list[dict], key: str, field: str) -> go.Figure:
    """One line per implementation; each its own dash and marker, so lines that lie on top of each other
    (the loops, whose build does not grow) still read apart."""
    fig = go.Figure()
    for i, (impl, group) in enumerate(by_impl(rows, key).items()):
        fig.add_scatter(
            x=[x_of(r, key) for r in group],
            y=[r.get(field) for r in group],
            mode="lines+markers",
            name=plotly_text(impl),
            line=dict(dash=DASHES[i % len(DASHES)]),
            marker=dict(symbol=SYMBOLS[i % len(SYMBOLS)], size=9),
        )
    return fig


def sweep_build_figure(rows: list[dict], key: str, log_y: bool = False) -> go.Figure:
    """Trace (graph build) time against the swept setting, one line per implementation."""
    fig = _lines(rows, key, "trace_s")
    fig.update_yaxes(**(log_axis() if log_y else {"type": "linear"}))
    return _layout(
        fig, LABELS.get(key, key), "trace s" + (" (log scale)" if log_y else ""), f"sweep-build-{key}"
    )


def sweep_parts_figure(rows: list[dict], key: str) -> go.Figure:
    """Stacked bars per measurement: trace, first call and one steady train step, in seconds."""
    measured = [r for group in by_impl(rows, key).values() for r in group]
    names = [plotly_text(f"{r['impl']} {key}={x_of(r, key)}") for r in measured]
    fig = go.Figure()
    for field, name, color in (
        ("trace_s", "trace (build the graph)", TRACE),
        ("first_call_s", "first call (optimise + run once)", FIRST),
        ("step_s", "one train step after that", STEP),
    ):  # bars lying down: a label per measurement reads level, however many there are
        fig.add_bar(
            y=names, x=[r.get(field) for r in measured], name=name, marker_color=color, orientation="h"
        )
    fig.update_layout(barmode="stack", yaxis_autorange="reversed")
    return _layout(fig, "seconds", "", f"sweep-parts-{key}", height=max(300, 90 + 24 * len(measured)))


def sweep_rate_figure(rows: list[dict], key: str) -> go.Figure:
    """Training throughput (characters per second, build excluded) against the swept setting."""
    return _layout(
        _lines(rows, key, "chars_per_s"), LABELS.get(key, key), "characters / s", f"sweep-rate-{key}"
    )
