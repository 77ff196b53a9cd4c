"""What the chief reports between train steps besides the loss: the validation loss, live samples and
TensorBoard's histograms. Each goes into the run's record (or its event files); nothing is drawn here."""

import math

import numpy as np

from core.config import RunConfig, SampleConfig
from core.data.batches import batch_iterator
from core.data.corpus import Corpus
from core.model.sampler import Sampler
from core.model.trace import Tracer
from core.runs.record import RunRecord
from core.runs.rows import EvalRow
from core.training.summaries import Summaries

LN2 = math.log(2.0)
GATE_EXCERPT = 500  # validation characters whose gate values TensorBoard shows at every evaluation


class Reports:
    """The chief's reports on `model` as it trains; `eval_step` is update.make_eval_step's."""

    def __init__(self, config: RunConfig, corpus: Corpus, model, record: RunRecord, eval_step,
                 summaries: Summaries | None):  # fmt: skip
        self.train, self.corpus, self.model, self.record = config.train, corpus, model, record
        self.eval_step, self.summaries = eval_step, summaries
        self.sampler = Sampler(model, corpus.vocab)
        self.gate_reader = None  # a Tracer on a fixed validation excerpt, made at the first histograms

    def evaluate(self, step: int, epoch: int, elapsed_s: float, wall_s: float) -> float:
        """Mean validation loss over the held-out tail (at most eval_batches windows), state carried;
        recorded at `step` of (0-based) `epoch`."""
        tc = self.train
        state, losses = self.model.zero_state(tc.batch_size), []
        for i, (x, y) in enumerate(batch_iterator(self.corpus.val_ids, tc.batch_size, tc.num_steps)):
            if tc.eval_batches and i >= tc.eval_batches:
                break
            loss, state = self.eval_step(x, y, state)
            losses.append(float(loss))
        val = float(np.mean(losses))
        self.record.eval(
            EvalRow(
                step=step,
                epoch=epoch + 1,
                val_loss=val,
                val_bits=val / LN2,
                elapsed_s=elapsed_s,
                wall_s=wall_s,
            )
        )
        return val

    def sample(self, step: int) -> None:
        """A live sample, seeded by the step so that the same weights always write the same text."""
        prime = self.corpus.vocab.decode(self.corpus.val_ids[:1])  # a character the vocabulary surely has
        config = SampleConfig(length=self.train.sample_length, prime=prime, top_k=0, seed=step)
        self.record.sample(step, prime + self.sampler.generate(config))

    def histograms(self, step: int) -> None:
        """TensorBoard's weight and gate histograms at this step (made after each evaluation)."""
        if self.summaries is not None:
            self.summaries.histograms(step, self.model, self.gates_on_excerpt())

    def gates_on_excerpt(self):
        """The model reading the same stretch of the validation split at every evaluation (a Trace)."""
        if self.gate_reader is None:
            self.gate_reader = Tracer(self.model, self.corpus.vocab)
        return self.gate_reader(self.corpus.vocab.decode(self.corpus.val_ids[:GATE_EXCERPT]))


def reached(snap) -> str:
    """The best validation loss of a run and when it came, in words (the final line of a run)."""
    best = snap.best_eval
    if best is None:
        return "no validation loss yet"
    when = f", {best.wall_s / 60:.1f} minutes after Start" if best.wall_s is not None else ""
    return f"best validation loss {best.val_loss:.3f} nats/char at step {best.step:,}{when}"
