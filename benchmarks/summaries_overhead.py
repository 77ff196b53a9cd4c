"""What TensorBoard's event files cost a training run: the quick preset trained with and without them.

    python benchmarks/summaries_overhead.py [--steps 200] [--rounds 2]

Each round trains the quick preset for --steps steps twice in this process, with event files and
without, in alternating order (a noisy minute hurts both alike); throughput is characters per second of
training time (the graph build excluded, evaluations, samples and histograms included). Prints each run
and the median ratio.
"""

import argparse
import dataclasses
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data.corpus import load_corpus  # noqa: E402
from core.presets import PRESETS  # noqa: E402
from core.runs.record import RunRecord  # noqa: E402
from core.runs.store import RunStore  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402


def throughput(config, corpus, tensorboard: bool) -> float:
    """Characters per second of training time for one run."""
    run_dir = RunStore(tempfile.mkdtemp(), examples=None).create(config, corpus.vocab)
    record = RunRecord(run_dir.run_id, config.to_dict())
    snap = Trainer(config, corpus, record, run_dir, tensorboard=tensorboard).run()
    assert snap.status == "finished", snap.message
    steps, seconds = snap.progress.step, snap.progress.elapsed_s
    return steps * config.train.batch_size * config.train.num_steps / seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    quick = PRESETS["quick"]
    config = dataclasses.replace(quick, train=dataclasses.replace(quick.train, max_steps=args.steps))
    config = dataclasses.replace(config, corpus=str(ROOT / "assets" / "tinyshakespeare.txt"))
    corpus = load_corpus(config.corpus, config.train.val_fraction)
    rates = {True: [], False: []}
    for i in range(args.rounds):
        for tensorboard in (True, False) if i % 2 == 0 else (False, True):
            rates[tensorboard].append(throughput(config, corpus, tensorboard))
            print(
                f"round {i + 1}, event files {'on ' if tensorboard else 'off'}: {rates[tensorboard][-1]:,.0f} chars/s"
            )
    ratio = statistics.median(rates[True]) / statistics.median(rates[False])
    print(f"with event files / without: {ratio:.3f} (cost {1 - ratio:+.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
