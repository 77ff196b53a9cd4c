"""The Build-time lab's background work: one experiment, cell comparison or sweep at a time, measured in
a thread.

    Lab.start(...) -> Task          the thread: measure(on_result, cancel) -> rows, then save(rows)
      Task.view() -> TaskView       what the page reads: rows so far, which one runs, elapsed
      Lab.cancel()                  sets the task's cancel event; run_each ends the measuring process at once

Every measurement runs in a fresh process (core.measure.timing.run_each); the thread only waits on it, so
the lab never measures two things at once (they would share the CPU and colour each other's figures).
Nothing here touches Streamlit: the page keeps one Lab per app process and reads snapshots of it.
"""

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.catalogue import IMPL_CHOICES
from core.config import ConfigError
from core.errors import Refusal
from core.lab import results
from core.measure.experiment import Measurement, run_experiment
from core.measure.plan import BenchPlan, summarise, with_value
from core.measure.timing import run_each
from core.presets import PRESETS

log = logging.getLogger("rnn_explorer")
WARMUP = 1  # untimed steps between the first call and the timed ones
MAX_MEASUREMENTS = 30  # per sweep: each costs a fresh process (its TensorFlow import) and its build
MAX_VALUES = 8


class LabBusy(Refusal):
    """Another experiment, cell comparison or sweep is measuring."""


@dataclass(frozen=True)
class TaskView:
    """A consistent copy of a task at one moment; safe to read without its lock."""

    kind: str  # "experiment", "cells" or "sweep"
    owner: str  # the browser session that started it (only it may cancel)
    labels: tuple  # one per planned measurement, in order
    rows: tuple  # the finished measurements' rows
    status: str  # running, finished, cancelled, failed
    message: str
    started: float  # time.time() of the start
    row_started: float  # time.time() the current measurement began
    ended: float | None
    cancelling: bool
    saved: str  # the saved result's path ('' if none)

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def current_label(self) -> str:
        """The measurement in progress ('' when all are done)."""
        return self.labels[len(self.rows)] if len(self.rows) < len(self.labels) else ""

    def elapsed_s(self, now: float | None = None) -> float:
        return (self.ended or now or time.time()) - self.started

    def row_elapsed_s(self, now: float | None = None) -> float:
        return (now or time.time()) - self.row_started


@dataclass
class Task:
    """One experiment, cell comparison or sweep being measured; its thread writes, any thread reads a view()."""

    kind: str
    owner: str
    labels: list
    cancel: threading.Event = field(default_factory=threading.Event)
    rows: list = field(default_factory=list)
    status: str = "running"
    message: str = ""
    started: float = field(default_factory=time.time)
    row_started: float = 0.0
    ended: float | None = None
    saved: str = ""

    def __post_init__(self):
        self.row_started = self.started
        self.lock = threading.Lock()
        self.thread = None

    def view(self) -> TaskView:
        with self.lock:
            return TaskView(
                self.kind,
                self.owner,
                tuple(self.labels),
                tuple(self.rows),
                self.status,
                self.message,
                self.started,
                self.row_started,
                self.ended,
                self.cancel.is_set(),
                self.saved,
            )

    def add_row(self, index: int, row: dict) -> None:
        """on_result of the measuring loop; a row cut short by a cancel is no figure, so it is dropped."""
        if row.get("error") == "cancelled":
            return
        with self.lock:
            self.rows.append(row)
            self.row_started = time.time()

    def run(self, measure, save) -> None:
        """The thread: measure every row, then save them (a cancelled task is not saved)."""
        try:
            measure(self.add_row, self.cancel)
            if self.cancel.is_set():
                self.end(
                    "cancelled",
                    f"cancelled after {len(self.rows)} of {len(self.labels)} measurements; not saved",
                )
            else:
                path = save(list(self.rows))
                count = len(self.rows)
                self.end(
                    "finished",
                    f"{count} measurement{'s' if count != 1 else ''} in {self.view().elapsed_s():.0f} s",
                    str(path),
                )
        except Exception as err:  # the page must learn of it: a thread's exception is otherwise lost
            log.exception("the build-time %s failed", self.kind)
            self.end("failed", f"{type(err).__name__}: {err}")

    def end(self, status: str, message: str, saved: str = "") -> None:
        with self.lock:
            self.status, self.message, self.saved, self.ended = status, message, saved, time.time()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread has ended; True if it has."""
        self.thread.join(timeout)
        return not self.thread.is_alive()


class Lab:
    """The process-wide runner: at most one task measures at a time; the last one stays readable."""

    def __init__(self):
        self._lock = threading.Lock()
        self._task: Task | None = None

    def start(self, kind: str, owner: str, labels: list, measure, save) -> Task:
        """Start measuring in a thread; LabBusy (with who and how far) if a task is running."""
        with self._lock:
            if self._task is not None and self._task.view().running:
                raise LabBusy(busy_message(self._task.view(), owner))
            task = self._task = Task(kind, owner, list(labels))
        task.thread = threading.Thread(
            target=task.run, args=(measure, save), name=f"buildtime-{kind}", daemon=True
        )
        task.thread.start()
        return task

    def current(self) -> TaskView | None:
        """The running task, else the last one, else None."""
        with self._lock:
            task = self._task
        return task.view() if task is not None else None

    def task(self) -> Task | None:
        with self._lock:
            return self._task

    def cancel(self) -> None:
        task = self.task()
        if task is not None:
            task.cancel.set()


def busy_message(view: TaskView, owner: str = "") -> str:
    """Why a second task cannot start now, in words for the page."""
    what = {"experiment": "an experiment", "cells": "a cell comparison"}.get(view.kind, "a sweep")
    who = "you started" if view.owner == owner else "started in another browser session"
    return (
        f"{what} {who} is measuring ({len(view.rows) + 1} of {len(view.labels)}); the lab measures one "
        "thing at a time so that the timings stay fair: wait for it to finish or cancel it"
    )


# ---- the three kinds of task -------------------------------------------------------------------------
def start_experiment(lab: Lab, owner: str, plan: list[Measurement], epochs: int, folder: Path) -> Task:
    """The post's experiment (core.measure.experiment.post_plan), saved in its own JSON format at its end."""
    return _start_plan(
        lab, "experiment", owner, plan, lambda rows: results.save_experiment(rows, folder, epochs)
    )


