"""The tour's sections 1-4: their computations checked against their sources (the batch iterator, the
equations in numpy, the graphs' sizes, every unroller), and each section drawn by AppTest with the values
it computed on screen."""

import dataclasses
import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.data.batches import batch_iterator, num_batches
from core.data.corpus import CorpusError, make_corpus
from core.presets import PRESETS
from core.tour import batches, loops, race, step, unrolling
from explorer.common import services
from explorer.tour import basics
from explorer.tour.figures_basics import VISIBLE
from tests.tiny import TEXT

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "explorer" / "app.py")
SHAKESPEARE = (ROOT / "assets" / "tinyshakespeare.txt").read_text(encoding="utf-8")


# ---- 1 · the data --------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size, num_steps", [(2, 5), (3, 7)])
def test_layout_is_what_batch_iterator_yields(batch_size, num_steps):
    corpus = make_corpus(TEXT)
    ids, vocab = corpus.train_ids, corpus.vocab
    cut = batches.layout(ids, vocab, batch_size, num_steps, shown=3)
    assert cut.windows_per_epoch == num_batches(len(ids), batch_size, num_steps)
    for window, (x, y) in zip(cut.windows, batch_iterator(ids, batch_size, num_steps)):
        assert window.x == tuple(vocab.decode(row) for row in x)
        assert window.y == tuple(vocab.decode(row) for row in y)
    text = vocab.decode(ids)
    for w in cut.windows:  # every character where offset() says it is in the text, its target the next
        for r in range(batch_size):
            assert text[cut.offset(r, w.index, 0) : cut.offset(r, w.index, 0) + num_steps] == w.x[r]
            assert text[cut.offset(r, w.index, 0) + 1 : cut.offset(r, w.index, 0) + num_steps + 1] == w.y[r]
    for before, after in zip(cut.windows, cut.windows[1:]):  # row r goes on where it stopped:
        for r in range(batch_size):  # it reads next what it was last asked to guess
            assert after.x[r][0] == before.y[r][-1]
            assert cut.offset(r, after.index, 0) == cut.offset(r, before.index, num_steps - 1) + 1


# ---- 2 · one step --------------------------------------------------------------------------------------
def numpy_steps(w: step.Weights, vocab, text: str):
    """The post's two equations in numpy (row vectors): per character, h and p."""
    h, out = np.zeros(w.units), []
    for i in vocab.encode(text):
        h = np.tanh(w.W[i] + h @ w.U + w.b)  # a one-hot x picks row i of W
        logits = h @ w.V + w.c
        p = np.exp(logits - logits.max())
        out.append((h, p / p.sum()))
    return out


def test_a_step_is_the_two_equations():
    vocab = make_corpus(TEXT).vocab
    rng = np.random.default_rng(0)
    V, H = len(vocab), 6
    w = step.Weights(
        *(rng.normal(0, 0.5, shape).astype(np.float32) for shape in ((V, H), (H, H), H, (H, V), V))
    )
    got = step.run_steps(w, vocab, "First")
    assert [s.char for s in got] == list("First")
    for s, (h, p) in zip(got, numpy_steps(w, vocab, "First")):
        np.testing.assert_allclose(s.h, h, atol=1e-5)
        best = np.argsort(-p)[: step.TOP]
        assert [c for c, _ in s.top] == [vocab.chars[j] for j in best]
        np.testing.assert_allclose([q for _, q in s.top], p[best], atol=1e-5)
    with pytest.raises(CorpusError, match="€"):
        step.run_steps(w, vocab, "a€")


def test_brief_training_lowers_the_loss():
    corpus = make_corpus(TEXT)
    run = step.train_briefly(corpus.train_ids, len(corpus.vocab), 8, steps=30, batch_size=4, num_steps=10)
    assert len(run.losses) == 30
    assert np.mean(run.losses[-5:]) < run.losses[0] - 0.3
    start = step.random_weights(len(corpus.vocab), 8)  # the same seed: the weights it started from
    assert not np.allclose(run.weights.U, start.U)


