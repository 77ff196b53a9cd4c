"""Runs on disk: atomic files, records rebuilt from them, and the store's list / get / delete."""

import json

import pytest

from core.config import RunConfig
from core.data.corpus import Vocab
from core.runs.record import RunRecord
from core.runs.rows import EvalRow, MetricRow
from core.runs.store import ReadOnlyRun, RunNotFound, RunStore, read_jsonl, write_atomic


def test_write_atomic_leaves_no_temporary_files(tmp_path):
    write_atomic(tmp_path / "a.json", "{}")
    write_atomic(tmp_path / "a.json", '{"x": 1}')
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1}


def test_a_line_cut_short_by_a_crash_is_skipped(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"st')
    assert read_jsonl(path) == [{"step": 1}, {"step": 2}]


def test_record_rebuilt_from_disk_equals_the_live_one(tmp_path):
    store = RunStore(tmp_path)
    run_dir = store.create(RunConfig(), Vocab("ab"), owner="me")
    live = RunRecord(run_dir.run_id, {})
    live.subscribe(run_dir.writer())
    live.set_status("training")
    live.timing(trace_s=1.5, first_call_s=0.5)
    for step in (1, 2):
        live.metric(MetricRow(step=step, epoch=1, train_loss=3.0 - step))
        live.progress(step=step, total_steps=2)
    live.eval(EvalRow(step=2, epoch=1, val_loss=2.5, val_bits=3.6))
    live.sample(2, "ab ba")
    live.set_status("finished", "done")
    a, b = live.snapshot(), run_dir.load_record().snapshot()
    for key in ("status", "message", "metrics", "evals", "samples", "timings", "progress"):
        assert getattr(a, key) == getattr(b, key), key
    assert run_dir.meta()["owner"] == "me" and run_dir.config() == RunConfig()


def test_list_get_delete(tmp_path):
    store = RunStore(tmp_path, examples=None)
    mine = store.create(RunConfig(), Vocab("ab"), owner="me")
    theirs = store.create(RunConfig(), Vocab("ab"), owner="you")
    assert {r.run_id for r in store.list()} == {mine.run_id, theirs.run_id}
    assert [r.run_id for r in store.list(owner="me")] == [mine.run_id]
    assert store.get(mine.run_id).vocab() == Vocab("ab")
    store.delete(mine.run_id)
    with pytest.raises(RunNotFound, match="no run named"):
        store.get(mine.run_id)
    for name in ("../etc", "..", ".", ""):
        with pytest.raises(RunNotFound):
            store.get(name)


def example_store(tmp_path) -> tuple[RunStore, str]:
    """A store with one run of its own and one example run beside it."""
    examples = tmp_path / "examples"
    source = RunStore(examples, examples=None).create(RunConfig(), Vocab("ab"))
    source.save_config(RunConfig(), {**source.meta(), "example": True, "label": "the example"})
    (source.path / "status.json").write_text(
        json.dumps({"status": "finished", "progress": {"step": 9, "total_steps": 9}})
    )
    store = RunStore(tmp_path / "runs", examples=examples)
    store.create(RunConfig(), Vocab("ab"), owner="me")
    return store, source.run_id


def test_examples_are_listed_for_everyone_after_their_runs_and_cannot_be_deleted(tmp_path):
    store, example = example_store(tmp_path)
    assert [r.read_only for r in store.list(owner="me")] == [False, True]
    assert [r.run_id for r in store.list(owner="someone else")] == [example]
    assert store.get(example).read_only
    with pytest.raises(ReadOnlyRun, match="cannot be deleted"):
        store.delete(example)
    assert store.get(example).config() == RunConfig()


def test_a_copy_is_a_new_run_of_its_own_with_more_epochs_to_train(tmp_path):
    store, example = example_store(tmp_path)
    (store.get(example).path / "metrics.jsonl").write_text('{"kind": "metric", "step": 9}\n')
    copy = store.copy(store.get(example), owner="me", more_epochs=2)
    assert not copy.read_only and copy.meta()["owner"] == "me" and copy.meta()["copied_from"] == example
    assert copy.meta()["label"] == "copy of the example" and copy.run_id in [
        r.run_id for r in store.list("me")
    ]
    assert copy.config().train.epochs == RunConfig().train.epochs + 2
    assert (copy.path / "metrics.jsonl").read_text() == (
        store.get(example).path / "metrics.jsonl"
    ).read_text()
    status = copy.status()
    assert status["status"] == "stopped" and "total_steps" not in status["progress"]
    assert "copied from" in status["message"] and "step 9" in status["message"]
    assert store.get(example).status()["status"] == "finished"  # the example itself is untouched


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="unknown status"):
        RunRecord("r", {}).set_status("exploded")


def test_a_copy_of_the_shipped_example_owns_its_checkpoint_and_deletes_it_in_turn(tmp_path):
    """The shipped example's index was written without the checkpoints' times; a CheckpointManager opened
    on a copy would then neither list ckpt-913 nor ever delete it (5 MB left in every copy trained on)."""
    import shutil

    import tensorflow as tf

    from core.paths import EXAMPLE_ID, EXAMPLES

    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES / EXAMPLE_ID, examples / EXAMPLE_ID)
    store = RunStore(tmp_path / "runs", examples=examples)
    copy = store.copy(store.get(EXAMPLE_ID), owner="me", more_epochs=1)
    (shipped,) = [p.name for p in copy.checkpoint_dir.glob("ckpt-*.index")]  # ckpt-913.index
    variable = tf.Variable(0.0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=variable), str(copy.checkpoint_dir), 2)
    assert [p.rsplit("/", 1)[-1] + ".index" for p in manager.checkpoints] == [shipped]
    for step in (914, 915):
        manager.save(checkpoint_number=step)
    assert [p.name for p in sorted(copy.checkpoint_dir.glob("ckpt-*.index"))] == [
        "ckpt-914.index",
        "ckpt-915.index",
    ]


def test_the_example_the_app_opens_on_is_listed_first_then_the_code_example(tmp_path):
    from core.paths import EXAMPLE_ID, EXAMPLES

    listed = [r.run_id for r in RunStore(tmp_path, examples=EXAMPLES).list()]
    assert listed == [EXAMPLE_ID, "example-code"]  # "example-code" sorts first by name, yet comes second
