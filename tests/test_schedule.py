"""The learning-rate schedule: warm-up, cosine to a tenth, per-epoch decay; and the trainer follows it."""

import math
import time

import pytest

from core.config import ConfigError, TrainConfig
from core.training.schedule import FLOOR, learning_rate


def test_constant_is_the_rate_times_the_decay_per_epoch():
    tc = TrainConfig(learning_rate=0.01, lr_decay=0.5)
    assert learning_rate(tc, 0, 0, 0.0) == pytest.approx(0.01)
    assert learning_rate(tc, 500, 2, 0.9) == pytest.approx(0.0025)


def test_cosine_starts_at_the_rate_halves_midway_and_ends_at_a_tenth():
    tc = TrainConfig(learning_rate=0.01, lr_schedule="cosine")
    assert learning_rate(tc, 0, 0, 0.0) == pytest.approx(0.01)
    assert learning_rate(tc, 50, 0, 0.5) == pytest.approx(0.01 * (FLOOR + (1 - FLOOR) / 2))
    assert learning_rate(tc, 99, 0, 1.0) == pytest.approx(0.01 * FLOOR)
    assert learning_rate(tc, 150, 0, 1.7) == pytest.approx(0.01 * FLOOR)  # past the end: stays at the floor
    rates = [learning_rate(tc, s, 0, s / 100) for s in range(101)]
    assert all(a > b for a, b in zip(rates, rates[1:]))


def test_stable_decay_holds_the_rate_then_anneals_in_the_last_stretch():
    tc = TrainConfig(learning_rate=0.01, lr_schedule="stable-decay", decay_share=0.3)
    DECAY_SHARE = tc.decay_share
    start = 1 - DECAY_SHARE
    assert [learning_rate(tc, 0, 0, d) for d in (0.0, 0.5, start)] == pytest.approx([0.01] * 3)
    assert learning_rate(tc, 0, 0, start + DECAY_SHARE / 2) == pytest.approx(0.01 * (FLOOR + (1 - FLOOR) / 2))
    assert learning_rate(tc, 0, 0, 1.0) == pytest.approx(0.01 * FLOOR)


def test_warmup_rises_linearly_then_hands_over():
    tc = TrainConfig(learning_rate=0.01, warmup_steps=10)
    assert [learning_rate(tc, s, 0, 0.0) for s in (0, 4, 9, 10)] == pytest.approx([0.001, 0.005, 0.01, 0.01])


def test_an_unknown_schedule_is_refused_in_words():
    with pytest.raises(ConfigError, match="choose one of: constant, cosine, stable-decay"):
        TrainConfig(lr_schedule="linear")


def test_the_trainer_anneals_to_its_step_budget(tmp_path, corpus_path):
    from tests.test_trainer import train
    from tests.tiny import tiny_config

    snap, _ = train(tmp_path, tiny_config(corpus_path, max_steps=20, lr_schedule="cosine", warmup_steps=4))
    rates = [m.learning_rate for m in snap.metrics]  # the rate each step ran with (a float32 variable)

    def cosine(step):
        return 1e-2 * (FLOOR + (1 - FLOOR) * 0.5 * (1 + math.cos(math.pi * step / 20)))

    assert rates[0] == pytest.approx(cosine(0) / 4, rel=1e-6)
    assert rates[3] == pytest.approx(cosine(3), rel=1e-6)
    assert rates[-1] == pytest.approx(cosine(19), rel=1e-6)


def test_the_time_budget_counts_from_start_and_every_validation_loss_says_when(tmp_path, corpus_path):
    # Start was pressed 20 s before the trainer got going (TensorFlow loading, say): a budget of 3 s is
    # spent already, so the run trains nothing, its schedule is at the cosine's floor, and it still ends
    # with a validation loss that says when it came.
    from core.data.corpus import load_corpus
    from core.runs.store import RunStore
    from core.training.launch import make_trainer, open_record
    from tests.tiny import tiny_config

    config = tiny_config(corpus_path, max_steps=0, epochs=1000, max_minutes=0.05, lr_schedule="cosine",
                         sample_every=0, eval_every=0)  # fmt: skip
    run_dir = RunStore(tmp_path / "runs").create(config, load_corpus(config.corpus, 0.1).vocab)
    trainer = make_trainer(run_dir, open_record(run_dir, False), False, started=time.time() - 20.0)
    snap = trainer.run()
    assert snap.status == "finished" and "time budget" in snap.message
    assert snap.metrics == []
    assert trainer.rate(epoch=0) == pytest.approx(1e-2 * FLOOR)
    (val,) = snap.evals
    assert 20.0 < val.wall_s < 60.0
    assert (
        f"best validation loss {val.val_loss:.3f} nats/char at step 0, {val.wall_s / 60:.1f} minutes after Start"
        in snap.message
    )


def test_wall_time_goes_on_across_a_resume(tmp_path, corpus_path):
    from tests.test_trainer import train
    from tests.tiny import tiny_config

    config = tiny_config(corpus_path, max_steps=10, sample_every=0)
    first, run_dir = train(tmp_path, config)
    longer = tiny_config(corpus_path, max_steps=20, sample_every=0)
    second, _ = train(tmp_path, longer, resume_dir=run_dir)
    walls = [e.wall_s for e in second.evals]
    assert [e.step for e in second.evals] == [10, 20]
    assert walls[1] > walls[0] == first.evals[-1].wall_s
    assert second.progress.wall_s > first.progress.wall_s
