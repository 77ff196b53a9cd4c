"""A run from elsewhere is untrusted input: archives built here as an attacker would build them, and run
folders edited by hand, never touch a file outside their run, never name another file to TensorFlow or
to the page, and never break a reader; a damaged latest checkpoint falls back to the one before it."""

import hashlib
import io
import json
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from core.config import SampleConfig
from core.data import sources
from core.data.corpus import CorpusError
from core.errors import Refusal
from core.runs import checkpoints, files
from core.runs.archive import ArchiveRefused, pack, unpack
from core.runs.checkpoints import load_for_sampling, usable
from core.runs.store import RunDamaged, RunStore
from tests.tiny import TEXT, tiny_config, train, write_corpus


def tree(folder: Path) -> dict[str, str]:
    """Every file below `folder` -> its content's hash: what 'nothing changed' is checked against."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny finished run with two checkpoints (ckpt-10, ckpt-20), its corpus in its owner's uploads."""
    root = tmp_path_factory.mktemp("trained")
    corpus = sources.uploads_of(root / "runs", "owner1") / "tiny-000000000000.txt"
    corpus.parent.mkdir(parents=True)
    corpus.write_text(TEXT, encoding="utf-8")
    run_dir = train(RunStore(root / "runs", examples=None), tiny_config(corpus, checkpoint_every=10)).run_dir
    assert run_dir.kept_checkpoints() == ["ckpt-10", "ckpt-20"]
    return run_dir


def copied(trained, root: Path, owner: str = "owner1"):
    """A store at `root` holding a copy of the trained run (its own folder, its own files)."""
    store = RunStore(root, examples=None)
    return store, store.copy(trained, owner=owner)


def rewrite(archive: bytes, changes: dict) -> bytes:
    """The archive with members replaced (name -> bytes, or None to drop it), the rest as they were."""
    source, buffer = zipfile.ZipFile(io.BytesIO(archive)), io.BytesIO()
    top = source.namelist()[0].split("/")[0]
    with zipfile.ZipFile(buffer, "w") as out:
        for info in source.infolist():
            relative = info.filename.split("/", 1)[1]
            if relative not in changes:
                out.writestr(info, source.read(info))
        for relative, data in changes.items():
            if data is not None:
                out.writestr(f"{top}/{relative}", data)
    return buffer.getvalue()


def hostile_index(victim, outside: Path) -> str:
    """A checkpoint index whose oldest entries name another run's checkpoints and a file elsewhere, with
    times after its last preserved one: TensorFlow's CheckpointManager sweeps such entries as it saves."""
    now = time.time()
    paths = [f"../../{victim.run_id}/ckpt/ckpt-10", victim.checkpoint_dir / "ckpt-20", outside / "ckpt-5"]
    return "".join(
        ['model_checkpoint_path: "ckpt-20"\n']
        + [f'all_model_checkpoint_paths: "{p}"\n' for p in [*paths, "ckpt-20"]]
        + [f"all_model_checkpoint_timestamps: {now - 10 + i}\n" for i in range(len(paths) + 1)]
        + [f"last_preserved_timestamp: {now - 100}\n"]
    )


def bystanders(tmp_path: Path, trained):
    """Another session's run in the store, and checkpoint-like files outside the runs folder."""
    store, victim = copied(trained, tmp_path / "runs", owner="victim")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for name in ("ckpt-5.index", "ckpt-5.data-00000-of-00001"):
        (outside / name).write_bytes(b"not yours")
    return store, victim, outside


# ---- the checkpoint index -------------------------------------------------------------------------
def test_a_hand_edited_index_naming_other_files_deletes_nothing_outside_its_run(tmp_path, trained):
    store, victim, outside = bystanders(tmp_path, trained)
    attacker = store.copy(trained, owner="attacker")
    (attacker.checkpoint_dir / "checkpoint").write_text(hostile_index(victim, outside), encoding="utf-8")
    before = {"victim": tree(victim.path), "outside": tree(outside)}
    assert attacker.latest_checkpoint() == str(attacker.checkpoint_dir / "ckpt-20")  # only its own
    resumed = train(
        store, tiny_config(trained.config().corpus, epochs=3, max_steps=60, checkpoint_every=10), attacker
    )
    assert resumed.record.snapshot().progress.step == 60  # the sweep ran, over four saves
    assert {"victim": tree(victim.path), "outside": tree(outside)} == before
    assert attacker.kept_checkpoints() == ["ckpt-50", "ckpt-60"]
    assert files.checkpoint_index(attacker.checkpoint_dir).clean


