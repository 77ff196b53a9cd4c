"""size_by_speed: the model a time budget can train best on this machine, chosen by the speed the run
measures in its first seconds.

A budget of minutes buys a number of train steps that differs threefold between machines (and between
sessions of one). A small model that is right for a slow machine's few hundred steps stops improving, and
then overfits, on a fast one's thousands; a large one that is right for the fast machine has not begun to
pay on the slow one (docs/time-to-quality.md). So a run with `size_by_speed` times a few steps of the
table's first (smallest) model, works out how many steps of each row its budget holds, and trains the
largest row whose budget holds the steps that row needs to do better than the one before it. The rule is
plain arithmetic on the table (`choose`), tested on made-up speeds; the timing (`time_step`) is the only
part that needs TensorFlow.
"""

import dataclasses
import time
from dataclasses import dataclass

from core.config import RunConfig
from core.runs.rows import Sized


@dataclass(frozen=True)
class Size:
    """One row of the table: a model and its learning rate, what a step of it costs against the first
    row's, and how many steps the budget must hold for it to beat the row before it."""

    name: str  # in words, for the run's log and the Train tab
    cell: str
    num_layers: int
    state_size: int
    dropout: float
    learning_rate: float
    step_ratio: float  # its train step's seconds over the first row's, measured (docs/time-to-quality.md)
    least_steps: int  # below this many steps in the budget the row before it ends lower (measured)

    def applied(self, config: RunConfig) -> RunConfig:
        """`config` with this row's model and learning rate (everything else as it was)."""
        model = dataclasses.replace(
            config.model,
            cell=self.cell,
            num_layers=self.num_layers,
            state_size=self.state_size,
            dropout=self.dropout,
        )
        train = dataclasses.replace(config.train, learning_rate=self.learning_rate)
        return dataclasses.replace(config, model=model, train=train)


# Chosen by measurement: docs/time-to-quality.md, "Second round" (the candidates' curves, the step ratios
# the runs trained at, and where each row overtook the one before it).
SIZES: tuple[Size, ...] = (
    Size("GRU 256", "gru", 1, 256, 0.0, 1e-2, 1.0, 0),
    Size("GRU 384", "gru", 1, 384, 0.0, 7e-3, 1.8, 700),
    Size("GRU 512", "gru", 1, 512, 0.0, 7e-3, 2.95, 600),
    # Twice this machine's steps overfit GRU 512 (1.481, against 1.466 for this row in the same budget).
    # Dropout costs `fused` its embedding fold, hence the ratio (2.95 × 16,212 / 9,275 chars/s in those two
    # runs). That run predicted 685 steps of this row: 650 lets a little timing noise there still pick it.
    Size("GRU 512, dropout 0.2", "gru", 1, 512, 0.2, 7e-3, 5.2, 650),
)
TIMED_WITH = "fused"  # under impl=auto: the implementation the step ratios were measured with
TIMED_STEPS = 3  # of the first row, after its first call (the graph's build and optimisation)
KEPT_FOR_EVALUATION = 0.08  # of the budget's remaining seconds, not counted as train steps: validation
# at epoch ends, samples and checkpoints (with it, the predictions were within 5 % of the steps the runs
# took: docs/time-to-quality.md)


def predicted_steps(size: Size, first_step_s: float, seconds_left: float) -> int:
    """The train steps of `size` that `seconds_left` hold, given the first row's step time."""
    usable = seconds_left * (1 - KEPT_FOR_EVALUATION)
    return max(0, int(usable / (first_step_s * size.step_ratio)))


def choose(
    first_step_s: float, seconds_left: float, sizes: tuple[Size, ...] | None = None
) -> tuple[Size, Sized]:
    """The largest row whose predicted steps reach its least_steps (the first row if none does), and
    the figures it was chosen by."""
    sizes = sizes or SIZES
    steps = {size.name: predicted_steps(size, first_step_s, seconds_left) for size in sizes}
    chosen = next(
        (size for size in reversed(sizes) if steps[size.name] >= size.least_steps),
        sizes[0],
    )
    return chosen, Sized(chosen.name, first_step_s, seconds_left, steps)


def applies(config: RunConfig, resume: bool) -> bool:
    """A new run that asks for it, has a time budget to size for and trains the table's first row as it
    is (a model or rate set by hand is kept; a resumed run keeps its model)."""
    asked = config.train.size_by_speed and config.train.max_minutes > 0 and not resume
    return asked and SIZES[0].applied(config) == config


def why_not(config: RunConfig, resume: bool) -> str:
    """Why a run that asks to be sized by speed is not ('' if it is, or does not ask)."""
    if not config.train.size_by_speed or applies(config, resume):
        return ""
    if resume:
        return "a resumed run keeps its model"
    if config.train.max_minutes <= 0:
        return "it has no time budget to size for"
    return f"its model or learning rate differs from the table's first row ({SIZES[0].name}), so it is kept"


def time_step(config: RunConfig, vocab_size: int, train_ids, impl: str) -> float:
    """Median seconds of TIMED_STEPS train steps of the first row's model by `impl`, on a throwaway model
    and optimizer (the run's own are built after the choice), on the corpus's first batches."""
    import statistics

    import tensorflow as tf

    from core.data.batches import batch_iterator
    from core.model.char_rnn import CharRNN
    from core.training.budget import GO_ON
    from core.training.replicas import Replicas
    from core.training.update import OPTIMIZER_CLASSES, make_train_step

    config = SIZES[0].applied(config)
    model_config = dataclasses.replace(config.model, impl=impl)
    tc = config.train
    model = CharRNN(model_config, vocab_size, seed=tc.seed)
    optimizer = OPTIMIZER_CLASSES[tc.optimizer](learning_rate=tc.learning_rate)
    optimizer.build(model.trainable_variables)
    counter = tf.Variable(0, dtype=tf.int64)
    step = make_train_step(model, optimizer, Replicas(), counter, tc.clip_norm, impl, signature=None)
    state = tuple(s.numpy() for s in model.zero_state(tc.batch_size))
    wish = tf.constant(GO_ON.numbers(), tf.float32)
    batches = batch_iterator(train_ids, tc.batch_size, tc.num_steps)
    seconds = []
    for _, (x, y) in zip(range(1 + TIMED_STEPS), batches):
        t0 = time.perf_counter()
        took = step(x, y, state, wish)
        float(took.loss)  # waits for the step to finish
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds[1:])
