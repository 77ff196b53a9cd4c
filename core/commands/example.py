"""Make the example run that ships with the app, so the Inside, Generate and Runs tabs have something
trained to show on first open:

    python -m core.example            # trains the `quick` preset (minutes on 2 cores) into assets/examples/
    python -m core.example --code     # the second example: an LSTM on the code corpus (python-stdlib.txt)

It trains as `python -m core.train --preset quick` does, then keeps the run's files, only its last
checkpoint (the weights, the optimizer state a copy resumes from, the carried state) and only its first
milestone (the weights early on, so the Inside tab can put the example beside itself then), marked
read-only. Every file kept is in git: a milestone is a third of a checkpoint's size.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from core.commands.train import main as train_main
from core.paths import EXAMPLE_ID, EXAMPLES, ROOT
from core.presets import PRESETS
from core.runs.files import write_index
from core.runs.store import RunDir, RunStore

LABEL = "example: the quick preset, trained"
CODE_ID, CODE_LABEL = "example-code", "example: an LSTM on Python's own source (the quick preset's budget)"
CODE_FLAGS = ("--corpus", "assets/python-stdlib.txt", "--cell", "lstm")  # an LSTM: its c holds counts


def make_example(
    out: Path = EXAMPLES,
    preset: str = "quick",
    extra: tuple[str, ...] = (),
    run_id: str = EXAMPLE_ID,
    label: str = LABEL,
) -> RunDir:
    """Train `preset` in a scratch folder, then install it as the read-only example run `out/run_id`."""
    with tempfile.TemporaryDirectory() as scratch:
        # Never sized by speed: the shipped example is the same model on every machine that remakes it.
        code = train_main(["--preset", preset, "--runs-dir", scratch, "--no-size-by-speed", *extra])
        if code != 0:
            raise SystemExit(f"training the example failed (exit code {code}); nothing was installed")
        (trained,) = RunStore(scratch, examples=None).list()
        latest = Path(trained.latest_checkpoint()).name  # "ckpt-1560"
        target = out / run_id
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(trained.path, target, ignore=_older_checkpoints(trained))
    example = RunDir(target)
    write_index(example.checkpoint_dir, [latest])
    config = example.config()
    meta = {**example.meta(), "run_id": run_id, "owner": "", "label": label, "example": True}
    example.save_config(config, meta)
    return example


def _older_checkpoints(run: RunDir):
    """shutil.copytree's ignore: every checkpoint file but the latest one's, every milestone but the first."""
    keep = Path(run.latest_checkpoint()).name

    first = next(iter(run.milestones().values()), None)  # the earliest milestone's path prefix

    def ignore(folder, names):
        if Path(folder) == run.checkpoint_dir:
            return [n for n in names if n.startswith("ckpt-") and not n.startswith(keep + ".")]
        if Path(folder) == run.milestones_dir:
            return [n for n in names if first is None or not n.startswith(Path(first).name + ".")]
        return []

    return ignore


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.example", description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="quick", choices=list(PRESETS))
    parser.add_argument("--out", default=str(EXAMPLES), help="where example runs are kept")
    parser.add_argument("--code", action="store_true", help=f"make {CODE_ID}: {CODE_LABEL}")
    args, extra = parser.parse_known_args(argv)  # anything else goes to core.train (e.g. --max-steps)
    if args.code:
        example = make_example(Path(args.out), args.preset, CODE_FLAGS + tuple(extra), CODE_ID, CODE_LABEL)
    else:
        example = make_example(Path(args.out), args.preset, tuple(extra))
    size = sum(p.stat().st_size for p in example.path.rglob("*") if p.is_file())
    print(f"example run: {example.path.relative_to(ROOT) if example.path.is_relative_to(ROOT) else example.path}"
          f" ({size / 1e6:.1f} MB)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
