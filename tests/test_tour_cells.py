"""The Tour's sections 5-8: what each shows is its source's own numbers (the Inside tab's trace, the
project's stack, its layer norm, the sampler), and every section draws in the app without an error."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from streamlit.testing.v1 import AppTest

from core.config import ModelConfig
from core.data.corpus import Vocab
from core.inside.trace import tracer_for
from core.model.char_rnn import CharRNN
from core.model.trace import Tracer
from core.paths import EXAMPLE_ID, EXAMPLES
from core.runs.checkpoints import load_for_sampling
from core.runs.store import RunDir
from core.tour import cells_gates, cells_layernorm, cells_stacking, generating
from explorer.common import services
from explorer.tour import cells

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "explorer" / "app.py")
TEXT = "First Citizen:\nBefore we proceed any further, hear me speak."
VOCAB = Vocab.from_text(TEXT)
EXAMPLE = RunDir(EXAMPLES / EXAMPLE_ID)


def tiny(cell: str = "gru", layers: int = 2, units: int = 8) -> CharRNN:
    return CharRNN(
        ModelConfig(cell=cell, impl="dynamic", num_layers=layers, state_size=units), len(VOCAB), seed=3
    )


# ---- the computations, on tiny models -----------------------------------------------------------------
def test_a_gate_read_along_is_the_traces_and_the_cells_own_step():
    model = tiny()
    trace = Tracer(model, VOCAB)(TEXT)
    reading = cells_gates.gate_along(trace, "reset", unit=5, layer=1)
    np.testing.assert_array_equal(reading.values, trace.gates["reset"][1, :, 5])
    # The same gate from the GRU's own step, one character at a time through the stack.
    top, state, expected = model.stack.cells[1], model.zero_state(1), []
    for i in VOCAB.encode(TEXT):
        x = model.embed(tf.constant([i]))  # [1, features]
        below, top_state = model.stack.split_state(state)
        h1, _ = model.stack.cells[0].step(x, below)
        _, _, (_, reset) = type(top).gated(top, top.project(h1), top_state)
        expected.append(float(reset[0, 5]))
        _, state = model.stack(x, state, training=False)
    np.testing.assert_allclose(reading.values, expected, atol=1e-5)
    assert list(cells_gates.unit_gates(trace, 5, 1)) == list(cells_gates.gate_names("gru"))
    lively = cells_gates.liveliest_units(trace, "update", layer=0)
    assert trace.gates["update"][0].std(axis=0).argmax() == lively[0]
    with pytest.raises(KeyError, match="update, reset"):
        cells_gates.gate_along(trace, "forget", 0)


def test_the_stack_without_dropout_reads_as_the_inside_tabs_trace():
    model = cells_stacking.tiny_stack(len(VOCAB), layers=3)
    reading = cells_stacking.read_stack(model, VOCAB.encode(TEXT), dropout=0.0)
    np.testing.assert_allclose(reading.hidden, Tracer(model, VOCAB)(TEXT).hidden, atol=1e-5)
    assert reading.masks.shape == (4, len(TEXT), cells_stacking.UNITS) and np.all(reading.masks == 1.0)


def test_dropout_masks_follow_tf_dropouts_rule_and_are_the_ones_applied():
    model = cells_stacking.tiny_stack(len(VOCAB), layers=1)
    ids = VOCAB.encode(TEXT)
    reading = cells_stacking.read_stack(model, ids, dropout=0.5, seed=7)
    assert set(np.unique(reading.masks)) == {0.0, 2.0}  # dropped, or kept and scaled by 1/(1-p)
    assert abs(cells_stacking.dropped_share(reading) - 0.5) < 0.05  # 2 x 60 x 16 numbers
    again = cells_stacking.read_stack(model, ids, dropout=0.5, seed=7)
    np.testing.assert_array_equal(again.masks, reading.masks)
    assert not np.array_equal(cells_stacking.read_stack(model, ids, 0.5, seed=8).masks, reading.masks)
    # Layer 1's first output is its step on the first character's masked embedding.
    x = model.embed(tf.constant(ids[:1])) * reading.masks[0, 0]
    h, _ = model.stack.cells[0].step(x, model.stack.cells[0].zero_state(1))
    np.testing.assert_allclose(reading.hidden[0, 0], h[0], atol=1e-6)


@pytest.mark.parametrize("scale", [0.1, 1.0, 30.0])
def test_layer_norm_gives_mean_0_std_1_and_the_cells_own_gates(scale):
    cell = cells_layernorm.tiny_ln_cell(units=64, inputs=16)
    x, state = cells_layernorm.step_inputs(cell, scale, seed=2)
    _, (_, c), (i, f, o) = type(cell).gated(cell, cell.project(x), state)
    own = {"input": i[0], "forget": f[0], "output": o[0], "candidate": c[0] / i[0]}  # c was 0: c = i * g
    for gate in cells_layernorm.GATES:
        n = cells_layernorm.normalise_step(cell, gate, scale, seed=2)
        assert abs(n.normalised.mean()) < 1e-5 and n.normalised.std() == pytest.approx(1.0, abs=1e-3)
        np.testing.assert_allclose(n.ln_gate, own[gate], atol=1e-5)
        assert n.z.std() != pytest.approx(1.0, abs=1e-2)  # the input really was rescaled


def test_layer_norm_applies_gain_and_shift_after_normalising_and_keeps_gates_off_the_ends():
    cell = cells_layernorm.tiny_ln_cell(units=64, inputs=16)
    cell.gain.assign(tf.random.stateless_uniform(cell.gain.shape, seed=[1, 2], minval=0.5, maxval=2.0))
    n = cells_layernorm.normalise_step(cell, "output", 3.0)
    block = slice(3 * 64, 4 * 64)  # the output gate's columns (Keras's order i, f, g, o)
    np.testing.assert_allclose(n.after, n.normalised * cell.gain[block] + cell.shift[block], atol=1e-5)
    big = cells_layernorm.normalise_step(cells_layernorm.tiny_ln_cell(), "input", 30.0)
    small = cells_layernorm.normalise_step(cells_layernorm.tiny_ln_cell(), "input", 1.0)
    plain, normed = (cells_layernorm.saturated(v, big.squash) for v in (big.plain_gate, big.ln_gate))
    assert plain > normed and plain > cells_layernorm.saturated(small.plain_gate, small.squash)


def test_continuation_bits_are_the_models_own_surprisal_at_temperature_1():
    model, prime, written = tiny(layers=1), "First", " Citizen:\nBefore"
    trace = Tracer(model, VOCAB)(prime + written)
    ids = VOCAB.encode(prime + written)
    logits, _ = model(tf.constant(ids[None]))  # [1, N, V]: the plain forward pass
    log_p = tf.nn.log_softmax(logits[0]).numpy()
    expected = [-log_p[t - 1, ids[t]] / np.log(2) for t in range(len(prime), len(ids))]
    assert generating.continuation_bits(trace, prime) == pytest.approx(np.mean(expected), rel=1e-5)
    with pytest.raises(ValueError):
        generating.continuation_bits(trace, "Second")


# ---- the sections in the app --------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def job_manager():
    yield
    services.job_manager().shutdown()  # the app's spare worker ends with this module


@pytest.fixture
def tour(tmp_path, monkeypatch):
    monkeypatch.setenv(services.RUNS_DIR_ENV, str(tmp_path))

    def make(step: str):
        at = AppTest.from_file(APP, default_timeout=90)
        at.query_params.update({"owner": "tester", "tab": "Tour", "step": step})
        # The section radio keeps its shown label in the URL (format_func), so the widget is also set.
        at.session_state["step"] = step
        return at.run()

    return make


def clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def figure(at, key: str) -> dict:
    """The Plotly figure drawn under widget key `key`, as its JSON."""
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def array(value) -> np.ndarray:
    """A Plotly JSON array: a list, or numpy's bytes in base64 ({"dtype", "bdata", "shape"})."""
    if not isinstance(value, dict):
        return np.asarray(value, dtype=float)
    flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])


