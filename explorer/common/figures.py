"""Pure Plotly figure builders: a run's snapshot (or summary rows) in, a go.Figure out. No Streamlit here.

Names come in as plain text (a run's label may be anything) and each builder escapes them for Plotly.
"""

import math

import plotly.graph_objects as go

from core.runs import references
from core.text import MAX_SHOWN, plotly_text

MAX_POINTS = 2000  # per trace: a refreshing chart stays light in the browser
NAME_CHARS = 2 * MAX_SHOWN  # a run's name in a legend or on an axis: its label (cut at MAX_SHOWN) and more
# The loss charts' x axes: what a row (MetricRow or EvalRow) is drawn at, and the axis title.
X_AXES = {
    "step": (lambda row: row.step, "train step"),
    "time": (lambda row: row.elapsed_s, "training time (s, build excluded)"),
}
# The quality chart's x axes: the choice's label, and the axis title.
QUALITY_AXES = {
    "wall": ("minutes after Start", "minutes after Start (start-up and build included)"),
    "chars": ("characters trained on", "characters trained on"),
}
# Reference lines on the quality chart: nanoGPT's character-level Shakespeare models, validated on the same
# split as here (the last 10 % held out), figures from its README.
REFERENCES = (
    (1.47, "nanoGPT, 10M-parameter transformer on a GPU, 3 minutes"),
    (1.88, "nanoGPT's CPU configuration, 3 minutes"),
)


def thin(rows: list, max_points: int = MAX_POINTS) -> list:
    """Every k-th row so at most max_points remain, always keeping the last one."""
    if len(rows) <= max_points:
        return list(rows)
    stride = math.ceil(len(rows) / max_points)
    kept = rows[::stride]
    return kept if kept[-1] is rows[-1] else kept[:-1] + [rows[-1]]


def xs_of(rows: list, x_of) -> list:
    """Each row's x by X_AXES's `x_of`; 0 where a row (of an older run) has none."""
    return [0 if x is None else x for x in map(x_of, rows)]


def trained(snap) -> list:
    """The metric rows with a finite training loss (a diverging step's is not drawn)."""
    return [m for m in snap.metrics if math.isfinite(m.train_loss)]


def ema(values: list, smoothing: float) -> list:
    """Exponential moving average, debiased at the start (TensorBoard's smoothing); 0 = raw."""
    out, avg = [], 0.0
    for i, v in enumerate(values, start=1):
        avg = smoothing * avg + (1 - smoothing) * v
        out.append(avg / (1 - smoothing**i) if smoothing else v)
    return out


def _layout(fig: go.Figure, x_title: str, y_title: str, revision: str, height: int = 340) -> go.Figure:
    # uirevision: a zoom the user set survives the next refresh of the same run's chart
    fig.update_layout(
        height=height,
        margin=dict(l=50, r=10, t=30, b=40),
        uirevision=revision,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
        xaxis_title=x_title,
        yaxis_title=y_title,
        hovermode="x unified",
    )
    return fig


SCALES = {"linear": "whole run", "log": "log", "recent": "zoom on later"}  # the loss axis, as offered
# Ticks of a log axis: the 1-2-5 series, each labelled whole ("0.5", "20"). Plotly's own labels a log axis's
# minor ticks with their first digit only ("4 5 6 7 8 9 1 2"), which a class cannot read.
LOG_TICKS = [m * 10.0**e for e in range(-4, 7) for m in (1, 2, 5)]


def log_axis() -> dict:
    """The settings that make a Plotly axis logarithmic with readable labels: `fig.update_xaxes(**log_axis())`."""
    return dict(type="log", tickvals=LOG_TICKS, ticktext=[f"{v:g}" for v in LOG_TICKS])


