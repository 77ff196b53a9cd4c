"""The Inside tab's targets, measured: how long a text takes to read, and how much a training run slows
while someone uses the tab.

    python benchmarks/inside_targets.py [--phases 3] [--phase-s 30] [--every 2]

1. Reading: the quick preset's model (the shipped example's weights) reads 1,000 and 10,000 characters of
   the validation split; the median of 3 after one warm-up call, the first call (graph build) apart.
2. Overhead: `python -m core.train --preset quick` trains in its own process, as the app's workers do,
   while this process takes turns at three phases: doing nothing; using the Inside tab (one page in
   Streamlit's AppTest, rerun every --every seconds as clicks rerun it, on the training run itself, going
   through the six views, with a new checkpoint every 50 steps to read), drawn at idle priority as the
   app draws it (explorer/common/priority.py); and the same drawn at normal priority, in the page's own
   thread, to show what the idle priority buys. Throughput is the training run's own steps per second
   within each phase, from its metrics file; the phases take turns so a noisy minute hurts each alike.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data.corpus import load_corpus  # noqa: E402
from core.inside.trace import tracer_for  # noqa: E402
from core.runs.store import RunStore  # noqa: E402


def reading_times() -> dict:
    from core.paths import EXAMPLE_ID

    run = RunStore("runs").get(EXAMPLE_ID)
    corpus = load_corpus(ROOT / "assets" / "tinyshakespeare.txt")
    text = corpus.vocab.decode(corpus.val_ids[:10_000])
    tracer, _ = tracer_for(run)
    out = {}
    start = time.perf_counter()
    tracer(text[:100])
    out["first call (build) s"] = time.perf_counter() - start
    for n in (1_000, 10_000):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            tracer(text[:n])
            times.append(time.perf_counter() - start)
        out[f"{n:,} characters s"] = statistics.median(times)
    return out


def cpu_seconds() -> float:
    """CPU time this process (the app, every thread) has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rate(metrics: Path, t0: float, t1: float) -> float:
    """The run's steps per second between wall times t0 and t1, from its metric rows."""
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    times = [r["time"] for r in rows if r.get("kind") == "metric" and t0 <= r["time"] <= t1]
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 2 else float("nan")


def overhead(phases: int, phase_s: float, every_s: float) -> dict:
    from streamlit.testing.v1 import AppTest

    from explorer.common import priority
    from explorer.inside.view import VIEWS

    runs = Path(tempfile.mkdtemp(prefix="inside-overhead-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    train = subprocess.Popen(
        [sys.executable, "-m", "core.train", "--preset", "quick", "--runs-dir", str(runs), "--max-steps", "5000",
         "--max-minutes", "0", "--checkpoint-every", "50", "--eval-every", "0", "--sample-every", "0"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.environ["RNN_EXPLORER_RUNS_DIR"] = str(runs)
    try:
        while not list(runs.glob("*/ckpt/checkpoint")):  # training, with a first checkpoint to read
            assert train.poll() is None, "training ended early"
            time.sleep(1)
        (run,) = RunStore(runs, examples=None).list()
        metrics = run.path / "metrics.jsonl"
        views = list(VIEWS)

        # One page, rerun as a person's clicks rerun it (a new AppTest per rerun would also time AppTest's
        # own start-up, a scan of every installed package that a real server does once).
        page = AppTest.from_file(str(ROOT / "explorer" / "app.py"), default_timeout=120)
        page.query_params.update({"owner": "cli", "tab": "Inside", "run": run.run_id})

        def use_tab(until: float) -> int:
            reruns = 0
            while time.time() < until:
                started = time.time()
                page.session_state["inside_view"] = views[reruns % len(views)]
                page.run()
                assert not page.exception, page.exception
                reruns += 1
                time.sleep(max(0.0, every_s - (time.time() - started)))  # a person clicking every `every_s`
            return reruns

        use_tab(time.time() + 5)  # warm: the app's imports and its spare worker, before any phase
        drawn, plain = priority.drawn_at_idle_priority, (lambda draw, *args: draw(*args))
        idle, busy, normal, reruns, cpu = [], [], [], 0, []
        for _ in range(phases):
            t0 = time.time()
            time.sleep(phase_s)
            idle.append(rate(metrics, t0, time.time()))
            for how, rates in ((drawn, busy), (plain, normal)):
                priority.drawn_at_idle_priority = how  # plain: the tab drawn in the page's own thread
                t0, used = time.time(), cpu_seconds()
                reruns += use_tab(t0 + phase_s)
                rates.append(rate(metrics, t0, time.time()))
                cpu.append((cpu_seconds() - used) / (time.time() - t0))
            priority.drawn_at_idle_priority = drawn
        unused = statistics.median(idle)
        return {
            "steps/s, tab unused (per phase)": idle,
            "steps/s, tab in use, drawn at idle priority as the app does (per phase)": busy,
            "steps/s, tab in use, its thread at normal priority (per phase)": normal,
            "page reruns while in use": reruns,
            "the app's CPU while in use (cores, per phase)": cpu,
            "slowdown (1 - median in use / median unused)": 1 - statistics.median(busy) / unused,
            "slowdown at normal priority": 1 - statistics.median(normal) / unused,
        }
    finally:
        train.terminate()
        train.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phases", type=int, default=3)
    parser.add_argument("--phase-s", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between clicks on the tab")
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args()
    for name, value in reading_times().items():
        print(f"reading, {name}: {value:.3f}", flush=True)
    if not args.skip_overhead:
        for name, value in overhead(args.phases, args.phase_s, args.every).items():
            shown = ", ".join(f"{v:.3f}" for v in value) if isinstance(value, list) else f"{value:.3f}"
            print(f"overhead, {name}: {shown}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
