"""The post's experiment, replayed: build times and 3-epoch training of list / dynamic_rnn / scan.

    python -m core.experiment                 # the whole experiment (about 10 minutes on 2 cores)
    python -m core.experiment --epochs 1 --json result.json

Each row is a benchmark point (core.measure.plan) measured in a fresh process by core.measure.timing.run_each,
as the bench CLI and the lab measure theirs; results arrive one at a time through a callback, and a cancel
event stops it between — or in the middle of — measurements.
"""

import argparse
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

from core.config import PRESETS, RunConfig
from core.measure.plan import Point, job_for
from core.measure.results import write_results
from core.measure.timing import run_each

# r2rt.com, "Recurrent Neural Networks in Tensorflow II" (2016), on its own 2016 stack.
POST_FIGURES = {
    "basic RNN, list": {"build_s": 5.6},
    "list": {"build_s": 25.6, "epoch_losses": [3.533, 3.314, 3.218], "train_s": 117.8},
    "dynamic_rnn": {"build_s": 0.53, "epoch_losses": [3.558, 3.323, 3.283], "train_s": 96.7},
    "tf.scan": {"build_s": 0.65, "epoch_losses": [3.554, 3.320, 3.274], "train_s": 101.6},
}


@dataclass(frozen=True)
class Measurement:
    """One row of the experiment: which implementation, on what config, for how many epochs."""

    label: str
    impl: str
    post: str  # the key of POST_FIGURES this row stands beside
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


def run_experiment(plan: list[Measurement], on_result=None, cancel=None, timed_steps: int = 3) -> list[dict]:
    """Measure every row in order; on_result(index, row) after each. Stops early when `cancel` is set."""
    rows = []

    def add(i: int, result: dict) -> None:
        m = plan[i]
        rows.append({"label": m.label, "impl": m.impl, "post": m.post, "epochs": m.epochs, **result})
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.experiment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--epochs", type=int, default=3, help="training epochs per LSTM row (the post: 3)")
    parser.add_argument("--no-tf1", action="store_true", help="only the TF2 implementations")
    parser.add_argument("--json", help="write the result to this file")
    args = parser.parse_args(argv)
    plan = post_plan(args.epochs, tf1=not args.no_tf1)
    print(
        f"{len(plan)} measurements, each in a fresh process; build = the graph build (trace), as the post "
        "measured it; the first call (graph optimisation + one step) is shown apart",
        flush=True,
    )
    rows = run_experiment(
        plan, on_result=lambda i, r: print(f"[{i + 1}/{len(plan)}] {r['label']} done", flush=True)
    )
    print(table(rows))
    for name, value in ratios(rows).items():
        print(f"{name}: {value:.2f}")
    if args.json:
        save(rows, Path(args.json), args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
