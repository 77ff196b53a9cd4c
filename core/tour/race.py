"""A stopwatch race: the post's graph built as a list and with dynamic_rnn at once, each in its own process.

    Race(impls, config, vocab)    one core.child.Child per implementation, all started together
      child: import TensorFlow -> Report("building", at) -> TF1Graph(...) -> Report("built", build_s, ...)
    race.update()                 reads whatever the children have sent (never blocks)
    race.laps()                   what a page draws: each one's phase, when its build began, its time
    race.end()                    ends every child at once (a static build cannot be interrupted otherwise)

The stopwatch starts when a child begins building, not when it starts: importing TensorFlow in a fresh
process takes seconds and is no part of what the post timed. A page polls update() from its own thread;
nothing here touches Streamlit.
"""

import dataclasses
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from core.child import Child
from core.config import RunConfig


class Phase(Enum):
    STARTING = "starting TensorFlow"
    BUILDING = "building"
    BUILT = "built"
    FAILED = "failed"


class Report(NamedTuple):
    """What a child sends home: once when its build begins, once when it is done (or has failed)."""

    phase: str  # a Phase's name
    at: float = 0.0  # time.time() in the child (one clock for the whole machine)
    build_s: float = 0.0  # the graph's construction, as the post timed it
    ops: int = 0  # operations in the graph
    session_s: float = 0.0  # then opening its Session and initialising the variables
    error: str = ""


@dataclass(frozen=True)
class Lap:
    """One racer as a page sees it at one moment."""

    impl: str
    phase: Phase = Phase.STARTING
    started: float | None = None  # time.time() its build began
    build_s: float | None = None
    ops: int | None = None
    session_s: float | None = None
    error: str = ""

    def elapsed_s(self, now: float | None = None) -> float:
        """The stopwatch: the build time once known, else the seconds since the build began (0 before)."""
        if self.build_s is not None:
            return self.build_s
        return 0.0 if self.started is None else (now or time.time()) - self.started

    @property
    def running(self) -> bool:
        return self.phase in (Phase.STARTING, Phase.BUILDING)


def _build_child(inbox, outbox, impl: str, config_dict: dict, vocab_size: int) -> None:
    """A racer (core.child.Child): build the post's graph with `impl`, report when it began and its times."""
    try:
        from core.measure.tf1 import TF1Graph

        config = RunConfig.from_dict(config_dict)
        outbox.send(Report(Phase.BUILDING.name, at=time.time()))
        t0 = time.perf_counter()
        graph = TF1Graph(config, vocab_size, impl)  # builds (timed as build_s), then opens its Session
        total = time.perf_counter() - t0
        ops = len(graph.graph.get_operations())
        outbox.send(Report(Phase.BUILT.name, build_s=graph.build_s, ops=ops, session_s=total - graph.build_s))
    except Exception as err:  # reported, so the page says what went wrong instead of waiting for ever
        outbox.send(Report(Phase.FAILED.name, error=f"{type(err).__name__}: {err}"))


class Racer:
    """One build in its own process, and its lap as last reported."""

    def __init__(self, impl: str, config: RunConfig, vocab_size: int):
        self.lap, self._closed = Lap(impl), False
        self.child = Child(_build_child, impl, config.to_dict(), vocab_size, name=f"rnn-explorer-race-{impl}")

    def update(self) -> None:
        """Apply what the child has sent; a child gone without a result is a failed lap."""
        while self.lap.running and self.child.poll(0):
            try:
                self.lap = applied(self.lap, self.child.recv())
            except EOFError:
                self.lap = dataclasses.replace(
                    self.lap, phase=Phase.FAILED, error=f"the process ended ({self.child.exit_reason()})"
                )
        if not self.lap.running and not self._closed:
            self.child.join(1.0)  # it has sent its last report and is exiting
            self.child.close()
            self._closed = True

    def end(self) -> None:
        self.child.end()
        if self.lap.running:  # its last update() then finds it over and closes the pipes
            self.lap = dataclasses.replace(self.lap, phase=Phase.FAILED, error="stopped")


def applied(lap: Lap, report: Report) -> Lap:
    """A lap after one report."""
    phase = Phase[report.phase]
    if phase is Phase.BUILDING:
        return dataclasses.replace(lap, phase=phase, started=report.at)
    if phase is Phase.BUILT:
        return dataclasses.replace(
            lap, phase=phase, build_s=report.build_s, ops=report.ops, session_s=report.session_s
        )
    return dataclasses.replace(lap, phase=phase, error=report.error)


class Race:
    """Every racer started together; a page polls update() and draws laps()."""

    def __init__(self, impls: tuple[str, ...], config: RunConfig, vocab_size: int):
        self.config = config
        self._lock = threading.Lock()  # a page's reruns may overlap: one reader of the pipes at a time
        self.racers = [Racer(impl, config, vocab_size) for impl in impls]

    def update(self) -> tuple[Lap, ...]:
        with self._lock:
            for racer in self.racers:
                racer.update()
            return self.laps()

    def laps(self) -> tuple[Lap, ...]:
        return tuple(racer.lap for racer in self.racers)

    @property
    def running(self) -> bool:
        return any(lap.running for lap in self.laps())

    def end(self) -> None:
        with self._lock:
            for racer in self.racers:
                racer.end()

    def wait(self, timeout: float, poll_s: float = 0.1) -> tuple[Lap, ...]:
        """Poll until every lap is over or `timeout` seconds have passed (for scripts and tests)."""
        deadline = time.time() + timeout
        while self.update() and self.running and time.time() < deadline:
            time.sleep(poll_s)
        return self.laps()
