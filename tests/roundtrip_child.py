"""Child process for tests/test_checkpoints.py: `train` or `restore` run folders, writing what it found.

    python -m tests.roundtrip_child train RUNS_DIR CORPUS CASES_JSON   -> one trained run per case
    python -m tests.roundtrip_child restore RUN_PATHS_JSON              -> what a fresh process restores

Each run folder gets `<mode>.npz` (every checkpoint entry's value) and `<mode>.json` (the loss on
fixed validation windows; for restore, the sampler's weights too), so the test compares files.
"""

import json
import sys
from pathlib import Path

import numpy as np

from core.config import ModelConfig, RunConfig, TrainConfig
from core.data.corpus import load_corpus
from core.runs.checkpoints import load_for_sampling, model_entries
from core.runs.record import RunRecord
from core.runs.store import RunDir, RunStore
from core.training.clock import Clock
from core.training.trainer import Trainer

EVAL_WINDOWS = 2


def case_config(corpus: str, cell: str, impl: str, layers: int) -> RunConfig:
    """A few steps of a small model; 3 layers train with dropout, so masks are drawn on the way."""
    return RunConfig(
        model=ModelConfig(
            cell=cell, impl=impl, num_layers=layers, state_size=8, dropout=0.2 if layers > 1 else 0.0
        ),
        train=TrainConfig(
            batch_size=4,
            num_steps=6,
            max_steps=3,
            learning_rate=1e-2,
            eval_every=0,
            eval_batches=EVAL_WINDOWS,
            sample_every=0,
            checkpoint_every=0,
            seed=5,
        ),
        corpus=corpus,
    )


def write(trainer: Trainer, mode: str, **extra) -> None:
    """Every checkpoint entry's value, and the loss on the first validation windows from a zero state."""
    path = trainer.run_dir.path
    np.savez(
        path / f"{mode}.npz", **{name: v.numpy() for name, v in trainer.saver.checkpoint.entries.items()}
    )
    (path / f"{mode}.json").write_text(json.dumps({"val_loss": trainer.evaluate(0), **extra}))


def train(runs_dir: str, corpus: str, cases: list) -> None:
    store = RunStore(runs_dir)
    for case in cases:
        config = case_config(corpus, *case)
        data = load_corpus(config.corpus, config.train.val_fraction)
        run_dir = store.create(config, data.vocab, label="-".join(map(str, case)))
        record = RunRecord(run_dir.run_id, config.to_dict())
        record.subscribe(run_dir.writer())
        trainer = Trainer(config, data, record, run_dir)
        snap = trainer.run()
        if snap.status != "finished":
            raise SystemExit(f"{case}: {snap.message}\n{snap.error}")
        write(
            trainer,
            "trained",
            variables=sorted(v.path for v in trainer.model.variables),
            trainable=len(trainer.model.trainable_variables),
        )


def restore(paths: list) -> None:
    for path in paths:
        run_dir = RunDir(Path(path))
        config = run_dir.config()
        data = load_corpus(config.corpus, config.train.val_fraction)
        trainer = Trainer(config, data, RunRecord(run_dir.run_id, config.to_dict()), run_dir, resume=True)
        trainer.setup()  # the resume path: every entry, verified, or an exception
        trainer.clock = Clock(0.0, 1)
        sampler, step = load_for_sampling(run_dir)
        np.savez(
            run_dir.path / "sampler.npz", **{k: v.numpy() for k, v in model_entries(sampler.model).items()}
        )
        write(trainer, "restored", sampler_step=step)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "train":
        train(args[0], args[1], json.loads(args[2]))
    else:
        restore(json.loads(args[0]))