# ---- 3 · unrolling as a list ---------------------------------------------------------------------------
def test_the_list_grows_with_num_steps_and_the_loops_do_not():
    sizes = {}
    for impl in unrolling.IMPLS:
        for steps in (2, 6):
            point = unrolling.measure_build(impl, unrolling.config_of("rnn", 4, 2, steps), 11)
            assert point.build_s > 0 and point.num_steps == steps
            sizes[impl, steps] = point.ops
    assert sizes["tf1-static", 6] > sizes["tf1-static", 2] + 4 * 5  # a few ops more per step, at least
    assert sizes["tf1-dynamic", 6] == sizes["tf1-dynamic", 2]
    assert sizes["tf1-scan", 6] == sizes["tf1-scan", 2]
    assert sizes["tf1-static", 6] > sizes["tf1-dynamic", 6]


def test_a_lap_follows_its_reports():
    lap = race.Lap("tf1-static")
    assert lap.running and lap.elapsed_s() == 0.0
    lap = race.applied(lap, race.Report("BUILDING", at=100.0))
    assert lap.phase is race.Phase.BUILDING and lap.elapsed_s(now=103.5) == 3.5
    lap = race.applied(lap, race.Report("BUILT", build_s=2.5, ops=40, session_s=0.5))
    assert not lap.running and lap.elapsed_s(now=1e9) == 2.5 and lap.ops == 40


def test_a_race_can_be_stopped_at_once():
    config = unrolling.config_of("rnn", 4, 2, 3)
    match = race.Race(("tf1-static", "tf1-dynamic"), config, 11)
    match.end()
    assert [lap.phase for lap in match.update()] == [race.Phase.FAILED] * 2
    assert not any(r.child.alive for r in match.racers)


# ---- 4 · dynamic_rnn and scan --------------------------------------------------------------------------
def test_every_unroller_gives_the_same_numbers():
    names = loops.usable("lstm")
    assert {"static", "dynamic", "scan"} <= set(names)
    result = loops.compare(tuple(names), units=8, batch_size=3, num_steps=5, calls=2)
    assert [r.impl for r in result.rows] == names and result.reference == names[0]
    for row in result.rows:
        assert row.max_diff < 1e-5, row
        assert row.step_s > 0 and row.trace_s > 0
    assert result.ratio(names[0]) == 1.0


def test_the_difference_is_measured():
    """A difference that is there is reported: the largest one, over outputs and states."""
    a = [np.zeros((2, 3)), np.ones(2)]
    assert loops._max_diff([np.zeros((2, 3)), np.array([1.0, 1.25])], a) == 0.25


# ---- the sections, drawn -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    yield tmp_path_factory.mktemp("runs")
    services.job_manager().shutdown()  # the app's spare worker ends with this module


