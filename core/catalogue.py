"""The cells and implementations by name, in words: the one home of what each is called and says.

Nothing here imports TensorFlow, so a config can be checked and the app's first page drawn before it
loads. The code lives elsewhere: each entry names the module that registers it (core/model/cells.py,
core/model/unrollers.py, core/model/unrollers_tf1.py), and the registries there (`CELLS`, `UNROLLERS`)
attach each implementation to its entry here; tests/test_layers.py holds the two to the same names.
Adding a cell or an implementation starts with its entry here.
"""

from dataclasses import dataclass

from core.registry import Catalogue, Entry

AUTO = "auto"  # an implementation the trainer picks by a short probe (core/training/probe.py)
AUTO_DESCRIPTION = (
    "the run's first steps are taken by each implementation worth trying in turn, timed, and the fastest "
    "trains the rest"
)


@dataclass(frozen=True)
class CellEntry(Entry):
    """A recurrent cell (core/model/cells.py)."""

    one_hot_inputs: bool = False  # the model feeds this cell one-hot characters instead of an embedding


@dataclass(frozen=True)
class ImplementationEntry(Entry):
    """A way to unroll a cell over time (core/model/unrollers.py, core/model/unrollers_tf1.py)."""

    # Names of the cells it works with (None = all of them).
    supports: tuple[str, ...] | None = None
    # Where it runs: "tf2" (eagerly and in tf.function: trains anywhere) or "tf1" (inside a tf.Graph
    # run by a Session: the benchmark and the Build time lab only).
    family: str = "tf2"
    # It takes an embedding's table and ids (core.model.unrollers.Rows) rather than the looked-up rows,
    # to fold the lookup into its first matmul.
    reads_rows: bool = False
    # Threads each TensorFlow op may use in a process that trains with it (None: TensorFlow's default,
    # every core); set before TensorFlow starts (core/training/threads.py).
    op_threads: int | None = None
    explanation: str = ""  # what it builds and why that costs what it does (Markdown: the Build time lab)
    not_probed: str = ""  # why impl=auto's probe does not time it ("": the probe does)

    def works_with(self, cell: str) -> bool:
        return self.supports is None or cell in self.supports

    @property
    def trains(self) -> bool:
        return self.family == "tf2"


CELLS_MODULE = "core.model.cells"
CELL_CHOICES = Catalogue(
    "cell",
    (
        CellEntry(
            "rnn",
            "basic RNN: h = tanh(x·W + h·U + b), the post's first model (one-hot inputs)",
            "the simplest memory: the new character and the old state are mixed and squashed into the new "
            "state",
            CELLS_MODULE,
            one_hot_inputs=True,  # as the post's first model
        ),
        CellEntry(
            "lstm",
            "LSTM: input, forget, candidate and output gates; state (h, c)",
            "keeps a second, slower memory; gates decide what to write into it, what to keep and what to show",
            CELLS_MODULE,
        ),
        CellEntry(
            "gru",
            "GRU: update and reset gates, reset applied before the recurrent matmul (TF1's GRUCell)",
            "a lighter LSTM: one gate decides how much of the old state to keep, one how much of it to use",
            CELLS_MODULE,
        ),
        CellEntry(
            "ln_lstm",
            "layer-normalised LSTM: LN on each gate and on c before the output tanh (the post's)",
            "an LSTM whose gates' inputs are rescaled to the same spread at every step, which steadies "
            "training",
            CELLS_MODULE,
        ),
        CellEntry(
            "ln_gru",
            "layer-normalised GRU: LN on the update, reset and candidate pre-activations",
            "a GRU with the same rescaling as the layer-normalised LSTM",
            CELLS_MODULE,
        ),
    ),
)

