"""Resume is exact, sampling uses the trained weights, and a checkpoint that lacks weights is refused.

Old run folders (written before checkpoints held the recurrent layers) are made here the way that
version wrote them: tf.train.Checkpoint(model=..., optimizer=..., step=...), which Keras 3's
TrackedList of cells kept out of the file.
"""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from core.model.char_rnn import CharRNN
from core.model.sampler import SampleError, Sampler
from core.presets import PRESETS
from core.runs import checkpoints
from core.runs.checkpoints import (
    LEGACY_WEIGHTS,
    NO_RECURRENT_WEIGHTS,
    CheckpointMismatch,
    RunCheckpoint,
    contents,
    load_for_sampling,
    model_entries,
)
from core.runs.store import RunStore
from core.training.trainer import Trainer
from tests import tiny
from tests.tiny import tiny_config, write_corpus

ROOT = Path(__file__).resolve().parents[1]


def train(store, config, resume_dir=None) -> Trainer:
    trainer = tiny.train(store, config, resume_dir)
    snap = trainer.record.snapshot()
    assert snap.status == "finished", f"{snap.message}\n{snap.error}"
    return trainer


def with_train(config, **changes):
    return dataclasses.replace(config, train=dataclasses.replace(config.train, **changes))


def test_resume_is_exact_across_an_epoch_end_and_mid_epoch(tmp_path):
    """40 steps straight equal 20 steps, a resume, and 20 more: losses, optimizer count, learning rate."""
    # 8 × 32 characters a batch: an epoch of the tiny corpus is 17 batches, so the resume at step 20
    # re-enters epoch 2 mid-way (the carried state and the decayed learning rate both matter).
    config = tiny_config(
        write_corpus(tmp_path),
        batch_size=8,
        num_steps=32,
        epochs=3,
        max_steps=40,
        lr_decay=0.5,
        eval_every=10,
        sample_every=0,
        checkpoint_every=0,
    )
    straight = train(RunStore(tmp_path / "a"), config)
    store = RunStore(tmp_path / "b")
    first = train(store, with_train(config, max_steps=20))
    assert 1 < first.batches_per_epoch < 20
    resumed = train(store, config, resume_dir=first.run_dir)

    losses = [m.train_loss for m in straight.record.snapshot().metrics]
    again = [m.train_loss for m in resumed.record.snapshot().metrics]
    assert len(losses) == len(again) == 40
    np.testing.assert_allclose(again, losses, rtol=1e-5)
    vals = [e.val_loss for e in straight.record.snapshot().evals]
    np.testing.assert_allclose([e.val_loss for e in resumed.record.snapshot().evals], vals, rtol=1e-5)
    assert int(resumed.optimizer.iterations.numpy()) == int(straight.optimizer.iterations.numpy()) == 40
    epochs_begun = 40 // straight.batches_per_epoch  # the rate set at the start of the last epoch
    expected_lr = config.train.learning_rate * config.train.lr_decay**epochs_begun
    assert float(resumed.optimizer.learning_rate.numpy()) == pytest.approx(expected_lr)
    assert float(straight.optimizer.learning_rate.numpy()) == pytest.approx(expected_lr)


def per_char_loss(sampler, text: str) -> float:
    """Mean next-character loss over `text`, fed one character at a time through the sampler's step."""
    ids = sampler.vocab.encode(text)
    state, total = sampler.model.zero_state(1), 0.0
    for now, nxt in zip(ids[:-1], ids[1:]):
        logits, state = sampler._step(tf.constant([now], tf.int32), state)
        total -= float(tf.nn.log_softmax(logits[0])[nxt])
    return total / (len(ids) - 1)


def test_the_sampler_uses_the_trained_weights(tmp_path):
    """A quick-preset-shaped model (1-layer GRU), trained briefly: its restored sampler predicts the
    validation text better than the same model at initialisation."""
    quick = PRESETS["quick"]
    config = dataclasses.replace(
        tiny_config(write_corpus(tmp_path), max_steps=60, sample_every=0),
        model=dataclasses.replace(quick.model, state_size=32),
    )
    trainer = train(RunStore(tmp_path / "runs"), config)
    sampler, step = load_for_sampling(trainer.run_dir)
    assert step == 60
    fresh = CharRNN(config.model, len(trainer.corpus.vocab), seed=config.train.seed)
    text = trainer.corpus.vocab.decode(trainer.corpus.val_ids[:300])
    trained_loss = per_char_loss(sampler, text)
    initial_loss = per_char_loss(Sampler(fresh, trainer.corpus.vocab), text)
    assert trained_loss < 0.6 * initial_loss, (trained_loss, initial_loss)


