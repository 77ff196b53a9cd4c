"""Configs: defaults that run, presets, readable validation errors, a JSON round trip."""

import dataclasses

import pytest

from core.config import PRESETS, ConfigError, ModelConfig, RunConfig, SampleConfig, TrainConfig, help_of


def test_defaults_and_presets_are_valid():
    RunConfig()
    seed = PRESETS["seed"]
    assert (seed.model.cell, seed.model.num_layers, seed.model.state_size) == ("lstm", 3, 100)
    assert (seed.train.batch_size, seed.train.num_steps, seed.train.learning_rate, seed.train.epochs) == (
        32,
        200,
        1e-4,
        3,
    )
    assert "quick" in PRESETS


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ModelConfig(cell="nope"), "unknown cell 'nope'; choose one of: rnn, lstm"),
        (lambda: ModelConfig(impl="nope"), "unknown implementation"),
        (lambda: ModelConfig(cell="rnn", impl="keras-fused"), "works only with cells lstm, gru"),
        (lambda: ModelConfig(impl="tf1-static"), "runs only inside a TF1 graph"),
        (lambda: ModelConfig(dropout=1.0), r"dropout must be 0.0..0.95, got 1.0"),
        (lambda: TrainConfig(batch_size=0), "batch_size must be 1..1024"),
        (lambda: TrainConfig(max_steps=-1), "max_steps must be at least 0"),
        (lambda: TrainConfig(learning_rate=-1), "learning_rate must be positive"),
        (lambda: TrainConfig(optimizer="adagrad"), "unknown optimizer"),
        (lambda: SampleConfig(prime=""), "prime text"),
        (lambda: SampleConfig(temperature=0), "temperature must be positive"),
    ],
)
def test_bad_values_are_refused_readably(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig().num_layers = 2


def test_dict_round_trip_and_unknown_keys():
    cfg = PRESETS["seed"]
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown TrainConfig settings: lr"):
        RunConfig.from_dict({"train": {"lr": 0.1}})


def test_every_field_has_help():
    for cls in (ModelConfig, TrainConfig, SampleConfig):
        for f in dataclasses.fields(cls):
            assert help_of(cls, f.name), f"{cls.__name__}.{f.name} has no help text"
