"""Child process for tests/test_distribute.py: the same steps with no strategy and with 2 mirrored replicas.

    python -m tests.distribute_child CORPUS IMPL OPTIMIZER CLIP_NORM   -> JSON on stdout: per strategy, each step's
                                                                loss and gradient norm, and the weights after

A process of its own: the mirrored strategy needs its 2 logical CPU devices before TensorFlow starts.
"""

import dataclasses
import json
import sys

from core.training.replicas import logical_cpus

logical_cpus(2)  # before anything else touches TensorFlow

from core.data.batches import batch_iterator  # noqa: E402
from core.data.corpus import load_corpus  # noqa: E402
from core.runs.record import RunRecord  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402
from tests.tiny import tiny_config  # noqa: E402

STEPS = 4


def steps(config, corpus) -> dict:
    trainer = Trainer(config, corpus, RunRecord("t", config.to_dict()), tensorboard=False)
    trainer.setup()
    state, losses, norms = trainer.state, [], []
    batches = batch_iterator(corpus.train_ids, config.train.batch_size, config.train.num_steps)
    for _ in range(STEPS):
        x, y = next(batches)
        took = trainer.steps.take(config.model.impl, x, y, state)
        state = took.state
        losses.append(float(took.loss))
        norms.append(float(took.grad_norm))
    weights = [v.numpy().tolist() for v in trainer.model.trainable_variables]
    return {"losses": losses, "norms": norms, "weights": weights, "replicas": trainer.replicas.n}


def main(corpus_path: str, impl: str, optimizer: str, clip_norm: str) -> None:
    base = tiny_config(corpus_path, impl=impl, optimizer=optimizer, batch_size=8, clip_norm=float(clip_norm))
    corpus = load_corpus(base.corpus, base.train.val_fraction)
    out = {}
    for strategy, n in (("none", 1), ("mirrored", 2)):
        config = dataclasses.replace(
            base, train=dataclasses.replace(base.train, strategy=strategy, replicas=n)
        )
        out[strategy] = steps(config, corpus)
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
