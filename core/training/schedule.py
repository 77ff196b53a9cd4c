"""The learning rate at a step: warm-up, then constant, a cosine down to a tenth, or constant with that
cosine in the last stretch (stable-decay) — times the per-epoch decay."""

import math

from core.config import TrainConfig

FLOOR = 0.1  # a cosine schedule ends at this fraction of the rate (nanoGPT's choice): not 0, so a run
# continued past its end still learns


def learning_rate(tc: TrainConfig, step: int, epoch: int, done: float) -> float:
    """The rate for train step `step` (0-based: the step about to run) in 0-based `epoch`; `done` is the
    fraction of the run already spent, 0..1 — by steps or by the time budget, whichever is further (a
    time-budgeted run anneals to its deadline, however fast the machine is)."""
    rate = tc.learning_rate * tc.lr_decay**epoch
    if tc.warmup_steps and step < tc.warmup_steps:
        rate *= (step + 1) / tc.warmup_steps
    done = min(max(done, 0.0), 1.0)
    if tc.lr_schedule == "stable-decay":
        share = tc.decay_share  # 0 until the last stretch, then 0..1
        done = max(0.0, done - (1 - share)) / share
    if tc.lr_schedule in ("cosine", "stable-decay"):
        rate *= FLOOR + (1 - FLOOR) * 0.5 * (1 + math.cos(math.pi * done))
    return rate
