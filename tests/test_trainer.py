"""The trainer: loss falls, runs reproduce, checkpoints resume, and stop / pause / divergence are reported."""

import dataclasses
import re
import threading
import time

import numpy as np
import pytest

from core.data.corpus import load_corpus
from core.runs.record import RunRecord
from core.runs.rows import MetricRow
from core.runs.store import RunStore
from core.training.trainer import Trainer
from tests import tiny
from tests.tiny import TEXT, tiny_config, write_corpus


def train(tmp_path, config, stop=None, pause=None, store=None, resume_dir=None):
    """(final snapshot, run folder) of a tiny run, trained as the CLI trains it."""
    trainer = tiny.train(store or RunStore(tmp_path / "runs"), config, resume_dir, stop, pause)
    return trainer.record.snapshot(), trainer.run_dir


def test_loss_falls_on_a_tiny_corpus(tmp_path, corpus_path):
    snap, _ = train(tmp_path, tiny_config(corpus_path, max_steps=60))
    assert snap.status == "finished", snap.message
    losses = [m.train_loss for m in snap.metrics]
    assert len(losses) == 60
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:5])
    assert snap.evals[-1].val_loss < snap.evals[0].val_loss
    assert [s.step for s in snap.samples] == [0, 10, 20, 30, 40, 50, 60]  # 0: the untrained network
    assert snap.timings.trace_s > 0 and snap.timings.first_call_s > 0


def test_same_seed_same_losses(tmp_path, corpus_path):
    config = tiny_config(corpus_path, max_steps=8, sample_every=0)
    a, _ = train(tmp_path, config)
    b, _ = train(tmp_path, config)
    assert [m.train_loss for m in a.metrics] == [m.train_loss for m in b.metrics]


def test_epoch_line_and_multi_epoch(tmp_path, corpus_path):
    config = tiny_config(corpus_path, max_steps=0, epochs=2, batch_size=8, num_steps=32)
    snap, _ = train(tmp_path, config)
    assert [e.epoch for e in snap.epochs] == [1, 2]
    assert snap.log[0].startswith("Average training loss for Epoch 1 : ")
    assert snap.progress.step == snap.progress.total_steps


def test_resume_continues_the_step_count_and_the_curves(tmp_path, corpus_path):
    config = tiny_config(corpus_path, max_steps=12)
    first, run_dir = train(tmp_path, config)
    assert run_dir.has_checkpoint()
    longer = dataclasses.replace(config, train=dataclasses.replace(config.train, max_steps=20))
    second, _ = train(tmp_path, longer, resume_dir=run_dir)
    assert second.status == "finished"
    assert [m.step for m in second.metrics] == list(range(1, 21))
    assert second.metrics[:12] == first.metrics  # the first part of the curve is the saved one
    reloaded = run_dir.load_record().snapshot()
    assert len(reloaded.metrics) == 20 and reloaded.status == "finished"


def test_stop_keeps_a_checkpoint(tmp_path, corpus_path):
    stop = threading.Event()
    config = tiny_config(corpus_path, max_steps=1000, checkpoint_every=0)
    corpus = load_corpus(config.corpus)
    run_dir = RunStore(tmp_path / "runs").create(config, corpus.vocab)
    record = RunRecord(run_dir.run_id, config.to_dict())
    record.subscribe(lambda e: stop.set() if e["kind"] == "metric" and e["step"] == 5 else None)
    snap = Trainer(config, corpus, record, run_dir).run(stop)
    assert snap.status == "stopped" and "step 5" in snap.message
    assert run_dir.has_checkpoint()


def test_pause_then_resume(tmp_path, corpus_path):
    stop, pause = threading.Event(), threading.Event()
    statuses = []

    def listener(event):
        if event["kind"] == "status":
            statuses.append(event["status"])
            if event["status"] == "paused":
                threading.Timer(0.2, pause.clear).start()
        if event["kind"] == "metric" and event["step"] == 3:
            pause.set()

    config = tiny_config(corpus_path, max_steps=6, sample_every=0)
    corpus = load_corpus(config.corpus)
    record = RunRecord("r", config.to_dict())
    record.subscribe(listener)
    snap = Trainer(config, corpus, record).run(stop, pause)
    assert snap.status == "finished"
    assert statuses == ["building", "training", "paused", "training", "finished"]


def test_samples_come_at_early_log_spaced_steps_and_at_the_end(tmp_path, corpus_path):
    snap, _ = train(tmp_path, tiny_config(corpus_path, epochs=2, max_steps=67, sample_every=50))
    assert [s.step for s in snap.samples] == [0, 10, 30, 50, 67]  # 100 would be next, then every 50
    assert all(len(s.text) == 21 for s in snap.samples)  # the prime and sample_length characters


