"""Scaling under tf.distribute: the same global batch trained by 1 replica, N mirrored replicas and N
workers, and the share of each step the all-reduces take; a model of where it goes on larger clusters.

    python -m core.bench --scaling 2 --preset quick --impl fused

Each case runs in fresh processes (`python -m core.measure.scaling CONFIG_JSON STEPS WARMUP`, one per
worker, with TF_CONFIG for multi-worker), so logical devices and collectives are set up before
TensorFlow starts. A step's all-reduces are timed apart, in the same processes: the two collectives a
train step makes (the loss and the chief's decisions, [3] floats; the gradients), on zeros of the
gradients' shapes.
"""

import dataclasses
import itertools
import json
import statistics
import subprocess
import sys
import time

from core.config import AUTO, RunConfig

RING_LATENCY_S = 50e-6  # per message of a ring all-reduce on a datacentre network (an assumption, stated)
ALL_REDUCES_PER_STEP = 1  # of the whole gradient (summed before clipping; Keras's own sum is skipped)
TARGET_EFFICIENCY = 0.9  # the batch per worker that keeps the all-reduce under a tenth of a step


def cases(n: int) -> list[tuple[str, str, int, int]]:
    """(label, strategy, replicas per process, processes)."""
    return [
        ("one device", "none", 1, 1),
        ("mirrored", "mirrored", n, 1),
        ("multi-worker", "multi-worker", 1, n),
    ]


def config_for(base: RunConfig, strategy: str, replicas: int) -> RunConfig:
    from core.model.char_rnn import FALLBACK

    model = base.model if base.model.impl != AUTO else dataclasses.replace(base.model, impl=FALLBACK)
    return dataclasses.replace(
        base, model=model, train=dataclasses.replace(base.train, strategy=strategy, replicas=replicas)
    )


def measure_case(config: RunConfig, processes: int, steps: int, warmup: int, timeout: float = 900) -> dict:
    """Start the case's processes and return the chief's figures (or {"error": ...})."""
    from core.training.cluster_env import free_ports, worker_env

    args = [
        sys.executable,
        "-m",
        "core.measure.scaling",
        json.dumps(config.to_dict()),
        str(steps),
        str(warmup),
    ]
    ports = free_ports(processes)
    procs = []
    try:
        for i in range(processes):
            env = worker_env(ports, i) if processes > 1 else None  # as core.cluster starts them
            procs.append(
                subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            )
        out, err = procs[0].communicate(timeout=timeout)
        for p in procs[1:]:
            p.wait(60)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout:.0f} s"}
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    if procs[0].returncode != 0:
        return {"error": (err.strip().splitlines() or ["no output"])[-1]}
    return json.loads(out.strip().splitlines()[-1])


def measure_here(config: RunConfig, steps: int, warmup: int) -> dict:
    """In a worker process: train warmup + steps steps under the config's strategy, time them, then time
    the step's all-reduces alone."""
    import tensorflow as tf

    from core.data.batches import batch_iterator
    from core.data.corpus import load_corpus
    from core.runs.record import RunRecord
    from core.training.trainer import Trainer

    tc = config.train
    corpus = load_corpus(config.corpus, tc.val_fraction)
    trainer = Trainer(config, corpus, RunRecord("scaling", config.to_dict()), tensorboard=False)
    trainer.setup()
    batches = itertools.cycle(batch_iterator(corpus.train_ids, tc.batch_size, tc.num_steps))
    state, times = trainer.state, []
    for x, y in itertools.islice(batches, 1 + warmup + steps):
        t0 = time.perf_counter()
        loss, state, *_ = trainer.steps.take(config.model.impl, x, y, state)
        float(loss)
        times.append(time.perf_counter() - t0)
    step_s = statistics.median(times[1 + warmup :])
    variables = trainer.model.trainable_variables
    params = sum(int(tf.size(v)) for v in variables)
    reduce_s = time_all_reduces(trainer.replicas, variables, steps) if trainer.replicas.distributed else 0.0
    return {
        "replicas": trainer.replicas.n,
        "step_s": step_s,
        "chars_per_s": tc.batch_size * tc.num_steps / step_s,
        "all_reduce_s": reduce_s,
        "params": params,
        "chief": trainer.replicas.chief,
    }


def time_all_reduces(replicas, variables, repeats: int) -> float:
    """Median seconds of a train step's collectives alone, on zeros shaped like the gradients."""
    import tensorflow as tf

    shapes = [v.shape for v in variables]

    def collectives():
        ctx = tf.distribute.get_replica_context()
        small = ctx.all_reduce(tf.distribute.ReduceOp.SUM, tf.zeros([3]))
        grads = ctx.all_reduce(tf.distribute.ReduceOp.SUM, [tf.zeros(s) for s in shapes])
        return small[0] + tf.add_n([tf.reduce_sum(g) for g in grads])

    step = tf.function(lambda: replicas.first(replicas.run(collectives)))
    float(step())  # the trace and the collectives' set-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        float(step())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def predictions(params: int, step_s: float, batch: int, workers=(8, 64), gbits=(10, 100)) -> list[dict]:
    """Weak scaling (the same batch per worker) on a ring all-reduce: per step each worker sends and
    receives 2·(N−1)/N of the gradient bytes (params × 4) per all-reduce, in 2·(N−1) messages. The
    efficiency is the step's compute over compute + all-reduce (no overlap, as in this trainer); the
    batch per worker that brings it to TARGET_EFFICIENCY assumes compute grows with the batch."""
    rows = []
    for n, g in itertools.product(workers, gbits):
        one = 2 * (n - 1) / n * params * 4 * 8 / (g * 1e9) + 2 * (n - 1) * RING_LATENCY_S
        comm = ALL_REDUCES_PER_STEP * one
        need = TARGET_EFFICIENCY / (1 - TARGET_EFFICIENCY) * comm  # compute seconds that make comm a tenth
        rows.append(
            {
                "workers": n,
                "gbit_s": g,
                "all_reduce_s": comm,
                "efficiency": step_s / (step_s + comm),
                "batch_for_target": max(batch, int(batch * need / step_s + 0.999)),
            }
        )
    return rows


def main(argv=None) -> int:
    config_json, steps, warmup = argv or sys.argv[1:]
    result = measure_here(RunConfig.from_dict(json.loads(config_json)), int(steps), int(warmup))
    if result.pop("chief"):
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
