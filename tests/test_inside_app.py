"""The Inside tab driven by AppTest on small trained runs: every view draws, and what it shows is the
trace's own numbers; a person's mistakes are one sentence each."""

import os
import sys
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import ModelConfig, RunConfig, SampleConfig, TrainConfig
from core.data.corpus import make_corpus
from core.data.sources import uploads_of
from core.inside.trace import tracer_for
from core.runs.record import RunRecord
from core.runs.store import RunStore
from core.training.trainer import Trainer
from explorer.common import services, state
from explorer.inside.view import VIEWS

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "explorer" / "app.py")
TEXT = (ROOT / "assets" / "tinyshakespeare.txt").read_text(encoding="utf-8")[:30_000]
SECRET = "inside-tester"
OWNER = state.owner_of(SECRET)


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """Two small trained runs of OWNER's: a 2-layer LSTM (6 steps) and a GRU (100 steps: a milestone)."""
    root = tmp_path_factory.mktemp("runs")
    corpus_file = uploads_of(root, OWNER) / "tiny.txt"  # OWNER's upload, as the app keeps one
    corpus_file.parent.mkdir(parents=True)
    corpus_file.write_text(TEXT, encoding="utf-8")
    corpus = make_corpus(TEXT, 0.1)
    for cell, layers, steps in (("lstm", 2, 6), ("gru", 1, 120)):
        config = RunConfig(
            model=ModelConfig(cell=cell, impl="dynamic", num_layers=layers, state_size=16),
            train=TrainConfig(
                batch_size=8,
                num_steps=20,
                max_steps=steps,
                learning_rate=1e-2,
                eval_every=0,
                sample_every=0,
                checkpoint_every=100,
            ),  # fmt: skip
            corpus=str(corpus_file),
        )
        run_dir = RunStore(root).create(config, corpus.vocab, owner=OWNER, label=cell)
        record = RunRecord(run_dir.run_id, config.to_dict())
        record.subscribe(run_dir.writer())
        assert Trainer(config, corpus, record, run_dir).run().status == "finished"
    yield root
    services.job_manager().shutdown()


def run_of(runs_dir, label: str):
    return next(r for r in RunStore(runs_dir, examples=None).list() if r.meta()["label"] == label)


@pytest.fixture
def app(runs_dir, monkeypatch):
    monkeypatch.setenv(services.RUNS_DIR_ENV, str(runs_dir))

    def make(view: str = "Read along", **query):
        at = AppTest.from_file(APP, default_timeout=90)
        at.query_params.update({"owner": SECRET, "tab": "Inside", **query})
        at.session_state["inside_view"] = view
        return at.run()

    return make


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def test_read_along_colours_the_text_with_the_chosen_units_values(app, runs_dir):
    lstm = run_of(runs_dir, "lstm")
    at = app(run=lstm.run_id)
    assert not at.exception and not errors(at), errors(at)
    assert at.radio(key="in_source").value == "validation excerpt"  # the default text
    at.radio(key="in_kind").set_value("cell state c").run()
    at.number_input(key="in_unit").set_value(5).run()
    assert not at.exception and not errors(at)
    # The drawn text's hover titles carry the trace's own values for layer 1's cell state, unit 5.
    tracer, _ = tracer_for(lstm)
    validation = make_corpus(TEXT, 0.1)
    excerpt = validation.vocab.decode(validation.val_ids[:1000])
    expected = tracer(excerpt).cell[0, :, 5]
    drawn = next(h.proto.body for h in at.get("html") if "title=" in h.proto.body)
    for t in (0, 10, 99):
        assert f"{expected[t]:+.3f} · next:" in drawn
    assert any("bits/char" in c.value and "at step 6" in c.value for c in at.caption)


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_draws_without_an_error(app, runs_dir, view):
    at = app(view, run=run_of(runs_dir, "lstm").run_id)
    assert not at.exception and not errors(at), errors(at)


def test_the_gru_has_no_cell_state_and_its_own_gates(app, runs_dir):
    at = app("Gates", run=run_of(runs_dir, "gru").run_id)
    assert not at.exception and not errors(at)
    assert at.selectbox(key="in_gate").options == ["update", "reset"]


def test_a_text_the_run_cannot_read_is_one_sentence(app, runs_dir):
    at = app(run=run_of(runs_dir, "gru").run_id)
    at.radio(key="in_source").set_value("your own").run()
    at.text_area(key="in_own").set_value("Hello ✓ world").run()
    assert not at.exception
    assert any("not in the model's vocabulary: '✓'" in e for e in errors(at)), errors(at)
    at.text_area(key="in_own").set_value("").run()
    assert not at.exception and not errors(at)  # an empty box: nothing to read, nothing to say yet


def test_a_shorter_text_pulls_numbers_set_for_a_longer_one_into_range(app, runs_dir):
    at = app(run=run_of(runs_dir, "gru").run_id)
    at.number_input(key="in_position").set_value(900).run()
    at.number_input(key="in_unit").set_value(15).run()
    at.radio(key="in_source").set_value("your own").run()  # 98 characters: position 900 no longer exists
    assert not at.exception and not errors(at), errors(at)
    assert at.number_input(key="in_position").value == len(at.text_area(key="in_own").value) - 1