def test_a_pause_spends_none_of_the_time_budget(tmp_path, corpus_path, monkeypatch):
    """Paused for ten minutes on the budget's clock, a run with a one-minute budget still trains every
    step after it, and its wall clock leaves the pause out."""
    from core.training import budget

    skipped = [0.0]
    monkeypatch.setattr(budget, "now", lambda: time.monotonic() + skipped[0])
    stop, pause = threading.Event(), threading.Event()

    def explained():  # ten minutes pass while the teacher explains, then Resume
        skipped[0] += 600.0
        pause.clear()

    def listener(event):
        if event["kind"] == "metric" and event["step"] == 3:
            pause.set()
        if event["kind"] == "status" and event["status"] == "paused":
            threading.Timer(0.1, explained).start()

    config = tiny_config(corpus_path, max_steps=20, max_minutes=1.0, sample_every=0)
    record = RunRecord("r", config.to_dict())
    record.subscribe(listener)
    snap = Trainer(config, load_corpus(config.corpus), record).run(stop, pause)
    assert snap.status == "finished" and "time budget" not in snap.message, snap.message
    assert snap.progress.step == 20 and snap.progress.wall_s < 60


def test_an_exploding_loss_is_divergence_and_only_weights_with_a_finite_loss_are_kept(tmp_path, corpus_path):
    """SGD at lr 50 on this tiny model: the loss rises past 3× its first within a few steps. The checkpoint
    saved just before (its weights gave that loss) is dropped; the one kept is named, its loss is finite,
    and the run continues from it at a lower learning rate."""
    config = tiny_config(corpus_path, max_steps=30, learning_rate=50.0, optimizer="sgd", clip_norm=0.0,
                         checkpoint_every=1, eval_every=0, sample_every=0)  # fmt: skip
    snap, run_dir = train(tmp_path, config)
    assert snap.status == "diverged" and "exploded" in snap.message, snap.message
    diverged_at = len(snap.metrics) + 1  # the step whose loss exploded is not recorded
    kept = int(re.search(r"the weights from step (\d+)", snap.message).group(1))
    assert kept == diverged_at - 2 and run_dir.latest_checkpoint().endswith(f"ckpt-{kept}")
    from core.inside.trace import tracer_for

    tracer, step = tracer_for(run_dir)
    assert step == kept and np.isfinite(tracer(TEXT[:200]).bits_per_char)
    lower = dataclasses.replace(config, train=dataclasses.replace(config.train, learning_rate=0.05))
    resumed, _ = train(tmp_path, lower, resume_dir=run_dir)
    assert resumed.status == "finished" and resumed.progress.step == 30
    assert [m.step for m in resumed.metrics] == list(range(1, 31))  # rows after `kept` replaced, none twice


def test_a_loss_that_is_not_finite_before_any_good_checkpoint_keeps_nothing_and_says_so(
    tmp_path, corpus_path
):
    config = tiny_config(corpus_path, max_steps=20, learning_rate=1e38, optimizer="sgd", clip_norm=0.0,
                         checkpoint_every=1)  # fmt: skip
    snap, run_dir = train(tmp_path, config)
    assert snap.status == "diverged" and "the loss became inf" in snap.message
    assert "none are kept" in snap.message and not run_dir.has_checkpoint()


def test_a_crash_is_reported_not_raised(tmp_path, corpus_path):
    config = tiny_config(corpus_path, max_steps=5)
    corpus = load_corpus(config.corpus)
    record = RunRecord("r", config.to_dict())

    def explode(event):
        if event["kind"] == "metric":
            raise RuntimeError("disk full")

    record.subscribe(explode)
    snap = Trainer(config, corpus, record).run()
    assert snap.status == "failed"
    assert "disk full" in snap.message and "Traceback" in snap.error


def test_config_that_does_not_fit_is_refused_before_training(tmp_path):
    from core.config import ConfigError

    config = tiny_config(write_corpus(tmp_path, "abc " * 50), batch_size=64, num_steps=100)
    corpus = load_corpus(config.corpus)
    with pytest.raises(ConfigError, match="needed"):
        Trainer(config, corpus, RunRecord("r", {}))


def test_time_budget_ends_the_run_with_a_validation_loss(tmp_path, corpus_path):
    config = tiny_config(
        corpus_path, max_steps=0, epochs=1000, max_minutes=0.05, eval_every=0, sample_every=0
    )
    snap, _ = train(tmp_path, config)
    assert snap.status == "finished" and "time budget" in snap.message
    assert 0 < snap.progress.step < snap.progress.total_steps
    assert snap.progress.done > 0.9  # the budget, not the steps, says how much of the run is spent
    assert snap.evals[-1].step == snap.progress.step


