"""How fast this machine runs the matmuls an RNN step is made of, inside a tf.while_loop, against the
large-matmul rate that `python -m core.bench` compares training with.

    python benchmarks/matmul_ceiling.py [--batch 32] [--units 100] [--gates 4] [--iterations 600]

A train step at the seed config is mostly [32, 100]·[100, 400] matmuls (forward) and [32, 400]·[400, 100]
ones (backward), one after another along time. Here they are timed alone in a loop, with nothing else
in it: as one chain (each iteration waits for the last, as one layer's recurrence does) and as two or
three independent chains (as the layers of a stack can overlap). The best of these is a ceiling for
an unroller's FLOP rate on this machine, elementwise work and bookkeeping not even counted.
"""

import argparse
import sys
import time

import tensorflow as tf

from core.measure.timing import matmul_gflops


def loop_rate(m: int, k: int, n: int, chains: int, iterations: int, repeats: int = 5) -> float:
    """GFLOP/s of `chains` independent chains of [m, k]·[k, n] then [m, n]·[n, k] matmuls (a step's
    forward shape, then its backward one), one pair per iteration of a while loop, nothing else in it.
    Weights are scaled by 1/sqrt(fan-in) so the values neither vanish nor blow up over the loop."""
    pairs = [(tf.random.normal([k, n]) / k**0.5, tf.random.normal([n, k]) / n**0.5) for _ in range(chains)]

    @tf.function
    def run(x):
        def body(i, xs):
            return i + 1, tuple(tf.matmul(tf.matmul(x_c, w), v) for x_c, (w, v) in zip(xs, pairs))

        return tf.while_loop(lambda i, _: i < iterations, body, (0, tuple(x for _ in pairs)))[1]

    x = tf.random.normal([m, k])
    run(x)  # trace and warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        [y.numpy() for y in run(x)]
        best = min(best, time.perf_counter() - start)
    return 2 * (2 * m * k * n) * chains * iterations / best / 1e9


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/matmul_ceiling.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--gates", type=int, default=4, help="4 for an LSTM, 3 for a GRU, 1 for a basic RNN")
    parser.add_argument("--iterations", type=int, default=600)
    parser.add_argument("--large", type=int, default=4096, help="n of the n×n matmul measured for comparison")
    args = parser.parse_args(argv)
    large = matmul_gflops(args.large)
    b, h, g = args.batch, args.units, args.gates
    print(f"large matmul {args.large}²: {large:.1f} GFLOP/s")
    for chains in (1, 2, 3):
        rate = loop_rate(b, h, g * h, chains, args.iterations)
        print(
            f"[{b}, {h}]·[{h}, {g * h}] then [{b}, {g * h}]·[{g * h}, {h}], {chains} independent chain(s) in a "
            f"loop: {rate:6.1f} GFLOP/s = {rate / large:.0%} of the large matmul's"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
