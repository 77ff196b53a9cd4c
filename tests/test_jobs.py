"""Jobs train in worker processes: events reach the app's record, stop is quick, the cap holds, crashes show."""

import dataclasses
import os
import signal
import time
from pathlib import Path

import pytest

from core.config import ModelConfig, RunConfig, TrainConfig
from core.data.corpus import make_corpus
from core.runs import checkpoints
from core.runs.record import FINAL
from core.runs.store import RunStore
from core.training.jobs import JobError, JobLimit, JobManager
from tests.tiny import train

TEXT = (Path(__file__).resolve().parents[1] / "assets" / "tinyshakespeare.txt").read_text(encoding="utf-8")[
    :20_000
]
FOREVER = dict(epochs=10_000, eval_every=0, sample_every=0, checkpoint_every=2)  # trains until stopped


@pytest.fixture
def store(tmp_path):
    (tmp_path / "tiny.txt").write_text(TEXT, encoding="utf-8")
    return RunStore(tmp_path / "runs")


@pytest.fixture
def manager():
    jobs = JobManager(max_jobs=2, prestart=False)
    yield jobs
    jobs.shutdown()


def make_run(store, impl="dynamic", num_steps=20, **train):
    """A run folder for a tiny GRU on the first 20k characters of Shakespeare."""
    settings = dict(batch_size=8, num_steps=num_steps, eval_batches=2, sample_length=20, **train)
    config = RunConfig(
        model=ModelConfig(cell="gru", impl=impl, state_size=16),
        train=TrainConfig(**settings),
        corpus=str(store.root.parent / "tiny.txt"),
    )
    return store.create(config, make_corpus(TEXT, config.train.val_fraction).vocab, owner="tests")


def wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def step_of(job) -> int:
    return job.snapshot().progress.step


def test_a_job_trains_to_finished_and_its_events_reach_the_app(store, manager):
    run = make_run(store, max_steps=6, eval_every=3, sample_every=3)
    job = manager.start(run)
    assert manager.get(run.run_id) is job  # what a reloaded page re-attaches to
    assert job.wait(90), "the job did not end"
    snap = job.snapshot()
    assert snap.status == "finished", snap.message
    assert [m.step for m in snap.metrics] == [1, 2, 3, 4, 5, 6]
    assert [e.step for e in snap.evals] == [3, 6]
    assert [s.step for s in snap.samples] == [0, 3, 6]  # 0: what the untrained network writes
    assert snap.timings.trace_s > 0 and snap.timings.first_call_s > 0
    # The worker wrote the run folder; the app's copy holds the same events.
    on_disk = run.load_record().snapshot()
    assert on_disk.metrics == snap.metrics and on_disk.status == "finished"
    assert run.has_checkpoint()
    assert job.worker.process.exitcode == 0
    assert not any("thread" in line for line in snap.log)  # dynamic keeps TensorFlow's threads


def test_a_fused_run_sets_one_thread_per_op_in_its_worker(store, manager):
    job = manager.start(make_run(store, impl="fused", max_steps=2, eval_every=0, sample_every=0))
    assert job.wait(90), "the job did not end"
    snap = job.snapshot()
    assert snap.status == "finished", snap.message
    assert any(
        line.endswith("TensorFlow ops run on 1 thread each, as fused trains fastest so") for line in snap.log
    )


def test_stop_during_training_takes_effect_within_a_second(store, manager):
    run = make_run(store, **FOREVER)
    job = manager.start(run)
    assert wait_for(lambda: step_of(job) >= 3, 90), job.snapshot().message
    t0 = time.monotonic()
    job.stop()
    assert wait_for(lambda: job.record.status in FINAL, 1.0), f"still {job.record.status} after 1 s"
    assert time.monotonic() - t0 < 1.0
    assert job.record.status == "stopped"
    assert job.wait(5) and not job.worker.process.is_alive()
    assert run.status()["status"] == "stopped"
    assert run.has_checkpoint()  # checkpoints every 2 steps; the last one is kept
    # A stop during training is graceful: the worker saved at the step it stopped on and exited by itself.
    assert "can be resumed" in job.snapshot().message and job.worker.process.exitcode == 0


def test_stop_during_a_long_graph_build_ends_the_worker_within_a_second(store, manager):
    run = make_run(store, impl="static", num_steps=100, **FOREVER)  # tracing takes ~3 s here
    job = manager.start(run)
    assert wait_for(lambda: job.record.status == "building", 90)
    time.sleep(1.0)  # past model set-up, inside the trace: the trainer cannot look at the stop event now
    assert job.snapshot().timings.trace_s is None, (
        "the trace finished too soon for this test to mean anything"
    )
    t0 = time.monotonic()
    job.stop()
    assert wait_for(lambda: job.record.status in FINAL, 1.0), f"still {job.record.status} after 1 s"
    assert time.monotonic() - t0 < 1.0
    snap = job.snapshot()
    assert snap.status == "stopped" and "building the graph" in snap.message
    assert job.wait(5)
    assert job.worker.process.exitcode == -signal.SIGTERM  # ended by the supervisor, not on its own
    assert run.status()["status"] == "stopped"


