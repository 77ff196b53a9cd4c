"""CharRNN: characters in, next-character logits out, with the RNN state passed in and out explicitly."""

import keras
import tensorflow as tf

from core.config import AUTO, ModelConfig
from core.model.stack import make_stack
from core.model.unrollers import UNROLLERS, Rows

FALLBACK = "dynamic"  # what `auto` unrolls with where no probe has chosen


class CharRNN(keras.Model):
    """Embedding (or one-hot) -> stacked cells unrolled by the chosen implementation -> softmax head."""

    def __init__(self, config: ModelConfig, vocab_size: int, seed: int = 0):
        super().__init__(name="char_rnn")
        self.config, self.vocab_size = config, vocab_size
        width = config.state_size
        # The post fed the basic RNN one-hot characters and every other cell a learned embedding.
        # Fixed layer names (not Keras's per-process numbering) give every variable the same path in every
        # process: checkpoints store them under it.
        self.embedding = (
            None
            if config.one_hot_inputs
            else keras.layers.Embedding(
                vocab_size,
                width,
                embeddings_initializer=keras.initializers.RandomUniform(-0.1, 0.1, seed=seed),
                name="embedding",
            )
        )
        input_size = vocab_size if config.one_hot_inputs else width
        self.stack = make_stack(
            config.cell,
            input_size,
            width,
            config.num_layers,
            config.dropout,
            seed=seed + 1,
            input_dropout=config.input_dropout,
        )
        self.head = keras.layers.Dense(
            vocab_size, kernel_initializer=keras.initializers.GlorotUniform(seed + 2), name="head"
        )
        # `auto` is settled by the trainer's probe (core/training/probe.py), whose steps name their
        # implementation (`call(impl=...)`); anywhere else (evaluation, sampling, reading, export) every
        # implementation gives the same numbers, so the plainest one serves.
        self.impl = FALLBACK if config.impl == AUTO else config.impl
        self.build_weights()

    def build_weights(self):
        """Create every variable now, so checkpoints and optimizers see them before the first step."""
        if self.embedding is not None:
            self.embedding.build((None, None))
        self.head.build((None, self.config.state_size))

    def zero_state(self, batch_size: int) -> tuple:
        return self.stack.zero_state(batch_size)

    def embed(self, ids):
        """ids [batch, time] int -> [batch, time, features] float."""
        if self.embedding is None:
            return tf.one_hot(ids, self.vocab_size)
        return self.embedding(ids)

    def call(self, ids, state=None, training=False, impl: str | None = None):
        """ids [batch, time] -> (logits [batch, time, vocab], final state tuple); unrolled by `impl` (a name
        in UNROLLERS), else by the config's implementation."""
        if state is None:
            state = self.zero_state(tf.shape(ids)[0])
        unroller = UNROLLERS[impl or self.impl]
        if unroller.reads_rows and self.embedding is not None:  # it looks the rows up itself, folded
            inputs = Rows(self.embedding.embeddings, ids)
        else:
            inputs = self.embed(ids)
        outputs, state = unroller.impl(self.stack, inputs, tuple(state), training=training)
        return self.head(outputs), state

    def step(self, ids_t, state):
        """One character per row: ids_t [batch] -> (logits [batch, vocab], new state); for sampling."""
        h, state = self.stack(self.embed(ids_t), state, training=False)
        return self.head(h), state
