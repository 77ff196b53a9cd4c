"""Runs as one zip: a round trip keeps the run (it samples the same text at the same seed), and every
hostile archive is refused in a sentence with nothing written."""

import io
import stat
import zipfile

import pytest

from core.config import SampleConfig
from core.runs import archive
from core.runs.archive import ArchiveRefused, pack, unpack
from core.runs.checkpoints import load_for_sampling
from core.runs.store import RunStore
from tests.tiny import tiny_config, train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    from tests.tiny import write_corpus

    config = tiny_config(write_corpus(root), epochs=2, max_steps=100, checkpoint_every=50, eval_every=50)
    return train(RunStore(root / "runs", examples=None), config).run_dir  # with a milestone at step 100


def test_a_run_packed_and_unpacked_samples_the_same_text(tmp_path, trained):
    store = RunStore(tmp_path / "theirs", examples=None)
    imported = unpack(pack(trained), store, owner="them")
    assert imported.run_id != trained.run_id and imported.meta()["owner"] == "them"
    assert imported.meta()["imported_from"] == trained.run_id
    assert sorted(p.relative_to(imported.path) for p in imported.path.rglob("*")) == sorted(
        p.relative_to(trained.path) for p in trained.path.rglob("*")
    )
    config = SampleConfig(length=80, prime="All:", seed=3, temperature=0.9)
    (ours, step), (theirs, their_step) = load_for_sampling(trained), load_for_sampling(imported)
    assert step == their_step == 100 and ours.generate(config) == theirs.generate(config)
    assert list(imported.milestones()) == list(trained.milestones()) == [100]
    for name in ("step-100.index", "step-100.data-00000-of-00001"):
        assert (imported.milestones_dir / name).read_bytes() == (trained.milestones_dir / name).read_bytes()
    assert imported.load_record().snapshot().metrics == trained.load_record().snapshot().metrics
    assert [p.name for p in store.root.iterdir()] == [imported.run_id]  # no scratch folder left


def zip_of(entries: dict, links=()) -> bytes:
    """A zip holding name -> bytes, and `links` as symbolic links."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return buffer.getvalue()


GOOD = {"r/config.json": b'{"model": {"cell": "gru"}}', "r/vocab.json": b'{"chars": "ab"}'}


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not a zip at all", "is not a zip file"),
        (zip_of({}), "is empty"),
        (zip_of({**GOOD, "/etc/cron.d/x": b"x"}), "holds an absolute path"),
        (zip_of({**GOOD, "r/../../escape.txt": b"x"}), "leaves its folder"),
        (zip_of(GOOD, links=["r/ckpt/checkpoint"]), "holds a link"),
        (zip_of({**GOOD, "r/notes.sh": b"x"}), "not part of a run folder"),
        (zip_of({**GOOD, "other/config.json": b"{}"}), "must hold one run's folder"),
        (zip_of({"r/config.json": GOOD["r/config.json"]}), "lacks vocab.json"),
        (zip_of({**GOOD, "r/config.json": b"{broken"}), "cannot be read"),
        (zip_of({**GOOD, "r/ckpt/ckpt-1.index": b"\0" * 4096}), "the limit is 0 MB"),
    ],
    ids=[
        "not-zip",
        "empty",
        "absolute",
        "dotdot",
        "link",
        "stranger",
        "two-runs",
        "missing",
        "bad-config",
        "oversize",
    ],
)
def test_a_hostile_or_broken_archive_is_refused_and_writes_nothing(tmp_path, monkeypatch, data, message):
    monkeypatch.setattr(archive, "MAX_MEMBER", 1000)  # the oversize case, without a gigabyte of test data
    store = RunStore(tmp_path / "runs", examples=None)
    with pytest.raises(ArchiveRefused, match=message):
        unpack(data, store, owner="me", name="upload.zip")
    assert not store.root.exists() or not list(store.root.iterdir())
    assert not (tmp_path / "escape.txt").exists()


def test_a_zip_bomb_is_refused_before_it_expands(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in GOOD.items():
            z.writestr(name, data)
        z.writestr("r/metrics.jsonl", b"\0" * (50 * 2**20))  # 50 MB of zeros: a few dozen KB packed
    store = RunStore(tmp_path / "runs", examples=None)
    with pytest.raises(ArchiveRefused, match="expands"):
        unpack(buffer.getvalue(), store)
    assert not store.root.exists() or not list(store.root.iterdir())
