"""Where one training step's time goes, by op type: forward and backward of a preset's model (no
optimizer), run in a TF1 session whose step statistics time every op.

    python benchmarks/op_profile.py [--preset seed] [--impl fused] [--threads-per-op 1]

Prints the step's wall time (median of 5 untraced runs), then one traced run: the op types by summed
time, with their count and time per op. The summed time runs above twice the wall time on 2 cores
because an op's time includes waiting for a core while the other ops of the loop hold both: read the
shares, not the microseconds. Loop bookkeeping (Merge, Switch, NextIteration, Enter, Exit) is the
executor's cost of each loop variable at every iteration.
"""

import argparse
import collections
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from core.model.char_rnn import CharRNN  # noqa: E402
from core.model.unrollers import UNROLLERS  # noqa: E402
from core.presets import PRESETS  # noqa: E402

VOCAB = 65  # tiny-shakespeare's characters


def profile(preset: str, impl: str, threads_per_op: int) -> tuple[float, dict, dict]:
    """-> (median wall seconds of a step, op type -> summed microseconds, op type -> count)."""
    config = PRESETS[preset]
    batch, window = config.train.batch_size, config.train.num_steps
    graph = tf.Graph()
    with graph.as_default():
        model = CharRNN(dataclasses.replace(config.model, impl=impl), VOCAB)
        ids = tf.constant(np.random.default_rng(0).integers(0, VOCAB, (batch, window)), tf.int32)
        logits, _ = model(ids, model.zero_state(batch), training=True)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(ids, logits))
        step = tf.group(*tf.gradients(loss, model.trainable_variables))
        init = tf.compat.v1.global_variables_initializer()
    session_config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=threads_per_op)
    with tf.compat.v1.Session(graph=graph, config=session_config) as session:
        session.run(init)
        for _ in range(3):  # graph optimisation and warm-up
            session.run(step)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            session.run(step)
            times.append(time.perf_counter() - start)
        metadata = tf.compat.v1.RunMetadata()
        trace = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
        session.run(step, options=trace, run_metadata=metadata)
    micros, count = collections.Counter(), collections.Counter()
    for device in metadata.step_stats.dev_stats:
        for node in device.node_stats:
            # timeline_label reads "name = OpType(inputs)"
            kind = node.timeline_label.split("(")[0].split("=")[-1].strip() or "?"
            micros[kind] += node.all_end_rel_micros
            count[kind] += 1
    return statistics.median(times), micros, count


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="seed", choices=list(PRESETS))
    parser.add_argument("--impl", default="fused", choices=[n for n in UNROLLERS])
    parser.add_argument("--threads-per-op", type=int, default=1, help="0: TensorFlow's default")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    wall, micros, count = profile(args.preset, args.impl, args.threads_per_op)
    total = sum(micros.values())
    print(f"{args.preset}, {args.impl}: step (forward and backward) {wall * 1e3:.1f} ms wall; traced: "
          f"{sum(count.values()):,} ops, {total / 1e3:.1f} ms summed")  # fmt: skip
    print(f"{'op type':<28}{'ms':>9}{'share':>8}{'ops':>8}{'us/op':>8}")
    for kind, us in micros.most_common(args.top):
        print(f"{kind:<28}{us / 1e3:>9.1f}{us / total:>8.1%}{count[kind]:>8}{us / count[kind]:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
