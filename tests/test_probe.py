"""impl=auto: the run's first steps time each candidate, the fastest trains the rest, and the run says so."""

import io

import pytest

from core.config import ModelConfig
from core.model.unrollers import UNROLLERS
from core.training import probe
from tests.tiny import tiny_config


def test_each_candidate_takes_its_first_call_then_timed_steps_in_turn_and_the_fastest_wins():
    prober = probe.Prober(ModelConfig(cell="gru", impl="auto"), timed_steps=2)
    names = probe.candidates("gru")
    assert len(names) >= 2 and set(names) <= set(UNROLLERS.names(trains_only=True))
    assert not set(names) & set(probe.NOT_PROBED)
    fake = {name: 0.1 * (len(names) - i) for i, name in enumerate(names)}  # the last candidate is fastest
    taken = []
    while prober.deciding:
        name, compiling = prober.next(), prober.first_call
        taken.append((name, compiling))
        settled = prober.report(5.0 if compiling else fake[name])
    assert settled and taken == [(n, True) for n in names] + [(n, False) for n in names] * 2
    result = prober.result()
    assert result.chosen == names[-1] == prober.next()  # every step after the probe: the fastest
    assert result.step_s == pytest.approx(fake) and result.build_s == {n: 5.0 for n in names}
    assert result.steps == 3 * len(names)
    assert set(result.skipped) == {n for n in probe.NOT_PROBED if UNROLLERS[n].works_with("gru")}
    assert result.summary().startswith(f"{names[-1]}, the fastest of {names[-1]} 100 ms")


def test_only_one_candidate_means_no_probe(monkeypatch):
    monkeypatch.setattr(probe, "NOT_PROBED", {**probe.NOT_PROBED, "fused": "left out by this test"})
    prober = probe.Prober(ModelConfig(cell="gru", impl="auto"))
    assert not prober.deciding and prober.next() == "dynamic"
    result = prober.result()
    assert (result.chosen, result.step_s, result.skipped["fused"]) == ("dynamic", {}, "left out by this test")
    assert result.summary() == "dynamic: the only candidate for this cell, so no probe"


def test_a_named_implementation_is_not_probed():
    prober = probe.Prober(ModelConfig(cell="gru", impl="scan"))
    assert (prober.deciding, prober.next(), prober.names) == (False, "scan", ["scan"])


def test_an_auto_run_records_its_choice_and_learns_as_a_named_one(tmp_path, corpus_path):
    from tests.test_trainer import train

    auto, run_dir = train(tmp_path, tiny_config(corpus_path, impl="auto", max_steps=12, sample_every=0))
    names = probe.candidates("gru")
    assert auto.probe.chosen in names and set(auto.probe.step_s) == set(names)
    assert auto.probe.steps == len(names) * (1 + probe.TIMED_STEPS)
    assert run_dir.config().model.impl == "auto"  # the run asked for auto; its record says what it got
    assert run_dir.load_record().snapshot().probe == auto.probe  # kept in the folder
    named, _ = train(tmp_path, tiny_config(corpus_path, impl="dynamic", max_steps=12, sample_every=0))
    assert named.probe is None
    # The probe's steps trained the run: the implementations compute the same numbers (float rounding).
    losses = [m.train_loss for m in auto.metrics]
    assert losses == pytest.approx([m.train_loss for m in named.metrics], rel=1e-4)


def test_a_run_shorter_than_its_probe_still_records_what_it_measured(tmp_path, corpus_path):
    from tests.test_trainer import train

    snap, _ = train(tmp_path, tiny_config(corpus_path, impl="auto", max_steps=3, sample_every=0))
    assert snap.status == "finished" and snap.probe.steps == 3 and snap.probe.build_s


def test_the_cli_prints_the_choice():
    from core.commands.train import ProgressPrinter

    out = io.StringIO()
    figures = probe.Probe("fused", {"fused": 0.09, "dynamic": 0.12}, {"fused": 1.0, "dynamic": 1.1}, {}, 8)
    ProgressPrinter(out)({"kind": "probe", **figures.to_json()})
    assert out.getvalue() == (
        "\nimplementation: fused, the fastest of fused 90 ms, dynamic 120 ms a step "
        "(timed on the run's first 8 steps)\n"
    )


def test_threads_per_op_follow_what_the_run_may_train_with(monkeypatch):
    from core.training import threads

    assert threads.asking(ModelConfig(cell="lstm", impl="fused")) == {"fused": UNROLLERS["fused"].op_threads}
    assert UNROLLERS["fused"].op_threads == 1
    assert threads.asking(ModelConfig(cell="lstm", impl="dynamic")) == {}
    assert threads.asking(ModelConfig(cell="gru", impl="auto")) == {"fused": 1}  # among auto's candidates
    # TensorFlow's setter recorded, not called: it can only be called before TensorFlow starts.
    calls = []
    monkeypatch.setattr(threads.tf.config.threading, "set_intra_op_parallelism_threads", calls.append)
    monkeypatch.delenv(threads.ENV, raising=False)
    assert threads.set_op_threads(ModelConfig(cell="lstm", impl="dynamic")) == "" and calls == []
    assert "1 thread each, as fused trains" in threads.set_op_threads(ModelConfig(cell="lstm", impl="fused"))
    assert calls == [1]
    # Set by hand (or by core.cluster), TF_NUM_INTRAOP_THREADS wins: nothing is set, nothing is logged.
    monkeypatch.setenv(threads.ENV, "2")
    assert threads.set_op_threads(ModelConfig(cell="lstm", impl="fused")) == "" and calls == [1]