def start_cells(lab: Lab, owner: str, plan: list[Measurement], short: bool, folder: Path) -> Task:
    """The post's cell comparison (core.measure.experiment.cells_plan), saved in its own JSON format at its
    end."""
    return _start_plan(lab, "cells", owner, plan, lambda rows: results.save_cells(rows, folder, short))


def _start_plan(lab: Lab, kind: str, owner: str, plan: list[Measurement], save) -> Task:
    """A plan of core.measure.experiment measurements as one lab task of `kind`, saved by `save(rows)`."""
    return lab.start(
        kind,
        owner,
        [m.label for m in plan],
        measure=lambda on_result, cancel: run_experiment(plan, on_result, cancel),
        save=save,
    )


def start_sweep(lab: Lab, owner: str, plan: BenchPlan, folder: Path) -> Task:
    """A benchmark plan's points, saved in the bench CLI's JSON format when it finishes."""
    points = plan.points()
    labels = [f"{p.impl} · " + ", ".join(f"{k}={v}" for k, v in p.swept.items()) for p in points]
    return lab.start(
        "sweep",
        owner,
        labels,
        measure=lambda on_result, cancel: measure_sweep(plan, points, on_result, cancel),
        save=lambda rows: results.save_sweep(rows, plan, folder),
    )


def measure_sweep(plan: BenchPlan, points: list, on_result, cancel) -> list[dict]:
    """Each point in a fresh process, summarised as the bench CLI does."""
    rows = []

    def add(i: int, result: dict) -> None:
        rows.append(summarise(points[i], [result]))
        on_result(i, rows[-1])

    run_each([plan.job(point) for point in points], add, cancel)
    return rows


def parse_values(text: str) -> list[int]:
    """'25, 50,100' -> [25, 50, 100]; ConfigError saying why if that cannot be read."""
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts or not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise ConfigError(
            f"sweep values must be whole numbers of at least 1 separated by commas, e.g. 25,50,100; "
            f"got {text!r}"
        )
    values = list(dict.fromkeys(int(p) for p in parts))  # duplicates measured once
    if len(values) > MAX_VALUES:
        raise ConfigError(f"at most {MAX_VALUES} sweep values at once, got {len(values)}")
    return values


def usable(impls: list[str], cell: str) -> list[str]:
    """The implementations that can run this cell (keras-fused: lstm and gru only)."""
    return [i for i in impls if IMPL_CHOICES[i].works_with(cell)]


def sweep_plan(
    impls: list[str], cell: str, key: str, values: list[int], settings: dict, timed_steps: int, corpus: str
) -> BenchPlan:
    """The benchmark plan of one sweep: the seed preset with `settings` (and the cell) laid over it."""
    if len(impls) * len(values) > MAX_MEASUREMENTS:
        raise ConfigError(
            f"{len(impls)} implementations × {len(values)} values = {len(impls) * len(values)} "
            f"measurements; at most {MAX_MEASUREMENTS} at once"
        )
    seed = PRESETS["seed"]
    base = dataclasses.replace(seed, model=dataclasses.replace(seed.model, cell=cell), corpus=corpus)
    for name, value in settings.items():
        if name != key:
            base = with_value(base, name, value)
    return BenchPlan(base, tuple(impls), key, tuple(values), timed_steps=timed_steps, warmup=WARMUP)
