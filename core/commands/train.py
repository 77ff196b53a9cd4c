"""CLI: python -m core.train --preset quick [--impl scan --cell lstm ... | --resume RUN]."""

import argparse
import dataclasses
import math
import signal
import sys
import threading
import time

STARTED = time.time()  # before TensorFlow loads: a run's time budget includes its start-up

from core.errors import Refusal, on_interrupt

if __name__ == "__main__":  # Ctrl-C while the imports below load TensorFlow: one line, no traceback
    on_interrupt("before training began; nothing was trained")

from core.catalogue import CELL_CHOICES, IMPL_CHOICES
from core.commands.flags import add_config_flags, config_from_args
from core.config import AUTO, ConfigError, RunConfig
from core.data.sources import builtin_path, is_builtin
from core.presets import PRESET_DESCRIPTIONS, PRESETS
from core.runs.record import RunRecord, Status
from core.runs.rows import EvalRow, Progress, fields_of
from core.runs.store import RunStore
from core.training import probe
from core.training.cluster_env import CONNECT_TIMEOUT_S
from core.training.launch import create_run, fitting_corpus, make_trainer, open_record, record_for, resume_run


def parse_args(argv=None) -> argparse.Namespace:
    epilog = (
        "implementations (--impl):\n"
        + f"  {AUTO}: {probe.DESCRIPTION}\n"
        + IMPL_CHOICES.help(trains_only=True)
        + "\n\ncells (--cell):\n"
        + CELL_CHOICES.help()
        + "\n\npresets (--preset):\n"
        + "\n".join(f"  {k}: {v}" for k, v in PRESET_DESCRIPTIONS.items())
    )
    parser = argparse.ArgumentParser(
        prog="python -m core.train",
        description="Train a character-level RNN.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--preset", choices=list(PRESETS), help="start from a named setting")
    parser.add_argument(
        "--corpus", help="a UTF-8 text file (default: the project's assets/tinyshakespeare.txt)"
    )
    parser.add_argument("--runs-dir", default="runs", help="where run folders are kept (default: runs)")
    parser.add_argument(
        "--resume",
        metavar="RUN",
        help="continue a run (its id or folder path) from its latest "
        "checkpoint; flags such as --epochs or --max-steps extend it",
    )
    parser.add_argument(
        "--connect-timeout-s",
        type=float,
        default=CONNECT_TIMEOUT_S,
        help="--strategy multi-worker: how long this worker waits for the others to start and connect "
        f"before it exits (default: {CONNECT_TIMEOUT_S:.0f})",
    )
    add_config_flags(parser)
    return parser.parse_args(argv)


class ProgressPrinter:
    """A RunRecord listener that draws a one-line progress bar and prints the post's epoch lines."""

    def __init__(self, out=sys.stdout):
        self.out = out

    def __call__(self, event: dict) -> None:
        kind = event["kind"]
        p = Progress.from_json(fields_of(event)) if kind == "progress" else None
        if p is not None and p.total_steps:  # a step's progress (a finishing run's few fields: not drawn)
            done = p.done if p.done is not None else p.step / p.total_steps
            bar = "#" * int(done * 30)
            self.out.write(
                f"\r[{bar:<30}] step {p.step}/{p.total_steps}  epoch {p.epoch}"
                f"  {p.chars_per_s:,.0f} chars/s  elapsed {p.elapsed_s:.0f}s"
                f"  ETA {p.eta_s:.0f}s "
            )
        elif kind == "eval":
            row = EvalRow.from_json(fields_of(event))
            self.out.write(
                f"\nvalidation loss at step {row.step}: {row.val_loss:.3f} nats/char "
                f"({row.val_bits:.3f} bits/char)\n"
            )
        elif kind == "log":
            self.out.write("\n" + event["line"] + "\n")
        elif kind == "timing":
            self.out.write(
                "".join(f"{k.replace('_s', '')}: {v:.2f} s\n" for k, v in event.items() if k != "kind")
            )
        elif kind == "probe":
            self.out.write(f"\nimplementation: {probe.Probe.from_dict(event).summary()}\n")
        elif kind == "status" and event.get("message"):
            self.out.write(f"\n{event['status']}: {event['message']}\n")
        self.out.flush()


def new_config(args) -> RunConfig:
    """A new run's config from the flags; without --corpus, the project's own corpus wherever the command
    runs from (core.data.sources.builtin_path: relative in the checkout, as configs record it)."""
    config = config_from_args(args)
    if args.corpus is None and is_builtin(config.corpus):
        config = dataclasses.replace(config, corpus=builtin_path())
    return config


