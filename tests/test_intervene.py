"""Interventions (core.inside.intervene): a held unit changes nothing before its start, and a unit held at
the values it takes anyway changes nothing at all."""

import numpy as np
import pytest

from core.config import ModelConfig, SampleConfig
from core.data.corpus import Vocab
from core.inside.intervene import Clamp, Clamped, parse_unit
from core.model.char_rnn import CharRNN
from core.model.sampler import SampleError, Sampler

VOCAB = Vocab.from_text("abcde \n")
TEXT = "abc de\nab cd eab\n"


@pytest.fixture(scope="module", params=["rnn", "lstm", "gru", "ln_lstm", "ln_gru"])
def model(request):
    model = CharRNN(ModelConfig(cell=request.param, state_size=12, num_layers=2), len(VOCAB), seed=6)
    model.head.kernel.assign(model.head.kernel * 20)  # sure predictions: a held unit shows in the argmax
    return model


def unit(model, kind="h"):
    return f"layer 1 {kind if model.stack.cells[0].n_states == 2 else 'h'} 3"


def test_unheld_it_is_the_sampler_and_held_at_its_own_values_nothing_changes(model):
    cfg = SampleConfig(length=40, prime="ab", argmax=True)
    clamped = Clamped(model, VOCAB)
    free, _ = clamped.generate(cfg, Clamp((unit(model, "c"),), 0.0, start=5))
    assert free.generated == Sampler(model, VOCAB).generate(cfg)
    own = free.units[len("ab") - 1 :, 0]  # its values from the step that picks the first character on
    _, replayed = clamped.generate(cfg, Clamp((unit(model, "c"),), own, start=0))
    assert replayed.generated == free.generated  # bit for bit at argmax
    assert np.array_equal(replayed.probs, free.probs)


def test_a_held_unit_changes_the_distribution_only_from_its_position_on(model):
    clamped = Clamped(model, VOCAB)
    start = 6
    free, held = clamped.read(TEXT, Clamp((unit(model), "layer 2 h 0"), 5.0, start=start))
    assert np.array_equal(free.probs[:start], held.probs[:start])
    changed = np.abs(free.probs - held.probs).max(axis=1)
    assert changed[start] > 0 and (changed[start:] > 0).all()
    assert (held.units[start:] == 5.0).all() and not (free.units[start:] == 5.0).any()


def test_generation_is_the_same_before_the_start_and_the_held_value_shows(model):
    cfg = SampleConfig(length=60, prime="a", seed=3)
    free, held = Clamped(model, VOCAB).generate(cfg, Clamp((unit(model),), -4.0, start=20))
    assert free.generated[:20] == held.generated[:20]
    assert free.generated != held.generated
    assert (held.units[len("a") - 1 + 20 :, 0] == -4.0).all()


def test_units_that_are_not_there_are_refused_in_a_sentence():
    model = CharRNN(ModelConfig(cell="gru", state_size=8), len(VOCAB), seed=1)
    assert parse_unit("layer 1 h 7", model) == (0, 7)
    for bad in ("layer 2 h 0", "layer 1 h 8", "layer 1 c 0", "unit 3", "layer 0 h 1"):
        with pytest.raises(ValueError, match="layer|unit"):
            parse_unit(bad, model)
    with pytest.raises(SampleError, match="prime"):
        Clamped(model, VOCAB).generate(SampleConfig(prime="xyz", length=5), Clamp(("layer 1 h 0",), 0.0))
