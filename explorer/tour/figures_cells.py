"""The Tour's figures for sections 5-8: pure builders, arrays in, a go.Figure out. No Streamlit here.

Characters come from whoever typed the text, so every one drawn goes through core.text.plotly_text.
"""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.text import plotly_text
from explorer.inside.painting import visible

GATE_SCALE = "Viridis"  # 0..1, light where the gate is open
SIGNED_SCALE = "RdBu_r"  # a unit's output h in -1..1: blue negative, red positive
KEPT, DROPPED = "rgba(180, 180, 180, 0.35)", "rgb(40, 40, 40)"
BEFORE, AFTER = "#7f7f7f", "#e6610a"


def glyph(char: str) -> str:
    """A character as drawn inside a figure's cell: a newline as ↵, everything escaped for Plotly."""
    return "↵" if char == "\n" else plotly_text(char, limit=None)


def gate_strip(text: str, gates: dict[str, np.ndarray], unit: int) -> go.Figure:
    """One unit's gates along the text: a row per gate, a cell per character, the character in it."""
    names = list(gates)
    z = np.array([gates[n] for n in names])  # [G, N]
    chars = [glyph(c) for c in text]
    tips = [
        [f"{plotly_text(visible(c), limit=None)} · {n} {v:.3f}" for c, v in zip(text, gates[n])]
        for n in names
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=np.arange(len(text)),
            y=[f"{n} gate" for n in names],
            zmin=0.0,
            zmax=1.0,
            colorscale=GATE_SCALE,
            text=[chars] * len(names),
            texttemplate="%{text}",
            customdata=tips,
            hovertemplate="position %{x}: %{customdata}<extra></extra>",
            colorbar=dict(title="gate", thickness=10),
            textfont=dict(size=12),
            xgap=1,
            ygap=2,
        )
    )
    fig.update_xaxes(showticklabels=False, title_text=f"the text, one character per cell (unit {unit})")
    fig.update_yaxes(autorange="reversed")  # the cell's first gate on top, as listed
    fig.update_layout(height=90 + 45 * len(names), margin=dict(l=90, r=10, t=10, b=40))
    return fig


def stack_figure(text: str, hidden: np.ndarray) -> go.Figure:
    """Each layer's units (rows) after each character (columns), layer 1 at the bottom as in the stack."""
    layers = hidden.shape[0]
    titles = [f"layer {layer} (reads {'layer ' + str(layer - 1) if layer > 1 else 'the characters'})"
              for layer in range(layers, 0, -1)]  # fmt: skip
    fig = make_subplots(rows=layers, cols=1, shared_xaxes=True, vertical_spacing=0.06, subplot_titles=titles)
    chars = [plotly_text(visible(c), limit=None) for c in text]
    top = float(np.abs(hidden).max()) or 1.0  # one colour scale for every layer, 0 white
    for row, layer in enumerate(range(layers - 1, -1, -1), start=1):
        fig.add_trace(
            go.Heatmap(
                z=hidden[layer].T,  # [H, N]
                zmin=-top,
                zmax=top,
                colorscale=SIGNED_SCALE,
                showscale=row == 1,
                colorbar=dict(title="h", thickness=10),
                customdata=np.array([chars] * hidden.shape[2]),
                hovertemplate=f"layer {layer + 1}, unit %{{y}}, after '%{{customdata}}': %{{z:.3f}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="unit", row=row, col=1)
    _character_axis(fig, text, layers)
    fig.update_layout(height=70 + 130 * layers, margin=dict(l=50, r=10, t=30, b=30))
    return fig


def masks_figure(text: str, masks: np.ndarray) -> go.Figure:
    """Where dropout acted at each character: a panel per place it acts (each layer's input, the top
    layer's output), dark where a number was dropped, its units as rows."""
    places = masks.shape[0]
    names = [f"layer {p + 1}'s input" for p in range(places - 1)] + ["the top layer's output"]
    fig = make_subplots(rows=places, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=names[::-1])  # fmt: skip
    chars = [plotly_text(visible(c), limit=None) for c in text]
    for row, place in enumerate(range(places - 1, -1, -1), start=1):
        dropped = (masks[place] == 0).T.astype(float)  # [H, N]: 1 where dropped
        fig.add_trace(
            go.Heatmap(
                z=dropped,
                zmin=0.0,
                zmax=1.0,
                colorscale=[[0.0, KEPT], [1.0, DROPPED]],
                showscale=False,
                customdata=np.array([chars] * dropped.shape[0]),
                hovertemplate=f"{names[place]}, unit %{{y}}, at '%{{customdata}}': "
                "%{z:.0f} (1 = dropped)<extra></extra>",
                xgap=1,
                ygap=1,
            ),
            row=row,
            col=1,
        )
    _character_axis(fig, text, places)
    fig.update_layout(height=60 + 95 * places, margin=dict(l=50, r=10, t=30, b=30))
    return fig


def _character_axis(fig: go.Figure, text: str, bottom_row: int) -> None:
    """The shared x axis labelled with the text's characters (every one, or every other for a long text)."""
    every = 1 if len(text) <= 60 else 2
    positions = list(range(0, len(text), every))
    fig.update_xaxes(
        tickvals=positions,
        ticktext=[glyph(text[i]) for i in positions],
        tickangle=0,
        tickfont=dict(size=10),
        row=bottom_row,
        col=1,
    )


def layernorm_figure(
    before: np.ndarray, normalised: np.ndarray, plain_gate, ln_gate, squash: str
) -> go.Figure:
    """Left: a gate's pre-activations over its units, before and after normalisation. Right: the gate's
    values without and with it (a squashed value near an end learns slowly). Same bins for both."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("the gate's input, one count per unit", f"the gate's values, {squash}(…)"),
    )
    reach = float(max(np.abs(before).max(), np.abs(normalised).max()))
    low = -1.0 if squash == "tanh" else 0.0
    panels = (
        (before, normalised, dict(start=-reach, end=reach, size=2 * reach / 40)),
        (plain_gate, ln_gate, dict(start=low, end=1.0, size=(1.0 - low) / 40)),
    )
    for col, (without, with_ln, bins) in enumerate(panels, start=1):
        for values, name, colour in (
            (without, "without layer norm", BEFORE),
            (with_ln, "with layer norm", AFTER),
        ):
            fig.add_trace(
                go.Histogram(
                    x=values,
                    xbins=bins,
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    marker_color=colour,
                    opacity=0.6,
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="z = x·W + h·U, then normalised", row=1, col=1)
    fig.update_xaxes(title_text="gate value", range=[low, 1.0], row=1, col=2)
    fig.update_yaxes(title_text="units", row=1, col=1)
    fig.update_layout(barmode="overlay", height=330, margin=dict(l=50, r=10, t=40, b=40),
                      legend=dict(orientation="h", y=-0.25))  # fmt: skip
    return fig
