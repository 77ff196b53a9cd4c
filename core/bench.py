"""Benchmark: each implementation's graph build (trace), first call and steady train-step time.

    python -m core.bench --preset seed --impls static,dynamic,scan,keras --timed-steps 20 --json bench.json

Every measurement runs in a fresh worker process, so one implementation's graphs and caches never
colour the next; all of them run in one invocation, so compare them as ratios.
"""

import argparse
import dataclasses
import json
import statistics
import sys
import time

from core.cli_flags import add_config_flags, config_from_args
from core.config import PRESETS, ConfigError, RunConfig
from core.measure.timing import machine, run_isolated
from core.model.unrollers import UNROLLERS

SWEEPABLE = {"num_steps": "train", "batch_size": "train", "num_layers": "model", "state_size": "model"}


def with_value(config: RunConfig, key: str, value) -> RunConfig:
    part = SWEEPABLE[key]
    return dataclasses.replace(config, **{part: dataclasses.replace(getattr(config, part), **{key: value})})


def parse_args(argv=None):
    from core.measure.tf1 import TF1_IMPLS

    parser = argparse.ArgumentParser(
        prog="python -m core.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="implementations:\n" + UNROLLERS.help() + "\n" + TF1_IMPLS.help(),
    )
    parser.add_argument("--preset", choices=list(PRESETS), default="seed")
    parser.add_argument("--corpus", help="a UTF-8 text file (default: the preset's)")
    parser.add_argument(
        "--impls",
        default="static,dynamic,scan,keras,keras-fused",
        help="comma-separated names from the implementations below (overrides --impl)",
    )
    parser.add_argument("--sweep", help=f"KEY=V1,V2,... with KEY one of {', '.join(SWEEPABLE)}")
    parser.add_argument("--timed-steps", type=int, default=20, help="timed train steps per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps after the first call")
    parser.add_argument(
        "--train-epochs",
        type=int,
        default=0,
        help="instead of timed steps, train this many whole epochs (the post's experiment)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="rounds of every measurement, interleaved; figures are the median over rounds, with min and max",
    )
    parser.add_argument(
        "--matmul-size",
        type=int,
        default=4096,
        help="n of the n×n matmul that measures the machine's FLOP rate",
    )
    parser.add_argument("--json", help="also write the results to this file")
    add_config_flags(parser)  # any config field can be overridden, e.g. --state-size 16 for a quick check
    return parser.parse_args(argv)


def plan(args) -> list[tuple[str, dict, RunConfig]]:
    """(implementation, swept values, config) for every measurement asked for."""
    from core.measure.tf1 import TF1_IMPLS

    base = config_from_args(args)
    key, values = args.sweep.split("=", 1) if args.sweep else (None, "")
    if key is not None and key not in SWEEPABLE:
        raise ValueError(f"cannot sweep {key!r}; choose one of {', '.join(SWEEPABLE)}")
    runs = []
    for impl in args.impls.split(","):
        if impl not in UNROLLERS and impl not in TF1_IMPLS:
            raise ValueError(
                f"unknown implementation {impl!r}; choose from {', '.join(UNROLLERS.names() + TF1_IMPLS.names())}"
            )
        for value in values.split(",") if key else [None]:
            cfg = (
                base
                if impl in TF1_IMPLS
                else dataclasses.replace(base, model=dataclasses.replace(base.model, impl=impl))
            )  # validates cell support too
            runs.append(
                (impl, {key: int(value)} if key else {}, with_value(cfg, key, int(value)) if key else cfg)
            )
    return runs


def summarise(impl: str, swept: dict, config: RunConfig, rounds: list[dict]) -> dict:
    """One row: the median of every figure over the rounds, with the step time's spread."""
    ok = [r for r in rounds if "error" not in r]
    row = {"impl": impl, **swept, "config": config.to_dict(), "rounds": rounds}
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


