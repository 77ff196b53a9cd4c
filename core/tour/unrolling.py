"""How big the post's training graph is, and how long it takes to build, as num_steps grows.

Each point builds core.measure.tf1.TF1Graph (the post's own tf.compat.v1 calls in a tf.Graph: the
unrolled RNN, its loss, the gradients and AdamOptimizer) and counts the graph's operations. A list
(tf1-static) copies the cell once per step, so both grow with num_steps; dynamic_rnn and tf.scan hold
one loop body whatever the length.
"""

import dataclasses
from dataclasses import dataclass

from core.config import ModelConfig, RunConfig
from core.presets import PRESETS

IMPLS = ("tf1-static", "tf1-dynamic", "tf1-scan")  # the post's list, dynamic_rnn and tf.scan


@dataclass(frozen=True)
class BuildPoint:
    """One graph built: which way, how long, and how big."""

    impl: str
    num_steps: int
    ops: int  # operations in the whole training graph (forward, gradients, Adam)
    build_s: float  # graph construction, as the post timed it (its Session is opened after)


def config_of(cell: str, state_size: int, batch_size: int, num_steps: int, num_layers: int = 1) -> RunConfig:
    """The post's setting (the seed preset) with these sizes."""
    seed = PRESETS["seed"]
    # impl is the TF2 twin: a RunConfig may not name a TF1 call, TF1Graph is told which one to build
    model = ModelConfig(cell=cell, impl="dynamic", num_layers=num_layers, state_size=state_size)
    train = dataclasses.replace(seed.train, batch_size=batch_size, num_steps=num_steps)
    return dataclasses.replace(seed, model=model, train=train)


def measure_build(impl: str, config: RunConfig, vocab_size: int) -> BuildPoint:
    """Build the post's graph with `impl` in this process; its build time and size."""
    from core.measure.tf1 import TF1Graph  # late: TensorFlow is imported only by a caller that builds

    graph = TF1Graph(config, vocab_size, impl)
    try:
        return BuildPoint(impl, config.train.num_steps, len(graph.graph.get_operations()), graph.build_s)
    finally:
        graph.close()
