"""The Runs tab driven by Streamlit's AppTest: the table of this session's runs, exports, delete, damaged
folders, hostile labels, runs imported from a zip."""

import json
import shutil

from core.config import RunConfig
from core.data.corpus import make_corpus
from core.data.sources import uploads_of
from core.runs.store import RunStore
from explorer.common import ui
from tests.app_kit import OWNER, TEXT, errors, labelled, mine

pytest_plugins = ("tests.app_kit",)


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
