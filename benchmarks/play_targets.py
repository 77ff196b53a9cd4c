"""Playing with the network, measured: the code example's units, and how long each way of acting on a
network takes on this machine (issue 24's targets: a connectivity matrix for 200 characters under 5 s).

    python benchmarks/play_targets.py [--repeats 3]

On the shipped example runs (assets/examples): for example-code, the unit that tracks each code property
best on the first 10,000 characters of its validation text (|Pearson r|); for both examples, the median
seconds of connectivity (200 characters), holding a unit on a text (1,000 characters, read twice) and while
generating (200 characters, twice), beam search (width 8, 200 characters) and a temperature sweep (five
temperatures, 200 characters each). The first call of each (its graph build) is timed apart.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.config import SampleConfig  # noqa: E402
from core.data.corpus import load_corpus  # noqa: E402
from core.data.sources import readable_corpus  # noqa: E402
from core.paths import ROOT  # noqa: E402
from core.runs.store import RunStore  # noqa: E402

CODE_PROPERTIES = ("inside a string (code)", "inside a comment (code)", "bracket depth (code)",
                   "indentation (code)", "inside brackets")  # fmt: skip


def timed(work, repeats: int) -> tuple[float, float]:
    """(seconds of the first call, median seconds of `repeats` more)."""
    start = time.perf_counter()
    work()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def measure(run, repeats: int) -> None:
    """Print the run's code units (example-code) and the seconds of each way of acting on it."""
    from core.inside.connectivity import connectivity
    from core.inside.intervene import Clamp, Clamped
    from core.inside.trace import tracer_for
    from core.inside.units import rank_all
    from core.model.decoding import beam_search, temperature_sweep
    from core.model.sampler import Sampler

    config = run.config()
    tracer, step = tracer_for(run)
    corpus = load_corpus(readable_corpus(config.corpus, ROOT / "runs", "", any_file=True), 0.1)
    text = corpus.vocab.decode(corpus.val_ids[:10_000])
    print(
        f"\n{run.run_id}: {config.model.cell} {config.model.num_layers}x{config.model.state_size}, step {step:,}"
    )
    if run.run_id == "example-code":
        acts, labels = tracer(text).units()
        ranks = rank_all(acts, text, top=1)
        for name in CODE_PROPERTIES:
            best = ranks[name][0]
            said = (
                f"{labels[best.unit]}  r = {best.sign * best.score:+.3f}"
                if best.score > 0
                else "never occurs"
            )
            print(f"  {name:26s} {said}")
    model, vocab = tracer.model, tracer.vocab
    sampler, clamped, unit = Sampler(model, vocab), Clamped(model, vocab), ("layer 1 h 0",)
    cfg = SampleConfig(length=200, prime=text[:20], seed=0)
    jobs = {
        "connectivity, 200 characters": lambda: connectivity(model, vocab, text[:200]),
        "hold a unit, 1,000 characters read twice": lambda: clamped.read(text[:1000], Clamp(unit, 1.0, 100)),
        "hold a unit, 200 generated twice": lambda: clamped.generate(cfg, Clamp(unit, 1.0, 20)),
        "beam search, width 8, 200 characters": lambda: beam_search(sampler, text[:20], 200, 8),
        "temperature sweep, 5 x 200 characters": lambda: temperature_sweep(
            sampler, cfg, (0.2, 0.5, 0.8, 1.0, 1.5)
        ),
    }
    for name, work in jobs.items():
        first, median = timed(work, repeats)
        print(f"  {name:42s} {median:6.2f} s  (first call {first:.2f} s)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    store = RunStore(ROOT / "runs")
    for run_id in ("example-quick", "example-code"):
        measure(store.get(run_id), args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
