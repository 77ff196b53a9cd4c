"""The app driven by Streamlit's AppTest: controls from the registries, presets, refusals, runs, generation."""

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import tensorflow as tf
from streamlit.testing.v1 import AppTest

from core.config import OPTIMIZERS, PRESETS, ModelConfig, RunConfig, TrainConfig
from core.data.corpus import make_corpus
from core.data.sources import uploads_of
from core.model.cells import CELLS
from core.model.unrollers import UNROLLERS
from core.runs.record import RunRecord, RunSnapshot
from core.runs.store import RunStore
from core.training.trainer import Trainer
from explorer.common import figures, services, state, tables, ui

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "explorer" / "app.py")
TEXT = (ROOT / "assets" / "tinyshakespeare.txt").read_text(encoding="utf-8")[:20_000]
SECRET = "tester"  # the session secret the app's URL carries
OWNER = state.owner_of(SECRET)  # the owner id its runs record


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """A runs folder holding one tiny finished run of OWNER's and one of someone else's, made by the core."""
    root = tmp_path_factory.mktemp("runs")
    corpus_file = uploads_of(root, OWNER) / "tiny.txt"  # OWNER's upload, as the app keeps one
    corpus_file.parent.mkdir(parents=True)
    corpus_file.write_text(TEXT, encoding="utf-8")
    store = RunStore(root)
    config = RunConfig(
        model=ModelConfig(cell="gru", impl="dynamic", state_size=16),
        train=TrainConfig(
            batch_size=8,
            num_steps=20,
            max_steps=4,
            eval_every=2,
            eval_batches=2,
            sample_every=2,
            sample_length=20,
        ),
        corpus=str(corpus_file),
    )
    corpus = make_corpus(TEXT, config.train.val_fraction)
    for owner, label in ((OWNER, "mine"), ("someone-else", "theirs"), (OWNER, "hollow")):
        run_dir = store.create(config, corpus.vocab, owner=owner, label=label)
        record = RunRecord(run_dir.run_id, config.to_dict())
        record.subscribe(run_dir.writer())
        trainer = Trainer(config, corpus, record, run_dir)
        assert trainer.run().status == "finished"
    # "hollow": a checkpoint that holds the embedding and head but no recurrent weights.
    for path in run_dir.checkpoint_dir.iterdir():
        path.unlink()
    hollow = tf.train.Checkpoint(model=trainer.model, step=trainer.step)
    tf.train.CheckpointManager(hollow, str(run_dir.checkpoint_dir), 2).save(4)
    yield root
    services.job_manager().shutdown()  # the app's workers end with this module


@pytest.fixture
def app(runs_dir, monkeypatch):
    monkeypatch.setenv(services.RUNS_DIR_ENV, str(runs_dir))

    def make(**query):
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params.update({"owner": SECRET, "tab": "Train", **query})
        return at.run()

    return make


def labelled(runs_dir, label: str) -> str:
    return next(r.run_id for r in RunStore(runs_dir).list() if r.meta()["label"] == label)


def mine(runs_dir) -> str:
    return labelled(runs_dir, "mine")


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def test_controls_come_from_the_registries_and_all_have_help(app):
    at = app()
    assert not at.exception
    assert at.selectbox(key="cell").options == CELLS.names()
    assert at.selectbox(key="impl").options == ["auto", *UNROLLERS.names(trains_only=True)]
    assert at.selectbox(key="impl").value == "auto"  # the default: the probe picks the fastest
    assert at.selectbox(key="optimizer").options == list(OPTIMIZERS)
    widgets = [*at.sidebar.selectbox, *at.sidebar.number_input, *at.sidebar.slider, *at.sidebar.select_slider,
               *at.sidebar.button, *at.sidebar.text_input]  # fmt: skip
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
    at = app(cell="gru", state="64", steps="25", lr="0.0007", dropout="0.25")
    assert at.selectbox(key="cell").value == "gru"
    assert setting(at, "state").value == 64 and setting(at, "steps").value == 25
    assert setting(at, "lr").value == 0.0007  # off the slider's grid, and kept
    assert setting(at, "dropout").value == 0.25
    assert at.query_params["owner"] == SECRET


WIDGETS = {"number": "number_input", "slider": "slider", "choice": "select_slider", "select": "selectbox"}