def test_resume_forgets_rows_written_after_the_last_checkpoint(tmp_path, corpus_path):
    # A worker ended mid-run leaves rows past its last checkpoint; resuming starts from the checkpoint.
    config = tiny_config(corpus_path, max_steps=12, sample_every=0)
    first, run_dir = train(tmp_path, config)
    ghost = RunRecord(run_dir.run_id, {})
    ghost.subscribe(run_dir.writer())
    for step in (13, 14, 15):
        ghost.metric(MetricRow(step=step, epoch=1, train_loss=9.0))
    ghost.sample(14, "ghost")
    longer = dataclasses.replace(
        config, train=dataclasses.replace(config.train, max_steps=20, sample_every=4)
    )
    second, _ = train(tmp_path, longer, resume_dir=run_dir)
    assert [m.step for m in second.metrics] == list(range(1, 21))
    assert "ghost" not in [s.text for s in second.samples] and [s.step for s in second.samples] == [
        16,
        20,
    ]
    reloaded = run_dir.load_record().snapshot()
    assert reloaded.metrics == second.metrics and reloaded.samples == second.samples


def test_the_quick_preset_trains_its_first_steps(tmp_path):
    """The preset the app offers first, as it is (the real corpus and shape, auto, its schedule), for a few
    steps: the loss falls, and stable-decay holds the rate until the last 30 % of the (6-step) run. (Not
    sized by speed here: tests/test_sizing.py trains a sized run.)"""
    from core.paths import ASSETS
    from core.presets import PRESETS

    quick = PRESETS["quick"]
    config = dataclasses.replace(
        quick,
        train=dataclasses.replace(quick.train, max_steps=6, size_by_speed=False),
        corpus=str(ASSETS / "tinyshakespeare.txt"),
    )
    snap, _ = train(tmp_path, config)
    assert snap.status == "finished", snap.message
    losses = [m.train_loss for m in snap.metrics]
    assert len(losses) == 6 and losses[-1] < losses[0]
    rates = [m.learning_rate for m in snap.metrics]
    assert rates[:5] == pytest.approx([quick.train.learning_rate] * 5) and rates[5] < rates[4]
    assert snap.probe.chosen in snap.probe.build_s


def test_the_quick_preset_sized_by_speed_trains_the_row_it_chose(tmp_path):
    """As a person starts it: the run times the table's first row, records its choice, and trains that
    row's model with that row's rate (which row depends on the machine: the rule is tested on made-up
    speeds in tests/test_sizing.py)."""
    from core.paths import ASSETS
    from core.presets import PRESETS
    from core.training.sizing import SIZES

    quick = PRESETS["quick"]
    config = dataclasses.replace(
        quick, train=dataclasses.replace(quick.train, max_steps=3), corpus=str(ASSETS / "tinyshakespeare.txt")
    )
    snap, _ = train(tmp_path, config)
    assert snap.status == "finished", snap.message
    (row,) = [size for size in SIZES if size.name == snap.sized.chosen]
    assert snap.config["model"]["state_size"] == row.state_size
    assert [m.learning_rate for m in snap.metrics][0] == pytest.approx(row.learning_rate)
    assert set(snap.sized.steps) == {size.name for size in SIZES} and snap.sized.first_step_s > 0


def test_the_longer_preset_trains_its_first_steps(tmp_path):
    """Two layers of GRU 512 with dropout, on the real corpus: a few steps, and the loss falls."""
    from core.paths import ASSETS
    from core.presets import PRESETS

    longer = PRESETS["longer"]
    config = dataclasses.replace(
        longer,
        train=dataclasses.replace(longer.train, max_steps=4),
        corpus=str(ASSETS / "tinyshakespeare.txt"),
    )
    snap, _ = train(tmp_path, config)
    assert snap.status == "finished", snap.message
    losses = [m.train_loss for m in snap.metrics]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert snap.sized is None and snap.config["model"]["num_layers"] == 2


@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd"])
def test_every_optimizer_the_config_offers_trains_with_its_own_class(tmp_path, corpus_path, name):
    from core.config import OPTIMIZERS

    assert name in OPTIMIZERS and len(OPTIMIZERS) == 3  # a new one: add it here and to OPTIMIZER_CLASSES
    config = tiny_config(corpus_path, max_steps=6, optimizer=name, eval_every=0, sample_every=0)
    trainer = tiny.train(RunStore(tmp_path / "runs"), config)
    assert trainer.record.snapshot().status == "finished", trainer.record.snapshot().message
    assert type(trainer.optimizer).__name__.lower() == name
    assert int(trainer.optimizer.iterations.numpy()) == 6  # it, not another, took every step
