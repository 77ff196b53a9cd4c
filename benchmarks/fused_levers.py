"""Two levers for the `fused` engine at a preset's shape, each measured on its own:

    python benchmarks/fused_levers.py [--preset seed] [--rounds 3]

1. The embedding fold (built into `fused`: core/model/fused/engine.py). Layer 1's input x·W and its two
   gradients (Xᵀ·DZ for W, DZ·Wᵀ for x) are three [T·B, I] x [I, G·H]-sized matmuls. For an embedding
   input they equal a row lookup in the [V, G·H] table E·W and, backwards, a V-row segment sum of DZ.
   Both forms are timed alone, beside a whole train step of `fused` as it is now (forward, backward,
   Adam; folded), and the printout says what share of an unfolded step (this one plus the difference)
   the three matmuls are, and what the fold saves as a ratio of step times.
2. XLA. The same train step compiled with tf.function(jit_compile=True), for `fused` and `keras-fused`.

Each figure is the median of 8 calls after 2 warm-up calls, all in one process, one round after another.
"""

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from core.model.char_rnn import CharRNN  # noqa: E402
from core.model.fused.engine import rule_for  # noqa: E402
from core.presets import PRESETS  # noqa: E402

VOCAB = 65  # tiny-shakespeare's characters


def median_s(fn, *args, calls: int = 8) -> float:
    for _ in range(2):
        np.asarray(fn(*args))
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        np.asarray(fn(*args))  # waits for the result
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def train_step(model_config, batch: int, steps: int, jit: bool):
    """A train step of a fresh model (forward, backward, Adam) as a tf.function, and its inputs."""
    model = CharRNN(model_config, VOCAB)
    optimizer = keras.optimizers.Adam(1e-4)
    optimizer.build(model.trainable_variables)
    ids = tf.constant(np.random.default_rng(0).integers(0, VOCAB, (batch, steps)), tf.int32)

    @tf.function(jit_compile=jit)
    def step(x, state):
        with tf.GradientTape() as tape:
            logits, _ = model(x, state, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(x, logits))
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
        optimizer.apply(grads, model.trainable_variables)
        return loss

    return step, ids, model


def fold_pair(rows: int, width: int, gates_width: int, ids):
    """(the three layer-1 matmuls, their folded equivalent) as tf.functions of no arguments."""
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(rows, width)), tf.float32)  # embedded inputs, [T·B, I]
    w = tf.constant(rng.normal(size=(width, gates_width)), tf.float32)  # W [I, G·H]
    dz = tf.constant(rng.normal(size=(rows, gates_width)), tf.float32)  # d loss / d (x·W), [T·B, G·H]
    table = tf.constant(rng.normal(size=(VOCAB, width)), tf.float32)  # the embedding, [V, I]
    flat = tf.reshape(ids, [-1])

    @tf.function
    def matmuls():
        xw, dw, dx = tf.matmul(x, w), tf.matmul(x, dz, transpose_a=True), tf.matmul(dz, w, transpose_b=True)
        return xw[0, 0] + dw[0, 0] + dx[0, 0]

    @tf.function
    def folded():
        xw = tf.gather(tf.matmul(table, w), flat)  # [T·B, G·H] rows of E·W
        summed = tf.math.unsorted_segment_sum(dz, flat, VOCAB)  # [V, G·H]
        dw, dtable = tf.matmul(table, summed, transpose_a=True), tf.matmul(summed, w, transpose_b=True)
        return xw[0, 0] + dw[0, 0] + dtable[0, 0]

    return matmuls, folded


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="seed", choices=list(PRESETS))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    config = PRESETS[args.preset]
    fused = dataclasses.replace(config.model, impl="fused")
    batch, width, window = config.train.batch_size, config.model.state_size, config.train.num_steps
    step, ids, model = train_step(fused, batch, window, jit=False)
    first = model.stack.cells[0]
    w = rule_for(first).weights(first)[0]  # layer 1's W [I, G·H], as the engine reads it
    state = model.zero_state(batch)
    matmuls, folded = fold_pair(batch * window, w.shape[0], w.shape[1], ids)
    print(
        f"{args.preset}: {config.model.num_layers}-layer {config.model.cell} {width}, batch {batch}, {window} steps"
    )
    for r in range(args.rounds):
        s, m, f = median_s(step, ids, state), median_s(matmuls), median_s(folded)
        unfolded = s - f + m  # the same step with the three matmuls instead of their folded form
        print(
            f"round {r + 1}: fused step {s * 1e3:.1f} ms (folded); layer 1's three matmuls {m * 1e3:.1f} ms "
            f"({m / unfolded:.1%} of an unfolded step), folded {f * 1e3:.1f} ms: the fold's gain {unfolded / s:.3f}×"
        )
    for impl in ("fused", "keras-fused"):
        model_config = dataclasses.replace(config.model, impl=impl)
        for jit in (False, True):
            step, ids, model = train_step(model_config, batch, window, jit)
            print(
                f"{impl}, jit_compile={jit}: step {median_s(step, ids, model.zero_state(batch)) * 1e3:.1f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
