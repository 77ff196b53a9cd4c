"""Benchmark: each implementation's graph build (trace), first call and steady train-step time.

    python -m core.bench --preset seed --impls static,dynamic,scan,keras --timed-steps 20 --json bench.json
    python -m core.bench --scaling 2 --preset quick --impl fused     (tf.distribute: 1 vs 2 replicas)

Every measurement runs in a fresh worker process, so one implementation's graphs and caches never
colour the next; all of them run in one invocation, so compare them as ratios.
"""

import argparse
import statistics
import sys
from pathlib import Path

from core.catalogue import IMPL_CHOICES
from core.commands.flags import add_config_flags, config_from_args
from core.config import ConfigError
from core.errors import Refusal
from core.measure.plan import SWEEPABLE, BenchPlan, summarise
from core.measure.results import sweep_payload, write_results
from core.measure.timing import machine, run_isolated
from core.presets import PRESETS
from core.writable import check_file


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m core.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="implementations:\n" + IMPL_CHOICES.help(),
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
    parser.add_argument(
        "--scaling",
        type=int,
        metavar="N",
        help="instead: the scaling table, the config's global batch on 1 replica, N mirrored replicas and N "
        "workers (chars/s, the all-reduce's share of a step), and a model of larger clusters",
    )
    parser.add_argument(
        "--json",
        help="also write the results to this file (its folder is made if missing; a file there is replaced)",
    )
    add_config_flags(parser)  # any config field can be overridden, e.g. --state-size 16 for a quick check
    return parser.parse_args(argv)


def check_args(args) -> None:
    """Refuse, before anything is measured, the flags that could give no figures or no results file."""
    for flag, least in (("repeats", 1), ("matmul_size", 1), ("timed_steps", 1), ("warmup", 0)):
        if getattr(args, flag) < least:
            raise ConfigError(
                f"--{flag.replace('_', '-')} must be {least} or more, got {getattr(args, flag)}"
            )
    if args.scaling is not None and args.scaling < 2:
        raise ConfigError(
            f"--scaling compares one device with N replicas: N must be 2 or more, got {args.scaling}"
        )
    if args.json:
        check_file(Path(args.json))


def plan_of(args) -> BenchPlan:
    """The plan the command line asks for."""
    if args.sweep is not None and "=" not in args.sweep:
        raise ConfigError(f"--sweep takes KEY=V1,V2,..., got {args.sweep!r}")
    key, values = args.sweep.split("=", 1) if args.sweep else (None, "")
    if key is not None and not all(v.strip().isdecimal() for v in values.split(",")):
        raise ConfigError(f"--sweep takes KEY=V1,V2,... with whole numbers, got {args.sweep!r}")
    return BenchPlan(
        base=config_from_args(args),
        impls=tuple(args.impls.split(",")),
        sweep_key=key,
        sweep_values=tuple(int(v) for v in values.split(",")) if key else (),
        timed_steps=args.timed_steps,
        warmup=args.warmup,
        train_epochs=args.train_epochs,
        preset=args.preset,
    )


HEADER = (
    f"{'implementation':<15}{'swept':<16}{'trace s':>9}{'1st call s':>11}{'step s':>9}{'chars/s':>10}"
    f"{'GFLOP/s':>9}{'peak MB':>9}"
)
TARGET_SPEEDUP, TARGET_MATMUL_SHARE = 1.3, 0.70  # fused vs keras-fused chars/s; share of the matmul rate


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


def scaling_cases(args) -> list[tuple]:
    """--scaling N's cases as (label, config, processes), every config checked before any is measured."""
    from core.measure import scaling

    base = config_from_args(args)
    return [
        (label, scaling.config_for(base, strategy, replicas), processes)
        for label, strategy, replicas, processes in scaling.cases(args.scaling)
    ]


