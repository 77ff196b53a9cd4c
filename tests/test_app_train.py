"""The Train tab driven by Streamlit's AppTest: controls from the registries, presets, the URL, refusals
before starting, a run started and a finished run's panel, presentation mode."""

import dataclasses

import pytest
from streamlit.testing.v1 import AppTest

from core.config import OPTIMIZERS, ModelConfig, TrainConfig
from core.model.cells import CELLS
from core.model.unrollers import UNROLLERS
from core.presets import PRESETS
from core.runs.store import RunStore
from explorer.common import services, state, ui
from tests.app_kit import APP, OWNER, ROOT, SECRET, TEXT, errors, mine, setting

pytest_plugins = ("tests.app_kit",)


def test_controls_come_from_the_registries_and_all_have_help(app):
    at = app()
    assert not at.exception
    assert at.selectbox(key="cell").options == CELLS.names()
    assert at.selectbox(key="impl").options == ["auto", *UNROLLERS.names(trains_only=True)]
    assert at.selectbox(key="impl").value == "auto"  # the default: the probe picks the fastest
    assert at.selectbox(key="optimizer").options == list(OPTIMIZERS)
    widgets = [*at.sidebar.selectbox, *at.sidebar.number_input, *at.sidebar.slider, *at.sidebar.select_slider,
               *at.sidebar.button, *at.sidebar.text_input, *at.sidebar.checkbox]  # fmt: skip
    assert all(w.help for w in widgets), [w.label for w in widgets if not w.help]
    # Every field of the model and training configs has a control, keyed by its URL parameter.
    fields = {("model", f.name) for f in dataclasses.fields(ModelConfig)} | {
        ("train", f.name) for f in dataclasses.fields(TrainConfig)
    }
    assert set(state.SETTINGS.values()) == fields
    assert {w.key for w in widgets} >= set(state.SETTINGS)


def test_presets_set_every_value_one_click_away(app):
    at = app()
    at.button(key="preset_seed").click().run()
    assert (at.selectbox(key="cell").value, at.selectbox(key="impl").value) == ("lstm", "auto")
    values = {key: setting(at, key).value for key in ("layers", "state", "batch", "steps", "epochs", "lr")}
    assert values == {"layers": 3, "state": 100, "batch": 32, "steps": 200, "epochs": 3, "lr": 1e-4}
    at.button(key="preset_quick").click().run()
    quick = PRESETS["quick"].model
    assert (at.selectbox(key="cell").value, at.selectbox(key="impl").value) == (quick.cell, quick.impl)
    assert setting(at, "state").value == 256 and setting(at, "batch").value == 64
    assert not errors(at) and not at.button(key="start").disabled


def test_the_url_restores_settings_and_the_owner(app):
    at = app(cell="gru", state="64", steps="25", lr="0.0007", dropout="0.25", drop_in="false")
    assert at.selectbox(key="cell").value == "gru"
    assert setting(at, "state").value == 64 and setting(at, "steps").value == 25
    assert setting(at, "lr").value == 0.0007  # off the slider's grid, and kept
    assert setting(at, "dropout").value == 0.25
    assert setting(at, "drop_in").value is False  # dropout between the layers and on the output only
    assert at.query_params["owner"] == SECRET


def test_the_card_says_where_dropout_acts():
    from explorer.train.card import facts

    longer = PRESETS["longer"]
    assert "dropout 0.5" in dict(facts(longer, None))["Size"]
    assert "not on the input" not in dict(facts(longer, None))["Size"]
    off = dataclasses.replace(longer, model=dataclasses.replace(longer.model, input_dropout=False))
    assert "dropout 0.5 (not on the input)" in dict(facts(off, None))["Size"]


def test_the_devices_control_offers_what_one_process_can_run_and_keeps_replicas_consistent(app):
    at = app()
    strategy, replicas = at.selectbox(key="strategy"), setting(at, "replicas")
    assert strategy.options == ["none", "mirrored"]  # multi-worker is several processes: core.cluster
    assert strategy.value == "none" and replicas.value == 1 and replicas.disabled
    strategy.select("mirrored").run()
    assert not setting(at, "replicas").disabled
    setting(at, "replicas").set_value(2).run()
    assert not errors(at) and not at.button(key="start").disabled
    setting(at, "replicas").set_value(3).run()  # the batch (32) does not split over 3 replicas
    assert any("cannot be split evenly over 3 replicas" in e for e in errors(at)), errors(at)
    assert at.button(key="start").disabled
    at.selectbox(key="strategy").select("none").run()  # back to one device: one replica, nothing refused
    assert setting(at, "replicas").value == 1 and not at.button(key="start").disabled


def test_each_setting_is_drawn_as_its_table_says_with_its_bounds(app):
    at = app()
    for key in state.SETTINGS:
        control, widget = state.control_for(key), setting(at, key)
        assert widget.label == control.label
        if control.widget in ("number", "slider") and control.high is not None:
            assert (widget.min, widget.max) == (control.low, control.high), key
    # The sliders the table asks for: a log-spaced learning rate, powers of two, dropout in 0.05 steps.
    assert {"1e-05", "0.0001", "0.001", "0.01", "1"} <= set(setting(at, "lr").options)
    assert {"1", "2", "64", "256", "1024"} <= set(setting(at, "batch").options)
    assert setting(at, "dropout").step == 0.05


