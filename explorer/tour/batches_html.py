"""The Tour's first picture, the batches grid, as plain HTML: the first page draws it without the 4.7 MB
Plotly bundle (which made that page usable seconds later on 2 cores: docs/app-targets.md).

One table, a line per row of the batch and its target: each row's x line (what the RNN reads) and under
it its y line (what it must guess, one character on), the first windows side by side; colour tells the
windows apart; a red arrow carries each row's state from one window to the next. Hovering a cell names
its place in the text.
"""

import html

from explorer.tour.figures_basics import SHADES, VISIBLE

CELL = "width:1.25em;height:1.25em;line-height:1.25em;text-align:center;padding:0;border:1px solid white"
SMALL = "font-size:0.75rem;font-weight:normal;padding:0 0.3em;white-space:nowrap;border:none"
ARROW = "color:rgb(214,39,40);font-weight:bold;padding:0 0.25em;border:none"


def batches_html(layout) -> str:
    """core.tour.batches.Layout's first windows side by side, as one HTML table."""
    head = f'<th style="{SMALL}"></th>' + "".join(
        (f'<th style="{SMALL}"></th>' if w.index else "")
        + f'<th colspan="{layout.num_steps}" style="{SMALL};text-align:center">window {w.index + 1}</th>'
        for w in layout.windows
    )
    lines = [f"<tr>{head}</tr>"]
    for r in range(layout.batch_size):
        for line, (what, label) in enumerate((("reads", f"row {r} · x"), ("must guess", "y"))):
            cells = [f'<th style="{SMALL};text-align:right">{label}</th>']
            for w in layout.windows:
                if w.index:  # the state leaves row r of one window and starts row r of the next
                    cells.append(f'<td style="{ARROW}">{"→" if line == 0 else ""}</td>')
                chars = (w.x, w.y)[line][r]
                color = SHADES[line + (2 if w.index % 2 else 0)]
                cells += [
                    _cell(chars[t], color, f"window {w.index + 1}, row {r}, step {t}: {what}",
                          layout.offset(r, w.index, t) + line)
                    for t in range(layout.num_steps)
                ]  # fmt: skip
            lines.append(f"<tr>{''.join(cells)}</tr>")
    return (
        '<div class="tour-batches" style="overflow-x:auto">'
        '<table style="border-collapse:collapse;font-family:ui-monospace,monospace;font-size:0.8rem">'
        + "".join(lines)
        + "</table></div>"
    )


def _cell(char: str, color: str, where: str, at: int) -> str:
    shown = html.escape(VISIBLE.get(char, char))
    title = f"{where} {shown} (character {at:,} of the text)"
    return f'<td style="{CELL};background:{color}" title="{title}">{shown}</td>'
