"""core.runs.milestones: a run keeps its weights for good at steps 100, 200, 500, ...; what is kept is the
weights as they were at that step, and they are read back as a checkpoint is."""

import dataclasses

import numpy as np
import tensorflow as tf

from core.inside.trace import RunReader, tracer_for
from core.runs import milestones
from core.runs.checkpoints import RunCheckpoint, contents, load_model
from core.runs.store import RunStore
from tests.tiny import TEXT, tiny_config, train

SAMPLE = TEXT[:80]


def test_the_series_and_the_first_save_past_each_step():
    assert milestones.series(5_000) == [100, 200, 500, 1_000, 2_000, 5_000]
    assert milestones.series(99) == []
    assert milestones.crossed(150, 200) and milestones.crossed(0, 100) and milestones.crossed(450, 1_000)
    assert (
        not milestones.crossed(200, 450)
        and not milestones.crossed(0, 99)
        and not milestones.crossed(200, 200)
    )


def test_each_milestone_holds_the_weights_of_its_own_step_and_a_discarded_one_goes(tmp_path):
    weight, slot, step = tf.Variable(0.0), tf.Variable(0.0), tf.Variable(0, dtype=tf.int64)
    entries = {"model/stack/w": weight, "optimizer/m": slot, "step": step}
    saver = RunCheckpoint(entries, tmp_path / "ckpt", milestones=tmp_path / "milestones")
    for n in (60, 120, 180, 240, 300):  # checkpoint_every 60: the saves at 120 and 240 pass 100 and 200
        weight.assign(float(n)), slot.assign(-float(n)), step.assign(n)
        saver.save(n)
    kept = milestones.listed(tmp_path / "milestones")
    assert list(kept) == [120, 240]
    assert set(contents(kept[120])) == {"model/stack/w", "step"}  # the weights only, no optimizer slots
    for n, prefix in kept.items():
        read = tf.Variable(0.0)
        tf.train.Checkpoint(**{"model/stack/w": read}).read(prefix).expect_partial()
        assert read.numpy() == float(n)
    weight.assign(999.0), step.assign(510)
    saver.save(510)  # past 500: kept, then found bad (a diverged step) and discarded with its checkpoint
    assert list(milestones.listed(tmp_path / "milestones")) == [120, 240, 510]
    saver.discard_latest()
    assert list(milestones.listed(tmp_path / "milestones")) == [120, 240]
    assert saver.saved_steps() == [300]


def test_a_run_keeps_milestones_across_a_resume_and_the_reader_reads_any_of_them(tmp_path, corpus_path):
    config = tiny_config(
        corpus_path, epochs=20, max_steps=120, checkpoint_every=60, eval_every=0, sample_every=0
    )
    run_dir = train(RunStore(tmp_path / "runs", examples=None), config).run_dir
    assert list(run_dir.milestones()) == [120]  # the first save at or past step 100
    # The milestone and the run's own checkpoint at step 120 hold the same weights.
    from_milestone, _, step = load_model(run_dir, prefix=run_dir.milestones()[120])
    from_checkpoint, _, latest_step = load_model(run_dir)
    assert step == latest_step == 120
    for a, b in zip(from_milestone.variables, from_checkpoint.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    early = (run_dir.milestones_dir / "step-120.data-00000-of-00001").read_bytes()

    longer = dataclasses.replace(config, train=dataclasses.replace(config.train, max_steps=250))
    train(None, longer, resume_dir=run_dir)  # saves at 180, 240, 250: only 240 passes a milestone (200)
    assert list(run_dir.milestones()) == [120, 240]
    assert (run_dir.milestones_dir / "step-120.data-00000-of-00001").read_bytes() == early

    reader = RunReader(run_dir)
    early_trace, early_step = reader.read(SAMPLE, run_dir.milestones()[120])
    tracer = reader.tracer
    latest, step_latest = reader.read(SAMPLE, run_dir.latest_checkpoint())
    again, _ = reader.read(SAMPLE, run_dir.milestones()[120])
    assert (early_step, step_latest) == (120, 250) and reader.tracer is tracer  # one model, weights swapped
    fresh, _ = tracer_for(run_dir, run_dir.milestones()[120])
    np.testing.assert_allclose(early_trace.probs, fresh(SAMPLE).probs, atol=1e-6)
    np.testing.assert_allclose(again.probs, early_trace.probs, atol=1e-6)
    assert not np.allclose(latest.probs, early_trace.probs, atol=1e-3)  # the later weights are other weights
