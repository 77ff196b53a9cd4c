"""A class shares one machine: each session has its own share of training slots, uploads and imports
beside the machine-wide cap, and another session's uploaded corpus is never read, copied or packed
for it."""

import io
import json
import zipfile

import pytest

from core.config import RunConfig
from core.data import sources
from core.data.corpus import CorpusError, Vocab
from core.runs.archive import ArchiveRefused
from core.runs.store import RunStore
from core.training.jobs import JobError, JobLimit, JobManager
from explorer.common import services
from tests.tiny import TEXT


class Busy:
    """A job that is training, as JobManager counts one (no worker process behind it)."""

    active = True

    def __init__(self, owner: str):
        self.owner = owner


def test_one_session_trains_its_share_and_the_machine_its_cap():
    jobs = JobManager(max_jobs=2, prestart=False)
    jobs._jobs = {"a": Busy("alice")}
    with pytest.raises(JobLimit, match="this session is training 1 run already"):
        jobs.check_room("alice", per_owner=1)
    jobs.check_room("bob", per_owner=1)  # the class goes on
    jobs.check_room("alice", per_owner=0)  # no cap per session: only the machine's
    jobs._jobs["b"] = Busy("bob")
    with pytest.raises(JobLimit, match="2 runs are already training on this machine"):
        jobs.check_room("carol", per_owner=1)


def test_a_served_app_gives_each_session_one_run_at_a_time(monkeypatch):
    monkeypatch.setattr(services, "local_server", lambda: False)
    assert services.session_jobs() == services.SESSION_JOBS_SERVED == 1
    monkeypatch.setattr(services, "local_server", lambda: True)
    assert services.session_jobs() == services.MAX_JOBS


def test_a_session_keeps_its_share_of_uploads(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_UPLOADS", 3)
    names = [
        sources.save_upload(tmp_path, "alice", f"t{i}.txt", f"text {i} ".encode() * 20) for i in range(3)
    ]
    assert sources.save_upload(tmp_path, "alice", "t0.txt", b"text 0 " * 20) == names[0]  # kept already
    with pytest.raises(CorpusError, match="keeps 3 uploaded corpora already"):
        sources.save_upload(tmp_path, "alice", "t3.txt", b"one more " * 20)
    assert sources.save_upload(tmp_path, "bob", "t3.txt", b"one more " * 20)  # another session may
    monkeypatch.setattr(sources, "MAX_UPLOADS_BYTES", 100)
    with pytest.raises(CorpusError, match="MB in all"):
        sources.save_upload(tmp_path, "carol", "big.txt", b"x" * 101)


def run_archive(label: str, corpus: str = "assets/tinyshakespeare.txt") -> bytes:
    """A minimal run as an archive: settings and vocabulary."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            f"{label}/config.json",
            json.dumps({"model": {"cell": "gru", "impl": "dynamic"}, "corpus": corpus}),
        )
        z.writestr(f"{label}/vocab.json", json.dumps({"chars": "ab"}))
    return buffer.getvalue()


def test_a_session_keeps_its_share_of_imported_runs(tmp_path, monkeypatch):
    monkeypatch.setenv(services.RUNS_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(services, "MAX_IMPORTS", 2)
    for i in range(2):
        services.import_run(run_archive(f"r{i}"), "alice", f"r{i}.zip")
    with pytest.raises(ArchiveRefused, match="holds 2 imported runs"):
        services.import_run(run_archive("r2"), "alice", "r2.zip")
    assert services.import_run(run_archive("r2"), "bob", "r2.zip").meta()["owner"] == "bob"


def uploaded_run(root, owner: str, uploader: str):
    """A run of `owner`'s whose config names `uploader`'s upload of the tiny text."""
    name = sources.save_upload(root, uploader, "tiny.txt", TEXT.encode())
    config = RunConfig(corpus=str(sources.uploads_of(root, uploader) / name))
    return RunStore(root, examples=None).create(config, Vocab.from_text(TEXT), owner=owner)


def test_another_sessions_upload_is_not_read_continued_or_packed(tmp_path, monkeypatch):
    monkeypatch.setenv(services.RUNS_DIR_ENV, str(tmp_path))
    run = uploaded_run(tmp_path, owner="bob", uploader="alice")  # a copy bob made of alice's run
    with pytest.raises(JobError, match="another browser session uploaded"):
        services.continue_run(run.run_id, "bob")
    with pytest.raises(CorpusError, match="another browser session uploaded"):
        services.corpus_for(run.config(), "bob", run)
    assert "corpus.txt" not in zipfile.ZipFile(io.BytesIO(services.archive_of(run, "bob"))).namelist()
    packed = zipfile.ZipFile(io.BytesIO(services.archive_of(run, "alice")))
    assert packed.read(f"{run.run_id}/corpus.txt").decode() == TEXT  # its uploader's download carries it
    sources.save_upload(tmp_path, "bob", "my own copy.txt", TEXT.encode())  # the same text, bob's own
    assert (
        services.corpus_for(run.config(), "bob", run).parent == sources.uploads_of(tmp_path, "bob").resolve()
    )


def test_an_imported_run_without_its_corpus_is_not_continued(tmp_path, monkeypatch):
    monkeypatch.setenv(services.RUNS_DIR_ENV, str(tmp_path))
    imported = services.import_run(run_archive("r", "/home/them/private.txt"), "alice", "r.zip")
    assert imported.config().corpus == "" and imported.meta()["corpus_absent"]
    with pytest.raises(JobError, match="did not come with it"):
        services.continue_run(imported.run_id, "alice")