def test_an_archive_whose_index_names_other_files_is_imported_with_an_index_of_its_own(tmp_path, trained):
    store, victim, outside = bystanders(tmp_path, trained)
    archive = rewrite(pack(trained), {"ckpt/checkpoint": hostile_index(victim, outside).encode()})
    before = {"victim": tree(victim.path), "outside": tree(outside)}
    imported = unpack(archive, store, owner="attacker")
    text = (imported.checkpoint_dir / "checkpoint").read_text(encoding="utf-8")
    assert ".." not in text and "/" not in text and imported.kept_checkpoints() == ["ckpt-10", "ckpt-20"]
    train(store, tiny_config(trained.config().corpus, max_steps=50, checkpoint_every=10), imported)
    assert {"victim": tree(victim.path), "outside": tree(outside)} == before


def test_an_index_of_garbage_or_a_link_is_rebuilt_from_the_checkpoints_present(tmp_path, trained):
    _, run = copied(trained, tmp_path / "runs")
    (run.checkpoint_dir / "checkpoint").write_bytes(b"\xff\xfe garbage \x00")
    assert (
        run.kept_checkpoints() == ["ckpt-10", "ckpt-20"]
        and not files.checkpoint_index(run.checkpoint_dir).clean
    )
    assert files.repair_index(run.checkpoint_dir) and files.checkpoint_index(run.checkpoint_dir).clean
    (run.checkpoint_dir / "checkpoint").unlink()
    (run.checkpoint_dir / "checkpoint").symlink_to(tmp_path / "runs")
    assert run.latest_checkpoint() == str(run.checkpoint_dir / "ckpt-20")
    shutil.rmtree(run.checkpoint_dir)
    run.checkpoint_dir.symlink_to(trained.checkpoint_dir)  # a ckpt folder that is another run's
    assert run.latest_checkpoint() is None and not run.has_checkpoint()
    with pytest.raises(RunDamaged, match="link"):
        files.repair_index(run.checkpoint_dir)


# ---- corpora --------------------------------------------------------------------------------------
def test_an_imported_run_never_names_a_file_outside_the_runs_folder(tmp_path, trained):
    secret = write_corpus(tmp_path, "the server's secret\n" * 50, "secret.txt")
    store = RunStore(tmp_path / "runs", examples=None)
    for named, expected in (
        (str(secret), ""),
        ("/etc/passwd", ""),
        ("../../../etc/passwd", ""),
        ("/home/someone/checkout/assets/tinyshakespeare.txt", sources.builtin_path()),
    ):
        config = json.loads((trained.path / "config.json").read_text(encoding="utf-8"))
        archive = rewrite(pack(trained), {"config.json": json.dumps({**config, "corpus": named}).encode()})
        imported = unpack(archive, store, owner="student")
        assert imported.config().corpus == expected
        assert imported.meta().get("corpus_absent", False) == (expected == "")
    with pytest.raises(CorpusError, match="did not come with it"):
        sources.readable_corpus("", store.root, "student")
    for path in (str(secret), "/etc/passwd", "assets/../../../../etc/passwd", "assets/examples/x.txt"):
        with pytest.raises(CorpusError, match="not one the app reads"):
            sources.readable_corpus(path, store.root, "student")
    assert (
        sources.readable_corpus("assets/tinyshakespeare.txt", store.root, "student").name
        == "tinyshakespeare.txt"
    )


def test_an_upload_is_read_only_by_its_session_or_one_that_uploaded_the_same_text(tmp_path):
    root = tmp_path / "runs"
    name = sources.save_upload(root, "alice", "notes.txt", b"private words " * 100)
    alices = str(sources.uploads_of(root, "alice") / name)
    assert sources.readable_corpus(alices, root, "alice") == Path(alices).resolve()
    with pytest.raises(CorpusError, match="another browser session uploaded"):
        sources.readable_corpus(alices, root, "bob")
    assert sources.save_upload(root, "bob", "mine.txt", b"private words " * 100).endswith(name.split("-")[-1])
    assert sources.readable_corpus(alices, root, "bob").parent == sources.uploads_of(root, "bob").resolve()
    link = sources.uploads_of(root, "mallory") / "passwd.txt"
    link.parent.mkdir(parents=True)
    link.symlink_to("/etc/passwd")
    assert sources.uploads(root, "mallory") == []
    with pytest.raises(CorpusError):
        sources.readable_corpus(str(link), root, "mallory")


def test_an_archive_carries_an_uploaded_corpus_that_becomes_the_importers_own(tmp_path, trained):
    corpus = Path(trained.config().corpus)
    store = RunStore(tmp_path / "runs", examples=None)
    imported = unpack(pack(trained, corpus=corpus), store, owner="carol")
    mine = Path(imported.config().corpus)
    assert mine.parent == sources.uploads_of(store.root, "carol") and mine.read_bytes() == corpus.read_bytes()
    assert sources.readable_corpus(str(mine), store.root, "carol") == mine.resolve()
    wrong = rewrite(pack(trained, corpus=corpus), {"corpus.txt": b"other letters entirely: xyz"})
    with pytest.raises(ArchiveRefused, match="vocabulary"):
        unpack(wrong, RunStore(tmp_path / "other", examples=None), owner="carol")