def test_a_run_is_compared_with_itself_at_an_earlier_step(app, runs_dir):
    gru = run_of(runs_dir, "gru")
    at = app("Compare runs", run=gru.run_id)
    assert not at.exception and not errors(at), errors(at)
    pick = at.selectbox(key="in_other")
    assert pick.options[:2] == ["this run, earlier", f"lstm · {run_of(runs_dir, 'lstm').run_id}"]
    pick.set_value(gru.run_id).run()
    at_step = at.selectbox(key="in_other_at")
    assert at_step.options == ["step 100"]  # the milestone; its own latest is this run itself
    assert not at.exception and not errors(at), errors(at)
    # The figures shown are the step-100 weights' and the latest weights' own, on the same excerpt.
    validation = make_corpus(TEXT, 0.1)
    excerpt = validation.vocab.decode(validation.val_ids[:1000])
    early, _ = tracer_for(gru, gru.milestones()[100])
    latest, _ = tracer_for(gru)
    shown = {m.label: m.value for m in at.metric}
    assert shown["step 100, bits/char"] == f"{early(excerpt).bits_per_char:.3f}"
    assert shown["this run, bits/char"] == f"{latest(excerpt).bits_per_char:.3f}"
    assert shown["step 100, bits/char"] != shown["this run, bits/char"]


LINUX = pytest.mark.skipif(sys.platform != "linux", reason="SCHED_IDLE is Linux's")


@LINUX
def test_work_drawn_at_idle_priority_runs_under_sched_idle_and_leaves_the_callers_thread_as_it_was():
    from explorer.common.priority import drawn_at_idle_priority

    def policy(x):
        return os.sched_getscheduler(0), threading.current_thread().name, x * 2

    assert drawn_at_idle_priority(policy, 21) == (os.SCHED_IDLE, "page-at-idle-priority", 42)
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # this thread keeps its policy

    def fails():
        raise ValueError("raised in the drawing thread")

    with pytest.raises(ValueError, match="raised in the drawing thread"):
        drawn_at_idle_priority(fails)


@LINUX
def test_the_inside_tab_is_drawn_at_idle_priority_and_lands_in_its_tab(app, runs_dir, monkeypatch):
    from explorer.inside import view

    seen = []
    read_along = view.VIEWS["Read along"]

    def recording(*args):
        seen.append(os.sched_getscheduler(0))
        return read_along(*args)

    monkeypatch.setitem(view.VIEWS, "Read along", recording)
    at = app(run=run_of(runs_dir, "gru").run_id)
    assert not at.exception and not errors(at), errors(at)
    assert seen == [os.SCHED_IDLE]
    inside = at.tabs[[t.label for t in at.tabs].index("Inside")]
    assert inside.get("selectbox") and any(s.key == "in_run" for s in inside.get("selectbox"))


def test_depends_on_shades_each_character_by_the_cores_gradient(app, runs_dir):
    from core.inside.connectivity import connectivity

    lstm = run_of(runs_dir, "lstm")
    at = app("Depends on", run=lstm.run_id)
    assert not at.exception and not errors(at), errors(at)
    tracer, _ = tracer_for(lstm)
    validation = make_corpus(TEXT, 0.1)
    text = validation.vocab.decode(validation.val_ids[:200])
    expected = connectivity(tracer.model, tracer.vocab, text).influence[198]  # the last prediction's row
    drawn = next(h.proto.body for h in at.get("html") if "title=" in h.proto.body)
    for s in (0, 100, 198):
        assert f'title="position {s}: {expected[s]:.3g}"' in drawn


def test_holding_a_unit_generates_beside_the_free_text_from_the_same_seed(app, runs_dir):
    from core.model.sampler import Sampler

    lstm = run_of(runs_dir, "lstm")
    at = app("Hold a unit", run=lstm.run_id)
    at.selectbox(key="in_hold_unit").set_value("layer 2 c 3").run()
    at.radio(key="in_hold_where").set_value("generated text").run()
    at.number_input(key="in_hold_from").set_value(30).run()
    assert not at.exception and not errors(at), errors(at)
    free, held = (c.value for c in at.code[-2:])
    tracer, _ = tracer_for(lstm)
    prime = at.text_input(key="in_hold_prime").value
    assert free == prime + Sampler(tracer.model, tracer.vocab).generate(SampleConfig(length=200, prime=prime))
    assert held[: len(prime) + 30] == free[: len(prime) + 30]


def test_find_units_says_which_properties_the_text_never_shows(app, runs_dir):
    at = app("Find units", run=run_of(runs_dir, "gru").run_id)
    assert not at.exception and not errors(at), errors(at)
    (said,) = [c.value for c in at.caption if c.value.startswith("Not in this text")]
    assert "inside a comment (code)" in said and "bracket depth (code)" in said