HEADER = (
    f"{'implementation':<15}{'swept':<16}{'trace s':>9}{'1st call s':>11}{'step s':>9}{'chars/s':>10}"
    f"{'GFLOP/s':>9}{'peak MB':>9}"
)
TARGET_SPEEDUP, TARGET_MATMUL_SHARE = 1.3, 0.70  # issue 4: fused vs keras-fused chars/s; of the matmul rate


def fused_targets(rows: list[dict], matmul_gflop_per_s: float) -> dict | None:
    """`fused` against its two targets, from one run's medians: chars/s over keras-fused's, and its
    training FLOP rate as a share of the machine's large-matmul rate. None unless both were measured."""
    plain = {r["impl"]: r for r in rows if "error" not in r and not any(k in r for k in SWEEPABLE)}
    if "fused" not in plain or "keras-fused" not in plain:
        return None
    speedup = plain["fused"]["chars_per_s"] / plain["keras-fused"]["chars_per_s"]
    share = plain["fused"]["gflop_per_s"] / matmul_gflop_per_s
    return {
        "speedup_vs_keras_fused": speedup,
        "matmul_share": share,
        "speedup_met": speedup >= TARGET_SPEEDUP,
        "matmul_share_met": share >= TARGET_MATMUL_SHARE,
    }


def line(row: dict) -> str:
    label = ",".join(f"{k}={row[k]}" for k in SWEEPABLE if k in row)
    if "error" in row:
        return f"{row['impl']:<15}{label:<16}  failed: {row['error']}"
    text = (
        f"{row['impl']:<15}{label:<16}{row['trace_s']:>9.2f}{row['first_call_s']:>11.2f}{row['step_s']:>9.3f}"
        f"{row['chars_per_s']:>10,.0f}{row['gflop_per_s']:>9.1f}{row['peak_rss_mb']:>9,.0f}"
    )
    if "epoch_losses" in row:
        text += f"   epochs {' / '.join(f'{v:.3f}' for v in row['epoch_losses'])} in {row['train_s']:.1f} s"
    return text


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        runs = plan(args)
    except (ConfigError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    info = machine()
    print(
        f"{info['cpu']}, {info['cores']} cores, TensorFlow {info['tensorflow']}; preset {args.preset}; "
        f"{args.repeats} round(s), each measurement in a fresh process\n{HEADER}",
        flush=True,
    )
    results = {i: [] for i in range(len(runs))}
    matmul = []
    for _ in range(args.repeats):  # rounds interleaved, so a noisy minute hurts every implementation alike
        matmul.append(run_isolated(("matmul", args.matmul_size)))
        for i, (impl, swept, cfg) in enumerate(runs):
            results[i].append(
                run_isolated((impl, cfg.to_dict(), args.timed_steps, args.warmup, args.train_epochs))
            )
            print(line(summarise(impl, swept, cfg, results[i][-1:])), flush=True)
    info["matmul_gflop_per_s"] = statistics.median(m for m in matmul if not isinstance(m, dict))
    print(
        f"\nmedians; float32 matmul {args.matmul_size}²: {info['matmul_gflop_per_s']:.1f} GFLOP/s\n{HEADER}"
    )
    rows = [summarise(impl, swept, cfg, results[i]) for i, (impl, swept, cfg) in enumerate(runs)]
    for row in rows:
        print(line(row))
    targets = fused_targets(rows, info["matmul_gflop_per_s"])
    if targets:
        mark = {True: "met", False: "not met"}
        print(
            f"\nfused: {targets['speedup_vs_keras_fused']:.2f}× keras-fused's chars/s (target ≥ {TARGET_SPEEDUP}: "
            f"{mark[targets['speedup_met']]}); training at {targets['matmul_share']:.0%} of the matmul rate "
            f"(target ≥ {TARGET_MATMUL_SHARE:.0%}: {mark[targets['matmul_share_met']]})"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "measured": time.strftime("%Y-%m-%d %H:%M"),
                    "machine": info,
                    "preset": args.preset,
                    "args": vars(args),
                    "results": rows,
                    "fused_targets": targets,
                },
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