def old_layout_run(tmp_path, keep=("model", "optimizer", "step")):
    """A run folder whose checkpoint is laid out as the earlier version wrote it (tf.train.Checkpoint
    of the objects named in `keep`), and the trainer that trained it."""
    config = tiny_config(write_corpus(tmp_path), max_steps=4, sample_every=0)
    trainer = train(RunStore(tmp_path / "runs"), config)
    run_dir = trainer.run_dir
    for path in run_dir.checkpoint_dir.iterdir():
        path.unlink()
    objects = {name: getattr(trainer, name) for name in keep}
    tf.train.CheckpointManager(tf.train.Checkpoint(**objects), str(run_dir.checkpoint_dir), 2).save(4)
    return run_dir, trainer


def test_an_old_checkpoint_is_read_through_its_optimizer_and_equals_what_trained(tmp_path):
    run_dir, trainer = old_layout_run(tmp_path)
    held = contents(run_dir.latest_checkpoint())
    # What that version wrote: no model/stack entries, every weight in the optimizer's list.
    assert not any(name.startswith("model/stack") for name in held)
    assert len([n for n in held if n.startswith(LEGACY_WEIGHTS)]) == len(trainer.model.trainable_variables)
    assert checkpoints.problem(run_dir) is None
    sampler, step = load_for_sampling(run_dir)
    assert step == 4
    for mine, theirs in zip(sampler.model.variables, trainer.model.variables):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.path)

    config = with_train(run_dir.config(), max_steps=8)
    resumed = Trainer(config, trainer.corpus, run_dir.load_record(), run_dir, resume=True)
    resumed.setup()
    assert int(resumed.step.numpy()) == int(resumed.optimizer.iterations.numpy()) == 4
    for mine, theirs in zip(
        resumed.model.variables + resumed.optimizer.variables,
        trainer.model.variables + trainer.optimizer.variables,
    ):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.path)
    assert resumed.run().status == "finished"
    assert (
        resumed.saver.checkpoint.restore(run_dir.latest_checkpoint()) is False
    )  # saved in the new layout now


def test_a_checkpoint_without_recurrent_weights_is_recognised_and_never_used(tmp_path):
    run_dir, trainer = old_layout_run(tmp_path, keep=("model", "step"))  # the walk from the model alone
    assert checkpoints.problem(run_dir) == NO_RECURRENT_WEIGHTS
    with pytest.raises(SampleError, match="holds no recurrent weights"):
        load_for_sampling(run_dir)
    config = with_train(run_dir.config(), max_steps=8)
    snap = Trainer(config, trainer.corpus, run_dir.load_record(), run_dir, resume=True).run()
    assert snap.status == "failed" and "holds no recurrent weights" in snap.message
    assert len(snap.metrics) == 4  # its metrics are kept
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["core.sample", "--run", run_dir.run_id], ["core.train", "--resume", run_dir.run_id]):
        out = subprocess.run(
            [sys.executable, "-m", *args, "--runs-dir", str(run_dir.path.parent)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 2, out.stderr
        assert "holds no recurrent weights" in out.stderr and "Traceback" not in out.stderr


def test_a_checkpoint_of_another_model_is_refused_naming_what_is_missing(tmp_path):
    trainer = train(
        RunStore(tmp_path / "runs"), tiny_config(write_corpus(tmp_path), max_steps=2, sample_every=0)
    )
    prefix = trainer.run_dir.latest_checkpoint()
    deeper = dataclasses.replace(trainer.config.model, num_layers=2)
    with pytest.raises(CheckpointMismatch, match="lacks 3 variable.*model/stack/layer_2/kernel"):
        RunCheckpoint(model_entries(CharRNN(deeper, len(trainer.corpus.vocab)))).restore(prefix)
    wider = dataclasses.replace(trainer.config.model, state_size=24)
    with pytest.raises(
        CheckpointMismatch, match=r"of another shape: .*\[16, 48\] \(the model's is \[24, 72\]\)"
    ):
        RunCheckpoint(model_entries(CharRNN(wider, len(trainer.corpus.vocab)))).restore(prefix)


def test_a_resume_that_changes_the_data_walk_is_refused(tmp_path):
    trainer = train(
        RunStore(tmp_path / "runs"), tiny_config(write_corpus(tmp_path), max_steps=2, sample_every=0)
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.train",
            "--runs-dir",
            str(trainer.run_dir.path.parent),
            "--resume",
            trainer.run_dir.run_id,
            "--batch-size",
            "8",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "keeps its batch_size" in out.stderr, out.stderr
