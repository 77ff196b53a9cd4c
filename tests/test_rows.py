"""core/runs/rows.py: a run's rows are named, their JSON is exactly what the files have always held, and a
row with a misspelt, missing or mistyped field is refused where it is read."""

import json
import math

import pytest

from core.paths import EXAMPLE_ID, EXAMPLES
from core.runs import files
from core.runs.record import RunRecord
from core.runs.rows import (
    STREAMED_ROWS,
    EpochRow,
    EvalRow,
    MetricRow,
    Probe,
    Progress,
    RowError,
    SampleRow,
    Timings,
    row_of,
)
from core.runs.store import RunStore
from core.training.budget import Decision, Wish

WHOLE = [  # every field of every kind set
    MetricRow(time=1.5, step=3, epoch=1, train_loss=2.5, grad_norm=0.7, learning_rate=1e-3, chars_per_s=9e3,
              elapsed_s=4.0),
    EvalRow(time=1.5, step=3, epoch=1, val_loss=2.4, val_bits=3.46, elapsed_s=4.0, wall_s=9.0),
    EpochRow(time=1.5, epoch=1, step=3, train_loss=2.6, val_loss=float("nan"), elapsed_s=4.0),
    SampleRow(step=3, text="To be", time=1.5),
    Progress(step=3, total_steps=9, epoch=1, epochs=3, chars_per_s=9e3, elapsed_s=4.0, wall_s=9.0, done=0.33,
             eta_s=8.0, finishing=1.0),
    Timings(trace_s=1.0, first_call_s=0.5),
    Probe("fused", {"fused": 0.09, "dynamic": 0.12}, {"fused": 1.0}, {"static": "slow to build"}, 8),
]  # fmt: skip
LEAST = [MetricRow(step=0, train_loss=4.2), EvalRow(step=1, val_loss=3.0), EpochRow(epoch=1),
         SampleRow(step=0, text=""), Progress(), Timings(), Probe()]  # fmt: skip


def same(a, b) -> bool:
    """Equal, NaN included (a diverged epoch's mean loss is NaN, and NaN != NaN)."""
    return json.dumps(a.to_json()) == json.dumps(b.to_json()) and type(a) is type(b)


@pytest.mark.parametrize("row", WHOLE + LEAST, ids=lambda r: type(r).__name__)
def test_every_row_kind_comes_back_from_its_json_as_it_was(row):
    back = type(row).from_json(json.loads(json.dumps(row.to_json())))
    assert same(back, row)
    if not any(isinstance(v, float) and math.isnan(v) for v in row.to_json().values()):
        assert back == row


def test_a_field_at_its_default_is_left_out_as_the_files_leave_it_out():
    assert MetricRow(step=2, train_loss=1.0).to_json() == {"step": 2, "train_loss": 1.0}
    assert Progress().to_json() == {} and Progress(step=4).to_json() == {"step": 4}
    assert Probe().to_json() == {"chosen": "", "step_s": {}, "build_s": {}, "skipped": {}, "steps": 0}


@pytest.mark.parametrize(
    "kind, data, says",
    [
        (MetricRow, {"step": 1, "trian_loss": 2.0}, "no field 'trian_loss'"),  # misspelt
        (MetricRow, {"step": 1}, "lacks its train_loss"),
        (MetricRow, {"step": "x", "train_loss": 1}, "step must be a whole number"),
        (MetricRow, {"step": -1, "train_loss": 1}, "step must be a whole number"),
        (MetricRow, {"step": 1, "train_loss": True}, "train_loss must be a number"),
        (MetricRow, {"step": 1, "train_loss": 1, "time": None}, "time must be a number"),
        (EvalRow, {"step": 2, "val_loss": 1.0, "wall": 3.0}, "no field 'wall'"),
        (EpochRow, {"step": 2}, "lacks its epoch"),
        (SampleRow, {"step": 1, "text": [1]}, "text must be text"),
        (Progress, {"stpe": 3}, "no field 'stpe'"),
        (Progress, {"step": 1.5}, "step must be a whole number"),
        (Timings, {"trace_s": "1"}, "trace_s must be a number"),
        (Probe, {"chosen": "fused", "skipped": {"static": 3}}, "skipped must be a table of reasons"),
        (Probe, {"chosen": 1}, "chosen must be text"),
        (MetricRow, [1, 2], "must be an object"),
    ],
)
def test_a_misspelt_missing_or_mistyped_field_is_refused_by_name(kind, data, says):
    with pytest.raises(RowError, match=says):
        kind.from_json(data)


