"""A trained run's network reading a text: a Tracer (core/model/trace.py) on the run's checkpoint.

    tracer, step = tracer_for(run_dir)   # the latest checkpoint's weights, and their train step
    tr = tracer("ROMEO:\\nBut soft")       # -> Trace: every layer's states, gates and guesses

RunReader keeps one Tracer per run and reads another checkpoint's weights into it, for a run still
training or its milestones.
"""

import threading

from core.model.trace import Trace, Tracer


def tracer_for(run_dir, prefix: str | None = None) -> tuple[Tracer, int]:
    """(a Tracer on the run's latest checkpoint, or the one at `prefix`, the train step it is from);
    CheckpointMismatch (one sentence) for a run with no checkpoint yet or one that lacks weights."""
    from core.runs.checkpoints import load_model

    model, vocab, step = load_model(run_dir, prefix=prefix)
    return Tracer(model, vocab), step


class RunReader:
    """A run's Tracer that follows the run's checkpoints, for a run still training: another checkpoint's
    weights (a newer one, or a milestone) are read into the same model, so its compiled loop is built
    once per run, not per checkpoint. Thread-safe: a read never mixes two checkpoints' weights."""

    def __init__(self, run_dir):
        self.run_dir, self.lock = run_dir, threading.Lock()
        self.tracer: Tracer | None = None
        self.checkpoint, self.step = None, 0

    def read(self, text: str, checkpoint: str) -> tuple[Trace, int]:
        """`text` read by the weights of the checkpoint at path prefix `checkpoint` (or the run's latest,
        for ""), and their step."""
        return self.using(checkpoint, lambda model, vocab: (self.tracer(text), self.step))

    def using(self, checkpoint: str, work):
        """work(model, vocab) on the weights of the checkpoint at `checkpoint` ("" for the latest), under
        the reader's lock: no other read swaps the weights while it runs (connectivity, held units)."""
        from core.runs.checkpoints import read_weights

        with self.lock:
            if self.tracer is None:
                self.tracer, self.step = tracer_for(self.run_dir, checkpoint or None)
            elif checkpoint != self.checkpoint:
                self.step = read_weights(self.tracer.model, self.run_dir, prefix=checkpoint or None)
            self.checkpoint = checkpoint
            return work(self.tracer.model, self.tracer.vocab)
