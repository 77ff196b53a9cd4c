"""The fused engine's hand-derived backward pass: right with dropout masks, edge sizes, and in training.

(tests/test_unrollers.py already checks `fused` against `static` for every cell without dropout, and
inside a tf.function.)
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from core.model.cells import CELLS, make_cell
from core.model.fused import engine as fused
from core.model.stack import make_stack
from core.model.unrollers import time_major, unroll
from core.runs.store import RunStore
from tests import tiny
from tests.tiny import tiny_config, write_corpus

B, F, H = 3, 5, 8


def reference(stack, xs, state, masks):
    """Step by step with the cells' own code, the same dropout masks on the inputs of layers 2.."""
    outputs, states = [], stack.split_state(state)
    for t in range(xs.shape[0]):
        x = xs[t]
        for l, cell in enumerate(stack.cells):
            if l > 0 and masks:
                x = x * masks[l - 1][t]
            x, states[l] = cell.step(x, states[l])
        outputs.append(x)
    return tf.stack(outputs), tuple(v for s in states for v in s)


def outputs_and_grads(fn, stack, xs, state):
    with tf.GradientTape() as tape:
        tape.watch([xs, *state])
        out, final = fn(stack, xs, state)
        loss = tf.reduce_sum(out * tf.cos(tf.range(H, dtype=tf.float32))) + sum(
            tf.reduce_sum(s**3) for s in final
        )
    return out, final, tape.gradient(loss, stack.trainable_variables + [xs, *state])


@pytest.mark.parametrize("cell", CELLS.names())
@pytest.mark.parametrize("layers, steps", [(3, 6), (1, 1), (2, 1)])
def test_masked_forward_and_backward_match_a_step_by_step_reference(cell, layers, steps):
    stack = make_stack(cell, F, H, num_layers=layers)
    xs = tf.random.normal([steps, B, F], seed=3)
    state = tuple(tf.random.normal([B, n], seed=4 + i) for i, n in enumerate(stack.state_size))
    masks = tuple(tf.nn.dropout(tf.ones([steps, B, H]), 0.4, seed=7 + l) for l in range(layers - 1))
    want = outputs_and_grads(lambda s, x, st: reference(s, x, st, masks), stack, xs, state)
    got = outputs_and_grads(lambda s, x, st: fused.unroll(s, x, st, masks), stack, xs, state)
    np.testing.assert_allclose(got[0], want[0], atol=1e-5)
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert len(got[2]) == len(want[2])
    for a, b in zip(got[2], want[2]):  # every weight, the inputs, and the initial state
        # Gradients reach the hundreds here, and float32 sums in another order differ by up to ~1e-5 of a
        # tensor's largest element in any of its elements (measured over 12 seeds for ln_lstm: at most
        # 8e-6), so the tolerance scales with it; a wrong derivative is off by far more.
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4 + 2e-5 * float(np.abs(b).max()))


def test_only_the_final_state_used():
    """A loss on the final state alone leaves the outputs' gradient empty; the backward must cope."""
    stack = make_stack("lstm", F, H, num_layers=2)
    xs = tf.random.normal([4, B, F])
    state = stack.zero_state(B)
    grads = []
    for fn in (lambda: reference(stack, xs, state, ()), lambda: fused.unroll(stack, xs, state)):
        with tf.GradientTape() as tape:
            _, final = fn()
            loss = tf.reduce_sum(final[-1])
        grads.append(tape.gradient(loss, stack.trainable_variables))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_every_cell_has_a_step_rule():
    for name in CELLS:
        assert fused.rule_for(make_cell(name, F, H)) is fused.RULES[CELLS[name].impl]


def test_a_cell_without_a_step_rule_is_refused_in_words():
    class NewCell(type(make_cell("gru", F, H))):
        pass

    with pytest.raises(NotImplementedError, match="no step rule for NewCell"):
        fused.rule_for(NewCell(F, H))


def test_dropout_in_training_drops_between_layers_and_on_top():
    stack = make_stack("lstm", F, H, num_layers=2, dropout=0.5)
    xs = tf.random.normal([B, 6, F])
    out, _ = unroll("fused", stack, xs, stack.zero_state(B), training=True)
    assert 0.3 < np.mean(out.numpy() == 0) < 0.7
    # With the same masks handed over, the engine equals the reference (so the masks were used).
    masks = (tf.nn.dropout(tf.ones([6, B, H]), 0.5),)
    a, _ = fused.unroll(stack, time_major(xs), stack.zero_state(B), masks)
    b, _ = reference(stack, time_major(xs), stack.zero_state(B), masks)
    np.testing.assert_allclose(a, b, atol=1e-5)
    c, _ = fused.unroll(stack, time_major(xs), stack.zero_state(B))
    assert not np.allclose(a, c)


