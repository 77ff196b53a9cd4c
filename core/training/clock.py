"""A run's training clock: training time (the build apart), throughput over recent steps, and an ETA."""

import numpy as np


class Clock:
    """Training time (build excluded), throughput over recent steps, and an ETA."""

    def __init__(self, elapsed: float, chars_per_step: int, window: int = 20):
        self.elapsed, self.chars_per_step, self.window = elapsed, chars_per_step, window
        self.recent: list[float] = []
        self.last, self.steps = 0.0, 0

    def tick(self, seconds: float, first: bool = False) -> None:
        self.last, self.steps = seconds, self.steps + 1
        self.elapsed += seconds
        if not first:  # the first call includes graph optimisation: not a fair step time
            self.recent = (self.recent + [seconds])[-self.window :]

    @property
    def step_time(self) -> float:
        return float(np.median(self.recent)) if self.recent else self.last

    @property
    def rate(self) -> float:
        return self.chars_per_step / self.step_time if self.step_time > 0 else 0.0

    def eta(self, steps_left: int) -> float:
        return steps_left * self.step_time
