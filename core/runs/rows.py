"""The rows a run's record holds, each a frozen dataclass with named fields: what the trainer writes and
every view reads, so that a misspelt name fails where it is written instead of reading as 0.

    MetricRow   one train step                    metrics.jsonl  {"kind": "metric", ...}
    EvalRow     a validation loss                 metrics.jsonl  {"kind": "eval", ...}
    EpochRow    an epoch's mean losses            metrics.jsonl  {"kind": "epoch", ...}
    SampleRow   a live sample                     samples.jsonl  {"kind": "sample", ...}
    Progress    where the run stands              status.json's "progress" (updated field by field)
    Timings     the graph build's seconds         status.json's "timings"
    Probe       what impl=auto measured, chose    status.json's "probe"
    Sized       what size_by_speed measured, chose status.json's "sized"

JSON is only their edge: `to_json()` gives the dict a file or an event holds (a field left at its default
is left out, as the files always left out what a row did not record), `from_json(dict)` takes one back and
refuses (RowError) a dict with a name it does not know, without a name it needs, or with a value of the
wrong type. A run folder may come from anyone (core/runs/files.py), so this check is its rows' check.
"""

import dataclasses
import functools
import types
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple, Union, get_args, get_origin


class RowError(ValueError):
    """A dict that is not a row of its kind; the message names the field."""


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_count(value) -> bool:
    """A whole number, 0 or more (a step, an epoch)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_seconds_by_name(value) -> bool:
    """{name: seconds}: the probe's timings per implementation."""
    return isinstance(value, dict) and all(isinstance(k, str) and is_number(v) for k, v in value.items())


def _is_count_by_name(value) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and is_count(v) for k, v in value.items())


