"""Kill a training run at random moments, N times, and check after each kill that its folder is whole;
with --damaged-files, also damage every kind of file of a run and check that nothing breaks
(benchmarks/damaged_files.py says how).

    python benchmarks/fault_injection.py [--kills 20] [--seed 0] [--damaged-files]

One small run (a GRU on 30,000 characters of Shakespeare, a checkpoint every 5 steps) is started, then
resumed again and again with `python -m core.train`, each process SIGKILLed after a random 0.5–15 s: while
TensorFlow loads, while the graph builds, mid-step, mid-checkpoint, mid-line. After every kill:
- every line of metrics.jsonl and samples.jsonl parses, but for a last line the kill cut short (the next
  resume cuts it off), and status.json parses;
- the record rebuilt from the folder has unique, increasing steps;
- the latest checkpoint loads every weight, all finite, and holds the step its file is named after.
Finally the run is resumed to its end and checked once more. Prints one line per kill and a summary.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.runs.store import RunDir, RunStore  # noqa: E402

SMALL = ["--cell", "gru", "--state-size", "32", "--batch-size", "8", "--num-steps", "32", "--epochs", "20",
         "--max-steps", "4000", "--checkpoint-every", "5", "--eval-every", "20", "--eval-batches", "2",
         "--sample-every", "20", "--sample-length", "40"]  # fmt: skip


def problems(run: RunDir) -> list[str]:
    """What is wrong with the folder (empty: nothing)."""
    found = []
    for name in ("metrics.jsonl", "samples.jsonl"):
        path = run.path / name
        lines = path.read_text(encoding="utf-8").split("\n") if path.exists() else []
        for i, line in enumerate(lines[:-1]):  # the part after the last newline may be cut short
            try:
                json.loads(line)
            except json.JSONDecodeError:
                found.append(f"{name} line {i + 1} does not parse")
    try:
        run.status()
    except json.JSONDecodeError:
        found.append("status.json does not parse")
    steps = [m.step for m in run.load_record().snapshot().metrics]
    if steps != sorted(set(steps)):
        found.append("the record's steps repeat or go back")
    if run.has_checkpoint():
        found += checkpoint_problems(run)
    return found


def checkpoint_problems(run: RunDir) -> list[str]:
    import numpy as np

    from core.runs.checkpoints import load_model

    try:
        model, _, step = load_model(run)
    except Exception as err:  # the point of the script: report, never stop
        return [f"the checkpoint does not load: {err}"]
    named = int(run.latest_checkpoint().rsplit("-", 1)[1])
    found = [] if step == named else [f"the checkpoint named {named} holds step {step}"]
    if not all(np.isfinite(v.numpy()).all() for v in model.variables):
        found.append("the checkpoint holds weights that are not finite")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--damaged-files", action="store_true", help="then damage every kind of run file")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fault-injection-"))
    failures = kills(args, folder) if args.kills > 0 else 0
    if args.damaged_files:
        import damaged_files

        failures += damaged_files.main(folder / "damaged")
    return 1 if failures else 0


def kills(args, folder: Path) -> int:
    """The kill phase: how many folders were found damaged (or processes that ended on their own)."""
    rng = random.Random(args.seed)
    corpus = folder / "corpus.txt"
    corpus.write_text((ROOT / "assets" / "tinyshakespeare.txt").read_text(encoding="utf-8")[:30_000])
    runs = folder / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "core.train", "--runs-dir", str(runs)]
    failures = 0
    for kill in range(1, args.kills + 1):
        existing = RunStore(runs, examples=None).list()
        flags = ["--resume", existing[0].run_id] if existing else ["--corpus", str(corpus), *SMALL]
        process = subprocess.Popen(command + flags, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        delay = rng.uniform(0.5, 15.0)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate()
        (run,) = RunStore(runs, examples=None).list()
        found = problems(run)
        failures += bool(found)
        step = run.status().get("progress", {}).get("step", 0)
        print(f"kill {kill:>2} after {delay:.1f} s: recorded step {step}, checkpoint "
              f"{run.latest_checkpoint() and Path(run.latest_checkpoint()).name}; "
              + ("; ".join(found) if found else "whole"), flush=True)  # fmt: skip
        if process.returncode not in (-signal.SIGKILL, 0) or "Traceback" in err:
            print(f"  the process ended on its own: exit {process.returncode}\n{err[-2000:]}", flush=True)
            failures += 1
    (run,) = RunStore(runs, examples=None).list()
    final = subprocess.run(
        command + ["--resume", run.run_id], cwd=ROOT, env=env, capture_output=True, text=True
    )
    found = problems(run)
    steps = [m.step for m in run.load_record().snapshot().metrics]
    print(f"resumed to the end: exit {final.returncode}, status {run.status()['status']}, steps "
          f"{steps[0]}..{steps[-1]} ({len(steps)} rows, each once); " + ("; ".join(found) or "whole"))  # fmt: skip
    failures += bool(found) or final.returncode != 0
    print(f"{args.kills} kills, {failures} folders found damaged")
    return failures


if __name__ == "__main__":
    sys.exit(main())