def test_dropout_kept_off_the_input_keeps_the_embedding_fold(monkeypatch):
    """With input_dropout off, `fused` still looks layer 1's x·W up in E·W while training with dropout
    (the rows are never looked up), and gives what it gives on the looked-up rows with the same masks."""
    from core.model.unrollers import Rows

    stack = make_stack("gru", F, H, num_layers=2, dropout=0.5, input_dropout=False)
    table, ids = tf.random.normal([11, F], seed=5), tf.constant(np.arange(18).reshape(B, 6) % 11)
    looked_up = Rows(table, ids).looked_up()
    calls = []
    monkeypatch.setattr(Rows, "looked_up", lambda rows: calls.append(1) or tf.gather(rows.table, rows.ids))
    tf.random.set_seed(3)
    folded, _ = unroll("fused", stack, Rows(table, ids), stack.zero_state(B), training=True)
    assert calls == []  # the fold: no rows looked up
    tf.random.set_seed(3)  # the same masks again
    rows, _ = unroll("fused", stack, looked_up, stack.zero_state(B), training=True)
    np.testing.assert_allclose(folded, rows, atol=1e-5)
    assert 0.3 < np.mean(folded.numpy() == 0) < 0.7  # the output still dropped
    stack.input_dropout = True  # the post's dropout: the input rows are dropped, so looked up first
    unroll("fused", stack, Rows(table, ids), stack.zero_state(B), training=True)
    assert calls == [1]


@pytest.mark.parametrize("cell", CELLS.names())
def test_trains_like_dynamic(tmp_path, cell):
    """Same seed, same data: fused and dynamic start with the same losses and stay together. (Their
    gradients agree to ~1e-6 relative, not bit for bit; training at a high rate grows that difference
    step after step, to ~1% by step 15 for ln_lstm, so later steps are compared loosely.)"""
    base = tiny_config(write_corpus(tmp_path), max_steps=15, sample_every=0)
    losses = {}
    for impl in ("fused", "dynamic"):
        model = dataclasses.replace(base.model, cell=cell, impl=impl, num_layers=2)
        trainer = tiny.train(RunStore(tmp_path / impl), dataclasses.replace(base, model=model))
        snap = trainer.record.snapshot()
        assert snap.status == "finished", snap.message
        losses[impl] = [m.train_loss for m in snap.metrics]
    np.testing.assert_allclose(losses["fused"][:4], losses["dynamic"][:4], rtol=1e-4)
    np.testing.assert_allclose(losses["fused"], losses["dynamic"], rtol=0.03)
    assert np.mean(losses["fused"][-3:]) < np.mean(losses["fused"][:3])


@pytest.mark.parametrize("cell", CELLS.names())
def test_an_embedding_folded_into_layer_1_gives_the_looked_up_rows_numbers_and_gradients(cell):
    """CharRNN hands `fused` the embedding's table and the ids (layer 1's x·W a lookup in E·W); every
    output and gradient, the embedding's included, equals `dynamic` on the looked-up rows."""
    from core.config import ModelConfig
    from core.model.char_rnn import CharRNN

    rng = np.random.default_rng(0)
    ids = tf.constant(rng.integers(0, 11, (3, 9)), tf.int32)
    results, state = {}, None
    for impl in ("fused", "dynamic"):
        model = CharRNN(ModelConfig(cell=cell, impl=impl, num_layers=2, state_size=8), 11, seed=4)
        state = state or tuple(
            tf.constant(rng.normal(size=(3, n)), tf.float32) for n in model.stack.state_size
        )
        with tf.GradientTape() as tape:
            logits, final = model(ids, state, training=True)
            loss = tf.reduce_sum(logits * tf.sin(tf.range(11, dtype=tf.float32))) + sum(
                tf.reduce_sum(s**2) for s in final
            )
        grads = tape.gradient(loss, model.trainable_variables)
        results[impl] = [logits, *final], [tf.convert_to_tensor(g) for g in grads], model
    (outs, grads, model), (ref_outs, ref_grads, _) = results["fused"], results["dynamic"]
    if model.embedding is None:  # the basic RNN reads one-hot characters, as the post's did: nothing to fold
        assert cell == "rnn"
    for a, b in zip(outs, ref_outs, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for g, g_ref in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-4)  # sums of ~30: float32's own error
    if model.embedding is not None:
        assert model.trainable_variables[0] is model.embedding.embeddings
        assert np.abs(grads[0]).sum() > 0  # the table's gradient comes back through the fold


def test_the_fold_is_counted_exactly_where_the_fused_unroller_makes_it():
    """train_flops counts layer 1's input matmuls once on the table when (and only when) the run folds."""
    from core.config import ModelConfig
    from core.measure.timing import train_flops
    from core.model.unrollers import folds_embedding
    from core.presets import PRESETS

    assert folds_embedding(ModelConfig(cell="lstm", impl="fused"))
    assert not folds_embedding(ModelConfig(cell="lstm", impl="fused", dropout=0.2))  # dropped rows: no table
    assert folds_embedding(ModelConfig(cell="lstm", impl="fused", dropout=0.2, input_dropout=False))
    assert not folds_embedding(ModelConfig(cell="rnn", impl="fused"))  # one-hot inputs: no embedding
    assert not folds_embedding(ModelConfig(cell="lstm", impl="dynamic"))
    seed = PRESETS["seed"]
    flops = {
        impl: train_flops(dataclasses.replace(seed, model=dataclasses.replace(seed.model, impl=impl)), 65)
        for impl in ("fused", "dynamic")
    }
    H, B, T, G = seed.model.state_size, seed.train.batch_size, seed.train.num_steps, 4
    per_step_input = 2 * B * H * G * H  # layer 1's x·W at every step, forward
    assert flops["dynamic"] - flops["fused"] == 3 * (T * per_step_input - 2 * 65 * H * G * H)
