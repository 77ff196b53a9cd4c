"""A run's latest checkpoint as a TensorFlow SavedModel that needs nothing of this project.

Two signatures, the vocabulary inside (and as an asset file, vocab.txt, one character per line as JSON):
- `step(ids [B] int32, state_0 .. state_k [B, H] float32) -> logits [B, V], state_0 .. state_k`: one
  character per row, the RNN state passed in and out (zeros to start);
- `generate(prime string, length int32, temperature float32, top_k int32, seed int64) -> text string`: the
  whole sampling loop inside the graph; temperature 0 takes the likeliest character (argmax), top_k 0
  samples among all, a seed makes it repeatable.

Load it anywhere with TensorFlow alone (README.md shows the five lines). The folder must be new or empty:
nothing is ever written over or merged into. `python -m core.export` and the app's download use `export`.
"""

import json
import os
import tempfile
from pathlib import Path

import tensorflow as tf

from core.runs.checkpoints import load_model
from core.writable import CannotWrite, check_can_make


class Exported(tf.Module):
    """A trained CharRNN with its vocabulary and the two signatures (built by `signatures`)."""

    def __init__(self, model, vocab, vocab_file: Path):
        super().__init__(name="char_rnn_export")
        self.model = model
        self.chars = tf.constant(list(vocab.chars))  # [V] one character each
        self.ids = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(self.chars, tf.range(len(vocab.chars), dtype=tf.int32)), -1
        )
        self.vocab_file = tf.saved_model.Asset(str(vocab_file))
        self.state_sizes = list(model.stack.state_size)

    def zero_state(self, batch):
        return [tf.zeros([batch, n]) for n in self.state_sizes]

    def step(self, ids, *state):
        logits, state = self.model.step(ids, tuple(state))
        return {"logits": logits, **{f"state_{i}": s for i, s in enumerate(state)}}

    def generate(self, prime, length, temperature, top_k, seed):
        chars = tf.strings.unicode_split(prime, "UTF-8")  # [P]
        prime_ids = self.ids.lookup(chars)
        tf.debugging.assert_non_negative(prime_ids, "the prime has a character the model never saw")
        tf.debugging.assert_positive(tf.size(prime_ids), "the prime needs at least one character")
        state = self.zero_state(1)
        logits = tf.zeros([1, self.chars.shape[0]])
        for_prime = tf.while_loop(
            lambda i, *_: i < tf.size(prime_ids),
            lambda i, logits, *state: (i + 1, *self._feed(prime_ids[i], state)),
            (0, logits, *state),
        )
        _, logits, *state = for_prime
        out = tf.TensorArray(tf.int32, size=length)

        def body(i, logits, out, *state):
            nxt = self._pick(logits, temperature, top_k, tf.stack([seed, tf.cast(i, tf.int64)]))
            logits, *state = self._feed(nxt, state)
            return (i + 1, logits, out.write(i, nxt), *state)

        _, _, out, *_ = tf.while_loop(lambda i, *_: i < length, body, (0, logits, out, *state))
        return {"text": prime + tf.strings.reduce_join(tf.gather(self.chars, out.stack()))}

    def _feed(self, char_id, state):
        logits, new = self.model.step(tf.reshape(char_id, [1]), tuple(state))
        return (logits, *new)

    @staticmethod
    def _pick(logits, temperature, top_k, seed):
        """The next id from logits [1, V]: argmax at temperature 0, else a draw among the top_k (0: all)."""
        if_argmax = tf.argmax(logits[0], output_type=tf.int32)
        scaled = logits / tf.maximum(temperature, 1e-6)
        kth = tf.math.top_k(scaled[0], tf.clip_by_value(top_k, 1, tf.shape(scaled)[1])).values[-1]
        kept = tf.where((top_k > 0) & (scaled < kth), tf.fill(tf.shape(scaled), -1e9), scaled)
        drawn = tf.random.stateless_categorical(kept, 1, seed=seed, dtype=tf.int32)[0, 0]
        return tf.where(temperature <= 0.0, if_argmax, drawn)


def signatures(module: Exported) -> dict:
    state_specs = [
        tf.TensorSpec([None, n], tf.float32, name=f"state_{i}") for i, n in enumerate(module.state_sizes)
    ]
    step = tf.function(
        module.step, input_signature=[tf.TensorSpec([None], tf.int32, name="ids"), *state_specs]
    )
    generate = tf.function(
        module.generate,
        input_signature=[
            tf.TensorSpec([], tf.string, name="prime"),
            tf.TensorSpec([], tf.int32, name="length"),
            tf.TensorSpec([], tf.float32, name="temperature"),
            tf.TensorSpec([], tf.int32, name="top_k"),
            tf.TensorSpec([], tf.int64, name="seed"),
        ],
    )
    return {"step": step.get_concrete_function(), "generate": generate.get_concrete_function()}


def check_out(out: Path) -> None:
    """Refuse, in a sentence, an `out` that is not a new folder or an empty one this process can fill."""
    if not os.path.lexists(out):
        check_can_make(out)
        return
    if not out.is_dir():
        raise CannotWrite(f"{out} already exists and is a file, not a folder; name a new folder")
    try:
        empty = not any(out.iterdir())
    except OSError:  # a folder that cannot be looked into cannot be filled either
        empty = False
    if not empty:
        raise CannotWrite(f"{out} already exists and is not empty; name a new folder")
    if not os.access(out, os.W_OK | os.X_OK):
        raise CannotWrite(f"the folder {out} cannot be written to; name another")


def export(run_dir, out: Path) -> int:
    """Write the run's latest checkpoint as a SavedModel in `out` (a new or empty folder); the step its
    weights are from. It is written aside first, so a failure leaves `out` as it was."""
    out = Path(os.path.abspath(out))
    check_out(out)
    model, vocab, step = load_model(run_dir)
    aside = out if out.is_dir() else out.parent  # on out's own filesystem, so a rename moves it
    aside.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=aside, prefix=".export-") as scratch:
        vocab_file = Path(scratch) / "vocab.txt"
        vocab_file.write_text("".join(json.dumps(c) + "\n" for c in vocab.chars), encoding="utf-8")
        module = Exported(model, vocab, vocab_file)
        saved = Path(scratch) / "saved_model"
        tf.saved_model.save(module, str(saved), signatures=signatures(module))
        if out.is_dir():  # the empty folder named: the SavedModel's files into it
            for entry in saved.iterdir():
                entry.rename(out / entry.name)
        else:
            saved.rename(out)
    return step
