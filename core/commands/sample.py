"""CLI: python -m core.sample --run RUN --prime TEXT --length N --temperature T --top-k K --seed S."""

import argparse
import dataclasses
import sys

from core.config import SampleConfig
from core.errors import Refusal
from core.runs.store import RunStore


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m core.sample", description="Generate text from a trained run."
    )
    parser.add_argument(
        "--run", required=True, help="the run: its id (its folder's name) or its folder's path"
    )
    parser.add_argument("--runs-dir", default="runs", help="where run folders are kept (default: runs)")
    for f in dataclasses.fields(SampleConfig):
        flag = f"--{f.name.replace('_', '-')}"
        if f.type is bool or isinstance(f.default, bool):
            parser.add_argument(flag, dest=f.name, action="store_true", help=f.metadata["help"])
        else:
            parser.add_argument(
                flag,
                dest=f.name,
                type=type(f.default),
                default=f.default,
                help=f"{f.metadata['help']} (default {f.default!r})",
            )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = False  # once text is on the screen, an error starts on a line of its own
    try:
        cfg = SampleConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(SampleConfig)})
        run_dir = RunStore(args.runs_dir).find(args.run)
        # TensorFlow only once the arguments are good
        from core.runs.checkpoints import load_for_sampling, usable

        sampler, step = load_for_sampling(run_dir)
        note = usable(run_dir).note()
        if note:
            print(f"note: run {run_dir.run_id}'s {note}", file=sys.stderr)
        sys.stdout.write(cfg.prime)
        started = True
        for char in sampler.stream(cfg):
            sys.stdout.write(char)
            sys.stdout.flush()
    except Refusal as err:  # a bad setting, run or prime, or a model whose outputs are not finite
        print(f"{chr(10) if started else ''}error: {err}", file=sys.stderr)
        return 2
    print(f"\n\n(run {run_dir.run_id}, checkpoint at step {step})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