TF2, TF1 = "core.model.unrollers", "core.model.unrollers_tf1"
KERAS_TWINS = ("lstm", "gru")  # the cells Keras has a layer of its own for (the cell class's keras_layer)
IMPL_CHOICES = Catalogue(
    "implementation",
    (
        ImplementationEntry(
            "static",
            "a Python list of per-step tensors (the post's tf.nn.rnn): one copy of the cell per step in the "
            "graph, so build time grows with num_steps",
            "writes the cell out once for every character of the window, one copy after another, so the "
            "bigger the window, the bigger the program TensorFlow must build",
            TF2,
            explanation="A Python `for` loop runs **while tracing**, so the graph holds **one copy of the "
            "cell per time step** (and as many again for the gradients). Tracing, and the first call that "
            "optimises the graph, grow with `num_steps`; once built, a step is fast. The post's list of "
            "tensors.",
            not_probed="one copy of the cell per step: its build grows with num_steps, and at the seed config "
            "its step was the slowest",
        ),
        ImplementationEntry(
            "dynamic",
            "one symbolic loop (the post's dynamic_rnn): tf.while_loop over TensorArrays, build time "
            "independent of num_steps",
            "one loop that runs the same cell once per character: the program stays the same size whatever "
            "the window",
            TF2,
            explanation="One **`tf.while_loop`** whose body is a single copy of the cell, reading inputs "
            "from and writing outputs to `TensorArray`s. The graph is the same size whatever `num_steps`, "
            "so build time stays flat. The post's `dynamic_rnn`.",
        ),
        ImplementationEntry(
            "scan",
            "tf.scan over time-major inputs (the post's third way): a loop that also stacks every step's "
            "state",
            "the same kind of loop, written as a scan that also keeps every step's state",
            TF2,
            explanation="**`tf.scan`** builds a while loop too, but it also **stacks every step's state** "
            "(`[time, batch, units]` per state tensor) for the backward pass: flat build time, a little "
            "more memory and work per step. The post's third way.",
            not_probed="the same loop as dynamic's that also stacks every step's state: a little slower a "
            "step than dynamic",
        ),
        ImplementationEntry(
            "keras",
            "keras.layers.RNN around the same cell: Keras 3's own loop",
            "the library's general loop, run around this project's own cell",
            TF2,
            explanation="**`keras.layers.RNN`** wraps the very same cell and runs Keras 3's own loop (a "
            "while loop on TensorFlow): flat build time, Keras's bookkeeping around each step.",
            not_probed="Keras's generic loop around the same cell: slower a step than dynamic",
        ),
        ImplementationEntry(
            "keras-fused",
            "the library's own keras.layers.LSTM / GRU, one layer after another, on the same weights "
            f"({' and '.join(KERAS_TWINS)} only)",
            "the library's ready-made LSTM and GRU layers, computing with the same weights",
            TF2,
            supports=KERAS_TWINS,
            explanation="The library's **own `keras.layers.LSTM` / `GRU` layers**, one per layer of the "
            "stack, computing with our cell's weights: each layer runs its whole sequence in one optimised "
            "loop before the next begins. `lstm` and `gru` cells only.",
            not_probed="the slowest loop at the seed config and at quick's",
        ),
        ImplementationEntry(
            "fused",
            "a hand-derived backward (core/model/fused/engine.py): all layers in one forward loop and one "
            "backward loop, weight gradients as one large matmul each, an embedding folded into layer 1's "
            "input matmul; the fastest here for stacked layers and, on some machines, for one wide layer",
            "this project's fastest loop: every layer in one pass forward and one pass back, with the "
            "backward written out by hand",
            TF2,
            reads_rows=True,
            # Its layers' small ops run side by side (layer l at step t beside layer l-1 at step t+1); an
            # op split over two threads as well waits on the other half and slows that overlap (docs/speed.md,
            # "One thread per op", has the measurement).
            op_threads=1,
            explanation="The fastest this project found, for stacked layers and for one wide layer "
            "(`core/model/fused/engine.py`; the machine decides: `auto` measures). Autodiff through a loop "
            "replays every op's gradient at every step and adds up each weight's gradient **inside** the "
            "backward loop; here the backward pass is **written out** (`tf.custom_gradient`). Every layer "
            "runs in the **same** iteration of both loops, so layer 2 at step t overlaps layer 1 at step "
            "t+1; layer 1's input matmul, the gates' derivatives and the **weight gradients** are each "
            "**one large matmul or elementwise op over all steps**, outside the loops, where this CPU runs "
            "fastest. Each cell's derivative is written out by hand (layer norm's too) and tested against "
            "autodiff. With an embedding, layer 1's input matmul is a **lookup** in the 65-row table E·W "
            "(and its gradients a 65-row sum): the same numbers, a fraction of the work.",
        ),
        ImplementationEntry(
            "tf1-static",
            "tf.compat.v1.nn.static_rnn on a list of per-step inputs, in a tf.Graph",
            "the post's own list of steps, built the 2016 way (a graph, then a session)",
            TF1,
            family="tf1",
            explanation="The post's own call: **`tf.compat.v1.nn.static_rnn` on a list of per-step "
            "inputs**, in a `tf.Graph` run by a `Session`. One copy of the cell per step, so building the "
            "graph (and `AdamOptimizer.minimize`, which adds the gradients) grows with `num_steps`.",
        ),
        ImplementationEntry(
            "tf1-dynamic",
            "tf.compat.v1.nn.dynamic_rnn, in a tf.Graph",
            "the post's own loop, built the 2016 way",
            TF1,
            family="tf1",
            explanation="The post's **`tf.compat.v1.nn.dynamic_rnn`**: one while loop in a `tf.Graph`, run "
            "by a `Session`; the graph's size, and so its build, does not depend on `num_steps`.",
        ),
        ImplementationEntry(
            "tf1-scan",
            "tf.scan over time-major inputs, as the post wrote it, in a tf.Graph",
            "the post's own scan, built the 2016 way",
            TF1,
            family="tf1",
            explanation="The post's **`tf.scan` over time-major inputs**, in a `tf.Graph` run by a "
            "`Session`: a loop that also stacks every step's state.",
        ),
    ),
)