def setting(at, key: str):
    """The sidebar widget of one setting, of the kind the settings table names."""
    return getattr(at, WIDGETS[state.control_for(key).widget])(key=key)


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


def test_the_runs_table_lists_this_sessions_runs(app, runs_dir):
    at = app(tab="Runs")
    assert not at.exception and not errors(at)
    table = at.dataframe[0].value.set_index("run")
    assert mine(runs_dir) in table.index and labelled(runs_dir, "theirs") not in table.index
    assert table.loc[mine(runs_dir), "status"] == "finished" and table.loc[mine(runs_dir), "step"] == 4
    at.checkbox(key="all_runs").check().run()
    assert labelled(runs_dir, "theirs") in set(at.dataframe[0].value["run"])
    assert len(at.get("plotly_chart")) == 2  # the overlay of the chosen runs, and quality against time
    assert {b.label for b in at.get("download_button")} == {
        "Metrics (CSV)",
        "Whole run (JSON)",
        "Whole run (zip)",
    }
    at.selectbox(key="manage").set_value(mine(runs_dir)).run()
    at.button(key="export").click().run()  # core.export's SavedModel, zipped (tests/test_export.py loads one)
    assert not at.exception and not errors(at)
    assert "SavedModel (zip)" in {b.label for b in at.get("download_button")}


def test_a_finished_run_shows_its_status_chart_timings_and_samples(app, runs_dir):
    at = app(run=mine(runs_dir))
    assert not at.exception and not errors(at)
    (finished,) = [s.value for s in at.success if s.value.startswith("Finished")]
    best = min(services.snapshot(mine(runs_dir)).evals, key=lambda e: e["val_loss"])
    assert (
        ui.plain(f"best validation loss {best['val_loss']:.3f} nats/char at step {best['step']}") in finished
    )
    loss, grad = at.get("plotly_chart")  # the loss, and the gradient norm with the clip threshold
    assert "gradient norm (before clipping)" in grad.proto.spec and "clip 5" in grad.proto.spec
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Build: trace"].endswith(" s") and metrics["Train loss"] != "–"
    assert any("Live sample at step 4" in m.value for m in at.markdown)


def test_generate_from_a_tiny_finished_run(app, runs_dir):
    at = app(tab="Generate", run=mine(runs_dir))
    at.number_input(key="length").set_value(40)
    at.button(key="generate").click().run()
    assert not at.exception and not errors(at)
    text = at.code[0].value
    assert text.startswith("The ") and len(text) == len("The ") + 40
    assert any("at step 4" in c.value for c in at.caption)


def test_a_checkpoint_without_recurrent_weights_is_named_and_never_sampled(app, runs_dir):
    hollow = labelled(runs_dir, "hollow")
    at = app(tab="Generate", run=hollow)
    assert not at.exception and not errors(at)
    offered = " ".join(at.selectbox(key="gen_run").options)
    assert hollow not in offered and mine(runs_dir) in offered
    assert any("hold no recurrent weights" in c.value and hollow in c.value for c in at.caption)
    at = app(tab="Runs")
    assert any(
        w.value.startswith(f"{hollow}: this run's checkpoint holds no recurrent weights") for w in at.warning
    )
    assert not any(mine(runs_dir) in w.value for w in at.warning)


def test_a_prime_outside_the_vocabulary_is_a_message_not_a_traceback(app, runs_dir):
    at = app(tab="Generate", run=mine(runs_dir))
    at.text_input(key="prime").set_value("€uro")
    at.button(key="generate").click().run()
    assert not at.exception
    assert any("not in the model's vocabulary" in e for e in errors(at)), errors(at)