# ---- malformed files ------------------------------------------------------------------------------
MALFORMED = {
    "a truncated status.json": {"status.json": b'{"status": "fini'},
    "a status of the wrong shape": {"status.json": b'{"status": "finished", "progress": {"step": "ten"}}'},
    "a status no run has": {"status.json": b'{"status": "pwned"}'},
    "metrics rows that are not objects": {"metrics.jsonl": b"[1, 2]\n3\n"},
    "a metric row of the wrong types": {
        "metrics.jsonl": b'{"kind": "metric", "step": "x", "train_loss": 1}\n'
    },
    "a sample that is not text": {"samples.jsonl": b'{"kind": "sample", "step": 1, "text": [1]}\n'},
    "a vocabulary with repeats": {"vocab.json": b'{"chars": "aab"}'},
    "a config that is a list": {"config.json": b"[]"},
    "a config of the wrong shape": {"config.json": b'{"model": 3}'},
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_archive_is_refused_in_a_sentence_and_leaves_nothing(tmp_path, trained, case):
    store = RunStore(tmp_path / "runs", examples=None)
    with pytest.raises(ArchiveRefused) as refused:
        unpack(rewrite(pack(trained), MALFORMED[case]), store, owner="student", name="evil.zip")
    assert str(refused.value).startswith("evil.zip") and "\n" not in str(refused.value)
    assert not store.root.exists() or not [p for p in store.root.iterdir() if p.name != "_corpora"]


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_file_in_a_run_folder_is_a_sentence_or_a_skipped_row(tmp_path, trained, case):
    _, run = copied(trained, tmp_path / "runs")
    good_rows = len(run.load_record().snapshot().metrics)
    for name, data in MALFORMED[case].items():
        (run.path / name).write_bytes(data)
    if set(MALFORMED[case]) <= {"metrics.jsonl", "samples.jsonl"}:  # a row is skipped, the run reads
        snap = run.load_record().snapshot()
        assert run.problem() is None
        rows = snap.metrics if "metrics.jsonl" in MALFORMED[case] else snap.samples
        assert rows == [] and (snap.samples if rows is snap.metrics else snap.metrics)
        assert len(snap.metrics) in (0, good_rows)
        return
    problem = run.problem()
    assert problem.startswith(f"run {run.run_id} is damaged: {next(iter(MALFORMED[case]))}"), problem
    with pytest.raises(RunDamaged):
        run.load_record()
        run.vocab()


def test_a_folder_named_as_no_run_or_linked_from_elsewhere_is_not_a_run(tmp_path, trained):
    store, run = copied(trained, tmp_path / "runs")
    shutil.copytree(run.path, store.root / "<b>odd name</b>")
    (store.root / "linked").symlink_to(run.path)
    assert [r.run_id for r in store.list()] == [run.run_id]
    for name in ("<b>odd name</b>", "linked", "../runs", ""):
        with pytest.raises(KeyError):
            store.get(name)


# ---- a damaged latest checkpoint ------------------------------------------------------------------
@pytest.mark.parametrize("part", ["index", "data-00000-of-00001"])
def test_a_damaged_latest_checkpoint_falls_back_to_the_one_before_saying_so(tmp_path, trained, part, capsys):
    store, run = copied(trained, tmp_path / "runs")
    damaged = run.checkpoint_dir / f"ckpt-20.{part}"
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) // 2] + bytes(len(data) - len(data) // 2))  # half of it zeros
    found = usable(run)
    assert found.prefix == str(run.checkpoint_dir / "ckpt-10") and found.damaged == ["ckpt-20"]
    assert "ckpt-20" in found.note() and "ckpt-10" in found.note()
    sampler, step = load_for_sampling(run)
    assert step == 10 and len(sampler.generate(SampleConfig(length=20, prime="F", seed=1))) >= 20
    assert checkpoints.problem(run) is None

    from core.commands import sample

    assert sample.main(["--run", str(run.path), "--length", "5", "--prime", "F"]) == 0
    assert "note: run" in capsys.readouterr().err

    resumed = train(store, tiny_config(trained.config().corpus, max_steps=30, checkpoint_every=10), run)
    log = resumed.record.snapshot().log
    assert any("ckpt-20" in line and "damaged" in line for line in log), log
    assert run.kept_checkpoints() == ["ckpt-20", "ckpt-30"] and usable(run).damaged == []


def test_when_every_checkpoint_is_damaged_the_run_says_so_and_is_never_sampled(tmp_path, trained):
    _, run = copied(trained, tmp_path / "runs")
    for index in run.checkpoint_dir.glob("*.index"):
        index.write_bytes(b"garbage")
    assert "every checkpoint of this run (ckpt-20, ckpt-10) is damaged" in checkpoints.problem(run)
    with pytest.raises(Refusal, match="every checkpoint"):
        load_for_sampling(run)