def test_a_partial_update_is_checked_like_a_whole_row():
    progress = Progress(step=3, total_steps=9).updated({"done": 1.0, "eta_s": 0.0})
    assert (progress.step, progress.total_steps, progress.done, progress.eta_s) == (3, 9, 1.0, 0.0)
    with pytest.raises(RowError, match="no field 'eta'"):
        progress.updated({"eta": 0.0})
    record = RunRecord("r", {})
    with pytest.raises(RowError, match="no field 'stpe'"):  # a typo in the trainer fails where it is made
        record.progress(stpe=3)


def test_the_example_run_loads_typed_and_its_rows_are_written_back_byte_for_byte():
    run = RunStore(EXAMPLES.parent / "no-runs-here", examples=EXAMPLES).get(EXAMPLE_ID)
    snap = run.load_record().snapshot()
    assert snap.metrics and snap.evals and snap.epochs and snap.samples
    for rows, kind in ((snap.metrics, MetricRow), (snap.evals, EvalRow), (snap.epochs, EpochRow),
                       (snap.samples, SampleRow)):  # fmt: skip
        assert all(type(r) is kind for r in rows)
    assert isinstance(snap.progress, Progress) and snap.progress.step == snap.metrics[-1].step
    assert isinstance(snap.timings, Timings) and snap.timings.trace_s > 0
    assert isinstance(snap.probe, Probe) and snap.probe.chosen in snap.probe.step_s
    best = snap.best_eval
    assert isinstance(best, EvalRow) and best.val_loss == min(e.val_loss for e in snap.evals)
    for name in ("metrics.jsonl", "samples.jsonl"):
        for line in (run.path / name).read_text().splitlines():
            event = json.loads(line)
            if event["kind"] in STREAMED_ROWS:  # the same keys, in the same order, with the same values
                assert json.dumps({"kind": event["kind"], **row_of(event).to_json()}) == line
    status = json.loads((run.path / "status.json").read_text())
    assert snap.progress.to_json() == {k: v for k, v in status["progress"].items() if k != "finishing"}
    assert snap.probe.to_json() == status["probe"]


def test_the_record_writes_events_as_the_trainer_always_wrote_them():
    heard = []
    record = RunRecord("r", {})
    record.subscribe(heard.append)
    record.metric(MetricRow(step=1, epoch=1, train_loss=4.0, grad_norm=1.0, learning_rate=0.002,
                            chars_per_s=10.0, elapsed_s=0.5))  # fmt: skip
    record.eval(EvalRow(step=1, epoch=1, val_loss=3.9, val_bits=5.6, elapsed_s=0.5, wall_s=2.0))
    record.sample(1, "ab")
    order = [list(event) for event in heard]
    assert order == [
        "kind time step epoch train_loss grad_norm learning_rate chars_per_s elapsed_s".split(),
        "kind time step epoch val_loss val_bits elapsed_s wall_s".split(),
        "kind step text time".split(),
    ]
    assert all(files.valid_row(event) for event in heard)
    snap = record.snapshot()
    assert snap.metrics[0].grad_norm == 1.0 and snap.evals[0].wall_s == 2.0 and snap.samples[0].text == "ab"
    assert snap.metrics[0].time == heard[0]["time"]  # stamped once, by the record


def test_a_damaged_row_is_skipped_and_the_rest_still_read(tmp_path):
    path = tmp_path / "metrics.jsonl"
    good = {"kind": "metric", "step": 1, "train_loss": 2.0}
    lines = [good, {**good, "trian_loss": 1.0}, {"kind": "metric", "step": 2}, {"kind": "eval", "step": 1},
             {"kind": "log", "line": "hello"}, {"kind": "rewind", "step": 1, "rows": ["metrics", "nope"]}]  # fmt: skip
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert files.read_rows(path) == [good, {"kind": "log", "line": "hello"}]


def test_a_wish_travels_as_two_numbers_and_comes_back_named():
    wish = Wish(Decision.TIME_UP, 0.75)
    assert wish.numbers() == (2.0, 0.75)
    assert Wish.of([2.0, 0.75]) == wish and Wish.of((0.0, 0.0)) == Wish()
    with pytest.raises(ValueError):
        Wish.of([5.0, 0.0])  # no decision has that number