def test_a_broken_run_folder_is_listed_as_damaged_with_delete_and_the_tabs_still_draw(app, runs_dir):
    broken = runs_dir / "19990101-000000-broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"meta": {"owner": OWNER}, "model": 3}), encoding="utf-8")
    try:
        for tab in ("Runs", "Train", "Generate", "Inside", "Build time"):
            at = app(tab=tab)
            assert not at.exception and not [e for e in errors(at) if "Something went wrong" in e], tab
        at = app(tab="Runs")
        (warning,) = [w.value for w in at.warning if ui.plain("19990101-000000-broken") in w.value]
        assert ui.plain("is damaged: config.json does not hold settings this app can use") in warning
        assert (
            at.dataframe[0].value["run"].tolist()
            and "19990101-000000-broken" not in at.dataframe[0].value["run"].tolist()
        )
        at.button(key="delete_damaged_19990101-000000-broken").click().run()
        assert not broken.exists() and any("Deleted 19990101-000000-broken" in i.value for i in at.info)
    finally:
        shutil.rmtree(broken, ignore_errors=True)


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
    assert snap.status == "finished" and snap.progress["step"] == 3
    meta = RunStore(runs_dir).get(run_id).meta()
    assert (meta["label"], meta["owner"]) == ("from-the-app", OWNER)
    at.run()
    assert any(s.value.startswith("Finished") for s in at.success)


def test_delete_removes_a_run(app, runs_dir):
    store = RunStore(runs_dir)
    config = RunConfig(corpus=str(uploads_of(runs_dir, OWNER) / "tiny.txt"))
    doomed = store.create(config, make_corpus(TEXT).vocab, owner=OWNER, label="doomed").run_id
    at = app(tab="Runs")
    at.selectbox(key="manage").set_value(doomed).run()
    at.button(key="delete").click().run()
    assert not at.exception
    assert doomed not in [r.run_id for r in store.list()]
    assert any(f"Deleted {doomed}" in i.value for i in at.info)


def test_the_cap_on_training_runs_is_a_clear_message(app, runs_dir, monkeypatch):
    monkeypatch.setattr(services.job_manager(), "max_jobs", 0)  # as if every slot were taken
    before = {r.run_id for r in RunStore(runs_dir).list()}
    at = app()
    at.button(key="start").click().run()
    assert not at.exception
    assert any("already training on this machine" in e for e in errors(at)), errors(at)
    assert {r.run_id for r in RunStore(runs_dir).list()} == before


def test_the_loss_chart_stays_light_however_long_the_run():
    snap = RunSnapshot(
        "long",
        {},
        metrics=[{"step": i, "train_loss": 4.0 - i * 1e-4, "elapsed_s": i * 0.01} for i in range(1, 10_001)],
        evals=[{"step": i, "val_loss": 3.9, "elapsed_s": i * 0.01} for i in range(100, 10_001, 100)],
    )
    fig = figures.loss_figure(snap, x_axis="time")
    assert [len(trace.x) for trace in fig.data] == [2000, 2000, 100]
    assert fig.data[0].x[-1] == 100.0  # the newest point is always drawn
    assert fig.data[1].y[-1] < fig.data[1].y[0]  # smoothed, and still falling


def test_quality_against_time_draws_each_runs_validation_losses_where_they_came():
    snap = RunSnapshot("r", {"train": {"batch_size": 8, "num_steps": 20}})
    snap.evals = [
        {"step": 1, "val_loss": 3.1},  # recorded before validation rows carried their wall time
        {"step": 100, "val_loss": 2.0, "wall_s": 30.0},
        {"step": 200, "val_loss": 1.6, "wall_s": 90.0},
    ]
    (by_time,) = figures.quality_figure([("a", snap)], "wall").data
    assert list(by_time.x) == [0.5, 1.5] and list(by_time.y) == [2.0, 1.6]
    (by_chars,) = figures.quality_figure([("a", snap)], "chars").data
    assert list(by_chars.x) == [160, 16_000, 32_000] and list(by_chars.y) == [3.1, 2.0, 1.6]
    lines = figures.quality_figure([("a", snap)]).layout.shapes
    assert sorted(line.y0 for line in lines) == [loss for loss, _ in figures.REFERENCES]


def test_the_runs_table_names_the_implementation_auto_chose():
    snap = RunSnapshot("r", {"model": {"impl": "auto"}})
    assert tables.summary(snap)["impl"] == "auto"
    snap.probe = {"chosen": "fused"}
    assert tables.summary(snap)["impl"] == "auto → fused"


def test_csv_export_joins_validation_losses_to_their_steps():
    snap = RunSnapshot(
        "r",
        {},
        metrics=[{"step": s, "epoch": 1, "train_loss": 3.0} for s in (1, 2, 3)],
        evals=[{"step": 2, "val_loss": 2.5}],
    )
    rows = tables.metrics_csv(snap).splitlines()
    assert rows[0].startswith("step,epoch,train_loss,val_loss")
    assert [r.split(",")[3] for r in rows[1:]] == ["", "2.5", ""]


