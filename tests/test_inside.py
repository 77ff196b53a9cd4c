"""core.model.trace: the states, gates and predictions it reads off a text are training's own."""

import math

import numpy as np
import pytest
import tensorflow as tf

from core.config import ModelConfig
from core.data.corpus import CorpusError, Vocab
from core.model.cells import CELLS
from core.model.char_rnn import CharRNN
from core.model.trace import Tracer
from tests.tiny import TEXT

VOCAB = Vocab.from_text(TEXT)
SAMPLE = TEXT[:60]
H = 8


def random_model(cell: str, impl: str = "dynamic", layers: int = 2) -> CharRNN:
    """A model whose every weight (gains and shifts too) is random, so no gate sits at a default."""
    model = CharRNN(ModelConfig(cell=cell, impl=impl, num_layers=layers, state_size=H), len(VOCAB))
    rng = np.random.default_rng(0)
    for v in model.trainable_variables:
        v.assign(v + rng.normal(0, 0.3, v.shape).astype(np.float32))
    return model


@pytest.mark.parametrize("cell", CELLS.names())
def test_every_state_and_prediction_equals_the_training_forward_pass(cell):
    model = random_model(cell)
    tr = Tracer(model, VOCAB)(SAMPLE)
    n, layers = len(SAMPLE), 2
    assert tr.hidden.shape == (layers, n, H) and tr.probs.shape == (n, len(VOCAB))
    assert set(tr.gates) == set(CELLS[cell].impl.gate_names)
    assert all(g.shape == (layers, n, H) and g.min() >= 0 and g.max() <= 1 for g in tr.gates.values())
    assert (tr.cell is not None) == (CELLS[cell].impl.n_states == 2)
    # The whole text through the model as training runs it: every step's prediction.
    logits, _ = model(tr.ids[None], training=False)
    np.testing.assert_allclose(tr.probs, tf.nn.softmax(logits[0]), atol=1e-5)
    # Every layer's state after character t is the training pass's final state on the text up to t.
    for t in (0, 17, n - 1):
        _, final = model(tr.ids[None, : t + 1], training=False)
        for layer, layer_state in enumerate(model.stack.split_state(final)):
            np.testing.assert_allclose(tr.hidden[layer, t], layer_state[0][0], atol=1e-5)
            if tr.cell is not None:
                np.testing.assert_allclose(tr.cell[layer, t], layer_state[1][0], atol=1e-5)


def test_the_lstm_gates_are_the_sigmoids_of_its_pre_activations():
    model = random_model("lstm", layers=1)
    tr = Tracer(model, VOCAB)(SAMPLE)
    cell = model.stack.cells[0]
    x = model.embed(tr.ids[None])[0].numpy()  # [N, H]
    h_before = np.concatenate([np.zeros((1, H)), tr.hidden[0, :-1]])  # the state each step started from
    z = x @ cell.kernel.numpy() + h_before @ cell.recurrent_kernel.numpy() + cell.bias.numpy()
    i, f, _, o = np.split(1 / (1 + np.exp(-z)), 4, axis=1)
    for name, want in (("input", i), ("forget", f), ("output", o)):
        np.testing.assert_allclose(tr.gates[name][0], want, atol=1e-5)


def test_mean_surprisal_is_the_training_loss_in_bits(corpus_path):
    from core.data.corpus import load_corpus
    from core.runs.record import RunRecord
    from core.training.trainer import Trainer
    from core.training.update import eval_loss
    from tests.tiny import tiny_config

    config = tiny_config(corpus_path, cell="lstm")
    corpus = load_corpus(corpus_path)
    trainer = Trainer(config, corpus, RunRecord("t", config.to_dict()))
    trainer.setup()
    ids = corpus.val_ids[:200]
    loss, _ = eval_loss(trainer.model, ids[None, :-1], ids[None, 1:], trainer.model.zero_state(1))
    tr = Tracer(trainer.model, corpus.vocab)(corpus.vocab.decode(ids))
    assert tr.bits_per_char == pytest.approx(float(loss) / math.log(2), rel=1e-5)
    assert tr.surprisal_bits.shape == (199,)


def test_top_guesses_and_units_are_labelled():
    tr = Tracer(random_model("ln_lstm"), VOCAB)(SAMPLE)
    top = tr.top(3, k=5)
    assert len(top) == 5 and [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert top[0][1] == pytest.approx(tr.probs[3].max())
    acts, labels = tr.units()
    assert acts.shape == (len(SAMPLE), 2 * 2 * H) and len(labels) == acts.shape[1]
    assert labels[0] == "layer 1 h 0" and labels[-1] == f"layer 2 c {H - 1}"
    np.testing.assert_array_equal(acts[:, -1], tr.cell[1, :, -1])


def test_texts_the_run_cannot_read_are_refused_in_a_sentence():
    tracer = Tracer(random_model("gru", layers=1), VOCAB)
    with pytest.raises(CorpusError, match="empty"):
        tracer("")
    with pytest.raises(CorpusError, match="not in the model's vocabulary: '§'"):
        tracer("Speak §")


def test_a_reader_follows_a_training_runs_checkpoints_without_a_new_graph(tmp_path, corpus_path):
    import dataclasses

    from core.inside.trace import RunReader, tracer_for
    from core.runs.store import RunStore
    from tests.tiny import tiny_config, train

    config = tiny_config(corpus_path, cell="lstm", max_steps=10, checkpoint_every=10)
    run_dir = train(RunStore(tmp_path / "runs", examples=None), config).run_dir
    reader = RunReader(run_dir)
    first, step = reader.read(SAMPLE, run_dir.latest_checkpoint())
    tracer = reader.tracer
    longer = dataclasses.replace(config, train=dataclasses.replace(config.train, max_steps=20))
    train(None, longer, resume_dir=run_dir)  # the run trains on: a newer checkpoint
    later, later_step = reader.read(SAMPLE, run_dir.latest_checkpoint())
    fresh, _ = tracer_for(run_dir)
    assert (step, later_step) == (10, 20) and reader.tracer is tracer  # the same compiled loop
    np.testing.assert_allclose(later.probs, fresh(SAMPLE).probs, atol=1e-6)  # the newer weights
    assert not np.allclose(later.probs, first.probs)