def test_an_impossible_setting_is_refused_before_starting(app, runs_dir):
    at = app(cell="rnn", impl="keras-fused")
    assert any("works only with cells lstm, gru" in e for e in errors(at))
    assert at.button(key="start").disabled


def test_a_config_that_does_not_fit_the_corpus_is_refused(app, runs_dir):
    before = len(RunStore(runs_dir).list())
    at = app()
    at.file_uploader(key="upload").set_value(("small.txt", TEXT[:3000].encode(), "text/plain")).run()
    assert at.selectbox(key="corpus").value.startswith("small-")
    at.button(key="preset_quick").click().run()  # 64 × 100 characters per batch: more than 3,000
    assert any("batch_size × num_steps" in e for e in errors(at)), errors(at)
    assert at.button(key="start").disabled
    assert len(RunStore(runs_dir).list()) == before


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.txt", b"  \n", "is empty"),
        ("image.png", b"\x89PNG\r\n\x1a\n\xff\xfe", "is not UTF-8"),
        ("huge.txt", b"a" * (5 * 2**20 + 1), "the limit is 5 MB"),
    ],
)
def test_bad_uploads_get_a_clear_message(app, name, data, message):
    at = app()
    at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception
    assert any(message in e for e in errors(at)), errors(at)
    assert at.selectbox(key="corpus").value == "tinyshakespeare"


def test_a_finished_run_shows_its_status_chart_timings_and_samples(app, runs_dir):
    at = app(run=mine(runs_dir))
    assert not at.exception and not errors(at)
    (finished,) = [s.value for s in at.success if s.value.startswith("Finished")]
    best = min(services.snapshot(mine(runs_dir)).evals, key=lambda e: e.val_loss)
    assert ui.plain(f"best validation loss {best.val_loss:.3f} nats/char at step {best.step}") in finished
    loss, grad = at.get("plotly_chart")  # the loss, and the gradient norm with the clip threshold
    assert "gradient norm (before clipping)" in grad.proto.spec and "clip 5" in grad.proto.spec
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Build: trace"].endswith(" s") and metrics["Train loss"] != "–"
    assert any("Live sample at step 4" in m.value for m in at.markdown)


def test_start_trains_a_run_in_the_background(app, runs_dir):
    at = app(
        cell="gru",
        state="8",
        batch="4",
        steps="10",
        max_steps="3",
        eval_every="0",
        sample_every="0",
        eval_batches="1",
        label="from-the-app",
    )
    at.file_uploader(key="upload").set_value(("short.txt", TEXT[:5000].encode(), "text/plain")).run()
    at.button(key="start").click().run()
    assert not at.exception and not errors(at)
    run_id = at.session_state["run"]
    job = services.job_manager().get(run_id)
    assert job is not None and job.wait(90)
    snap = job.snapshot()
    assert snap.status == "finished" and snap.progress.step == 3
    meta = RunStore(runs_dir).get(run_id).meta()
    assert (meta["label"], meta["owner"]) == ("from-the-app", OWNER)
    at.run()
    assert any(s.value.startswith("Finished") for s in at.success)


def test_the_cap_on_training_runs_is_a_clear_message(app, runs_dir, monkeypatch):
    monkeypatch.setattr(services.job_manager(), "max_jobs", 0)  # as if every slot were taken
    before = {r.run_id for r in RunStore(runs_dir).list()}
    at = app()
    at.button(key="start").click().run()
    assert not at.exception
    assert any("already training on this machine" in e for e in errors(at)), errors(at)
    assert {r.run_id for r in RunStore(runs_dir).list()} == before


def test_the_train_tab_shows_the_selected_runs_own_settings_not_the_sidebars(app):
    from core.paths import EXAMPLE_ID
    from core.runs.store import RunStore as Store

    example = Store(ROOT / "runs").get(EXAMPLE_ID)  # the GRU (the code example is an LSTM)
    config = example.config()
    at = app(run=example.run_id)  # the sidebar keeps its defaults: an LSTM 128
    assert at.selectbox(key="cell").value == "lstm" and config.model.cell != "lstm"
    (card,) = [m.value for m in at.markdown if m.value.startswith("**Cell:**")]
    assert f"**Cell:** {config.model.cell.upper()}" in card
    assert f"{config.model.num_layers} layer of {config.model.state_size} units" in card
    assert f"{config.train.batch_size} rows × {config.train.num_steps} characters" in card
    assert ui.plain(f"Chosen by timing (auto): {example.status()['probe']['chosen']}") in card
    assert any("sets up the *next* run" in c.value for c in at.caption)
    at.button(key=f"card_copy_{example.run_id}").click().run()
    assert at.selectbox(key="cell").value == config.model.cell
    assert at.select_slider(key="state").value == config.model.state_size


def test_a_first_visit_opens_the_tour_and_the_train_tab_shows_the_example(app):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"owner": SECRET})
    at.run()
    assert not at.exception and at.radio(key="step").value == "data"  # the tour's first section
    at = app(tab="Train")
    assert not at.exception and not errors(at)
    assert any("here is the example run" in c.value for c in at.caption)
    assert any(m.value.startswith("**Cell:** GRU") for m in at.markdown)


def test_presentation_mode_is_a_toggle_kept_in_the_url(app):
    at = app(present="true")
    assert at.toggle(key="present").value is True
    assert any("font-size: 19px" in h.proto.body for h in at.get("html"))
    at.toggle(key="present").set_value(False).run()
    assert not any("font-size: 19px" in h.proto.body for h in at.get("html"))