# ---- sessions: a shared link shows a run, it never controls it -----------------------------------------
def stopped_copy(runs_dir, secret: str) -> str:
    """A stopped run with steps left (so Continue is on offer), owned by the session holding `secret`."""
    store = RunStore(runs_dir)
    return store.copy(store.get(mine(runs_dir)), owner=state.owner_of(secret), more_epochs=1).run_id


def test_a_shared_run_is_shown_read_only_to_another_session(app, runs_dir):
    theirs = stopped_copy(runs_dir, "someone-elses-secret")
    viewer = app(run=theirs)  # this session ("tester") opens a link to it
    assert not viewer.exception and not errors(viewer)
    assert viewer.selectbox(key="run").value == theirs
    assert any("View only: this run belongs to another browser session" in c.value for c in viewer.caption)
    assert not [b for b in viewer.button if b.key in ("continue", "stop", "pause", "resume")]
    owner = AppTest.from_file(APP, default_timeout=60)
    owner.query_params.update({"owner": "someone-elses-secret", "run": theirs})
    owner.run()
    assert owner.button(key="continue").label == "Continue training"
    with pytest.raises(services.JobError, match="belongs to another session"):
        services.continue_run(theirs, OWNER)
    with pytest.raises(services.JobError, match="cannot be deleted here"):
        services.delete_run(theirs, OWNER)
    assert RunStore(runs_dir).get(theirs).status()["status"] == "stopped"  # nothing happened to it


def test_other_sessions_runs_are_listed_but_not_deletable(app, runs_dir):
    theirs = labelled(runs_dir, "theirs")
    at = app(tab="Runs")
    at.checkbox(key="all_runs").check().run()
    at.selectbox(key="manage").set_value(theirs).run()
    assert not at.exception and not errors(at)
    assert not [b for b in at.button if b.key == "delete"]
    assert any("belongs to another browser session: it cannot be deleted here" in c.value for c in at.caption)


def test_the_share_link_carries_the_run_and_never_the_secret(app, runs_dir):
    at = app(run=mine(runs_dir))
    link = next(c.value for c in at.code if "run=" in c.value)
    assert f"run={mine(runs_dir)}" in link and "owner" not in link and SECRET not in link


def test_uploads_belong_to_the_session_that_made_them(app):
    at = app()
    at.file_uploader(key="upload").set_value(("private.txt", TEXT[:3000].encode(), "text/plain")).run()
    assert at.selectbox(key="corpus").value.startswith("private-")
    other = AppTest.from_file(APP, default_timeout=60)
    other.query_params.update({"owner": "another-secret"})
    other.run()
    assert not [name for name in other.selectbox(key="corpus").options if name.startswith("private-")]


def test_command_line_runs_are_yours_and_labels_are_text(app, runs_dir):
    store = RunStore(runs_dir)
    config = RunConfig(corpus=str(uploads_of(runs_dir, OWNER) / "tiny.txt"))
    cli_run = store.create(config, make_corpus(TEXT).vocab, owner="cli", label="**bold** [link](http://x)")
    at = app(run=cli_run.run_id)
    assert not at.exception
    assert cli_run.run_id in at.selectbox(key="run").options  # listed as this session's own
    caption = next(c.value for c in at.caption if c.value.startswith("Label:"))
    assert r"\*\*bold\*\* \[link\]\(http\:" in caption and "Trained from the command line" in caption


