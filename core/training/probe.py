"""impl=auto: the run's first steps, taken by each candidate implementation in turn and timed, pick the
implementation that trains the rest.

Which implementation is fastest depends on the shape (one wide layer or a stack: docs/speed.md, "Where fused
does not help"), the cell and the machine, so it is measured, not guessed. Every implementation computes
the same numbers on the same weights (tests/test_unrollers.py), so the probe's steps are ordinary
training steps on the run's own model and optimizer: the probe costs only the losers' graph builds and
their few slower steps, and the first loss is drawn as soon as it would be without it.
"""

import statistics

from core.catalogue import AUTO_DESCRIPTION, IMPL_CHOICES
from core.config import AUTO, ModelConfig
from core.runs.rows import Probe  # what the probe measured and chose: a row of the run's record

# Left out, so that the probe costs seconds, not tens of them: each was measured slower than `dynamic`
# (docs/speed.md, "Every implementation at the seed config" and "Where fused does not help"); why, in its
# catalogue entry.
NOT_PROBED = {name: IMPL_CHOICES[name].not_probed for name in IMPL_CHOICES if IMPL_CHOICES[name].not_probed}
DESCRIPTION = AUTO_DESCRIPTION
TIMED_STEPS = 3  # per candidate, interleaved, after each one's first call (trace and graph optimisation)


def candidates(cell: str) -> list[str]:
    """The implementations the probe times for `cell`: those that train it, less NOT_PROBED."""
    return [
        name
        for name in IMPL_CHOICES.names(trains_only=True)
        if IMPL_CHOICES[name].works_with(cell) and name not in NOT_PROBED
    ]


class Prober:
    """Which implementation takes the next train step: each candidate's first call, then TIMED_STEPS
    timed steps of each in turn (a noisy second hurts every candidate alike), then the fastest."""

    def __init__(self, model: ModelConfig, timed_steps: int = TIMED_STEPS):
        self.auto = model.impl == AUTO
        self.names = candidates(model.cell) if self.auto else [model.impl]
        self.skipped = {n: why for n, why in NOT_PROBED.items() if IMPL_CHOICES[n].works_with(model.cell)}
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
