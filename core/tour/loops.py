"""dynamic_rnn, scan and the list compute the same numbers: each unroller run on the same weights and the
same input, and timed in the same run, so their speeds can be compared as ratios.

tests/test_unrollers.py holds every implementation to the same outputs, states and gradients for every
cell; this is the same check made live, small enough to run in a few seconds.
"""

import statistics
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from core.model.stack import make_stack
from core.model.unrollers import UNROLLERS

SHOWN = ("dynamic", "scan", "static")  # the post's dynamic_rnn, tf.scan and list; the first is the reference


class Row(NamedTuple):
    """One unroller's numbers beside the reference's, and its speed."""

    impl: str
    max_diff: float  # the largest |difference| from the reference, over every output and final state value
    step_s: float  # median seconds of one compiled forward and backward pass
    trace_s: float  # its first call: tracing the graph, then running it once


@dataclass(frozen=True)
class Comparison:
    reference: str  # the unroller the others are compared with: the first one asked for
    rows: tuple[Row, ...]
    calls: int  # timed calls per unroller
    cell: str
    units: int
    batch_size: int
    num_steps: int

    def ratio(self, impl: str) -> float:
        """impl's pass time over the reference's (above 1: slower)."""
        times = {row.impl: row.step_s for row in self.rows}
        return times[impl] / times[self.reference]


def usable(cell: str) -> list[str]:
    """The unrollers that train and can run this cell (keras-fused: lstm and gru only)."""
    return [n for n in UNROLLERS.names(trains_only=True) if UNROLLERS[n].works_with(cell)]


def _pass(impl: str, stack, xs, state):
    """One forward and backward pass, as a train step makes it (without the update)."""
    with tf.GradientTape() as tape:
        tape.watch(xs)
        outputs, final = UNROLLERS[impl].impl(stack, xs, state)  # outputs [batch, time, units]
        loss = tf.reduce_sum(outputs**2)
    return outputs, final, tape.gradient(loss, stack.trainable_variables + [xs])


def compare(impls=SHOWN, cell: str = "lstm", units: int = 64, batch_size: int = 32, num_steps: int = 50,
            calls: int = 5, seed: int = 0) -> Comparison:  # fmt: skip
    """Run every unroller in `impls` on one layer of `cell`'s weights and one random input; the first
    is the one the others are compared with."""
    stack = make_stack(cell, units, units, num_layers=1, seed=seed)  # inputs as wide as an embedding's
    xs = tf.random.normal([batch_size, num_steps, units], seed=seed)  # [batch, time, features]
    state = tuple(tf.random.normal([batch_size, n], seed=seed + 1) for n in stack.state_size)
    passes = {impl: tf.function(lambda x, s, impl=impl: _pass(impl, stack, x, s)) for impl in impls}
    firsts, results = {}, {}
    for impl in impls:
        t0 = time.perf_counter()
        results[impl] = _numpy(passes[impl](xs, state))
        firsts[impl] = time.perf_counter() - t0
    times = {impl: [] for impl in impls}
    for _ in range(calls):  # interleaved: every unroller's calls see the same load on the machine
        for impl in impls:
            t0 = time.perf_counter()
            _numpy(passes[impl](xs, state))  # numpy() waits for the pass to finish
            times[impl].append(time.perf_counter() - t0)
    reference = results[impls[0]]
    rows = tuple(
        Row(impl, _max_diff(results[impl], reference), statistics.median(times[impl]), firsts[impl])
        for impl in impls
    )
    return Comparison(impls[0], rows, calls, cell, units, batch_size, num_steps)


def _numpy(result) -> list[np.ndarray]:
    """A pass's outputs and final state as numpy arrays (the gradients are computed, then left out)."""
    outputs, final, _ = result
    return [outputs.numpy(), *(s.numpy() for s in final)]


def _max_diff(arrays: list, reference: list) -> float:
    return max(float(np.max(np.abs(a - b))) for a, b in zip(arrays, reference))