def test_better_cells_colours_the_examples_own_gate_values(tour):
    at = tour("cells")
    clean(at)
    assert any(r"(r_t \odot h_{t-1})" in x.body for x in at.get("latex"))  # the example is a GRU
    trace = tracer_for(EXAMPLE)[0](cells.GATES_TEXT)
    drawn = next(h.proto.body for h in at.get("html") if "title=" in h.proto.body)
    for t in (0, 12, len(cells.GATES_TEXT) - 1):
        assert f"update {trace.gates['update'][0, t, 0]:.3f}" in drawn
    strip = figure(at, "tour_gate_strip")["data"][0]
    np.testing.assert_allclose(
        array(strip["z"]), [trace.gates[g][0, :, 0] for g in ("update", "reset")], atol=1e-6
    )

    at.button(key="tour_gate_lively").click().run()
    lively = cells_gates.liveliest_units(trace, "update")[0]
    assert at.slider(key="tour_gate_unit").value == lively
    drawn = next(h.proto.body for h in at.get("html") if "title=" in h.proto.body)
    assert f"update {trace.gates['update'][0, 5, lively]:.3f}" in drawn


def test_a_cell_the_example_lacks_is_said_and_offered_to_train(tour):
    at = tour("cells")
    at.radio(key="tour_cell").set_value("ln_lstm").run()
    clean(at)
    assert any("is a GRU, so it has no layer-normalised LSTM gates" in i.value for i in at.info)
    at.button(key="tour_to_cells_ln_lstm").click().run()
    assert at.session_state["cell"] == "ln_lstm" and at.session_state["tab"] == "Train"


