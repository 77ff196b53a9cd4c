"""What each implementation builds, in words, beside the lines of the project's code that build it.

The code is read from the registered function itself (inspect.getsource), so the page always quotes
core/model/unrollers.py and core/model/unrollers_tf1.py as they are. Names come from the registry,
never from a list here.
"""

import inspect
from pathlib import Path

from core.model.unrollers import UNROLLERS
from core.paths import ROOT
from core.registry import Entry

EXPLANATIONS = {
    "static": "A Python `for` loop runs **while tracing**, so the graph holds **one copy of the cell per time "
    "step** (and as many again for the gradients). Tracing, and the first call that optimises the "
    "graph, grow with `num_steps`; once built, a step is fast. The post's list of tensors.",
    "dynamic": "One **`tf.while_loop`** whose body is a single copy of the cell, reading inputs from and writing "
    "outputs to `TensorArray`s. The graph is the same size whatever `num_steps`, so build time stays "
    "flat. The post's `dynamic_rnn`.",
    "scan": "**`tf.scan`** builds a while loop too, but it also **stacks every step's state** "
    "(`[time, batch, units]` per state tensor) for the backward pass: flat build time, a little more "
    "memory and work per step. The post's third way.",
    "keras": "**`keras.layers.RNN`** wraps the very same cell and runs Keras 3's own loop (a while loop on "
    "TensorFlow): flat build time, Keras's bookkeeping around each step.",
    "keras-fused": "The library's **own `keras.layers.LSTM` / `GRU` layers**, one per layer of the stack, "
    "computing with our cell's weights: each layer runs its whole sequence in one optimised loop "
    "before the next begins. `lstm` and `gru` cells only.",
    "fused": "The fastest this project found, for stacked layers and for one wide layer (`core/model/fused/engine.py`; "
    "the machine decides: `auto` measures). Autodiff through a loop replays every op's "
    "gradient at every step and adds up each weight's gradient **inside** the backward loop; here the "
    "backward pass is **written out** (`tf.custom_gradient`). Every layer runs in the **same** iteration "
    "of both loops, so layer 2 at step t overlaps layer 1 at step t+1; layer 1's input matmul, the gates' "
    "derivatives and the **weight gradients** are each **one large matmul or elementwise op over all "
    "steps**, outside the loops, where this CPU runs fastest. Each cell's derivative is written out by "
    "hand (layer norm's too) and tested against autodiff. With an embedding, layer 1's input matmul is a "
    "**lookup** in the 65-row table E·W (and its gradients a 65-row sum): the same numbers, a fraction of "
    "the work.",
    "tf1-static": "The post's own call: **`tf.compat.v1.nn.static_rnn` on a list of per-step inputs**, in a "
    "`tf.Graph` run by a `Session`. One copy of the cell per step, so building the graph (and "
    "`AdamOptimizer.minimize`, which adds the gradients) grows with `num_steps`.",
    "tf1-dynamic": "The post's **`tf.compat.v1.nn.dynamic_rnn`**: one while loop in a `tf.Graph`, run by a "
    "`Session`; the graph's size, and so its build, does not depend on `num_steps`.",
    "tf1-scan": "The post's **`tf.scan` over time-major inputs**, in a `tf.Graph` run by a `Session`: a loop "
    "that also stacks every step's state.",
}


def names() -> list[str]:
    """Every implementation the lab can measure: the TF2 unrollers, then the TF1 family."""
    return UNROLLERS.names()


def entry(name: str) -> Entry:
    return UNROLLERS[name]


def is_tf1(name: str) -> bool:
    return UNROLLERS[name].family == "tf1"


def explanation(name: str) -> str:
    """What it builds and why that costs what it does (the registry's one line if none is written)."""
    return EXPLANATIONS.get(name) or entry(name).description


def _from_def(name: str) -> tuple[list[str], int]:
    """The registered function's source lines from its `def` on (the registering decorator left out),
    and the line number of that `def`."""
    lines, first = inspect.getsourcelines(entry(name).impl)
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("def "))
    return lines[start:], first + start


def snippet(name: str) -> str:
    """The code that builds this implementation's loop, as the project has it now."""
    return "".join(_from_def(name)[0]).rstrip()


def source_of(name: str) -> str:
    """'core/model/unrollers.py, line 24': where the snippet lives."""
    path = Path(inspect.getsourcefile(entry(name).impl)).resolve()
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return f"{where}, line {_from_def(name)[1]}"
