"""Pure Plotly figures of the tour's sections 1-4: core/tour values in, a go.Figure out. No Streamlit here."""

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.text import plotly_text

# How each implementation is named on screen: the post's name first, the project's in brackets.
NAMES = {
    "tf1-static": "list (static_rnn)",
    "tf1-dynamic": "dynamic_rnn",
    "tf1-scan": "tf.scan",
    "static": "list (static)",
    "dynamic": "dynamic_rnn's loop (dynamic)",
    "scan": "tf.scan (scan)",
}
COLORS = {"static": "rgb(214,39,40)", "dynamic": "rgb(31,119,180)", "scan": "rgb(44,160,44)"}
POST = "rgb(127,127,127)"
# A grid cell's colour, by its z: x of windows 1, 3, ...; their y; x of windows 2, 4, ...; their y.
SHADES = ("rgb(158,202,225)", "rgb(222,235,247)", "rgb(253,174,107)", "rgb(254,230,206)")
VISIBLE = {"\n": "↵", " ": "␣"}  # characters that would be invisible in a grid cell


def name_of(impl: str) -> str:
    return NAMES.get(impl, impl)


def color_of(impl: str) -> str:
    return COLORS.get(impl.removeprefix("tf1-"), POST)


def visible(char: str) -> str:
    """A character as a grid cell shows it: newline and space made visible, the rest escaped for Plotly."""
    return VISIBLE.get(char) or plotly_text(char)


def percent(p: float) -> str:
    """A probability as a page shows it: '62%', or '1.5%' below 10 % (where untrained guesses sit)."""
    return f"{p:.1%}" if p < 0.1 else f"{p:.0%}"


def _layout(fig: go.Figure, height: int, revision: str) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=40, b=30),
        uirevision=revision,
        legend=dict(orientation="h", yanchor="bottom", y=1.04, x=0),
    )
    return fig


# ---- 2 · one step --------------------------------------------------------------------------------------
def step_figure(steps: list) -> go.Figure:
    """Per character read (core.tour.step.Step): h_t as a strip of coloured units, and the five likeliest
    next characters with p_t of each."""
    labels = [f"{t + 1}: {visible(s.char)}" for t, s in enumerate(steps)]
    rows = list(range(len(steps)))
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        column_widths=[0.62, 0.38],
        horizontal_spacing=0.02,
        subplot_titles=(
            "h_t after reading x_t (one square per unit, −1 blue … +1 red)",
            "p_t: the five likeliest next characters",
        ),
    )
    fig.add_trace(
        go.Heatmap(
            z=[s.h.tolist() for s in steps],
            y=rows,
            colorscale="RdBu",
            reversescale=True,
            zmin=-1,
            zmax=1,
            showscale=False,
            xgap=1,
            ygap=2,
            hovertemplate="unit %{x}: %{z:.3f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Heatmap(
            z=[[p for _, p in s.top] for s in steps],
            y=rows,
            text=[[f"{visible(c)} {percent(p)}" for c, p in s.top] for s in steps],
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            showscale=False,
            xgap=2,
            ygap=2,
            hoverinfo="text",
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(tickvals=rows, ticktext=labels, autorange="reversed", row=1, col=1)
    fig.update_xaxes(title_text="unit of h", row=1, col=1)
    fig.update_xaxes(tickvals=list(range(5)), ticktext=[f"#{i + 1}" for i in range(5)], row=1, col=2)
    return _layout(fig, 90 + 34 * len(steps), "tour-step")


# ---- 3 · unrolling as a list ---------------------------------------------------------------------------
def build_figure(points: list) -> go.Figure:
    """Operations in the graph and build seconds against num_steps (core.tour.unrolling.BuildPoint), one
    line per implementation."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("operations in the graph", "seconds to build it"))
    for impl in dict.fromkeys(p.impl for p in points):
        mine = sorted((p for p in points if p.impl == impl), key=lambda p: p.num_steps)
        x = [p.num_steps for p in mine]
        style = dict(
            mode="lines+markers", name=name_of(impl), line=dict(color=color_of(impl)), legendgroup=impl
        )
        fig.add_scatter(x=x, y=[p.ops for p in mine], **style, row=1, col=1)
        fig.add_scatter(x=x, y=[p.build_s for p in mine], **style, showlegend=False, row=1, col=2)
    fig.update_xaxes(title_text="num_steps")
    fig.update_yaxes(rangemode="tozero")
    fig = _layout(fig, 360, "tour-build")
    fig.update_layout(
        legend=dict(y=-0.3, yanchor="top"), margin=dict(b=90)
    )  # above, it would hide the titles
    return fig


def race_figure(laps: list, post: dict) -> go.Figure:
    """The race's build times (core.tour.race.Lap) beside the post's own (impl -> seconds, 2016)."""
    done = [lap for lap in laps if lap.build_s is not None]
    names = [name_of(lap.impl) for lap in done]
    fig = go.Figure()
    fig.add_bar(
        y=names,
        x=[lap.build_s for lap in done],
        name="here, now",
        orientation="h",
        marker_color=[color_of(lap.impl) for lap in done],
        text=[f"{lap.build_s:.2f} s" for lap in done],
    )
    fig.add_bar(
        y=names,
        x=[post.get(lap.impl) for lap in done],
        name="the post (2016)",
        orientation="h",
        marker_color=POST,
        text=[f"{post[lap.impl]:.2f} s" if lap.impl in post else "" for lap in done],
    )
    fig.update_layout(barmode="group", yaxis_autorange="reversed", xaxis_title="seconds to build the graph")
    return _layout(fig, 220, "tour-race")


# ---- 4 · dynamic_rnn and scan --------------------------------------------------------------------------
def loops_figure(comparison) -> go.Figure:
    """Each unroller's forward and backward pass in milliseconds (core.tour.loops.Comparison), labelled
    with its time over the reference's."""
    rows = comparison.rows
    fig = go.Figure(
        go.Bar(
            x=[name_of(r.impl) for r in rows],
            y=[1000 * r.step_s for r in rows],
            marker_color=[color_of(r.impl) for r in rows],
            text=[f"×{comparison.ratio(r.impl):.2f}" for r in rows],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1f} ms<extra></extra>",
        )
    )
    fig.update_layout(yaxis_title="ms per forward and backward pass", yaxis_rangemode="tozero")
    return _layout(fig, 320, "tour-loops")
