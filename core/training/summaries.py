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

SCALARS = {  # event kind -> (field, TensorBoard tag)
    "metric": (
        ("train_loss", "train/loss"),
        ("learning_rate", "train/learning_rate"),
        ("chars_per_s", "train/chars_per_s"),
        ("grad_norm", "train/grad_norm"),
    ),
    "eval": (("val_loss", "val/loss_nats"), ("val_bits", "val/loss_bits")),
}
FOLDER = "tb"


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
        kind = event["kind"]
        with self.writer.as_default():
            for field, tag in SCALARS.get(kind, ()):
                if event.get(field) is not None:
                    tf.summary.scalar(tag, event[field], step=event["step"])
            if kind == "sample":
                tf.summary.text("samples", event["text"], step=event["step"])
            if kind == "status" and event.get("status") in ("finished", "stopped", "failed", "diverged"):
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
