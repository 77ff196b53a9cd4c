"""What a benchmark measures, built from Python values: the bench CLI and the Build time lab both make a
BenchPlan, take its points, and summarise each point's rounds the same way.
"""

import dataclasses
import statistics
from dataclasses import dataclass
from typing import NamedTuple

from core.catalogue import IMPL_CHOICES
from core.config import ConfigError, RunConfig

# The settings a sweep can vary -> the part of RunConfig that holds them.
SWEEPABLE = {"num_steps": "train", "batch_size": "train", "num_layers": "model", "state_size": "model"}


class Point(NamedTuple):
    """One measurement: an implementation on one config (`swept`: the swept setting's value, or {})."""

    impl: str
    swept: dict
    config: RunConfig


def with_value(config: RunConfig, key: str, value) -> RunConfig:
    """`config` with one sweepable setting changed (and checked, as every config is)."""
    part = SWEEPABLE[key]
    return dataclasses.replace(config, **{part: dataclasses.replace(getattr(config, part), **{key: value})})


@dataclass(frozen=True)
class BenchPlan:
    """Every implementation in `impls` on `base`, once per value of the swept setting (if any)."""

    base: RunConfig
    impls: tuple[str, ...]
    sweep_key: str | None = None
    sweep_values: tuple[int, ...] = ()
    timed_steps: int = 20  # timed train steps per measurement
    warmup: int = 3  # untimed steps after the first call
    train_epochs: int = 0  # instead of timed steps, train whole epochs (the post's experiment)
    preset: str = "seed"  # the name `base` came from, kept with the results

    def __post_init__(self):
        if not self.impls:
            raise ConfigError("choose at least one implementation")
        for impl in self.impls:
            if impl not in IMPL_CHOICES:
                raise ConfigError(f"unknown implementation {impl!r}; choose from {', '.join(IMPL_CHOICES)}")
        if self.sweep_key is not None and self.sweep_key not in SWEEPABLE:
            raise ConfigError(f"cannot sweep {self.sweep_key!r}; choose one of {', '.join(SWEEPABLE)}")
        for name, least in (("timed_steps", 1), ("warmup", 0), ("train_epochs", 0)):
            if getattr(self, name) < least:
                raise ConfigError(f"{name} must be {least} or more, got {getattr(self, name)}")
        self.points()  # every config checked now, so a bad one is refused before anything runs

    def points(self) -> list[Point]:
        """Implementation by implementation, each over the swept values in order."""
        out = []
        for impl in self.impls:
            # A TF2 implementation is the config's impl (so its cell support is checked); TF1 runs beside it.
            config = self.base if not IMPL_CHOICES[impl].trains else _with_impl(self.base, impl)
            if self.sweep_key is None:
                out.append(Point(impl, {}, config))
            for value in self.sweep_values if self.sweep_key else ():
                out.append(Point(impl, {self.sweep_key: value}, with_value(config, self.sweep_key, value)))
        return out

    def job(self, point: Point) -> tuple:
        """What core.measure.timing.run_isolated takes for one of this plan's points."""
        return job_for(point, self.timed_steps, self.warmup, self.train_epochs)

    def describe(self) -> dict:
        """The plan in the words of the bench CLI's flags, for the results file's "args"."""
        sweep = f"{self.sweep_key}={','.join(map(str, self.sweep_values))}" if self.sweep_key else None
        return {"preset": self.preset, "impls": ",".join(self.impls), "sweep": sweep,
                "timed_steps": self.timed_steps, "warmup": self.warmup, "train_epochs": self.train_epochs,
                "config": self.base.to_dict()}  # fmt: skip


def job_for(point: Point, timed_steps: int, warmup: int, train_epochs: int = 0) -> tuple:
    """What core.measure.timing.run_isolated takes for one point: measure()'s arguments, picklable."""
    return (point.impl, point.config.to_dict(), timed_steps, warmup, train_epochs)


def _with_impl(config: RunConfig, impl: str) -> RunConfig:
    return dataclasses.replace(config, model=dataclasses.replace(config.model, impl=impl))


def summarise(point: Point, rounds: list[dict]) -> dict:
    """One row: the median of every figure over the rounds, with the step time's spread."""
    ok = [r for r in rounds if "error" not in r]
    row = {"impl": point.impl, **point.swept, "config": point.config.to_dict(), "rounds": rounds}
    if not ok:
        return {**row, "error": rounds[0]["error"]}
    for key in ("trace_s", "first_call_s", "step_s", "chars_per_s", "gflop_per_s", "peak_rss_mb", "train_s"):
        if key in ok[0]:
            row[key] = statistics.median(r[key] for r in ok)
    row["step_min_s"] = min(r["step_min_s"] for r in ok)
    row["step_max_s"] = max(r["step_max_s"] for r in ok)
    row["gflop_per_step"] = ok[0]["gflop_per_step"]
    if "epoch_losses" in ok[0]:
        row["epoch_losses"] = [statistics.median(e) for e in zip(*(r["epoch_losses"] for r in ok))]
    return row
