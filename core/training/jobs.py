"""Training jobs: each run trains in its own worker process; a supervising thread streams its events home.

    app process                                    worker process (spawned)
    JobManager.start(run_dir) -> Job               worker_main: import TensorFlow, wait for a run
      Job._supervise (thread)  <-- events pipe --    Trainer(...).run(stop, pause), its record feeding
        applies each event to Job.record                the run folder's writer and the events pipe
      Job.stop() / pause()     -- mp.Events -->

The worker writes the run folder itself; the app's copy of the record is for the page to read. A stop
during the graph build (which cannot be interrupted: a static graph can take many seconds to trace)
ends the process; during training the worker stops after its step and saves a checkpoint first. A
worker that dies on its own is marked failed. Either way the last checkpoint on disk is kept.

Workers are core.child.Child processes, spawned: a script that starts jobs needs the usual
`if __name__ == "__main__":` guard (explorer/app.py has one).
"""

import multiprocessing
import os
import signal
import threading
import time
import traceback
from enum import Enum
from pathlib import Path

from core.child import Child
from core.errors import Refusal
from core.runs.record import FINAL, Status
from core.runs.store import RunDir
from core.training.launch import make_trainer, open_record, record_for

STOP_GRACE_S = (
    0.1  # after a stop during the graph build (no step to lose), how long before the process is ended
)
# After a stop during training, the worker finishes its step and saves a checkpoint, usually well within a
# second; only a worker that has not managed it by then (a huge step, a loaded machine) is ended.
STOP_GRACE_TRAINING_S = 10.0
EXIT_GRACE_S = 3.0  # after its final status, how long the worker may take to exit on its own
POLL_S = 0.05  # how often the supervisor looks at a quiet worker
PARENT_POLL_S = 1.0  # how often a worker checks that the app that started it is still there


class JobError(Refusal):
    """A job that cannot start; the message says why."""


class JobLimit(JobError):
    """Too many runs are training at once."""


