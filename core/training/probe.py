"""impl=auto: the run's first steps, taken by each candidate implementation in turn and timed, pick the
implementation that trains the rest.

Which implementation is fastest depends on the shape (one wide layer or a stack: README, "Where fused
does not help"), the cell and the machine, so it is measured, not guessed. Every implementation computes
the same numbers on the same weights (tests/test_unrollers.py), so the probe's steps are ordinary
training steps on the run's own model and optimizer: the probe costs only the losers' graph builds and
their few slower steps, and the first loss is drawn as soon as it would be without it.
"""

import dataclasses
import statistics

from core.config import AUTO, ModelConfig
from core.model.unrollers import UNROLLERS

# Left out, so that the probe costs seconds, not tens of them; each was measured slower than `dynamic`
# (README, "Every implementation at the seed config" and "Where fused does not help").
NOT_PROBED = {
    "static": "one copy of the cell per step: at the seed config its build took 26 s and its step was the slowest",
    "scan": "the same loop as dynamic's that also stacks every step's state: 0.120 s a step against 0.113",
    "keras": "Keras's generic loop around the same cell: 0.128 s a step against dynamic's 0.113",
    "keras-fused": "the slowest loop at the seed config (0.139 s against 0.113) and at quick's (0.251 against 0.139)",
}
DESCRIPTION = (
    "the run's first steps are taken by each implementation worth trying in turn, timed, and the fastest "
    "trains the rest"
)
TIMED_STEPS = 3  # per candidate, interleaved, after each one's first call (trace and graph optimisation)


@dataclasses.dataclass(frozen=True)
class Probe:
    """What the probe measured and chose; a plain dict in the run's record (`to_dict`)."""

    chosen: str
    step_s: dict  # implementation -> median seconds of its timed train steps
    build_s: dict  # implementation -> seconds of its first call (trace, graph optimisation, one step)
    skipped: dict  # implementation -> why it was not timed
    steps: int = 0  # train steps the probe took (they trained the run like any other)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Probe":
        """A recorded probe (a run's status.json); fields it does not know are left out."""
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})

    def summary(self) -> str:
        """One line: the choice and every candidate's step time, fastest first."""
        if not self.step_s:
            return f"{self.chosen}: the only candidate for this cell, so no probe"
        ranked = sorted(self.step_s, key=self.step_s.get)
        times = ", ".join(f"{name} {self.step_s[name] * 1000:.0f} ms" for name in ranked)
        return f"{self.chosen}, the fastest of {times} a step (timed on the run's first {self.steps} steps)"


def candidates(cell: str) -> list[str]:
    """The implementations the probe times for `cell`: those that train it, less NOT_PROBED."""
    return [
        name
        for name in UNROLLERS.names(trains_only=True)
        if UNROLLERS[name].works_with(cell) and name not in NOT_PROBED
    ]


class Prober:
    """Which implementation takes the next train step: each candidate's first call, then TIMED_STEPS
    timed steps of each in turn (a noisy second hurts every candidate alike), then the fastest."""

    def __init__(self, model: ModelConfig, timed_steps: int = TIMED_STEPS):
        self.auto = model.impl == AUTO
        self.names = candidates(model.cell) if self.auto else [model.impl]
        self.skipped = {n: why for n, why in NOT_PROBED.items() if UNROLLERS[n].works_with(model.cell)}
        # The probe's steps in order: first calls, then the timed rounds.
        self.order = self.names + self.names * timed_steps if len(self.names) > 1 else []
        self.taken = 0  # probe steps reported so far
        self.build_s: dict[str, float] = {}
        self.times: dict[str, list[float]] = {name: [] for name in self.names}

    @property
    def deciding(self) -> bool:
        return self.taken < len(self.order)

    def next(self) -> str:
        """The implementation for the next train step."""
        return self.order[self.taken] if self.deciding else self.chosen

    @property
    def first_call(self) -> bool:
        """Whether the next step is an implementation's first call (its graph build: not a step time)."""
        return self.deciding and self.taken < len(self.names)

    def report(self, seconds: float) -> bool:
        """The step from next() took `seconds`; True when that step settled the choice."""
        if not self.deciding:
            return False
        name = self.order[self.taken]
        if self.first_call:
            self.build_s[name] = seconds
        else:
            self.times[name].append(seconds)
        self.taken += 1
        return not self.deciding

    @property
    def chosen(self) -> str:
        """The fastest so far by median step time (a run shorter than the probe: of those timed)."""
        timed = {name: statistics.median(t) for name, t in self.times.items() if t}
        return min(timed, key=timed.get) if timed else self.names[0]

    def result(self) -> Probe:
        step_s = {name: statistics.median(t) for name, t in self.times.items() if t}
        skipped = dict(self.skipped) if self.auto else {}
        return Probe(self.chosen, step_s, dict(self.build_s), skipped, self.taken)
