"""Names people give are shown as typed: never as a link, bold text or reversed text, in a chart or a page."""

import numpy as np
import pytest

from core.runs.record import RunSnapshot
from core.runs.rows import EvalRow, MetricRow, Timings
from core.text import BIDI_CONTROLS, MAX_SHOWN, plotly_text, shown
from explorer.common import figures, tables, ui
from explorer.inside import figures as inside_figures
from explorer.lab import figures as lab_figures

HOSTILE = '<a href="https://evil">x</a><b>y</b>\u202e'
AS_TYPED = '<a href="https://evil">x</a><b>y</b>'  # what a person sees: the text, less the override
ESCAPED = '&lt;a href="https://evil"&gt;x&lt;/a&gt;&lt;b&gt;y&lt;/b&gt;'  # Plotly.js draws it as AS_TYPED


@pytest.mark.parametrize("mark", sorted(BIDI_CONTROLS), ids=lambda c: f"U+{ord(c):04X}")
def test_every_bidi_control_is_dropped(mark):
    assert shown(f"abc{mark}def{mark}") == "abcdef"


def test_control_characters_and_line_breaks_become_one_space():
    assert shown("a\nb\r\n\tc\x00d\x1be\x7ff\x85g\x9fh\u2028i\u2029j  k ") == "a b c d e f g h i j k"


def test_a_long_name_is_cut_with_an_ellipsis():
    assert shown("x" * MAX_SHOWN) == "x" * MAX_SHOWN
    assert shown("x" * (MAX_SHOWN + 1)) == "x" * (MAX_SHOWN - 1) + "…"
    assert shown("abc def", limit=5) == "abc…"  # the cut leaves no space before the ellipsis
    assert shown(shown("y" * 500)) == shown("y" * 500)  # showing twice changes nothing
    assert shown("y" * 500, limit=None) == "y" * 500


def test_half_a_surrogate_pair_and_a_name_that_is_not_text_can_still_be_sent():
    assert shown("a\ud800b") == "a\ufffdb" and shown("a\ud800b").encode("utf-8")
    assert shown(42) == "42" and shown(["x"]) == "['x']"
    assert shown("naïve ✓ 名前 שלום") == "naïve ✓ 名前 שלום"  # letters of any script are kept


def test_plotly_text_escapes_tags_and_entities_once():
    assert plotly_text(HOSTILE) == ESCAPED
    # Plotly.js decodes &#8238; into the override itself: its & is escaped, so it stays text.
    assert plotly_text("a & b &#8238; &lt;") == "a &amp; b &amp;#8238; &amp;lt;"


def run(label) -> RunSnapshot:
    snap = RunSnapshot("20250101-000000-lstm-dynamic-abcd", {"meta": {"label": label}})
    snap.config["train"], snap.config["model"] = {"batch_size": 8, "num_steps": 20}, {"cell": "lstm"}
    snap.evals = [
        EvalRow(step=10, val_loss=2.0, wall_s=60.0),
        EvalRow(step=20, val_loss=1.8, wall_s=90.0),
    ]
    snap.metrics = [MetricRow(step=s, train_loss=3.0 - s / 100) for s in range(1, 21)]
    snap.timings = Timings(trace_s=1.0, first_call_s=0.5)
    return snap


def strings(value):
    """Every string anywhere in a figure's JSON (names, tick labels, hover templates, annotations)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list | tuple | np.ndarray):
        for v in value:
            yield from strings(v)


def assert_inert(fig) -> None:
    text = list(strings(fig.to_plotly_json()))
    assert not [s for s in text if "<a" in s or "<b>" in s or "\u202e" in s], text


def test_run_comparisons_name_each_run_as_typed():
    snap = run(HOSTILE)
    name = ui.run_name(snap.run_id, snap.config["meta"])
    assert name == f"{AS_TYPED} · {snap.run_id}"  # the select boxes' plain text
    for fig in (
        figures.compare_figure([(name, snap)]),
        figures.compare_figure([(name, snap)], which="training"),
        figures.quality_figure([(name, snap)]),
    ):
        assert_inert(fig)
        assert fig.data[0].name == f"{ESCAPED} · {snap.run_id}"


def test_build_times_name_each_run_as_typed_in_the_table_and_on_the_axis():
    rows = tables.build_rows([run(HOSTILE)])
    assert rows[0]["run"] == f"None lstm T=20 · {AS_TYPED}"  # impl unset in this snapshot
    fig = figures.build_time_figure(rows)
    assert_inert(fig)
    assert list(fig.data[0].y) == [f"None lstm T=20 · {ESCAPED}"]
    assert tables.summary(run(HOSTILE))["label"] == AS_TYPED
    assert tables.summary(run(None))["label"] == ""


def test_the_inside_tab_names_another_reader_as_typed():
    fig = inside_figures.surprisal_figure("abcd", {HOSTILE: np.array([1.0, 2.0, 3.0])})
    assert_inert(fig)
    assert fig.data[0].name == f"{ESCAPED} (2.00 bits/char)"


def test_the_lab_names_measurements_read_from_files_as_typed():
    row = {"label": HOSTILE, "impl": HOSTILE, "num_steps": 20, "trace_s": 1.0, "first_call_s": 0.5}
    trained = {**row, "epochs": 1, "train_s": 3.0, "epoch_losses": [2.0]}
    for fig in (
        lab_figures.post_build_figure([row]),
        lab_figures.post_training_figure([trained]),
        lab_figures.post_loss_figure([trained]),
        lab_figures.sweep_build_figure([row], "num_steps"),
        lab_figures.sweep_parts_figure([row], "num_steps"),
    ):
        assert_inert(fig)
    assert lab_figures.post_build_figure([row]).data[0].y == (ESCAPED,)
    assert lab_figures.sweep_build_figure([row], "num_steps").data[0].name == ESCAPED


def test_a_label_put_in_markdown_is_never_a_link_bold_or_an_entity():
    from markdown_it import MarkdownIt  # CommonMark, as Streamlit's Markdown renders it

    label = "[click](https://evil) **bold** <b>x</b> &#8238;\u202e :red[y]\nnext"
    escaped = ui.plain(label)
    assert escaped == r"\[click\]\(https\://evil\) \*\*bold\*\* \<b\>x\</b\> \&\#8238; \:red\[y\] next"
    assert ui.plain("a sentence. " * 20) == r"a sentence\. " * 19 + r"a sentence\."  # messages: any length
    assert ui.plain("x" * 500, MAX_SHOWN) == "x" * (MAX_SHOWN - 1) + "…"  # a name: cut
    html = MarkdownIt("commonmark").render(escaped)
    assert html == "<p>[click](https://evil) **bold** &lt;b&gt;x&lt;/b&gt; &amp;#8238; :red[y] next</p>\n"
