"""The post's own calls on today's TensorFlow: a tf.Graph, a tf.compat.v1.Session, static_rnn /
dynamic_rnn / tf.scan, and tf.compat.v1.train.AdamOptimizer.

TF 2.21 with Keras 3 has no tf.compat.v1.nn.rnn_cell classes, but static_rnn and dynamic_rnn accept
anything that looks like an RNN cell, so the core's own cells are wrapped. The three calls are
registered in UNROLLERS (core/model/unrollers_tf1.py, family "tf1"); the graph that runs them is here.
Used by the benchmark and the Build-time lab to replay the post's experiment; the app trains with the
TF2 implementations.
"""

import time

import numpy as np
import tensorflow as tf

from core.config import RunConfig
from core.model.char_rnn import CharRNN
from core.model.unrollers import UNROLLERS

v1 = tf.compat.v1


class TF1Cell:
    """What TF1's RNN functions ask of a cell: state_size, output_size, zero_state and __call__."""

    def __init__(self, stack, training: bool):
        self.stack, self.training = stack, training

    @property
    def state_size(self):
        return tuple(self.stack.state_size)

    @property
    def output_size(self):
        return self.stack.output_size

    def zero_state(self, batch_size, dtype):
        return self.stack.zero_state(batch_size, dtype)

    def __call__(self, x, state, scope=None):
        return self.stack.call(x, tuple(state), training=self.training)


class TF1Graph:
    """One CharRNN in its own graph: placeholders -> unrolled RNN -> loss -> AdamOptimizer, in a session."""

    def __init__(self, config: RunConfig, vocab_size: int, impl: str):
        tc = config.train
        t0 = time.perf_counter()
        self.graph = tf.Graph()
        with self.graph.as_default():
            v1.set_random_seed(tc.seed)
            self.model = CharRNN(config.model, vocab_size, seed=tc.seed)
            self.x = v1.placeholder(tf.int32, [tc.batch_size, tc.num_steps], name="x")  # [batch, time]
            self.y = v1.placeholder(tf.int32, [tc.batch_size, tc.num_steps], name="y")
            self.init_state = tuple(
                v1.placeholder(tf.float32, [tc.batch_size, n]) for n in self.model.stack.state_size
            )
            cell = TF1Cell(self.model.stack, training=config.model.dropout > 0)
            outputs, self.final_state = UNROLLERS[impl].impl(cell, self.model.embed(self.x), self.init_state)
            self.logits = self.model.head(outputs)  # [batch, time, vocab]
            self.loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(self.y, self.logits))
            self.variables = self.model.trainable_variables  # the same order as a TF2 CharRNN's
            self.train_op = v1.train.AdamOptimizer(tc.learning_rate).minimize(self.loss)
            init = v1.global_variables_initializer()
        self.build_s = time.perf_counter() - t0  # the post's "build time": graph and optimizer
        self.session = v1.Session(graph=self.graph)
        self.session.run(init)
        self.batch_size = tc.batch_size

    def zero_state(self) -> tuple:
        return tuple(np.zeros(p.shape, np.float32) for p in self.init_state)

    def feed(self, x, y, state) -> dict:
        return {self.x: x, self.y: y, **dict(zip(self.init_state, state))}

    def train_step(self, x, y, state):
        """One Adam update; returns (loss, final state) as numpy."""
        loss, state, _ = self.session.run(
            [self.loss, self.final_state, self.train_op], self.feed(x, y, state)
        )
        return loss, state

    def forward(self, x, y, state):
        """(logits, loss, final state) without updating: for comparing with the TF2 twins."""
        return self.session.run([self.logits, self.loss, self.final_state], self.feed(x, y, state))

    def set_weights(self, values) -> None:
        """Load weights (numpy arrays in the order of a TF2 CharRNN's trainable_variables)."""
        with self.graph.as_default():
            # KerasVariable.assign returns the value, not the op, in graph mode: assign the tf.Variable itself.
            self.session.run([var.value.assign(value) for var, value in zip(self.variables, values)])

    def close(self) -> None:
        self.session.close()
