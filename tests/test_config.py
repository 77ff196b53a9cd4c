"""Configs: defaults that run, presets, readable validation errors, a JSON round trip."""

import dataclasses
import math

import pytest

from core.config import (
    SEED_MAX,
    ConfigError,
    ModelConfig,
    RunConfig,
    SampleConfig,
    TrainConfig,
    _typed,
    help_of,
)
from core.presets import PRESETS


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
        (lambda: TrainConfig(seed=-1), "seed must be 0..4294967295, got -1"),
        (lambda: TrainConfig(seed=2**64), "seed must be 0..4294967295, got 18446744073709551616"),
        (lambda: SampleConfig(seed=-5), "seed must be 0..4294967295, got -5"),
        (lambda: SampleConfig(seed=2**32), "seed must be 0..4294967295, got 4294967296"),
        # Every float setting finite: inf and nan slip past a bare comparison (inf >= 0; lr inf > 0).
        (lambda: TrainConfig(clip_norm=math.inf), "clip_norm must be a finite number, got inf"),
        (lambda: TrainConfig(learning_rate=math.inf), "learning_rate must be a finite number, got inf"),
        (lambda: TrainConfig(learning_rate=math.nan), "learning_rate must be a finite number, got nan"),
        (lambda: TrainConfig(max_minutes=math.inf), "max_minutes must be a finite number, got inf"),
        (lambda: TrainConfig(collective_timeout_s=math.inf), "collective_timeout_s must be a finite number"),
        (lambda: ModelConfig(dropout=math.nan), "dropout must be a finite number, got nan"),
        (lambda: SampleConfig(temperature=math.nan), "temperature must be a finite number, got nan"),
    ],
)
def test_bad_values_are_refused_readably(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_the_seed_range_is_the_one_training_seeds_with():
    import keras

    assert TrainConfig(seed=SEED_MAX).seed == SampleConfig(seed=SEED_MAX).seed == SEED_MAX
    keras.utils.set_random_seed(SEED_MAX)  # the trainer's call takes the largest seed allowed ...
    with pytest.raises(ValueError):
        keras.utils.set_random_seed(SEED_MAX + 1)  # ... and no larger one


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig().num_layers = 2


def test_dict_round_trip_and_unknown_keys():
    cfg = PRESETS["seed"]
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown TrainConfig settings: lr"):
        RunConfig.from_dict({"train": {"lr": 0.1}})


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "a run's settings must be a JSON object, got []"),
        ("lstm", 'a run\'s settings must be a JSON object, got "lstm"'),
        ({"modle": {}}, "unknown RunConfig settings: modle"),
        ({"model": 3}, "the model settings must be a JSON object, got 3"),
        ({"train": [32]}, "the train settings must be a JSON object, got [32]"),
        ({"train": {"batch_size": "32"}}, 'train.batch_size must be a whole number, got "32"'),
        ({"train": {"epochs": True}}, "train.epochs must be a whole number, got true"),
        ({"train": {"seed": 1.0}}, "train.seed must be a whole number, got 1.0"),
        ({"train": {"learning_rate": "0.1"}}, 'train.learning_rate must be a number, got "0.1"'),
        ({"train": {"clip_norm": None}}, "train.clip_norm must be a number, got null"),
        ({"train": {"learning_rate": 10**400}}, "train.learning_rate must be a finite number"),
        ({"train": {"clip_norm": math.inf}}, "clip_norm must be a finite number, got inf"),
        ({"model": {"cell": 5}}, "model.cell must be text, got 5"),
        ({"model": {"dropout": False}}, "model.dropout must be a number, got false"),
        ({"corpus": ["a.txt"]}, 'corpus must be text, got ["a.txt"]'),
    ],
)
def test_settings_of_the_wrong_shape_are_refused_naming_the_field(data, message):
    with pytest.raises(ConfigError) as refused:
        RunConfig.from_dict(data)
    assert message in str(refused.value)


def test_whole_numbers_are_taken_where_a_number_is_wanted():
    config = RunConfig.from_dict({"model": {"dropout": 0}, "train": {"learning_rate": 1, "clip_norm": 0}})
    assert type(config.model.dropout) is type(config.train.learning_rate) is float
    assert (config.model.dropout, config.train.learning_rate, config.train.clip_norm) == (0.0, 1.0, 0.0)
    assert _typed("argmax", bool, True) is True
    for value in (1, "true", None):  # a flag is true or false, nothing that reads as one
        with pytest.raises(ConfigError, match="argmax must be true or false"):
            _typed("argmax", bool, value)


def test_every_field_has_help():
    for cls in (ModelConfig, TrainConfig, SampleConfig):
        for f in dataclasses.fields(cls):
            assert help_of(cls, f.name), f"{cls.__name__}.{f.name} has no help text"
