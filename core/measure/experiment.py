"""The post's experiments as plans and results: its own 2016 figures, the rows of its build-time
experiment (list / dynamic_rnn / scan, TF1 and TF2) and of its cell comparison (GRU, LSTM, LN-LSTM), how
they are measured and saved, and the ratios the post drew its conclusions from.

Each row is a benchmark point (core.measure.plan) measured in a fresh process by
core.measure.timing.run_each, as the bench CLI and the lab measure theirs; results arrive one at a time
through a callback, and a cancel event stops it between — or in the middle of — measurements.
`python -m core.experiment` (core/commands/experiment.py) and the Build time lab (core/lab/) run them.
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from core.config import RunConfig
from core.measure.plan import Point, job_for
from core.measure.results import write_results
from core.measure.timing import run_each
from core.presets import PRESETS

# r2rt.com, "Recurrent Neural Networks in Tensorflow II" (2016), on its own 2016 stack.
POST_FIGURES = {
    "basic RNN, list": {"build_s": 5.6},
    "list": {"build_s": 25.6, "epoch_losses": [3.533, 3.314, 3.218], "train_s": 117.8},
    "dynamic_rnn": {"build_s": 0.53, "epoch_losses": [3.558, 3.323, 3.283], "train_s": 96.7},
    "tf.scan": {"build_s": 0.65, "epoch_losses": [3.554, 3.320, 3.274], "train_s": 101.6},
}

# The post's second experiment: the same stack of 3 layers, state 100, batch 32 and Adam at 1e-4, with
# dynamic_rnn, on 80-step windows for 20 epochs, once per cell.
CELLS_COMPARED = ("gru", "lstm", "ln_lstm")
CELL_LABELS = {"gru": "GRU", "lstm": "LSTM", "ln_lstm": "LN-LSTM"}
CELLS_BASE = dataclasses.replace(
    PRESETS["seed"],
    model=dataclasses.replace(PRESETS["seed"].model, impl="dynamic"),
    train=dataclasses.replace(PRESETS["seed"].train, num_steps=80, epochs=20, eval_batches=0),
)
SHORT_STEPS = 1000  # per cell in the short variant: what it takes on 2 cores is in docs/post-replayed.md
# The post's own numbers for this comparison would stand here, as POST_FIGURES does for the first; the
# sentence says why they do not (the CLI prints it, the page shows it).
POST_CELLS_SOURCE = (
    "Not shown: the post's own numbers for this comparison were not found (the copies of the post that "
    "could be searched end before this part), so nothing of the post's stands beside ours."
)


@dataclass(frozen=True)
class Measurement:
    """One row of the experiment: which implementation, on what config, for how many epochs."""

    label: str
    impl: str
    post: str  # the key of POST_FIGURES this row stands beside (in a cell comparison: its cell)
    config: RunConfig
    epochs: int  # 0 = build and a few steps only

    @property
    def point(self) -> Point:
        return Point(self.impl, {}, self.config)


def post_plan(epochs: int = 3, base: RunConfig = PRESETS["seed"], tf1: bool = True) -> list[Measurement]:
    """The post's rows: the basic RNN as a list (build only), then the 3-layer LSTM three ways, each in
    the TF1 family (the post's own calls) and in its TF2 twin."""
    basic = dataclasses.replace(base, model=dataclasses.replace(base.model, cell="rnn"))
    plan = (
        [Measurement("basic RNN, list (TF1 static_rnn)", "tf1-static", "basic RNN, list", basic, 0)]
        if tf1
        else []
    )
    plan.append(Measurement("basic RNN, list (TF2 static)", "static", "basic RNN, list", basic, 0))
    for post, tf1_impl, tf2_impl in (
        ("list", "tf1-static", "static"),
        ("dynamic_rnn", "tf1-dynamic", "dynamic"),
        ("tf.scan", "tf1-scan", "scan"),
    ):
        if tf1:
            plan.append(Measurement(f"{post} (TF1 {tf1_impl[4:]})", tf1_impl, post, base, epochs))
        plan.append(Measurement(f"{post} (TF2 {tf2_impl})", tf2_impl, post, base, epochs))
    return plan


def cells_plan(short: bool = False, base: RunConfig = CELLS_BASE, short_steps: int = SHORT_STEPS):
    """The post's cell comparison: each of CELLS_COMPARED on `base` (the post's setting) for its epochs,
    or — short — for its first `short_steps` steps only."""
    train = dataclasses.replace(base.train, max_steps=short_steps if short else 0)
    return [
        Measurement(
            CELL_LABELS[cell],
            base.model.impl,
            cell,
            dataclasses.replace(base, model=dataclasses.replace(base.model, cell=cell), train=train),
            train.epochs,
        )
        for cell in CELLS_COMPARED
    ]


def run_experiment(plan: list[Measurement], on_result=None, cancel=None, timed_steps: int = 3) -> list[dict]:
    """Measure every row in order; on_result(index, row) after each. Stops early when `cancel` is set."""
    rows = []

    def add(i: int, result: dict) -> None:
        m = plan[i]
        rows.append(
            {"label": m.label, "impl": m.impl, "cell": m.config.model.cell, "post": m.post,
             "epochs": m.epochs, **result}
        )  # fmt: skip
        if on_result is not None:
            on_result(i, rows[-1])

    run_each([job_for(m.point, timed_steps, 1, m.epochs) for m in plan], add, cancel)
    return rows


def ratios(rows: list[dict]) -> dict:
    """The ratios the post drew its conclusions from, where both sides were measured."""

    def get(impl, key):
        return next((r[key] for r in rows if r["impl"] == impl and key in r and r.get("epochs")), None)

    out = {}
    for family, static, dynamic, scan in (
        ("TF1", "tf1-static", "tf1-dynamic", "tf1-scan"),
        ("TF2", "static", "dynamic", "scan"),
    ):
        if get(static, "trace_s") and get(dynamic, "trace_s"):
            out[f"{family}: list build ÷ dynamic build"] = get(static, "trace_s") / get(dynamic, "trace_s")
        if get(scan, "step_s") and get(dynamic, "step_s"):
            out[f"{family}: scan step ÷ dynamic step"] = get(scan, "step_s") / get(dynamic, "step_s")
        if get(scan, "train_s") and get(dynamic, "train_s"):  # what the post compared: whole-run time
            out[f"{family}: scan train ÷ dynamic train"] = get(scan, "train_s") / get(dynamic, "train_s")
    post = POST_FIGURES
    out["post: list build ÷ dynamic build"] = post["list"]["build_s"] / post["dynamic_rnn"]["build_s"]
    out["post: scan time ÷ dynamic time (3 epochs)"] = (
        post["tf.scan"]["train_s"] / post["dynamic_rnn"]["train_s"]
    )
    return out


def save(rows: list[dict], path: Path, epochs: int) -> dict:
    """Write a result (with the machine it was measured on) as JSON; returns what was written."""
    return write_results(path, {"epochs": epochs, "rows": rows, "ratios": ratios(rows)})


def save_cells(rows: list[dict], path: Path, short: bool) -> dict:
    """Write a cell comparison (with the machine it was measured on) as JSON; returns what was written."""
    return write_results(path, {"experiment": "cells", "variant": "short" if short else "full", "rows": rows})


def final_loss(row: dict) -> float | None:
    """A trained row's training loss at its end: the last point of its loss curve (a mean of its last
    steps), or its last epoch's mean if it has no curve."""
    if row.get("loss_curve"):
        return row["loss_curve"][-1][1]
    return row["epoch_losses"][-1] if row.get("epoch_losses") else None
