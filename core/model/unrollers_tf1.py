"""The post's own unrolling calls, for a tf.Graph run by a tf.compat.v1.Session: registered in UNROLLERS
(family "tf1" in core/catalogue.py, which names this module: UNROLLERS imports it when one of them is first
looked up), so the benchmark and the Build time lab list them beside the TF2 implementations. They
cannot train in the app, which runs eagerly; core/measure/tf1.py builds the graph around them.

Each takes a TF1-style cell (core.measure.tf1.TF1Cell wraps the stack), xs [batch, time, features] and
the state tuple, and returns (outputs [batch, time, units], the final state tuple).
"""

import tensorflow as tf

from core.model.unrollers import UNROLLERS

v1 = tf.compat.v1


@UNROLLERS.register("tf1-static")
def tf1_static(cell, xs, state):
    outputs, state = v1.nn.static_rnn(cell, tf.unstack(xs, axis=1), initial_state=state)
    return tf.stack(outputs, axis=1), tuple(state)


@UNROLLERS.register("tf1-dynamic")
def tf1_dynamic(cell, xs, state):
    outputs, state = v1.nn.dynamic_rnn(cell, xs, initial_state=state)
    return outputs, tuple(state)


@UNROLLERS.register("tf1-scan")
def tf1_scan(cell, xs, state):
    def step(carry, x_t):
        return cell(x_t, carry[1])

    h0 = tf.zeros([xs.shape[0], cell.output_size])
    hs, states = tf.scan(step, tf.transpose(xs, [1, 0, 2]), initializer=(h0, tuple(state)))
    return tf.transpose(hs, [1, 0, 2]), tuple(s[-1] for s in states)