def scaling_table(args, cases: list[tuple]) -> int:
    """--scaling N: each case in fresh processes, `repeats` interleaved rounds, medians printed."""
    from core.measure import scaling

    base = config_from_args(args)
    rounds = {label: [] for label, *_ in cases}
    print(f"scaling, preset {args.preset} ({base.model.cell} {base.model.state_size}, batch "
          f"{base.train.batch_size}×{base.train.num_steps}); {args.repeats} round(s)", flush=True)  # fmt: skip
    for _ in range(args.repeats):
        for label, config, processes in cases:
            result = scaling.measure_case(config, processes, args.timed_steps, args.warmup)
            rounds[label].append(result)
            print(f"  {label}: {result}", flush=True)
    rows = []
    for label, results in rounds.items():
        ok = [r for r in results if "error" not in r]
        if not ok:
            rows.append({"case": label, "error": results[-1]["error"]})
            continue
        median = {k: statistics.median(r[k] for r in ok) for k in ("step_s", "chars_per_s", "all_reduce_s")}
        rows.append({"case": label, "replicas": ok[0]["replicas"], "params": ok[0]["params"], **median})
    one = next((r for r in rows if r["case"] == "one device" and "error" not in r), None)
    print(
        f"\n{'case':<14}{'replicas':>9}{'step s':>9}{'chars/s':>10}{'all-reduce s':>14}{'share':>7}{'vs one':>8}"
    )
    for r in rows:
        if "error" in r:
            print(f"{r['case']:<14}  failed: {r['error']}")
            continue
        share = r["all_reduce_s"] / r["step_s"]
        ratio = f"{r['chars_per_s'] / one['chars_per_s']:.2f}×" if one else "-"
        print(f"{r['case']:<14}{r['replicas']:>9}{r['step_s']:>9.3f}{r['chars_per_s']:>10,.0f}"
              f"{r['all_reduce_s']:>14.4f}{share:>7.0%}{ratio:>8}")  # fmt: skip
    if one:
        params = one["params"]
        print(f"\nlarger clusters (weak scaling: batch {base.train.batch_size} per worker, its step "
              f"{one['step_s']:.3f} s here; {params:,} parameters = {params * 4 / 1e6:.1f} MB of gradients, "
              f"all-reduced {scaling.ALL_REDUCES_PER_STEP}× a step on a ring, "
              f"{scaling.RING_LATENCY_S * 1e6:.0f} µs a message):")  # fmt: skip
        print(f"{'workers':>8}{'Gbit/s':>8}{'all-reduce s':>14}{'efficiency':>12}{'batch for 90%':>15}")
        for p in scaling.predictions(params, one["step_s"], base.train.batch_size):
            print(f"{p['workers']:>8}{p['gbit_s']:>8}{p['all_reduce_s']:>14.4f}{p['efficiency']:>12.0%}"
                  f"{p['batch_for_target']:>15,}")  # fmt: skip
    if args.json:
        write_results(args.json, {"scaling": rows}, machine())
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_args(args)
        if args.scaling:
            cases = scaling_cases(args)
        else:
            bench = plan_of(args)
    except Refusal as err:  # ConfigError, a results file that cannot be written
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.scaling:
        return scaling_table(args, cases)
    points = bench.points()
    info = machine()
    print(
        f"{info['cpu']}, {info['cores']} cores, TensorFlow {info['tensorflow']}; preset {args.preset}; "
        f"{args.repeats} round(s), each measurement in a fresh process\n{HEADER}",
        flush=True,
    )
    results = {i: [] for i in range(len(points))}
    matmul = []
    for _ in range(args.repeats):  # rounds interleaved, so a noisy minute hurts every implementation alike
        matmul.append(run_isolated(("matmul", args.matmul_size)))
        for i, point in enumerate(points):
            results[i].append(run_isolated(bench.job(point)))
            print(line(summarise(point, results[i][-1:])), flush=True)
    rates = [m for m in matmul if not isinstance(m, dict)]  # a failed matmul is {"error": ...}
    info["matmul_gflop_per_s"] = statistics.median(rates) if rates else None
    rate = f"{info['matmul_gflop_per_s']:.1f} GFLOP/s" if rates else f"failed: {matmul[-1]['error']}"
    print(f"\nmedians; float32 matmul {args.matmul_size}²: {rate}\n{HEADER}")
    rows = [summarise(point, results[i]) for i, point in enumerate(points)]
    for row in rows:
        print(line(row))
    targets = fused_targets(rows, info["matmul_gflop_per_s"]) if rates else None
    if targets:
        mark = {True: "met", False: "not met"}
        print(
            f"\nfused: {targets['speedup_vs_keras_fused']:.2f}× keras-fused's chars/s (target ≥ {TARGET_SPEEDUP}: "
            f"{mark[targets['speedup_met']]}); training at {targets['matmul_share']:.0%} of the matmul rate "
            f"(target ≥ {TARGET_MATMUL_SHARE:.0%}: {mark[targets['matmul_share_met']]})"
        )
    if args.json:
        write_results(args.json, {**sweep_payload(rows, bench), "fused_targets": targets}, info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
