"""Text coloured character by character, as HTML: pure functions, no Streamlit.

Colours are translucent backgrounds over the theme's own text colour, so the text stays readable in the
light and the dark theme; every character's value is also in its hover title (never colour alone).
"""

import html

import numpy as np

# Diverging, colour-blind-safe ends (blue for negative, orange for positive), as RGB.
NEGATIVE, POSITIVE = (33, 102, 172), (230, 97, 1)
BETTER, WORSE = (27, 158, 119), (217, 95, 2)  # where the network beats / loses to the baseline
MAX_ALPHA = 0.85
MAX_DRAWN = 2_000  # characters drawn as coloured text (the page says so); charts and rankings cover all
STYLE = (
    "font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.9rem; line-height: 1.6; "
    "white-space: pre-wrap; word-break: break-all; padding: 0.5rem; border-radius: 0.4rem; "
    "border: 1px solid rgba(128, 128, 128, 0.35)"
)


def shade(value: float, scale: float, low=NEGATIVE, high=POSITIVE) -> str:
    """A value as an rgba background: its sign picks the hue, |value| / scale the opacity (capped)."""
    if not np.isfinite(value) or scale <= 0:
        return "transparent"
    r, g, b = high if value >= 0 else low
    alpha = min(abs(value) / scale, 1.0) * MAX_ALPHA
    return f"rgba({r}, {g}, {b}, {alpha:.2f})"


def visible(char: str) -> str:
    """A character as it can be seen in a tooltip: '\\n' for a newline, '␠' for a space."""
    return {"\n": "\\n", " ": "␠", "\t": "\\t"}.get(char, char)


def coloured(
    text: str, values, tips: list[str], scale: float | None = None, low=NEGATIVE, high=POSITIVE
) -> str:
    """<div> of one <span> per character, its background from values[i] (NaN: none), its title tips[i].

    scale: the |value| drawn fully opaque (default: the largest |value|)."""
    values = np.asarray(values, dtype=float)
    if len(values) != len(text) or len(tips) != len(text):
        raise ValueError(f"{len(text)} characters need as many values and tips ({len(values)}, {len(tips)})")
    finite = np.abs(values[np.isfinite(values)])
    scale = scale if scale is not None else (float(finite.max()) if finite.size else 1.0)
    spans = []
    for char, value, tip in zip(text, values, tips):
        shown = html.escape(char) if char != "\n" else "↵\n"  # a newline keeps a visible mark
        style = f"background: {shade(value, scale, low, high)}"
        spans.append(f'<span style="{style}" title="{html.escape(tip, quote=True)}">{shown}</span>')
    return f'<div style="{STYLE}">{"".join(spans)}</div>'


def legend(left: str, right: str, low=NEGATIVE, high=POSITIVE) -> str:
    """A one-line key: the two hues and what they mean."""
    swatch = lambda rgb: (
        f'<span style="background: rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {MAX_ALPHA}); padding: 0 0.6em; '
        'border-radius: 0.2em">&nbsp;</span>'
    )
    key = f"{swatch(low)} {html.escape(left)} &nbsp; {swatch(high)} {html.escape(right)}"
    return f'<div style="font-size: 0.85rem">{key}</div>'