def test_a_hostile_label_is_shown_as_text_in_the_runs_tab_and_its_charts(app, runs_dir):
    store = RunStore(runs_dir)
    label = '<a href="https://evil">x</a><b>y</b>\u202e **bold** [link](https://evil)'
    as_typed = '<a href="https://evil">x</a><b>y</b> **bold** [link](https://evil)'  # less the override
    run_id = store.copy(store.get(mine(runs_dir)), owner=OWNER, label=label).run_id
    try:
        at = app(tab="Runs")
        at.multiselect(key="compare").set_value([run_id]).run()
        assert not at.exception and not errors(at)
        assert at.dataframe[0].value.set_index("run").loc[run_id, "label"] == as_typed
        assert f"{as_typed} · {run_id}" in at.multiselect(key="compare").options
        escaped = as_typed.replace("<", "&lt;").replace(">", "&gt;")  # Plotly.js draws it as typed
        for chart in at.get("plotly_chart"):  # the overlay, and quality against time
            names = [trace.get("name", "") for trace in json.loads(chart.proto.spec)["data"]]
            assert f"{escaped} · {run_id}" in names, names
            assert not [n for n in names if "<a" in n or "<b>" in n or "\u202e" in n], names
        caption = next(c.value for c in app(run=run_id).caption if c.value.startswith("Label:"))
        assert (
            caption
            == r'Label: \<a href="https\://evil"\>x\</a\>\<b\>y\</b\> \*\*bold\*\* \[link\]\(https\://evil\)'
        )
    finally:
        shutil.rmtree(runs_dir / run_id)


def test_a_run_sent_as_a_zip_is_imported_as_yours_and_a_hostile_one_is_refused(app, runs_dir):
    from core.runs.archive import pack

    store = RunStore(runs_dir, examples=None)
    theirs = store.get(labelled(runs_dir, "theirs"))
    before = {r.run_id for r in store.list()}
    at = app(tab="Runs")
    at.file_uploader(key="import_run").set_value(("theirs.zip", pack(theirs), "application/zip")).run()
    assert not at.exception and not errors(at)
    (new,) = {r.run_id for r in store.list()} - before
    assert any(f"Imported as {new}" in i.value for i in at.info)
    assert store.get(new).meta()["owner"] == OWNER and store.get(new).meta()["imported_from"] == theirs.run_id
    at.file_uploader(key="import_run").set_value(("evil.zip", b"PK not really", "application/zip")).run()
    assert any(i.value.startswith("Not imported: evil") and "is not a zip file" in i.value for i in at.info)
    assert {r.run_id for r in store.list()} - before == {new}


def test_the_train_tab_shows_the_selected_runs_own_settings_not_the_sidebars(app):
    from core.runs.store import RunStore as Store

    example = next(r for r in Store(ROOT / "runs").list() if r.read_only)
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


def test_the_loss_axis_can_be_log_or_zoomed_on_the_later_loss():
    metrics = [{"step": i, "train_loss": 4.2 * 0.97**i + 1.5} for i in range(1, 201)]
    snap = RunSnapshot("r", {}, metrics=metrics, evals=[{"step": 200, "val_loss": 1.55}])
    log = figures.loss_figure(snap, scale="log").layout.yaxis
    assert log.type == "log" and {"2", "5"} <= set(log.ticktext)  # whole labels, not a digit per minor tick
    low, high = figures.loss_figure(snap, smoothing=0.0, scale="recent").layout.yaxis.range
    later = [m["train_loss"] for m in metrics[100:]] + [1.55]
    assert low < min(later) and max(later) < high < 1.8  # the first, 5.6, is off the chart


def test_a_share_link_carries_the_address_the_browser_used(monkeypatch):
    class Context:
        url = "http://127.0.0.1:8501/"
        headers = {"Host": "classroom-server:8501"}

    monkeypatch.setattr(state.st, "context", Context())
    assert state.share_link("r1") == "http://classroom-server:8501/?tab=Train&run=r1"
    Context.headers = {"Host": "evil.com/<script>"}  # not a host: the page's own address instead
    assert state.share_link("r1", tab="Inside") == "http://127.0.0.1:8501/?tab=Inside&run=r1"


def test_a_shared_run_is_listed_on_the_generate_and_inside_tabs_of_whoever_opens_the_link(app, runs_dir):
    # another session's finished run, not in this session's lists (an import of it, if any, is this one's)
    theirs = next(r.run_id for r in RunStore(runs_dir).list() if r.meta().get("owner") == "someone-else")
    for tab, key in (("Generate", "gen_run"), ("Inside", "in_run")):
        at = app(tab=tab, run=theirs)
        assert not at.exception and not errors(at), (tab, errors(at))
        assert at.selectbox(key=key).value == theirs, tab
    at = app(tab="Generate")  # without the link, another session's run is not listed
    assert theirs not in at.selectbox(key="gen_run").options
