"""Sessions, driven by Streamlit's AppTest: a shared link shows a run, it never controls it; uploads and
runs belong to the session that made them."""

import pytest
from streamlit.testing.v1 import AppTest

from core.config import RunConfig
from core.data.corpus import make_corpus
from core.data.sources import uploads_of
from core.runs.store import RunStore
from explorer.common import services, state
from tests.app_kit import APP, OWNER, SECRET, TEXT, errors, labelled, mine, stopped_copy

pytest_plugins = ("tests.app_kit",)


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