@pytest.fixture
def tour(runs_dir, monkeypatch):
    monkeypatch.setenv(services.RUNS_DIR_ENV, str(runs_dir))

    def open_section(name: str, **query) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params.update({"owner": "tester", "tab": "Tour", "step": name, **query})
        at.run()
        assert at.radio(key="step").value == name
        return ok(at)

    return open_section


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def chart(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def test_the_data_section_shows_the_text_cut_as_training_cuts_it(tour):
    at = tour("data", tour_batch="3", tour_steps="7")
    n_train = len(SHAKESPEARE) - int(len(SHAKESPEARE) * 0.1)  # the default validation split, from the end
    row_len = n_train // 3
    (body,) = [h.proto.body for h in at.get("html") if 'class="tour-batches"' in h.proto.body]
    lines = [
        re.findall(r'<td style="[^"]*" title="[^"]*">([^<]*)</td>', tr)
        for tr in re.findall("<tr>(.*?)</tr>", body)
    ]
    grid = [[html.unescape(c) for c in line] for line in lines if line]  # line 2r: row r's x, 2r+1: its y
    assert len(grid) == 2 * 3
    for r in range(3):  # window 1 in columns 0..6
        start = r * row_len
        assert grid[2 * r][:7] == [VISIBLE.get(c, c) for c in SHAKESPEARE[start : start + 7]]
        assert grid[2 * r + 1][:7] == [VISIBLE.get(c, c) for c in SHAKESPEARE[start + 1 : start + 8]]
    assert grid[0][:5] == list("First")
    vocabulary = "".join(sorted(set(SHAKESPEARE)))
    drawn = [h.proto.body for h in at.get("html") if 'class="vocabulary"' in h.proto.body]
    assert any(html.escape(vocabulary.replace("\n", "↵").replace(" ", "␣")) in body for body in drawn)
    assert f"{len(SHAKESPEARE):,}" in [m.value for m in at.metric]


def test_the_step_section_shows_the_cells_numbers(tour):
    at = tour("step", tour_text="Th")
    vocab = make_corpus(SHAKESPEARE).vocab
    expected = numpy_steps(basics.untrained(), vocab, "Th")  # the weights the page used, in numpy
    strip, guesses = chart(at)["data"]
    np.testing.assert_allclose(strip["z"], [h for h, _ in expected], atol=1e-5)
    for shown, (_, p) in zip(guesses["z"], expected):
        np.testing.assert_allclose(shown, np.sort(p)[::-1][: step.TOP], atol=1e-5)


def test_the_list_section_measures_and_races(tour, monkeypatch):
    monkeypatch.setattr(basics, "LIST_STEPS", (2, 6))
    monkeypatch.setattr(basics, "LIST_SIZES", {"state_size": 4, "batch_size": 2})
    tiny = PRESETS["seed"]
    tiny = dataclasses.replace(
        tiny,
        model=dataclasses.replace(tiny.model, num_layers=1, state_size=4),
        train=dataclasses.replace(tiny.train, batch_size=2, num_steps=5),
    )
    monkeypatch.setattr(basics, "POST_SETTING", tiny)
    at = tour("list")
    assert not at.get("plotly_chart")  # nothing is measured before the click
    ok(at.button(key="tour_list_run").click().run())
    points = at.session_state["tour_list_rnn"]
    lines = {trace["name"]: trace for trace in chart(at)["data"] if trace["xaxis"] == "x"}  # the ops panel
    static, dynamic = lines["list (static_rnn)"], lines["dynamic_rnn"]
    assert static["x"] == [2, 6] and static["y"][1] > static["y"][0]
    assert dynamic["y"][0] == dynamic["y"][1]
    assert sorted(static["y"]) == sorted(p.ops for p in points if p.impl == "tf1-static")

    ok(at.button(key="tour_race_start").click().run())
    laps = at.session_state["tour_race"].wait(timeout=180)
    assert all(lap.phase is race.Phase.BUILT for lap in laps), laps
    ok(at.run())
    here, post = chart(at, -1)["data"]  # the race's, below the list's chart
    assert here["x"] == [lap.build_s for lap in laps]
    assert post["x"] == [25.6, 0.53]  # the post's own figures, labelled as the post's
    assert post["name"] == "the post (2016)"


def test_the_loops_section_compares_every_unroller(tour, monkeypatch):
    monkeypatch.setattr(basics, "LOOPS_SIZES", {"units": 8, "batch_size": 2, "num_steps": 5})
    at = tour("loops", tour_loops_all="true")
    ok(at.button(key="tour_loops_run").click().run())
    result = at.session_state["tour_loops_result"]
    assert [r.impl for r in result.rows] == list(loops.SHOWN) + [
        n for n in loops.usable("lstm") if n not in loops.SHOWN
    ]
    table = at.dataframe[0].value
    assert (table.iloc[:, 1] < 1e-5).all()
    bars = chart(at)["data"][0]
    np.testing.assert_allclose(bars["y"], [1000 * r.step_s for r in result.rows])
    assert bars["text"][0] == "×1.00"
