"""The post's experiments, replayed: build times and 3-epoch training of list / dynamic_rnn / scan; then
(--cells) its comparison of a GRU, an LSTM and a layer-normalised LSTM.

    python -m core.experiment                 # the whole experiment (minutes on 2 cores)
    python -m core.experiment --epochs 1 --json result.json
    python -m core.experiment --cells --short # the three cells, the first steps of each
    python -m core.experiment --cells         # the three cells for the post's 20 epochs each

Each row is measured in a fresh process (the plans: core.measure.experiment); what each variant took on
2 cores, and the command that measured it, is in docs/post-replayed.md.
"""

import argparse
import sys
from pathlib import Path

from core.config import ConfigError
from core.errors import Refusal
from core.measure.experiment import (
    CELLS_BASE,
    POST_CELLS_SOURCE,
    POST_FIGURES,
    SHORT_STEPS,
    Measurement,
    cells_plan,
    final_loss,
    post_plan,
    ratios,
    run_experiment,
    save,
    save_cells,
)
from core.writable import check_file


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
        "windows (far longer than --short; its time on 2 cores: docs/post-replayed.md)",
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
