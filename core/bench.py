"""Benchmark: each implementation's graph build (trace), first call and steady train-step time.

    python -m core.bench --preset seed --impls static,dynamic,scan,keras --timed-steps 20 --json bench.json

Every measurement runs in a fresh worker process, so one implementation's graphs and caches never
colour the next; all of them run in one invocation, so compare them as ratios.
"""
import argparse
import dataclasses
import itertools
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time

from core.cli_args import add_config_flags, config_from_args
from core.config import PRESETS, ConfigError, RunConfig
from core.unrollers import UNROLLERS

SWEEPABLE = {"num_steps": "train", "batch_size": "train", "num_layers": "model", "state_size": "model"}


def measure(config_dict: dict, steps: int, warmup: int) -> dict:
    """In the worker: trace, first call, then `steps` timed train steps on real corpus batches."""
    from core.batches import batch_iterator
    from core.corpus import load_corpus
    from core.runrecord import RunRecord
    from core.trainer import Trainer

    config = RunConfig.from_dict(config_dict)
    tc = config.train
    trainer = Trainer(config, load_corpus(config.corpus, tc.val_fraction), RunRecord("bench", config_dict))
    trainer.setup()
    trainer.measure_build()
    batches = itertools.cycle(batch_iterator(trainer.corpus.train_ids, tc.batch_size, tc.num_steps))
    state, times = trainer.model.zero_state(tc.batch_size), []
    for i in range(1 + warmup + steps):
        x, y = next(batches)
        t0 = time.perf_counter()
        loss, state = trainer.train_step(x, y, state)
        float(loss)  # wait for the step to finish
        times.append(time.perf_counter() - t0)
    steady = times[1 + warmup:]
    step_s = statistics.median(steady)
    return {"trace_s": trainer.record.snapshot().timings["trace_s"], "first_call_s": times[0],
            "step_s": step_s, "step_min_s": min(steady), "step_max_s": max(steady),
            "chars_per_s": tc.batch_size * tc.num_steps / step_s, "loss": float(loss),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _worker(config_dict, steps, warmup, queue):
    try:
        queue.put(measure(config_dict, steps, warmup))
    except Exception as err:  # reported as a row, so one broken implementation never hides the others
        queue.put({"error": f"{type(err).__name__}: {err}"})


def run_isolated(config: RunConfig, steps: int, warmup: int) -> dict:
    """measure() in a fresh spawned process."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_worker, args=(config.to_dict(), steps, warmup, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def machine() -> dict:
    """CPU model, cores and library versions: the context every figure needs."""
    import tensorflow as tf

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "tensorflow": tf.__version__, "python": platform.python_version()}


def with_value(config: RunConfig, key: str, value) -> RunConfig:
    part = SWEEPABLE[key]
    return dataclasses.replace(config, **{part: dataclasses.replace(getattr(config, part), **{key: value})})


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m core.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="implementations:\n" + UNROLLERS.help())
    parser.add_argument("--preset", choices=list(PRESETS), default="seed")
    parser.add_argument("--corpus", help="a UTF-8 text file (default: the preset's)")
    parser.add_argument("--impls", default="static,dynamic,scan,keras,keras-fused",
                        help="comma-separated names from the implementations below (overrides --impl)")
    parser.add_argument("--sweep", help=f"KEY=V1,V2,... with KEY one of {', '.join(SWEEPABLE)}")
    parser.add_argument("--timed-steps", type=int, default=20, help="timed train steps per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps after the first call")
    parser.add_argument("--json", help="also write the results to this file")
    add_config_flags(parser)  # any config field can be overridden, e.g. --state-size 16 for a quick check
    return parser.parse_args(argv)


def plan(args) -> list[tuple[str, dict, RunConfig]]:
    """(implementation, swept values, config) for every measurement asked for."""
    base = config_from_args(args)
    key, values = (args.sweep.split("=", 1)[0], args.sweep.split("=", 1)[1].split(",")) if args.sweep else (None, [None])
    if key is not None and key not in SWEEPABLE:
        raise SystemExit(f"error: cannot sweep {key!r}; choose one of {', '.join(SWEEPABLE)}")
    runs = []
    for impl in args.impls.split(","):
        for value in values:
            cfg = dataclasses.replace(base, model=dataclasses.replace(base.model, impl=impl))
            cfg = with_value(cfg, key, int(value)) if key else cfg
            runs.append((impl, {key: int(value)} if key else {}, cfg))
    return runs


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        runs = plan(args)
    except (ConfigError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    info = machine()
    print(f"{info['cpu']}, {info['cores']} cores, TensorFlow {info['tensorflow']}; preset {args.preset}, "
          f"median of {args.timed_steps} steps")
    print(f"{'implementation':<15}{'swept':<16}{'trace s':>9}{'1st call s':>11}{'step s':>9}{'chars/s':>10}{'peak MB':>9}")
    rows = []
    for impl, swept, cfg in runs:
        row = {"impl": impl, **swept, "config": cfg.to_dict(), **run_isolated(cfg, args.timed_steps, args.warmup)}
        rows.append(row)
        label = ",".join(f"{k}={v}" for k, v in swept.items())
        if "error" in row:
            print(f"{impl:<15}{label:<16}  failed: {row['error']}")
        else:
            print(f"{impl:<15}{label:<16}{row['trace_s']:>9.2f}{row['first_call_s']:>11.2f}{row['step_s']:>9.3f}"
                  f"{row['chars_per_s']:>10,.0f}{row['peak_rss_mb']:>9,.0f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "preset": args.preset, "steps": args.timed_steps, "results": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
