"""TensorBoard event files: every run writes them, with the tags and steps its own record holds, read back
with TensorFlow's own reader."""

import numpy as np
import tensorflow as tf
from tensorflow.core.util import event_pb2

from core.runs.store import RunStore
from core.training.reports import GATE_EXCERPT
from core.training.summaries import FOLDER
from tests.tiny import tiny_config, train


def events(folder) -> dict:
    """tag -> [(step, value)] from every event file in `folder`."""
    out = {}
    for path in sorted(folder.iterdir()):
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                out.setdefault(value.tag, []).append((event.step, tf.make_ndarray(value.tensor)))
    return out


def test_a_runs_event_files_hold_what_its_record_holds(tmp_path, corpus_path):
    config = tiny_config(
        corpus_path, cell="lstm", max_steps=20, eval_every=10, sample_every=10, clip_norm=1.0
    )
    trainer = train(RunStore(tmp_path / "runs", examples=None), config)
    snap = trainer.record.snapshot()
    tags = events(trainer.run_dir.path / FOLDER)
    steps = lambda tag: [step for step, _ in tags[tag]]
    for tag in ("train/loss", "train/grad_norm", "train/learning_rate", "train/chars_per_s"):
        assert steps(tag) == list(range(1, 21)), tag
    np.testing.assert_allclose(
        [v for _, v in tags["train/loss"]], [m.train_loss for m in snap.metrics], rtol=1e-6
    )
    norms = [m.grad_norm for m in snap.metrics]
    np.testing.assert_allclose([v for _, v in tags["train/grad_norm"]], norms, rtol=1e-6)
    assert all(n > 0 for n in norms)
    assert steps("val/loss_nats") == steps("val/loss_bits") == [e.step for e in snap.evals] == [10, 20]
    np.testing.assert_allclose(
        [v for _, v in tags["val/loss_nats"]], [e.val_loss for e in snap.evals], rtol=1e-6
    )
    assert steps("samples") == [0, 10, 20] and tags["samples"][0][1].item().decode() == snap.samples[0].text
    for name in (
        "embedding/embeddings",
        "stack/layer_1/kernel",
        "stack/layer_1/recurrent_kernel",
        "head/kernel",
    ):
        assert steps(f"weights/{name}") == [10, 20], name
    for gate in ("input", "forget", "output"):
        (_, histogram), _ = tags[f"gates/layer_1/{gate}"]  # [buckets, 3]: left edge, right edge, count
        excerpt = min(GATE_EXCERPT, len(trainer.corpus.val_ids))  # the same characters every time
        assert histogram[:, 2].sum() == excerpt * config.model.state_size
        assert histogram[:, 0].min() >= 0 and histogram[:, 1].max() <= 1  # sigmoid gates


def test_the_gradient_norm_is_measured_before_clipping(tmp_path, corpus_path):
    """With a clip far below the gradients' norm, the recorded norm is still the unclipped one."""
    config = tiny_config(corpus_path, max_steps=3, clip_norm=1e-3, eval_every=0, sample_every=0)
    snap = train(RunStore(tmp_path / "runs", examples=None), config).record.snapshot()
    assert all(m.grad_norm > 1e-2 for m in snap.metrics), [m.grad_norm for m in snap.metrics]
