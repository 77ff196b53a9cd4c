"""Export a run as a TensorFlow SavedModel that needs nothing of this project:

    python -m core.export --run RUN --out DIR

What it holds (its two signatures, the vocabulary) and how it is written: core/runs/export.py. The folder
must be new or empty: nothing is ever written over or merged into.
"""

import argparse
import sys
from pathlib import Path

import tensorflow as tf

from core.errors import Refusal, on_interrupt
from core.runs.export import export
from core.runs.store import RunStore


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="the run's id or folder path")
    parser.add_argument(
        "--out", required=True, help="the folder to write the SavedModel into: a new one, or an empty one"
    )
    parser.add_argument("--runs-dir", default="runs")
    args = parser.parse_args(argv)
    try:
        run_dir = RunStore(args.runs_dir).find(args.run)
        step = export(run_dir, Path(args.out))
    except Refusal as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk, or a folder changed under us since it was checked
        print(f"error: cannot write the SavedModel: {err.strerror} ({err.filename})", file=sys.stderr)
        return 2
    except tf.errors.OpError as err:  # the same, met by TensorFlow's own file system
        print(f"error: cannot write the SavedModel: {err.message.splitlines()[0]}", file=sys.stderr)
        return 2
    print(f"exported {run_dir.run_id} (weights from step {step:,}) to {args.out}")
    return 0


if __name__ == "__main__":
    on_interrupt("before the export was written")
    sys.exit(main())