def _is_text_by_name(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


# A field's annotation -> what its JSON value must be, in words: int fields count (steps, epochs), float
# fields take any number (NaN too: a loss can be one), str fields text; a field's metadata may say otherwise.
CHECKS = {
    int: (is_count, "a whole number, 0 or more"),
    float: (is_number, "a number"),
    str: (lambda v: isinstance(v, str), "text"),
    dict: (_is_seconds_by_name, "a table of seconds"),
}


class Spec(NamedTuple):
    """How one field is checked."""

    name: str
    required: bool  # no default: a row without it is refused
    check: object  # value -> bool
    words: str  # what the value must be, for the refusal


@functools.cache
def specs(cls) -> tuple[Spec, ...]:
    """A row class's fields as checks, worked out once per class (a row is checked at every event)."""
    out = []
    for f in dataclasses.fields(cls):
        base = f.type
        if get_origin(base) in (Union, types.UnionType):  # `float | None` -> float
            base = next(a for a in get_args(base) if a is not type(None))
        check, words = f.metadata.get("check", CHECKS[base])
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append(Spec(f.name, required, check, words))
    return tuple(out)


class Row:
    """What every row kind shares: its JSON edge and its check. Subclasses are frozen dataclasses."""

    KIND: ClassVar[str] = ""  # the event kind it travels as ("" for status.json's parts)

    def to_json(self) -> dict:
        """The row as a file holds it: every field not at its default, in the order the fields are named."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.default is dataclasses.MISSING or getattr(self, f.name) != f.default
        }

    @classmethod
    def from_json(cls, data) -> "Row":
        """The row a file's dict holds, or RowError saying what is wrong with it."""
        return cls(**cls.checked(data, whole=True))

    def updated(self, values: dict) -> "Row":
        """A copy with `values` (names and types checked) in place of its own: a partial update."""
        return dataclasses.replace(self, **self.checked(values, whole=False))

    @classmethod
    def checked(cls, data, whole: bool) -> dict:
        """`data` if every name is a field of this row with a value of its type (and, when `whole`, every
        field without a default is there); else RowError. None is no field's value: files never hold it."""
        what = f"a {cls.KIND or cls.__name__} row"
        if not isinstance(data, dict):
            raise RowError(f"{what} must be an object, got {type(data).__name__}")
        fields = specs(cls)
        unknown = set(data) - {f.name for f in fields}
        if unknown:
            raise RowError(f"{what} has no field {str(min(unknown, key=str))[:40]!r}")
        for f in fields:
            if f.name not in data:
                if whole and f.required:
                    raise RowError(f"{what} lacks its {f.name}")
            elif not f.check(data[f.name]):
                raise RowError(f"{what}'s {f.name} must be {f.words}, got {str(data[f.name])[:40]!r}")
        return dict(data)


@dataclass(frozen=True, kw_only=True)
class MetricRow(Row):
    """One train step, as the trainer reports it after the step."""

    KIND: ClassVar[str] = "metric"
    time: float | None = None  # time.time() when recorded (the record stamps it)
    step: int  # the train step just taken, 1-based
    epoch: int | None = None  # 1-based
    train_loss: float  # the step's mean loss, nats/char
    grad_norm: float | None = None  # the gradients' global norm before clipping
    learning_rate: float | None = None  # the rate the step ran with
    chars_per_s: float | None = None  # training throughput so far (core.training.clock)
    elapsed_s: float | None = None  # training seconds so far, this run's sessions together


@dataclass(frozen=True, kw_only=True)
class EvalRow(Row):
    """A validation loss (rows of older runs may lack val_bits and wall_s)."""

    KIND: ClassVar[str] = "eval"
    time: float | None = None
    step: int
    epoch: int | None = None  # 1-based
    val_loss: float  # mean loss over the validation windows, nats/char
    val_bits: float | None = None  # the same in bits/char
    elapsed_s: float | None = None  # training seconds at the step
    wall_s: float | None = None  # seconds after Start, start-up and build included


@dataclass(frozen=True, kw_only=True)
class EpochRow(Row):
    """An epoch's end: its mean training loss and the validation loss after it."""

    KIND: ClassVar[str] = "epoch"
    time: float | None = None
    epoch: int  # 1-based
    step: int | None = None  # the step that ended it (rows of older runs have none)
    train_loss: float | None = None  # mean over the epoch's steps
    val_loss: float | None = None
    elapsed_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class SampleRow(Row):
    """A live sample: what the network wrote after `step` (its prime included)."""

    KIND: ClassVar[str] = "sample"
    step: int
    text: str
    time: float | None = None


@dataclass(frozen=True, kw_only=True)
class Progress(Row):
    """Where a run stands, updated after every step (status.json's "progress"; an older run's may lack
    done, wall_s and finishing, a run not yet started has none of it)."""

    step: int = 0  # train steps taken
    total_steps: int = 0  # the step budget (0: not known yet, or a copy given more epochs)
    epoch: int = 0  # 1-based, the epoch of the last step
    epochs: int = 0  # the epochs planned
    chars_per_s: float | None = None
    elapsed_s: float | None = None  # training seconds (the first call included)
    wall_s: float | None = None  # seconds after Start, the run's earlier sessions included
    done: float | None = None  # the share of the budget spent, by steps or by time, 0..1
    eta_s: float | None = None  # seconds left, by the step rate or the time budget
    finishing: float = 0.0  # 1.0 while a finished run measures its last validation loss


@dataclass(frozen=True, kw_only=True)
class Timings(Row):
    """The graph build's seconds (status.json's "timings"); None until measured."""

    trace_s: float | None = None  # tracing the train step into a graph
    first_call_s: float | None = None  # the first step: graph optimisation and one step of work


@dataclass(frozen=True)
class Probe(Row):
    """What impl=auto's probe (core.training.probe) measured and chose."""

    chosen: str = ""
    step_s: dict = field(default_factory=dict)  # implementation -> median seconds of its timed steps
    build_s: dict = field(default_factory=dict)  # implementation -> seconds of its first call
    # implementation -> why it was not timed
    skipped: dict = field(default_factory=dict, metadata={"check": (_is_text_by_name, "a table of reasons")})
    steps: int = 0  # train steps the probe took (they trained the run like any other)

    def to_json(self) -> dict:
        """Every field, as the probe has always been recorded."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Probe":
        """A recorded probe, leniently: fields it does not know (an event's "kind") are left out."""
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})

    def summary(self) -> str:
        """One line: the choice and every candidate's step time, fastest first."""
        if not self.step_s:
            return f"{self.chosen}: the only candidate for this cell, so no probe"
        ranked = sorted(self.step_s, key=self.step_s.get)
        times = ", ".join(f"{name} {self.step_s[name] * 1000:.0f} ms" for name in ranked)
        return f"{self.chosen}, the fastest of {times} a step (timed on the run's first {self.steps} steps)"


@dataclass(frozen=True)
class Sized(Row):
    """What size_by_speed (core.training.sizing) measured and chose."""

    chosen: str = ""  # the table's row that trains, by name ("GRU 384")
    first_step_s: float = 0.0  # the table's first row's seconds a train step, measured here
    seconds_left: float = 0.0  # of the time budget, when the choice was made
    # row name -> the train steps the budget was predicted to hold of it
    steps: dict = field(
        default_factory=dict, metadata={"check": (_is_count_by_name, "a table of step counts")}
    )

    def summary(self) -> str:
        """One line: the measurement, then the choice."""
        first = next(iter(self.steps), "the first row")
        held = ", ".join(f"{name} {n:,}" for name, n in self.steps.items())
        return (
            f"{self.chosen}: a {first} step took {self.first_step_s:.3f} s here, so the "
            f"{self.seconds_left:.0f} s left of the budget hold about {held} steps"
        )


STREAMED_ROWS = {row.KIND: row for row in (MetricRow, EvalRow, EpochRow, SampleRow)}  # kind -> class


def fields_of(event: dict) -> dict:
    """An event's row fields: the event less its kind."""
    return {k: v for k, v in event.items() if k != "kind"}


def row_of(event: dict):
    """The typed row a metric, eval, epoch or sample event carries (None for any other kind of event);
    RowError if it is not whole. For a record's listeners, which hear events as dicts."""
    kind = STREAMED_ROWS.get(event.get("kind"))
    return None if kind is None else kind.from_json(fields_of(event))