def test_the_cap_refuses_a_third_job_with_a_clear_message(store, manager):
    first, second = manager.start(make_run(store, **FOREVER)), manager.start(make_run(store, **FOREVER))
    third = make_run(store, **FOREVER)
    with pytest.raises(JobLimit, match="2 runs are already training"):
        manager.start(third)
    assert manager.get(third.run_id) is None
    with pytest.raises(JobError, match="already training"):
        manager.start(first.run_dir)
    first.stop()
    assert first.wait(5)
    job = manager.start(third)  # a slot is free again
    assert job.active
    assert {j.run_id for j in manager.active()} == {second.run_id, third.run_id}


def test_a_killed_worker_marks_the_run_failed(store, manager):
    run = make_run(store, **FOREVER)
    job = manager.start(run)
    assert wait_for(lambda: step_of(job) >= 1, 90), job.snapshot().message
    os.kill(job.pid, signal.SIGKILL)
    assert job.wait(5)
    snap = job.snapshot()
    assert snap.status == "failed"
    assert "ended unexpectedly" in snap.message and "SIGKILL" in snap.message
    assert run.status()["status"] == "failed"


def test_a_bad_corpus_fails_the_run_with_its_reason(store, manager):
    run = make_run(store, max_steps=2)
    (store.root.parent / "tiny.txt").write_bytes(b"")
    job = manager.start(run)
    assert job.wait(90)
    snap = job.snapshot()
    assert snap.status == "failed" and "could not start training" in snap.message and "empty" in snap.message


def test_a_manager_keeps_a_spare_worker_only_once_warmed_and_not_after_shutdown():
    # The app makes its manager before the first page and warms it after (explorer/common/loading.py).
    jobs = JobManager(max_jobs=1, prestart=False)
    try:
        assert jobs.spare_pid is None
        jobs.warm()
        assert jobs.spare_pid is not None
    finally:
        jobs.shutdown()
    assert jobs.spare_pid is None
    jobs.warm()
    assert jobs.spare_pid is None


def test_a_prestarted_worker_takes_the_next_run_and_is_replaced(store):
    jobs = JobManager(max_jobs=1, prestart=True)
    try:
        spare = jobs.spare_pid
        assert spare is not None
        job = jobs.start(make_run(store, max_steps=2))
        assert job.pid == spare
        assert job.wait(90) and job.snapshot().status == "finished"
        assert jobs.spare_pid not in (None, spare)
    finally:
        jobs.shutdown()


def test_a_paused_worker_whose_app_dies_saves_its_checkpoint_and_exits(store):
    """The server dies (SIGKILL) while its run is paused: the worker notices within seconds, keeps a
    checkpoint and exits, instead of living on as an orphan."""
    import subprocess
    import sys

    run_dir = make_run(store, **FOREVER)
    root = Path(__file__).resolve().parents[1]
    app = subprocess.Popen(
        [sys.executable, str(root / "tests" / "orphan_app.py"), str(run_dir.path)],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        worker = int(app.stdout.readline())
        assert wait_for(lambda: run_dir.status()["status"] == "paused", 30)
        app.kill()
        app.wait(10)

        def gone() -> bool:  # exited: no such process, or a zombie nobody has reaped yet
            try:
                return Path(f"/proc/{worker}/stat").read_text().split(") ")[1][0] in "ZX"
            except (FileNotFoundError, ProcessLookupError):
                return True

        assert wait_for(gone, 15), "the worker outlived its app"
        status = run_dir.status()
        assert status["status"] == "stopped", status
        assert run_dir.has_checkpoint() and checkpoints.resume_problem(run_dir) is None
    finally:
        app.kill()


def test_a_mirrored_run_trains_in_its_worker_process(store, manager):
    """The app's worker is a fresh process, so it can make the logical CPU devices MirroredStrategy needs;
    its losses are the single device's (the same run with strategy none, trained here)."""
    run = make_run(store, max_steps=4, eval_every=2, strategy="mirrored", replicas=2)
    job = manager.start(run)
    assert job.wait(120), "the job did not end"
    mirrored = job.snapshot()
    assert mirrored.status == "finished", mirrored.message
    assert any("MirroredStrategy: 2 replicas" in line for line in mirrored.log), mirrored.log
    assert run.has_checkpoint()
    config = run.config()
    single = dataclasses.replace(config, train=dataclasses.replace(config.train, strategy="none", replicas=1))
    trained = train(RunStore(store.root.parent / "single"), single).record.snapshot()
    assert [m.train_loss for m in mirrored.metrics] == pytest.approx(
        [m.train_loss for m in trained.metrics], rel=1e-5
    )
