"""The Inside tab's Plotly figures: pure builders, arrays in, a go.Figure out. No Streamlit here."""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.text import plotly_text
from explorer.inside.painting import visible

LAYER_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _layout(fig: go.Figure, x_title: str, y_title: str, height: int = 300) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=50, r=10, t=30, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
        xaxis_title=x_title,
        yaxis_title=y_title,
    )
    return fig


def surprisal_figure(text: str, lines: dict[str, np.ndarray]) -> go.Figure:
    """Bits per character along the text, one line per reader (network, n-gram, another run: its name is
    plain text); each point is the character being predicted (positions 1..N-1)."""
    chars = [visible(c) for c in text[1:]]
    fig = go.Figure()
    for name, bits in lines.items():
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(text)),
                y=bits,
                name=f"{plotly_text(name)} ({np.mean(bits):.2f} bits/char)",
                mode="lines",
                customdata=chars,
                hovertemplate="%{x}: '%{customdata}' %{y:.2f} bits<extra>%{fullData.name}</extra>",
            )
        )
    return _layout(fig, "position in the text", "surprisal (bits)")


def saturation_figure(saturation: dict) -> go.Figure:
    """One panel per gate: every unit a dot at (how often < 0.1, how often > 0.9), coloured by layer —
    the 2015 paper's gate plot. A dot near a corner is a gate used as a switch."""
    names = list(saturation)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[f"{n} gate" for n in names])
    for col, name in enumerate(names, start=1):
        left, right = saturation[name]  # [L, H] each
        for layer in range(left.shape[0]):
            fig.add_trace(
                go.Scatter(
                    x=left[layer],
                    y=right[layer],
                    mode="markers",
                    marker=dict(size=5, opacity=0.7, color=LAYER_COLOURS[layer % len(LAYER_COLOURS)]),
                    name=f"layer {layer + 1}",
                    legendgroup=f"layer {layer + 1}",
                    showlegend=col == 1,
                    customdata=np.arange(left.shape[1]),
                    hovertemplate="unit %{customdata}: left %{x:.0%}, right %{y:.0%}<extra>%{fullData.name}</extra>",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="fraction left-saturated (< 0.1)", range=[-0.02, 1.02], row=1, col=col)
        fig.update_yaxes(range=[-0.02, 1.02], row=1, col=col)
    fig.update_yaxes(title_text="fraction right-saturated (> 0.9)", row=1, col=1)
    fig.update_layout(height=330, margin=dict(l=50, r=10, t=40, b=40), legend=dict(orientation="h", y=-0.25))
    return fig


def gate_heatmap(text: str, values: np.ndarray, units: int) -> go.Figure:
    """A gate's values [N, H] over the text: the first `units` units (rows) by character (columns)."""
    shown = values[:, :units].T  # [units, N]
    chars = [visible(c) for c in text]
    fig = go.Figure(
        go.Heatmap(
            z=shown,
            x=np.arange(len(text)),
            y=np.arange(shown.shape[0]),
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            customdata=np.tile(chars, (shown.shape[0], 1)),
            hovertemplate="unit %{y}, position %{x} '%{customdata}': %{z:.2f}<extra></extra>",
            colorbar=dict(title="value", thickness=12),
        )
    )
    return _layout(fig, "position in the text", "unit", height=max(220, 14 * shown.shape[0] + 80))


def connectivity_figure(text: str, influence: np.ndarray) -> go.Figure:
    """influence [T-1, T] as a heatmap, each row scaled to its largest entry: the prediction after
    position t (row) against the character read at s (column); above the diagonal nothing can matter."""
    rows = influence / np.maximum(influence.max(axis=1, keepdims=True), 1e-30)
    fig = go.Figure(
        go.Heatmap(
            z=rows,
            colorscale="Oranges",
            showscale=False,
            hovertemplate="prediction after %{y}, character %{x}: %{z:.2f} of its largest<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "character read (position)", "prediction after position", height=320)


def distance_figure(curves: dict[str, np.ndarray]) -> go.Figure:
    """Per run (a plain-text name), the share of a prediction's sensitivity that lies d characters back."""
    fig = go.Figure()
    for i, (name, curve) in enumerate(curves.items()):
        fig.add_trace(
            go.Scatter(
                x=np.arange(len(curve)),
                y=curve,
                name=plotly_text(name),
                mode="lines",
                line=dict(color=LAYER_COLOURS[i % len(LAYER_COLOURS)]),
                hovertemplate="%{x} back: %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_yaxes(type="log")
    return _layout(fig, "characters back", "share of the prediction's sensitivity", height=320)
