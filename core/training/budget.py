"""Where a run stands against its ends: its steps, its time budget, and a stop someone asked for.

Under multi-worker every worker must end after the same step and anneal its learning rate alike, so the
chief's view is everyone's: each step carries this process's `Wish` (what it would have every worker do,
and how much of the time budget its clock says is spent) into the step's all-reduce as two numbers, where
only the chief's count (core.training.replicas.Replicas.all_reduce); `agree` takes what came back, and
every worker acts on it after that step.
"""

import math
import time
from dataclasses import dataclass
from enum import Enum


class Decision(Enum):
    """What a process would have every worker do after the next step; the value is what the all-reduce
    carries (a float: it travels in the same [2] float32 tensor as the time spent)."""

    GO_ON = 0.0
    STOP = 1.0  # someone asked to stop
    TIME_UP = 2.0  # the time budget is spent


@dataclass(frozen=True)
class Wish:
    """A decision and the share of the time budget spent (0 without a budget), as one process sees them."""

    decision: Decision = Decision.GO_ON
    spent: float = 0.0

    def numbers(self) -> tuple[float, float]:
        """As the train step takes it: [decision's value, spent] (core.training.update)."""
        return self.decision.value, self.spent

    @classmethod
    def of(cls, numbers) -> "Wish":
        """A wish back from the train step's [2] (the chief's, after the all-reduce)."""
        decision, spent = (float(n) for n in numbers)
        return cls(Decision(decision), spent)


GO_ON = Wish()  # go on, nothing of a budget spent: a step no budget watches (the trace, a benchmark's)


def now() -> float:
    """The clock a budget is kept on (seconds, monotonic)."""
    return time.monotonic()


class Budget:
    """A run's steps and time budget. `started` is time.time() when the person asked for the run: the
    budget counts from it, TensorFlow's start-up and the graph build included."""

    def __init__(self, total_steps: int, minutes: float, started: float):
        self.total_steps = total_steps
        self.began = now() - max(0.0, time.time() - started)  # `started` on the monotonic clock
        self.deadline = self.began + minutes * 60 if minutes else math.inf
        self.agreeing = False  # set when the run has several workers: then the chief decides
        self.agreed = Wish()  # what the last step's all-reduce brought

    def wish(self, stop) -> Wish:
        """What this process would have every worker do after the next step, and its clock's share."""
        time_up = now() > self.deadline
        decision = Decision.STOP if stop.is_set() else Decision.TIME_UP if time_up else Decision.GO_ON
        return Wish(decision, self.time_spent())

    def agree(self, agreed) -> None:
        """The train step's agreed [2] (numbers): every worker's decision from here on."""
        self.agreed = Wish.of(agreed)

    def stop_asked(self, stop) -> bool:
        return self.agreed.decision is Decision.STOP if self.agreeing else stop.is_set()

    def time_up(self) -> bool:
        return self.agreed.decision is Decision.TIME_UP if self.agreeing else now() > self.deadline

    def done(self, step: int) -> bool:
        return step >= self.total_steps or self.time_up()

    def time_spent(self) -> float:
        """The share of the time budget spent by this process's clock (0 without a budget)."""
        if self.deadline == math.inf:
            return 0.0
        return (now() - self.began) / (self.deadline - self.began)

    def done_fraction(self, step: int) -> float:
        """How much of the run is spent: by its steps or its time budget, whichever is further (the time
        as the chief measures it, under multi-worker)."""
        spent = self.agreed.spent if self.agreeing else self.time_spent()
        return min(max(step / self.total_steps, spent), 1.0)

    def hold(self, seconds: float) -> None:
        """A pause of `seconds` costs the run none of its budget: the deadline moves on by it, and so does
        the moment the run counts from (its wall clock leaves the pause out too)."""
        self.began += seconds
        self.deadline += seconds

    @staticmethod
    def now() -> float:
        return now()

    def seconds_left(self) -> float:
        return max(0.0, self.deadline - now())

    def elapsed(self) -> float:
        """Seconds since the run was asked for (this session)."""
        return now() - self.began
