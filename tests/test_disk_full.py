"""A disk that fills up while a run trains: the run ends "failed" saying so, with its last checkpoint intact
and no temporary files left, and the listeners after the folder's writer (the app) hear every event.

Needs a small tmpfs of its own, which only a user allowed to mount can make (root in CI's container)."""

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from core.runs.store import RunStore
from tests.tiny import tiny_config, write_corpus


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs, unmounted afterwards."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        reason = f"cannot mount a tmpfs here ({made.stderr.decode().strip() or made.returncode})"
        print(reason)
        pytest.skip(reason)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_ends_the_run_failed_with_its_checkpoint_intact(tmp_path, small_disk):
    from core.runs.checkpoints import load_model
    from core.runs.record import RunRecord
    from core.training.launch import make_trainer

    config = tiny_config(write_corpus(tmp_path), max_steps=0, epochs=100_000, checkpoint_every=5, eval_every=0,
                         sample_every=0)  # fmt: skip
    store = RunStore(small_disk / "runs", examples=None)
    from core.data.corpus import load_corpus

    run_dir = store.create(config, load_corpus(config.corpus).vocab)
    heard = []
    record = RunRecord(run_dir.run_id, {})
    record.subscribe(run_dir.writer())
    record.subscribe(heard.append)  # as the app's events pipe follows the folder's writer
    # Fill the disk so that a few checkpoints fit (each is tens of KB) and then the metrics do not.
    filler = small_disk / "filler"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(b"\0" * max(0, free - 400_000))
    snap = make_trainer(run_dir, record, resume=False).run()
    assert snap.status == "failed" and "is full" in snap.message
    kept = run_dir.latest_checkpoint()
    assert (f"its last checkpoint (step {int(kept.rsplit('-', 1)[1]):,}) is kept" if kept else
            "no checkpoint had been written yet") in snap.message  # fmt: skip
    assert heard[-1]["kind"] == "status" and heard[-1]["status"] == "failed"  # the app hears it
    assert not [p for p in run_dir.path.rglob("*") if p.name.endswith(".tmp") or "_temp" in p.name]
    filler.unlink()  # room again: what is on disk must be whole
    if run_dir.has_checkpoint():
        model, _, step = load_model(run_dir)
        assert step % 5 == 0 and step > 0
    rows = [line for line in (run_dir.path / "metrics.jsonl").read_text().split("\n") if line]
    assert all(row.startswith("{") and row.endswith("}") for row in rows)
    assert Path(run_dir.path / "status.json").exists()


def test_a_first_checkpoint_the_disk_refuses_is_not_called_kept(tmp_path, monkeypatch):
    """Where no mount is allowed too: the save itself refused, as TensorFlow refuses it on a full disk."""
    from core.errors import DiskFull
    from core.runs.checkpoints import RunCheckpoint
    from tests.tiny import train

    def refused(self, number):
        raise DiskFull(
            f"the disk holding {self.manager.directory} is full: checkpoint {number} could not be written"
        )

    monkeypatch.setattr(RunCheckpoint, "save", refused)
    config = tiny_config(write_corpus(tmp_path), max_steps=12, checkpoint_every=5)
    trainer = train(RunStore(tmp_path / "runs", examples=None), config)
    snap = trainer.record.snapshot()
    assert snap.status == "failed" and "checkpoint 5 could not be written" in snap.message
    assert "no checkpoint had been written yet, so there is nothing to resume from" in snap.message
    assert "kept" not in snap.message
