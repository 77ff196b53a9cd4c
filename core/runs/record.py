"""A run's thread-safe, append-only record: what the trainer reports and every view reads.

Every change is an event (a plain dict), applied under one lock. The trainer's record hands each event
to its listeners, so a copy of the record in another thread or process (the app's, fed from a
worker's queue) stays identical by applying the same events in the same order.
"""

import copy
import dataclasses
import math
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """Where a run is in its life. A str, so status.json and events hold the plain words."""

    CREATED = "created"
    BUILDING = "building"  # tracing the train step
    TRAINING = "training"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    FAILED = "failed"


FINAL = (Status.FINISHED, Status.STOPPED, Status.DIVERGED, Status.FAILED)


@dataclass
class RunSnapshot:
    """A consistent copy of a record at one moment; safe to read without the lock."""

    run_id: str
    config: dict
    status: Status = Status.CREATED
    message: str = ""  # why it stopped, diverged or failed, in words a person can read
    error: str = ""  # the technical detail behind a failure, for logs
    metrics: list = field(default_factory=list)  # dicts: step, epoch, train_loss, time, ...
    evals: list = field(default_factory=list)  # dicts: step, epoch, val_loss, val_bits, time
    epochs: list = field(default_factory=list)  # dicts: epoch, train_loss, val_loss, time
    samples: list = field(default_factory=list)  # dicts: step, text
    timings: dict = field(default_factory=dict)  # trace_s, first_call_s, ...
    progress: dict = field(default_factory=dict)  # step, total_steps, epoch, chars_per_s, elapsed_s, eta_s
    probe: dict = field(default_factory=dict)  # impl=auto's choice and figures (core.training.probe.Probe)
    log: list = field(default_factory=list)  # human-readable lines, as the CLI prints them

    @property
    def done(self) -> bool:
        return self.status in FINAL

    @property
    def last_train_loss(self):
        return self.metrics[-1]["train_loss"] if self.metrics else None

    @property
    def last_val_loss(self):
        return self.evals[-1]["val_loss"] if self.evals else None

    @property
    def best_eval(self) -> dict | None:
        """The validation row with the lowest finite loss (its step, and wall_s: seconds after Start)."""
        finite = [e for e in self.evals if math.isfinite(e["val_loss"])]
        return min(finite, key=lambda e: e["val_loss"]) if finite else None


class RunRecord:
    """Lock-guarded RunSnapshot plus listeners that receive every event after it is applied."""

    def __init__(self, run_id: str, config: dict):
        self._lock = threading.Lock()
        self._data = RunSnapshot(run_id, config)
        self._listeners = []

    def subscribe(self, listener) -> None:
        """listener(event: dict) is called, outside the lock, after every event."""
        self._listeners.append(listener)

    def apply(self, event: dict) -> None:
        """Apply one event: {"kind": metric|eval|epoch|sample|timing|progress|status|log|rewind, ...}."""
        with self._lock:
            _APPLY[event["kind"]](self._data, event)
        for listener in self._listeners:
            listener(event)

    def snapshot(self) -> RunSnapshot:
        """Rows are never changed once appended, so copying the lists (not every row) is enough."""
        with self._lock:
            d = self._data
            return dataclasses.replace(
                d,
                config=copy.deepcopy(d.config),
                metrics=list(d.metrics),
                evals=list(d.evals),
                epochs=list(d.epochs),
                samples=list(d.samples),
                timings=dict(d.timings),
                progress=dict(d.progress),
                probe=copy.deepcopy(d.probe),
                log=list(d.log),
            )

    def last_step(self) -> int:
        """The step of the last metric row (0 if none)."""
        with self._lock:
            return self._data.metrics[-1]["step"] if self._data.metrics else 0

    @property
    def status(self) -> str:
        with self._lock:
            return self._data.status

    # Small helpers so callers read as sentences.
    def metric(self, **row):
        self.apply({"kind": "metric", "time": time.time(), **row})

    def eval(self, **row):
        self.apply({"kind": "eval", "time": time.time(), **row})

    def epoch(self, **row):
        self.apply({"kind": "epoch", "time": time.time(), **row})

    def sample(self, step: int, text: str):
        self.apply({"kind": "sample", "step": step, "text": text, "time": time.time()})

    def timing(self, **seconds):
        self.apply({"kind": "timing", **seconds})

    def progress(self, **values):
        self.apply({"kind": "progress", **values})

    def probe(self, **figures):
        """What impl=auto measured and chose (replaces an earlier session's)."""
        self.apply({"kind": "probe", **figures})

    def set_status(self, status: Status, message: str = "", error: str = ""):
        self.apply(
            {"kind": "status", "status": status, "message": message, "error": error, "time": time.time()}
        )

    def log(self, line: str):
        self.apply({"kind": "log", "line": line})

    def rewind(self, step: int):
        """Forget rows after `step`: a resumed run restarts from its checkpoint, which may be older than
        the last rows its worker wrote before it was ended."""
        self.apply({"kind": "rewind", "step": step})


def _row(event: dict) -> dict:
    return {k: v for k, v in event.items() if k != "kind"}


def _status(data: RunSnapshot, event: dict) -> None:
    try:
        status = Status(event["status"])
    except ValueError:
        raise ValueError(f"unknown status {event['status']!r}") from None
    data.status, data.message, data.error = status, event.get("message", ""), event.get("error", "")


REWOUND = ("metrics", "evals", "epochs", "samples")


def _rewind(data: RunSnapshot, event: dict) -> None:
    for name in event.get("rows", REWOUND):  # a run folder stores the rows in two files: each its part
        rows = getattr(data, name)
        rows[:] = [r for r in rows if r.get("step", 0) <= event["step"]]


_APPLY = {
    "rewind": _rewind,
    "metric": lambda d, e: d.metrics.append(_row(e)),
    "eval": lambda d, e: d.evals.append(_row(e)),
    "epoch": lambda d, e: d.epochs.append(_row(e)),
    "sample": lambda d, e: d.samples.append(_row(e)),
    "timing": lambda d, e: d.timings.update(_row(e)),
    "progress": lambda d, e: d.progress.update(_row(e)),
    "probe": lambda d, e: setattr(d, "probe", _row(e)),
    "log": lambda d, e: d.log.append(e["line"]),
    "status": _status,
}
