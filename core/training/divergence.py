"""When a run has diverged, in words, and which of its checkpoints still hold weights worth keeping."""

import math
from typing import NamedTuple

EXPLODED = 3.0  # a training loss this many times the run's first has exploded (char-rnn aborts at 3×)


class Divergence(NamedTuple):
    why: str  # in words, for the run's status
    bad_loss: bool  # the loss itself was bad, so the weights that gave it are bad (not only the update)


def why_diverged(loss: float, finite_weights: bool, first_loss: float, step: int) -> Divergence | None:
    """Why the step `step` ends the run (None if it does not): a loss or weights that are not finite, or
    a loss far above the run's first (char-rnn's rule: more than EXPLODED times it)."""
    if not math.isfinite(loss):
        return Divergence(f"the loss became {loss} at step {step:,}", bad_loss=True)
    if loss > EXPLODED * first_loss:
        why = (
            f"the loss exploded to {loss:,.4g} nats/char at step {step:,}, "
            f"over {EXPLODED:g}× the run's first ({first_loss:.3f})"
        )
        return Divergence(why, bad_loss=True)
    if not finite_weights:
        why = f"the weights became NaN or infinite at step {step:,} (the loss before the update was finite)"
        return Divergence(why, bad_loss=False)
    return None


def keep_good_weights(checkpoint, step: int, divergence: Divergence) -> str:
    """After divergence at `step`: drop a checkpoint whose weights gave the bad loss (saved at step - 1: a
    checkpoint holds the weights after its step, and the loss at `step` is theirs); say truthfully which
    weights are kept. `checkpoint` is the run's RunCheckpoint."""
    saved = checkpoint.saved_steps()
    if saved and divergence.bad_loss and saved[-1] == step - 1:
        checkpoint.discard_latest()
        saved = saved[:-1]
    if not saved:
        return ("no checkpoint holds weights whose loss was finite, so none are kept; start again with "
                "a lower learning rate or gradient clipping")  # fmt: skip
    return (f"the weights from step {saved[-1]:,} (their loss was finite) are kept: continue from them "
            "with a lower learning rate or gradient clipping")  # fmt: skip