def test_a_text_the_example_cannot_read_is_one_warning(tour):
    at = tour("cells")
    at.text_area(key="tour_gates_text").set_value("Hello ✓").run()
    clean(at)
    assert any("not in the model's vocabulary" in w.value for w in at.warning)


def test_stacking_draws_the_stacks_own_reading_and_new_masks(tour):
    at = tour("stacking")
    clean(at)
    vocab = Vocab.from_text(cells.STACK_TEXT)
    model = cells_stacking.tiny_stack(len(vocab), 3)
    ids = vocab.encode(cells.STACK_TEXT)
    reading = cells_stacking.read_stack(model, ids, 0.2, seed=0)
    layers = figure(at, "tour_stack_fig")["data"]
    for row, layer in enumerate((2, 1, 0)):  # the top layer drawn first, on top
        np.testing.assert_allclose(array(layers[row]["z"]), reading.hidden[layer].T, atol=1e-6)
    assert any(f"dropped {cells_stacking.dropped_share(reading):.1%}" in c.value for c in at.caption)

    at.button(key="tour_stack_redraw").click().run()
    clean(at)
    redrawn = cells_stacking.read_stack(model, ids, 0.2, seed=1)
    inputs_1 = figure(at, "tour_masks_fig")["data"][-1]  # the bottom panel: layer 1's input
    np.testing.assert_array_equal(array(inputs_1["z"]), (redrawn.masks[0] == 0).T)
    at.button(key="tour_to_stacking").click().run()
    assert at.session_state["layers"] == 3 and at.session_state["dropout"] == 0.2


def test_layer_norm_shows_the_cells_numbers_at_the_chosen_scale(tour):
    at = tour("layernorm")
    clean(at)
    assert len(at.get("plotly_chart")) == 1
    at.select_slider(key="tour_ln_scale").set_value(30.0).run()
    at.radio(key="tour_ln_gate").set_value("forget").run()
    clean(at)
    n = cells_layernorm.normalise_step(cells_layernorm.tiny_ln_cell(), "forget", 30.0, 0)
    said = " ".join(m.value for m in at.markdown)
    assert f"standard deviation {n.z.std():.3f}" in said
    assert f"{cells_layernorm.saturated(n.plain_gate, n.squash):.0%} of the units without" in said
    at.button(key="tour_to_layernorm").click().run()
    assert at.session_state["cell"] == "ln_lstm"


def test_generating_shows_the_samplers_own_texts_and_their_bits(tour):
    at = tour("generating")
    clean(at)
    sampler, _ = load_for_sampling(EXAMPLE)
    tracer, _ = tracer_for(EXAMPLE)
    prime = at.text_input(key="tour_gen_prime").value
    settings = [(t, 0) for t in generating.TEMPERATURES] + [(1.0, generating.TOP_K)]
    shown = [c.value for c in at.code]
    assert len(shown) == 4
    for (temperature, top_k), text in zip(settings, shown):
        written = sampler.generate(generating.column_config(prime, temperature, 0, top_k))
        assert text == prime + written
        bits = generating.continuation_bits(tracer(prime + written), prime)
        assert any(c.value == f"{bits:.2f} bits per character" for c in at.caption)

    at.slider(key="tour_gen_t1").set_value(0.8).run()
    clean(at)
    assert at.code[1].value == prime + sampler.generate(generating.column_config(prime, 0.8, 0))
    assert at.code[0].value == shown[0]


def test_a_prime_the_example_cannot_read_is_one_warning(tour):
    at = tour("generating")
    at.text_input(key="tour_gen_prime").set_value("Héllo").run()
    clean(at)
    assert len(at.warning) == 1 and not at.code
