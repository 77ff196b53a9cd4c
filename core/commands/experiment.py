"""The post's experiments, replayed: build times and 3-epoch training of list / dynamic_rnn / scan; then
(--cells) its comparison of a GRU, an LSTM and a layer-normalised LSTM.

    python -m core.experiment                 # the whole experiment (about 10 minutes on 2 cores)
    python -m core.experiment --epochs 1 --json result.json
    python -m core.experiment --cells --short # the three cells, the first steps of each (5 minutes)
    python -m core.experiment --cells         # the three cells for the post's 20 epochs each

Each row is a benchmark point (core.measure.plan) measured in a fresh process by core.measure.timing.run_each,
as the bench CLI and the lab measure theirs; results arrive one at a time through a callback, and a cancel
event stops it between — or in the middle of — measurements.
"""

import argparse
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

from core.config import PRESETS, ConfigError, RunConfig
from core.errors import Refusal
from core.measure.plan import Point, job_for
from core.measure.results import write_results
from core.measure.timing import run_each
from core.writable import check_file

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
SHORT_STEPS = 1000  # per cell in the short variant: what it takes is measured in the README
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


def cells_table(rows: list[dict]) -> str:
    """The cell comparison as text: how far each cell got, its losses and its training time."""
    lines = [f"{'':<10}{'steps':>7}{'final train loss':>18}{'val loss':>10}{'train s':>9}{'s/step':>8}"]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['label']:<10}  {r['error']}")
            continue
        lines.append(
            f"{r['label']:<10}{r['steps']:>7}{final_loss(r):>18.3f}{r['val_loss']:>10.3f}"
            f"{r['train_s']:>9.1f}{r['train_s'] / r['steps']:>8.3f}"
        )
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    """Our figures beside the post's, as text. The post's "build" is graph construction: our trace."""
    lines = [
        f"{'':<36}{'build s':>8}{'post':>7}{'1st call s':>11}   {'loss per epoch':<22}{'post':<22}"
        f"{'train s':>8}{'post':>7}"
    ]
    for r in rows:
        post = POST_FIGURES[r["post"]]
        if "error" in r:
            lines.append(f"{r['label']:<36}  {r['error']}")
            continue
        trained = bool(r.get("epochs"))
        ours = " / ".join(f"{v:.3f}" for v in r.get("epoch_losses", []))
        theirs = " / ".join(f"{v:.3f}" for v in post.get("epoch_losses", [])) if trained else ""
        train = f"{r['train_s']:>8.1f}{post['train_s']:>7.1f}" if trained else ""
        lines.append(
            f"{r['label']:<36}{r['trace_s']:>8.2f}{post['build_s']:>7.2f}{r['first_call_s']:>11.2f}   "
            f"{ours:<22}{theirs:<22}{train}"
        )
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m core.experiment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help="training epochs per LSTM row (the post: 3, the default; 0: build times only)",
    )
    parser.add_argument("--no-tf1", action="store_true", help="only the TF2 implementations")
    parser.add_argument(
        "--cells",
        action="store_true",
        help="the post's second experiment instead: a GRU, an LSTM and a layer-normalised LSTM, each "
        f"trained with dynamic for {CELLS_BASE.train.epochs} epochs of {CELLS_BASE.train.num_steps}-step "
        "windows (over half an hour on 2 cores; README, Measured figures)",
    )
    parser.add_argument(
        "--short", action="store_true", help=f"with --cells: only the first {SHORT_STEPS} steps of each cell"
    )
    parser.add_argument("--json", help="write the result to this file (its folder is made if missing)")
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace) -> None:
    """Refuse, in a sentence, flags that could give no result or do not go together."""
    if args.epochs is not None and args.epochs < 0:
        raise ConfigError(f"--epochs must be 0 or more, got {args.epochs}")
    if args.short and not args.cells:
        raise ConfigError("--short shortens the cell comparison: use it with --cells")
    if args.cells and (args.epochs is not None or args.no_tf1):
        raise ConfigError(
            "--epochs and --no-tf1 are for the unrolling experiment; the cell comparison trains "
            f"{CELLS_BASE.train.epochs} epochs with dynamic (or, with --short, {SHORT_STEPS} steps)"
        )
    if args.json:
        check_file(Path(args.json))


def main(argv=None) -> int:
    args = parse_args(argv)
    try:  # before the first of its minutes of measuring
        check_args(args)
    except Refusal as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.cells:
        compare_cells(args.short, args.json)
        return 0
    epochs = 3 if args.epochs is None else args.epochs
    plan = post_plan(epochs, tf1=not args.no_tf1)
    print(
        f"{len(plan)} measurements, each in a fresh process; build = the graph build (trace), as the post "
        "measured it; the first call (graph optimisation + one step) is shown apart",
        flush=True,
    )
    rows = run_experiment(plan, on_result=_progress(plan))
    print(table(rows))
    for name, value in ratios(rows).items():
        print(f"{name}: {value:.2f}")
    if args.json:
        save(rows, Path(args.json), epochs)
    return 0


def compare_cells(short: bool, json_path: str | None) -> None:
    """The post's second experiment from the command line: measure, print, save if asked."""
    plan = cells_plan(short)
    tc = plan[0].config.train
    length = f"the first {tc.max_steps} steps" if short else f"{tc.epochs} epochs"
    print(
        f"{len(plan)} cells, each trained with {plan[0].impl} for {length} of {tc.num_steps}-step windows "
        "in a fresh process; the validation loss is measured after training, outside its time",
        flush=True,
    )
    rows = run_experiment(plan, on_result=_progress(plan))
    print(cells_table(rows))
    print(POST_CELLS_SOURCE)
    if json_path:
        save_cells(rows, Path(json_path), short)


def _progress(plan: list[Measurement]):
    return lambda i, r: print(f"[{i + 1}/{len(plan)}] {r['label']} done", flush=True)


if __name__ == "__main__":
    sys.exit(main())