def prepare(args) -> tuple:
    """(run folder, resume, corpus) for a new or resumed run, checked (core.training.launch); errors are
    readable."""
    store = RunStore(args.runs_dir)
    if args.resume is None:
        run_dir, corpus = create_run(store, new_config(args), owner="cli")
        return run_dir, False, corpus
    run_dir = store.find(args.resume)  # --resume "" names no run: refused, not a new run
    saved = run_dir.config()
    args.preset, args.corpus = None, args.corpus or saved.corpus
    return run_dir, True, resume_run(run_dir, config_from_args(args, base=saved))


def main(argv=None) -> int:
    try:
        return train(parse_args(argv))
    except KeyboardInterrupt:  # Ctrl-C before training began (TensorFlow loading, the corpus, the build)
        print("\ninterrupted before training began; nothing was trained", file=sys.stderr)
        return 130


def connect(args) -> tuple[int, object]:
    """(this worker's index, its Replicas) for a multi-worker run, connected to the other workers before
    anything else touches TensorFlow (and before the chief makes a run folder); (0, None) otherwise."""
    if not (math.isfinite(args.connect_timeout_s) and args.connect_timeout_s > 0):
        raise ConfigError(
            f"--connect-timeout-s must be a positive number of seconds, got {args.connect_timeout_s}"
        )
    base = RunStore(args.runs_dir).find(args.resume).config() if args.resume is not None else None
    tc = config_from_args(args, base=base).train
    if tc.strategy != "multi-worker":
        return 0, None
    from core.training.replicas import cluster_spec, make_replicas  # TensorFlow: not for --help

    index, workers = cluster_spec()
    print(
        f"worker {index} of {workers}: waiting for the others to connect; this worker exits (code 1) if "
        f"they have not all connected within {args.connect_timeout_s:.0f} s (--connect-timeout-s)",
        flush=True,
    )
    return index, make_replicas(tc, args.connect_timeout_s)


def prepare_worker(args, index: int, replicas):
    """A multi-worker run's other workers (index > 0) write nothing: the chief keeps the run folder. They
    read the same config and corpus, and on resume the same checkpoint and record (so every worker judges
    the run's losses alike), from the run folder (on a filesystem every host sees)."""
    from core.training.trainer import Trainer

    if args.resume is not None:
        run_dir = RunStore(args.runs_dir).find(args.resume)
        config = config_from_args(args, base=run_dir.config())
        record = record_for(run_dir, True)  # not subscribed to the folder's writer: read, never written
    else:
        run_dir, config = None, new_config(args)
        record = RunRecord(f"worker-{index}", config.to_dict())
    corpus = fitting_corpus(config)
    resume = run_dir is not None
    return Trainer(
        config, corpus, record, run_dir, resume, tensorboard=False, started=STARTED, replicas=replicas
    )


def train(args) -> int:
    try:
        index, replicas = connect(args)
        if index:
            return train_worker(args, index, replicas)
        run_dir, resume, corpus = prepare(args)
        record = open_record(run_dir, resume, ProgressPrinter())
        trainer = make_trainer(run_dir, record, resume, corpus, started=STARTED, replicas=replicas)
    except (Refusal, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a runs folder that cannot be written, a full disk
        print(f"error: cannot write the run's files: {err.strerror} ({err.filename})", file=sys.stderr)
        return 2
    model, corpus = trainer.config.model, trainer.corpus
    print(
        f"run {run_dir.run_id}: {model.num_layers}-layer {model.cell}, {model.impl}, {corpus.size:,} characters, "
        f"vocabulary {len(corpus.vocab)}"
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C stops between steps and keeps the checkpoint
    snap = trainer.run(stop)
    print(f"\nrun folder: {run_dir.path}")
    return 0 if snap.status in (Status.FINISHED, Status.STOPPED) else 1


def train_worker(args, index: int, replicas) -> int:
    """Train as worker `index` of a multi-worker run: the chief's steps, its stop and its clock; one line
    at the end."""
    trainer = prepare_worker(args, index, replicas)
    stop = threading.Event()  # set by Ctrl-C in the launcher's terminal, but the chief's decides
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    snap = trainer.run(stop)
    ok = snap.status in (Status.FINISHED, Status.STOPPED)
    print(f"worker {index}: {snap.status}: {snap.message}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
