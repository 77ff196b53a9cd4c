"""Names people give (a run's label, a file's name) made safe to show: on a page, in a table, in a chart.

A name may come from anyone (an imported run's config.json holds whatever its sender wrote), so what is
shown keeps the name's letters and drops what would change the text around it: control characters, and
the invisible marks that turn the direction of what follows (U+202E before "fdp.exe" shows "exe.pdf").
"""

import html
import unicodedata

MAX_SHOWN = 80  # characters of a name shown; a longer one is cut and ends in "…"
# Bidirectional controls: embeddings and overrides (LRE, RLE, PDF, LRO, RLO), isolates (LRI, RLI, FSI,
# PDI), and the marks LRM, RLM and ALM.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _char(c: str) -> str:
    """One character as shown: a bidi control goes, any other control is a space, half a surrogate pair
    (which cannot be sent to a browser as UTF-8) is the replacement character."""
    if c in BIDI_CONTROLS:
        return ""
    category = unicodedata.category(c)
    return " " if category in ("Cc", "Zl", "Zp") else "\ufffd" if category == "Cs" else c


def shown(name, limit: int | None = MAX_SHOWN) -> str:
    """A name safe to show as plain text: no bidi or control characters, runs of white space as one
    space, at most `limit` characters (a longer one cut, ending in '…'; None: any length)."""
    text = " ".join("".join(_char(c) for c in str(name)).split())
    return text if limit is None or len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plotly_text(name, limit: int | None = MAX_SHOWN) -> str:
    """A name for a Plotly figure (legend, hover, tick label): Plotly.js draws tags it knows (<a href>,
    <b>, <br>) and decodes entities (&lt;, &#8238;), so &, < and > are escaped to show as typed."""
    return html.escape(shown(name, limit), quote=False)
