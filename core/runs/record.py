"""A run's thread-safe, append-only record: what the trainer reports and every view reads.

Every change is an event (a plain dict, JSON's: what the run's files and the worker's pipe carry),
applied under one lock. The trainer's record hands each event to its listeners, so a copy of the record in
another thread or process (the app's, fed from a worker's queue) stays identical by applying the same
events in the same order. Applied, an event's row becomes its typed row (core/runs/rows.py): a snapshot
holds MetricRow, EvalRow, ... and every reader reads their fields by name.
"""

import copy
import dataclasses
import math
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum

from core.config import RunConfig
from core.runs.rows import EpochRow, EvalRow, MetricRow, Probe, Progress, SampleRow, Sized, Timings, fields_of


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
    metrics: list[MetricRow] = field(default_factory=list)  # one a train step
    evals: list[EvalRow] = field(default_factory=list)  # one a validation loss
    epochs: list[EpochRow] = field(default_factory=list)  # one an epoch's end
    samples: list[SampleRow] = field(default_factory=list)  # the live samples
    timings: Timings = Timings()  # the graph build's seconds
    progress: Progress = Progress()  # where the run stands
    probe: Probe | None = None  # impl=auto's choice and figures (None: no probe ran)
    sized: Sized | None = None  # size_by_speed's choice and figures (None: not sized)
    log: list = field(default_factory=list)  # human-readable lines, as the CLI prints them

    @property
    def done(self) -> bool:
        return self.status in FINAL

    @property
    def last_train_loss(self):
        return self.metrics[-1].train_loss if self.metrics else None

    @property
    def last_val_loss(self):
        return self.evals[-1].val_loss if self.evals else None

    @property
    def best_eval(self) -> EvalRow | None:
        """The validation row with the lowest finite loss (its step, and wall_s: seconds after Start)."""
        finite = [e for e in self.evals if math.isfinite(e.val_loss)]
        return min(finite, key=lambda e: e.val_loss) if finite else None


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
        """Rows are frozen, so copying the lists (not every row) is enough."""
        with self._lock:
            d = self._data
            return dataclasses.replace(
                d,
                config=copy.deepcopy(d.config),
                metrics=list(d.metrics),
                evals=list(d.evals),
                epochs=list(d.epochs),
                samples=list(d.samples),
                log=list(d.log),
            )

    def last_step(self) -> int:
        """The step of the last metric row (0 if none)."""
        with self._lock:
            return self._data.metrics[-1].step if self._data.metrics else 0

    @property
    def status(self) -> str:
        with self._lock:
            return self._data.status

    # Small helpers so callers read as sentences; each row becomes its event here (JSON's edge).
    def metric(self, row: MetricRow):
        self.apply({"kind": "metric", "time": time.time(), **row.to_json()})

    def eval(self, row: EvalRow):
        self.apply({"kind": "eval", "time": time.time(), **row.to_json()})

    def epoch(self, row: EpochRow):
        self.apply({"kind": "epoch", "time": time.time(), **row.to_json()})

    def sample(self, step: int, text: str):
        self.apply({"kind": "sample", **SampleRow(step=step, text=text, time=time.time()).to_json()})

    def timing(self, **seconds):
        """Some of Timings' fields (trace_s=..., first_call_s=...)."""
        self.apply({"kind": "timing", **seconds})

    def progress(self, **values):
        """Some of Progress's fields: each step's, or the few a finishing run changes."""
        self.apply({"kind": "progress", **values})

    def probe(self, probe: Probe):
        """What impl=auto measured and chose (replaces an earlier session's)."""
        self.apply({"kind": "probe", **probe.to_json()})

    def sized(self, sized: Sized, config: dict | None = None):
        """What size_by_speed measured and chose, and the run's config with the chosen model (None: the
        record's config has it already, as a record rebuilt from the run's files has)."""
        self.apply({"kind": "sized", **sized.to_json(), **({"config": config} if config else {})})

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


def _status(data: RunSnapshot, event: dict) -> None:
    try:
        status = Status(event["status"])
    except ValueError:
        raise ValueError(f"unknown status {event['status']!r}") from None
    data.status, data.message, data.error = status, event.get("message", ""), event.get("error", "")


def _sized(data: RunSnapshot, event: dict) -> None:
    values = fields_of(event)
    config = values.pop("config", None)
    data.sized = Sized.from_json(values)
    if config is not None:  # checked as any run's settings are (ConfigError, a ValueError)
        data.config = {**RunConfig.from_dict(config).to_dict(), "meta": data.config.get("meta", {})}


REWOUND = ("metrics", "evals", "epochs", "samples")


def _rewind(data: RunSnapshot, event: dict) -> None:
    for name in event.get("rows", REWOUND):  # a run folder stores the rows in two files: each its part
        rows = getattr(data, name)
        rows[:] = [r for r in rows if r.step is None or r.step <= event["step"]]  # an old epoch row: none


# Each kind's row is checked as it is applied (rows.RowError, a ValueError, for one that is not whole).
_APPLY = {
    "rewind": _rewind,
    "metric": lambda d, e: d.metrics.append(MetricRow.from_json(fields_of(e))),
    "eval": lambda d, e: d.evals.append(EvalRow.from_json(fields_of(e))),
    "epoch": lambda d, e: d.epochs.append(EpochRow.from_json(fields_of(e))),
    "sample": lambda d, e: d.samples.append(SampleRow.from_json(fields_of(e))),
    "timing": lambda d, e: setattr(d, "timings", d.timings.updated(fields_of(e))),
    "progress": lambda d, e: setattr(d, "progress", d.progress.updated(fields_of(e))),
    "probe": lambda d, e: setattr(d, "probe", Probe.from_json(fields_of(e))),
    "sized": _sized,
    "log": lambda d, e: d.log.append(e["line"]),
    "status": _status,
}