def loss_figure(
    snap, x_axis: str = "step", smoothing: float = 0.9, max_points: int = MAX_POINTS, scale: str = "linear"
) -> go.Figure:
    """Training loss (raw and smoothed) and validation loss in nats/char against step or training time;
    `scale` (SCALES): the y axis linear, logarithmic, or zoomed on the run's later half, where a loss
    falling from 1.6 to 1.5 would look flat beside its first 4.2."""
    x_of, x_title = X_AXES[x_axis]
    fig = go.Figure()
    metrics = trained(snap)
    if metrics:
        smooth = ema([m.train_loss for m in metrics], smoothing)
        points = thin(list(zip(metrics, smooth)), max_points)
        xs = xs_of([m for m, _ in points], x_of)
        fig.add_scatter(
            x=xs,
            y=[m.train_loss for m, _ in points],
            mode="lines",
            name="train",
            line=dict(width=1, color="rgba(31,119,180,0.35)"),
        )
        fig.add_scatter(
            x=xs,
            y=[s for _, s in points],
            mode="lines",
            name=f"train (smoothed {smoothing:g})",
            line=dict(width=2, color="rgb(31,119,180)"),
        )
    evals = thin(snap.evals, max_points)
    if evals:
        fig.add_scatter(
            x=xs_of(evals, x_of),
            y=[e.val_loss for e in evals],
            mode="lines+markers",
            name="validation",
            line=dict(width=2, color="rgb(255,127,14)"),
        )
    _layout(fig, x_title, "loss (nats/char)", f"{snap.run_id}-{scale}")
    if scale == "log":
        fig.update_yaxes(**log_axis())
    elif scale == "recent":
        fig.update_yaxes(
            range=recent_range([y for trace in fig.data[1:] for y in trace.y[len(trace.y) // 2 :]])
        )
    return fig


def recent_range(values: list) -> list | None:
    """A y range around the later values (the smoothed loss's and validation's second halves)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None
    low, high = min(finite), max(finite)
    pad = max(0.02, 0.1 * (high - low))
    return [low - pad, high + pad]


def grad_norm_figure(snap, x_axis: str = "step", clip_norm: float = 0.0, max_points: int = MAX_POINTS):
    """The gradients' global norm before clipping, every step (log scale), with the clip threshold as a
    line: where a loss explodes, this number climbs first (None when the run recorded no norms)."""
    x_of, x_title = X_AXES[x_axis]
    rows = thin([m for m in snap.metrics if (m.grad_norm or 0) > 0], max_points)  # older runs: none
    if not rows:
        return None
    fig = go.Figure()
    fig.add_scatter(
        x=xs_of(rows, x_of),
        y=[m.grad_norm for m in rows],
        mode="lines",
        name="gradient norm (before clipping)",
        line=dict(width=1, color="rgb(44,160,44)"),
    )
    if clip_norm > 0:
        fig.add_hline(
            y=clip_norm, line_dash="dash", line_color="rgb(214,39,40)", annotation_text=f"clip {clip_norm:g}"
        )
    fig.update_yaxes(**log_axis())
    return _layout(fig, x_title, "global gradient norm", snap.run_id, height=260)


def compare_figure(
    runs: list,
    x_axis: str = "step",
    which: str = "validation",
    smoothing: float = 0.9,
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """One line per (label, snapshot): validation loss, or smoothed training loss, on shared axes."""
    x_of, x_title = X_AXES[x_axis]
    fig = go.Figure()
    for label, snap in runs:
        if which == "validation":
            rows = thin(snap.evals, max_points)
            xs, ys = xs_of(rows, x_of), [r.val_loss for r in rows]
        else:
            metrics = trained(snap)
            points = thin(list(zip(metrics, ema([m.train_loss for m in metrics], smoothing))), max_points)
            xs, ys = xs_of([m for m, _ in points], x_of), [s for _, s in points]
        fig.add_scatter(x=xs, y=ys, mode="lines", name=plotly_text(label, NAME_CHARS))
    return _layout(fig, x_title, f"{which} loss (nats/char)", "compare", height=400)


def quality_figure(runs: list, x_axis: str = "wall", max_points: int = MAX_POINTS, curves=None) -> go.Figure:
    """Validation loss of each (label, snapshot) against wall-clock minutes after Start, or against the
    characters trained on, with the reference lines: which choice buys quality fastest. Rows recorded
    before validation losses carried their wall time are left out of the wall axis. `curves`: the presets'
    measured curves drawn beside them (None: core.runs.references's file)."""
    fig = go.Figure()
    for label, snap in runs:
        train = snap.config.get("train", {})
        chars = train.get("batch_size", 0) * train.get("num_steps", 0)
        rows = thin([e for e in snap.evals if x_axis == "chars" or e.wall_s is not None], max_points)
        xs = [e.wall_s / 60 for e in rows] if x_axis == "wall" else [e.step * chars for e in rows]
        name = plotly_text(label, NAME_CHARS)
        fig.add_scatter(x=xs, y=[e.val_loss for e in rows], mode="lines+markers", name=name)
    for loss, source in REFERENCES:
        fig.add_hline(y=loss, line_dash="dot", line_color="grey", annotation_text=f"{loss:.2f}: {source}")
    if x_axis == "wall":  # the presets' measured curves (assets/reference-curves.json), faint and dashed
        for curve in references.load() if curves is None else curves:
            fig.add_scatter(
                x=list(curve.minutes),
                y=list(curve.val_loss),
                mode="lines",
                line={"dash": "dash", "color": "lightgrey"},
                name=plotly_text(f"reference: {curve.label}", NAME_CHARS),
            )
    return _layout(fig, QUALITY_AXES[x_axis][1], "validation loss (nats/char)", "quality", height=400)


def build_time_figure(rows: list[dict]) -> go.Figure:
    """Per run: graph trace, first call and training time as grouped horizontal bars (log seconds)."""
    labels = [plotly_text(r["run"], NAME_CHARS) for r in rows]
    fig = go.Figure()
    for key, name, color in (
        ("trace_s", "trace (build the graph)", "rgb(214,39,40)"),
        ("first_call_s", "first call (optimise + run)", "rgb(255,127,14)"),
        ("train_s", "training (all other steps)", "rgb(31,119,180)"),
    ):
        fig.add_bar(
            y=labels, x=[r.get(key) or None for r in rows], name=name, orientation="h", marker_color=color
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(**log_axis())
    return _layout(fig, "seconds (log scale)", "", "build-time", height=max(260, 90 + 60 * len(rows)))