# ---- the worker process ------------------------------------------------------------------------------
def worker_main(tasks, events, stop, pause) -> None:
    """Entry point of a worker process: import TensorFlow now, then train the one run it is sent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the app's terminal is the app's to handle
    import core.training.trainer  # noqa: F401  the slow import (TensorFlow), done before any run is waiting

    try:
        run_path, resume, started = tasks.recv()
    except EOFError:  # the app went away before giving this worker a run
        return
    threading.Thread(target=watch_parent, args=(stop,), name="parent-watch", daemon=True).start()
    train_run(RunDir(Path(run_path)), resume, Sender(events, stop), stop, pause, started)
    events.close()


def watch_parent(stop) -> None:
    """Once the app that started this worker is gone, stop training (paused or not: the trainer saves a
    checkpoint and ends); a worker that cannot stop in time (building its graph) ends itself."""
    parent = multiprocessing.parent_process()
    while parent is not None and parent.is_alive():
        time.sleep(PARENT_POLL_S)
    stop.set()
    time.sleep(STOP_GRACE_TRAINING_S)
    os._exit(1)


class Sender:
    """A record listener that forwards events to the app; if the app is gone, training stops."""

    def __init__(self, conn, stop):
        self.conn, self.stop = conn, stop

    def __call__(self, event: dict) -> None:
        try:
            self.conn.send(event)
        except (BrokenPipeError, OSError):
            self.stop.set()  # nobody is watching: stop cleanly, checkpoint kept


def train_run(run_dir: RunDir, resume: bool, send, stop, pause, started: float | None = None) -> None:
    """Train one run folder, persisting every event into it and passing each to `send`."""
    record = open_record(run_dir, resume, send)
    try:
        trainer = make_trainer(run_dir, record, resume, started=started)
    except Exception as err:  # a bad corpus or setting: reported like any failure, never lost
        record.set_status(Status.FAILED, f"could not start training: {err}", traceback.format_exc())
        return
    trainer.run(stop, pause)


class Worker(Child):
    """A training worker process: it imports TensorFlow at once, then waits for the run it is to train."""

    def __init__(self):
        super().__init__(worker_main, flags=("stop", "pause"), name="rnn-explorer-worker")
        self.stop, self.pause = self.flags["stop"], self.flags["pause"]

    def assign(self, run_dir: RunDir, resume: bool) -> None:
        self.send((str(run_dir.path), resume, time.time()))  # the moment Start was pressed


# ---- the app side ------------------------------------------------------------------------------------
class Ending(Enum):
    """How a job's stream of events ended (Job._stream), beside the trainer's own Outcome: the worker
    reported its final status, it died without one, or it did not stop in time."""

    FINAL = "the worker's final status arrived"
    DIED = "the worker's pipe closed before its final status"
    OVERDUE = "a stop was asked for and the worker had not ended in its grace time"


class Job:
    """One run training in a worker process, mirrored into `record` by a supervising thread."""

    def __init__(
        self, run_dir: RunDir, worker: Worker, resume=False, on_training=None, on_end=None, owner: str = ""
    ):
        self.run_dir, self.run_id, self.resume = run_dir, run_dir.run_id, resume
        self.record = record_for(run_dir, resume)  # a mirror: the worker's own record writes the folder
        self.worker, self.on_training, self.on_end = worker, on_training, on_end
        self.stop_requested_at = None  # time.monotonic() of the first stop()
        self.owner = owner  # the session that started it (JobManager's cap per session)
        self.started_at = None  # time.monotonic() at start()
        self.thread = threading.Thread(target=self._supervise, name=f"job-{self.run_id}", daemon=True)

    def start(self) -> "Job":
        self.started_at = time.monotonic()  # for the page's "building for N s" while nothing is recorded yet
        self.worker.assign(self.run_dir, self.resume)
        self.thread.start()
        return self

    # ---- controls (any thread) ---------------------------------------------------------------------
    def stop(self) -> None:
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        self.worker.stop.set()

    def pause(self) -> None:
        self.worker.pause.set()

    def resume_training(self) -> None:
        self.worker.pause.clear()

    @property
    def pause_requested(self) -> bool:
        return self.worker.pause.is_set()

    @property
    def stopping(self) -> bool:
        return self.stop_requested_at is not None

    @property
    def active(self) -> bool:
        """True until the worker process is gone and the record has its final status."""
        return self.thread.is_alive()

    @property
    def pid(self) -> int | None:
        return self.worker.pid

    def snapshot(self):
        return self.record.snapshot()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended; True if it has."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    # ---- supervision (its own thread; never calls into a UI) -----------------------------------------
    def _supervise(self) -> None:
        try:
            outcome = self._stream()
            self._settle(outcome)
        except Exception as err:  # the supervisor must never die silently and leave a run 'training'
            self.worker.end()
            self._conclude(
                Status.FAILED, f"lost track of the training process: {err}", traceback.format_exc()
            )
        finally:
            self.worker.close()
            if self.on_end:
                self.on_end(self)

    def _stream(self) -> Ending:
        """Apply the worker's events until its final status, its death or a late stop."""
        while True:
            if self._stop_overdue():
                return Ending.OVERDUE
            if not self.worker.poll(POLL_S):
                continue
            try:
                event = self.worker.recv()
            except (EOFError, OSError):
                return Ending.DIED
            self.record.apply(event)
            if event["kind"] == "status" and event["status"] == Status.TRAINING and self.on_training:
                self.on_training(self)
            if self.record.status in FINAL:
                return Ending.FINAL

    def _stop_overdue(self) -> bool:
        if not self.stopping:
            return False
        grace = (
            STOP_GRACE_TRAINING_S if self.record.status in (Status.TRAINING, Status.PAUSED) else STOP_GRACE_S
        )
        return time.monotonic() - self.stop_requested_at > grace

    def _settle(self, outcome: Ending) -> None:
        if outcome is Ending.FINAL:
            self.worker.join(EXIT_GRACE_S)
            self.worker.end()
        elif outcome is Ending.OVERDUE:
            self.worker.end()
            step = self.record.snapshot().progress.step
            where = f"at step {step}" if step else "before its first step (while building the graph)"
            self._conclude(Status.STOPPED, f"stopped {where}; {self._kept()}")
        else:
            self.worker.join(1.0)
            if self.stopping:
                self._conclude(Status.STOPPED, f"stopped; {self._kept()}")
            else:
                self._conclude(
                    Status.FAILED,
                    f"the training process ended unexpectedly ({self.worker.exit_reason()}); {self._kept()}",
                )

    def _kept(self) -> str:
        try:
            return self.run_dir.what_is_kept()
        except OSError:  # the folder was deleted meanwhile
            return "its folder is gone"

    def _conclude(self, status: Status, message: str, error: str = "") -> None:
        """A final status the worker could not give: written to the run folder, then to the record."""
        event = {"kind": "status", "status": status, "message": message, "error": error, "time": time.time()}
        try:
            self.run_dir.writer()(event)
        except OSError:  # the folder was deleted meanwhile: the record still tells the page
            pass
        self.record.apply(event)


