"""How many threads each TensorFlow op may use in a process that trains, set before TensorFlow starts.

TensorFlow runs independent ops side by side (inter-op threads) and splits one op over several threads
(intra-op). An implementation registered with `op_threads` trains fastest with that many threads per op
(`fused`: one); the others keep TensorFlow's default. Under impl=auto the probe times its candidates in
one process, so the setting is the one any candidate asks for. TF_NUM_INTRAOP_THREADS, if set (by hand
or by core.cluster), wins. A process in which TensorFlow has already started (a test, a notebook) keeps
what it has: the setting can only be made before.
"""

import os

import tensorflow as tf

from core.catalogue import IMPL_CHOICES
from core.config import AUTO, ModelConfig
from core.training.probe import candidates

ENV = "TF_NUM_INTRAOP_THREADS"


def asking(model: ModelConfig) -> dict[str, int]:
    """The implementations a run of `model` may train with that ask for a number of threads per op."""
    names = candidates(model.cell) if model.impl == AUTO else [model.impl]
    return {name: IMPL_CHOICES[name].op_threads for name in names if IMPL_CHOICES[name].op_threads}


def set_op_threads(model: ModelConfig) -> str:
    """Set the threads per op a run of `model` trains fastest with; a line for the run's log ('' if
    TensorFlow's default stays)."""
    asked = asking(model)
    n = min(asked.values(), default=None)
    if n is None or os.environ.get(ENV):
        return ""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
    except RuntimeError:  # TensorFlow has started in this process already: it keeps its threads
        return ""
    who = ", ".join(asked) + (f", one of {AUTO}'s candidates," if model.impl == AUTO else "")
    plain = (
        "Each calculation keeps to one core, so that the layers' calculations run side by side"
        if n == 1
        else (f"Each calculation is split over at most {n} cores")
    )
    return f"{plain}: TensorFlow ops run on {n} thread{'s' if n > 1 else ''} each, as {who} trains fastest so"
