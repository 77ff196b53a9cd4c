"""Validation loss against wall-clock minutes: candidates trained as a person would, one after another.

    python benchmarks/time_to_quality.py [--minutes 5] [--budget M] [--repeats 1] [--preset quick] \
        [--candidate "NAME: FLAGS" ...] [--runs-dir DIR] [--one-core | --half-speed] [--core N] \
        [--reference FILE]

Each candidate is `python -m core.train --preset P [--max-minutes M] FLAGS` in a fresh process, so
TensorFlow's start-up and the graph build count, as they do for a person who presses Start. The
validation losses come from the run folder (each with its wall_s: seconds after the command began).
Prints, per run: the best validation loss reached by each whole minute, the best within the budget and
when, the steps and the training throughput; then which runs reached --target within the budget.
Without --candidate, the preset as it is. --one-core runs each on one core (`taskset -c 0`, one TensorFlow
thread per op and one op at a time); --half-speed does too, beside a busy loop pinned to the same core, so
that the run has half of one core: `fused` trains with one thread per op, so one core alone is nearly as
fast as two for it (measured: docs/time-to-quality.md), and half of one core is about half this machine.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.runs.store import RunDir, read_jsonl  # noqa: E402

ONE_CORE = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}  # TensorFlow reads these at start


def train(
    preset: str,
    flags: list[str],
    budget: float | None,
    runs_dir: Path,
    one_core: bool = False,
    busy: bool = False,
    core: int = 0,
) -> tuple[RunDir, float]:
    """Train one candidate in a new process (on `core` alone if `one_core`, beside a busy loop there if
    `busy`); (its run folder, the command's wall seconds)."""
    before = set(runs_dir.glob("*")) if runs_dir.exists() else set()
    command = [sys.executable, "-m", "core.train", "--preset", preset, "--runs-dir", str(runs_dir)]
    command += ([] if budget is None else ["--max-minutes", str(budget)]) + flags
    env = {**os.environ, **(ONE_CORE if one_core else {})}
    command = (["taskset", "-c", str(core)] if one_core else []) + command
    spin = ["taskset", "-c", str(core), sys.executable, "-c", "while True: pass"]
    loop = subprocess.Popen(spin) if busy else None
    try:
        t0 = time.monotonic()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)
    finally:
        if loop is not None:
            loop.kill()
            loop.wait()
    seconds = time.monotonic() - t0
    (path,) = set(runs_dir.glob("*")) - before
    return RunDir(path), seconds


def curve(run_dir: RunDir) -> list[dict]:
    return [e for e in read_jsonl(run_dir.path / "metrics.jsonl") if e["kind"] == "eval"]


def best_by(evals: list[dict], seconds: float) -> float | None:
    losses = [e["val_loss"] for e in evals if e["wall_s"] <= seconds]
    return min(losses) if losses else None


def keep_references(path: Path, rows: list[dict], suffix: str = "") -> None:
    """Each candidate's best run as a reference curve (minutes after Start, validation loss), with the
    machine's speed and the day, merged into `path` (core.runs.references reads it)."""
    kept = json.loads(path.read_text()) if path.exists() else {}
    for name in dict.fromkeys(r["name"] for r in rows):
        done = [r for r in rows if r["name"] == name and r["best"]]
        if not done:
            continue
        best = min(done, key=lambda r: r["best"]["val_loss"])
        chars_per_s = RunDir(Path(best["run"])).status()["progress"].get("chars_per_s", 0)
        kept[name + suffix] = {
            "date": time.strftime("%Y-%m-%d"),
            "chars_per_s": round(chars_per_s),
            "minutes": [round(e["wall_s"] / 60, 3) for e in best["evals"]],
            "val_loss": [round(e["val_loss"], 4) for e in best["evals"]],
        }
    path.write_text(json.dumps(kept, indent=1) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5.0, help="the losses that count came this soon")
    parser.add_argument("--budget", type=float, help="each run's --max-minutes (default: the preset's)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per candidate")
    parser.add_argument("--preset", default="quick", help="the preset every candidate starts from")
    parser.add_argument("--one-core", action="store_true", help="one core and one TensorFlow thread")
    parser.add_argument(
        "--core",
        type=int,
        default=0,
        help="with --one-core or --half-speed, the core to pin to: two screenings can run at once, one on "
        "each core (each in its own --runs-dir)",
    )
    parser.add_argument(
        "--half-speed",
        action="store_true",
        help="--one-core beside a busy loop on that core: half this machine",
    )
    parser.add_argument("--candidate", action="append", default=[], help='"name: core.train flags"')
    parser.add_argument("--target", type=float, default=1.50, help="validation nats/char to reach")
    parser.add_argument(
        "--runs-dir", type=Path, default=None, help="keep the runs here (default: a temp dir)"
    )
    parser.add_argument("--json", type=Path, help="also write every run's curve here")
    parser.add_argument(
        "--reference",
        type=Path,
        help="also keep each candidate's best run in this file as the Runs tab's reference curve for it "
        "(assets/reference-curves.json)",
    )
    args = parser.parse_args()
    runs_dir = args.runs_dir or Path(tempfile.mkdtemp(prefix="ttq-"))
    candidates = [c.split(":", 1) for c in args.candidate] or [[args.preset, ""]]
    minutes = range(1, int(args.minutes) + 1)
    print(f"{'run':<28} " + " ".join(f"{m} min" for m in minutes) + "   best in budget     steps  chars/s")
    rows = []
    for round_ in range(args.repeats):
        for name, flags in candidates:
            one_core = args.one_core or args.half_speed
            run_dir, seconds = train(
                args.preset, shlex.split(flags), args.budget, runs_dir, one_core, args.half_speed, args.core
            )
            evals, progress = curve(run_dir), run_dir.status()["progress"]
            inside = [e for e in evals if e["wall_s"] <= args.minutes * 60]
            best = min(inside, key=lambda e: e["val_loss"]) if inside else None
            by_minute = [best_by(evals, 60 * m) for m in minutes]
            label = f"{name.strip()} #{round_ + 1}"
            print(
                f"{label:<28} "
                + " ".join("  –  " if v is None else f"{v:.3f}" for v in by_minute)
                + (f"   {best['val_loss']:.3f} at {best['wall_s']:5.1f} s" if best else "   –")
                + f"  {progress.get('step', 0):>6,}  {progress.get('chars_per_s', 0):>7,.0f}"
                + f"   (command {seconds:.0f} s)",
                flush=True,
            )
            row = {
                "name": name.strip(),
                "round": round_ + 1,
                "flags": flags.strip(),
                "run": str(run_dir.path),
            }
            rows.append({**row, "best": best, "evals": evals, "command_s": seconds})
    reached = [r for r in rows if r["best"] and r["best"]["val_loss"] <= args.target]
    for name, _ in candidates:
        mine = [r for r in rows if r["name"] == name.strip()]
        hits = sum(r in reached for r in mine)
        print(f"{name.strip()}: ≤ {args.target} within {args.minutes:g} min in {hits} of {len(mine)} runs")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.reference:
        keep_references(args.reference, rows, " (half speed)" if args.half_speed else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