class JobManager:
    """The process-wide registry of jobs (job id = run id), with a cap on how many train at once."""

    def __init__(self, max_jobs: int = 2, prestart: bool = True, keep_ended: int = 4):
        self.max_jobs, self.prestart, self.keep_ended = max_jobs, prestart, keep_ended
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._idle: Worker | None = None
        self._shut = False
        self._replenish()

    def start(self, run_dir: RunDir, resume: bool = False, owner: str = "", per_owner: int = 0) -> Job:
        """Train `run_dir` in a worker; JobLimit if max_jobs are already training (or `per_owner` of
        `owner`'s: 0, no such cap), JobError if this one is."""
        with self._lock:
            old = self._jobs.get(run_dir.run_id)
            if old is not None and old.active:
                raise JobError(f"run {run_dir.run_id} is already training")
            self._check_room(owner, per_owner)
            job = Job(run_dir, self._take_worker(), resume, self._training, self._ended, owner)
            try:
                job.start()
            except OSError as err:  # the worker died before it got the run
                job.worker.end()
                job.worker.close()
                raise JobError(f"could not hand the run to a training process: {err}") from None
            self._jobs[run_dir.run_id] = job
        return job

    def check_room(self, owner: str = "", per_owner: int = 0) -> None:
        """JobLimit if max_jobs runs are training already, or per_owner of `owner`'s (start() checks
        again: this is a courtesy)."""
        with self._lock:
            self._check_room(owner, per_owner)

    def _check_room(self, owner: str, per_owner: int) -> None:
        mine = sum(job.owner == owner for job in self._active())
        if per_owner and mine >= per_owner:
            raise JobLimit(
                f"this session is training {mine} run{'s' if mine > 1 else ''} already, the most one "
                "session may on a machine others share: stop it or wait for it to finish, then start again"
            )
        active = len(self._active())
        if active >= self.max_jobs:
            raise JobLimit(
                f"{active} runs are already training on this machine, the most it runs at once; "
                "stop one or wait for one to finish, then start again"
            )

    def warm(self) -> None:
        """From now on, keep a spare worker (one that has imported TensorFlow) for the next run, unless
        shut down. The app calls it a moment after its first page: a worker's import beside that page
        would slow it."""
        with self._lock:
            self.prestart = not self._shut
            self._replenish()

    def get(self, run_id: str) -> Job | None:
        """The job training (or lately trained) `run_id`, so a reloaded page can re-attach to it."""
        with self._lock:
            return self._jobs.get(run_id)

    def active(self) -> list[Job]:
        with self._lock:
            return self._active()

    @property
    def spare_pid(self) -> int | None:
        """The process id of the pre-started worker waiting for a run, if there is one."""
        with self._lock:
            return self._idle.pid if self._idle is not None else None

    def _active(self) -> list[Job]:
        return [job for job in self._jobs.values() if job.active]

    def _take_worker(self) -> Worker:
        """The pre-started worker if it is still alive, else a new one."""
        worker, self._idle = self._idle, None
        if worker is not None and worker.alive:
            return worker
        if worker is not None:
            worker.close()
        return Worker()

    def _training(self, job: Job) -> None:
        # The next spare starts once this job has built its graph and taken its first step, not at
        # Start: on 2 cores its TensorFlow import would slow the very start it is there to speed up.
        with self._lock:
            self._replenish()

    def _ended(self, job: Job) -> None:
        with self._lock:
            self._forget_old()
            self._replenish()  # in case this job never got to training

    def _replenish(self) -> None:
        if self.prestart and (self._idle is None or not self._idle.alive):
            self._idle = Worker()

    def _forget_old(self) -> None:
        """Ended jobs are on disk; only the last few stay in memory."""
        ended = [run_id for run_id, job in self._jobs.items() if not job.active]
        for run_id in ended[: -self.keep_ended or None]:
            del self._jobs[run_id]

    def shutdown(self) -> None:
        """Stop every job and the spare worker (tests and a clean exit)."""
        with self._lock:
            self.prestart, self._shut = False, True
        for job in self.active():
            job.stop()
        for job in self.active():
            job.wait(5.0)
        with self._lock:
            if self._idle is not None:
                self._idle.end()
                self._idle.close()
                self._idle = None
