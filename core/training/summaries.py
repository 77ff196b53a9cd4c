"""TensorBoard event files for every run, written beside its own records: `tensorboard --logdir runs`.

    Summaries(run_dir)              a tf.summary writer on runs/<id>/tb/
      as a RunRecord listener:      metric -> train/loss, train/learning_rate, train/chars_per_s,
                                    train/grad_norm (before clipping); eval -> val/loss_nats, val/loss_bits;
                                    sample -> samples (text)
      .histograms(step, model, tr)  every weight's histogram, and each gate's values on a fixed validation
                                    excerpt (`tr`, a core.inside Trace), at every evaluation

The trainer makes one per run folder; the record's events are the source, so what TensorBoard shows is
what the run's own files hold.
"""

import tensorflow as tf

from core.runs.record import FINAL
from core.runs.rows import EvalRow, MetricRow, SampleRow, row_of

FOLDER = "tb"


def scalars(row) -> dict:
    """TensorBoard tag -> value, for a metric or an evaluation row (a field a row lacks: None)."""
    if isinstance(row, MetricRow):
        return {
            "train/loss": row.train_loss,
            "train/learning_rate": row.learning_rate,
            "train/chars_per_s": row.chars_per_s,
            "train/grad_norm": row.grad_norm,
        }
    if isinstance(row, EvalRow):
        return {"val/loss_nats": row.val_loss, "val/loss_bits": row.val_bits}
    return {}


class Summaries:
    """One run's TensorBoard writer (its events flushed every few seconds and at close). Best effort: a
    failure to write them (a full disk) ends the event files, never the run (its own files say more)."""

    def __init__(self, folder):
        self.writer = tf.summary.create_file_writer(str(folder), flush_millis=5_000)
        self.broken = False

    def __call__(self, event: dict) -> None:
        """A RunRecord listener: scalars and samples as they are recorded."""
        self._quietly(self._write, event)

    def _quietly(self, write, *args) -> None:
        if self.broken:
            return
        try:
            write(*args)
        except Exception:  # a full disk, a missing tensorboard package: the run's own files go on
            self.broken = True

    def _write(self, event: dict) -> None:
        row = row_of(event)  # the event's typed row (None: not a row)
        with self.writer.as_default():
            for tag, value in scalars(row).items():
                if value is not None:
                    tf.summary.scalar(tag, value, step=row.step)
            if isinstance(row, SampleRow):
                tf.summary.text("samples", row.text, step=row.step)
            if event["kind"] == "status" and event.get("status") in FINAL:
                self.writer.flush()

    def histograms(self, step: int, model, trace=None) -> None:
        """Every weight of `model`, and (from a Trace) each layer's gate values over its text."""
        self._quietly(self._histograms, step, model, trace)

    def _histograms(self, step: int, model, trace) -> None:
        with self.writer.as_default():
            for variable in model.trainable_variables:
                tf.summary.histogram(f"weights/{variable.path}", variable, step=step)
            for gate, values in trace.gates.items() if trace is not None else ():
                for layer, layer_values in enumerate(values):  # [N, H] each
                    tf.summary.histogram(f"gates/layer_{layer + 1}/{gate}", layer_values, step=step)

    def close(self) -> None:
        self._quietly(self.writer.close)
