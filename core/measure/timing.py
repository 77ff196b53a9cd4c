"""What one benchmark worker measures: build, first call, steady steps (or whole epochs), peak memory.

Both families are driven through the same small interface, `Engine`: the TF2 implementations through
the Trainer's own compiled step, the TF1 family through a tf.Graph and Session (core/measure/tf1.py).
"""

import itertools
import math
import os
import platform
import resource
import statistics
import time

import numpy as np

from core.child import Child
from core.config import RunConfig
from core.data.batches import batch_iterator, num_batches
from core.data.corpus import load_corpus
from core.runs.record import RunRecord


class Engine:
    """build_s (graph build time), zero_state(), step(x, y, state) -> (loss, state), and eval_step, the
    same without the update (for the validation loss)."""

    def __init__(self, impl: str, config: RunConfig, corpus):
        from core.measure.tf1 import TF1Graph
        from core.model.unrollers import UNROLLERS

        if not UNROLLERS[impl].trains:  # the TF1 family: a graph and a session
            self.graph = TF1Graph(config, len(corpus.vocab), impl)
            self.build_s, self.step, self.zero_state = (
                self.graph.build_s,
                self.graph.train_step,
                self.graph.zero_state,
            )
            self.eval_step = lambda x, y, state: self.graph.forward(x, y, state)[1:]  # (loss, state)
        else:
            self.trainer = self._trainer(impl, config, corpus)
            self.build_s = self.trainer.record.snapshot().timings.trace_s
            self.step = self._loss_and_state
            self.zero_state = self.trainer.zero_state
            self.eval_step = self.trainer.reports.eval_step  # the trainer's own validation step

    def _loss_and_state(self, x, y, state):
        took = self.trainer.train_step(x, y, state)  # core.training.update.StepResult
        return took.loss, took.state

    @staticmethod
    def _trainer(impl, config, corpus):
        import dataclasses

        from core.training.trainer import Trainer

        config = dataclasses.replace(config, model=dataclasses.replace(config.model, impl=impl))
        trainer = Trainer(config, corpus, RunRecord("bench", config.to_dict()))
        trainer.setup()
        trainer.measure_build()
        return trainer


def timed_steps(engine: Engine, batches, count: int, state=None):
    """Run `count` steps; (seconds of each, losses, final state). float() waits for each step to finish."""
    state = engine.zero_state() if state is None else state
    times, losses = [], []
    for x, y in itertools.islice(batches, count):
        t0 = time.perf_counter()
        loss, state = engine.step(x, y, state)
        losses.append(float(loss))
        times.append(time.perf_counter() - t0)
    return times, losses, state


def measure(impl: str, config_dict: dict, steps: int, warmup: int, epochs: int = 0) -> dict:
    """Build, first call, then `steps` timed steps after `warmup` ones — or `epochs` whole epochs (at most
    the config's max_steps steps), with the training loss curve and the validation loss after them."""
    config = RunConfig.from_dict(config_dict)
    tc = config.train
    corpus = load_corpus(config.corpus, tc.val_fraction)
    engine = Engine(impl, config, corpus)
    result = {"trace_s": engine.build_s}
    if epochs:
        times, per_epoch, losses = train_epochs(engine, corpus, tc, epochs)
        result.update(
            epoch_losses=[e["loss"] for e in per_epoch],
            epoch_s=[e["seconds"] for e in per_epoch],
            train_s=sum(e["seconds"] for e in per_epoch),
            steps=len(losses),
            loss_curve=loss_curve(losses),
            val_loss=validation_loss(engine, corpus, tc),  # after training, outside its time
        )
        first, steady = times[0], times[1:]
    else:
        batches = itertools.cycle(batch_iterator(corpus.train_ids, tc.batch_size, tc.num_steps))
        times, losses, _ = timed_steps(engine, batches, 1 + warmup + steps)
        first, steady = times[0], times[1 + warmup :]
    step_s = statistics.median(steady)
    return {
        **result,
        "first_call_s": first,
        "step_s": step_s,
        "step_min_s": min(steady),
        "step_max_s": max(steady),
        "chars_per_s": tc.batch_size * tc.num_steps / step_s,
        "gflop_per_step": train_flops(config, len(corpus.vocab)) / 1e9,
        "gflop_per_s": train_flops(config, len(corpus.vocab)) / 1e9 / step_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def train_epochs(engine: Engine, corpus, tc, epochs: int):
    """The post's experiment: state carried within an epoch, reset at each; the mean loss per epoch.
    Ends early after tc.max_steps steps if that is set. (each step's seconds, per epoch, each step's loss)"""
    all_times, per_epoch, all_losses = [], [], []
    per_epoch_steps = num_batches(len(corpus.train_ids), tc.batch_size, tc.num_steps)
    for _ in range(epochs):
        left = tc.max_steps - len(all_losses) if tc.max_steps else per_epoch_steps
        if left <= 0:
            break
        batches = batch_iterator(corpus.train_ids, tc.batch_size, tc.num_steps)
        times, losses, _ = timed_steps(engine, batches, min(per_epoch_steps, left))
        all_times += times
        all_losses += losses
        per_epoch.append({"loss": float(np.mean(losses)), "seconds": sum(times)})
    return all_times, per_epoch, all_losses


CURVE_POINTS = 50  # points of a recorded loss curve, whatever the number of steps


def loss_curve(losses: list[float], points: int = CURVE_POINTS) -> list[list]:
    """[[steps done, mean loss of the steps since the previous point], ...]: at most `points` points,
    each the mean of an equal run of steps (the last run may be shorter), so noise is averaged out."""
    every = max(1, -(-len(losses) // points))  # ceil
    return [
        [min(i + every, len(losses)), float(np.mean(losses[i : i + every]))]
        for i in range(0, len(losses), every)
    ]


def validation_loss(engine: Engine, corpus, tc) -> float:
    """Mean loss over the validation split's windows (at most tc.eval_batches; 0 = all), state carried,
    as the trainer measures it (core.training.reports)."""
    state, losses = engine.zero_state(), []
    for i, (x, y) in enumerate(batch_iterator(corpus.val_ids, tc.batch_size, tc.num_steps)):
        if tc.eval_batches and i >= tc.eval_batches:
            break
        loss, state = engine.eval_step(x, y, state)
        losses.append(float(loss))
    return float(np.mean(losses))


def train_flops(config: RunConfig, vocab_size: int) -> float:
    """Matmul FLOPs one train step does: forward 2·B·(in + H)·gates·H per layer and step, plus the
    softmax head; backward is about twice the forward, so ×3. Elementwise work is left out. An
    implementation that folds the embedding into layer 1 (reads_rows: core/model/fused/engine.py) does layer
    1's input part once per step on the [V, in] table instead of at every step on [B, in] rows, and is
    counted so: the share of the matmul rate it reaches is of work it did."""
    from core.model.cells import CELLS
    from core.model.unrollers import folds_embedding

    m, t = config.model, config.train
    H, B, T, G = m.state_size, t.batch_size, t.num_steps, CELLS[m.cell].impl.gates
    first_in = vocab_size if m.one_hot_inputs else H
    folded = folds_embedding(m)
    inputs = [0 if i == 0 and folded else (first_in if i == 0 else H) for i in range(m.num_layers)]
    recurrent = sum(2 * B * (n_in + H) * G * H for n_in in inputs)
    head = 2 * B * H * vocab_size
    table = 2 * vocab_size * first_in * G * H if folded else 0  # E·W, once per step
    return 3.0 * (T * (recurrent + head) + table)


def matmul_gflops(n: int = 4096, repeats: int = 5) -> float:
    """The machine's large-matmul rate (float32, n×n), best of `repeats`: the ceiling to compare with."""
    import tensorflow as tf

    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    float(tf.reduce_sum(tf.matmul(a, b)))  # warm up oneDNN
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        float(tf.reduce_sum(tf.matmul(a, b)))
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def _measure_child(inbox, outbox, job: tuple) -> None:
    """A measuring process (core.child.Child): measure one job, send its result home."""
    try:
        result = matmul_gflops(job[1]) if job[0] == "matmul" else measure(*job)
    except Exception as err:  # reported as a row, so one broken implementation never hides the others
        result = {"error": f"{type(err).__name__}: {err}"}
    outbox.send(result)


def run_isolated(job: tuple, cancel=None) -> dict | float:
    """measure(*job), or matmul_gflops for ("matmul", n), in a fresh spawned process.

    A set `cancel` event ends the process at once (a static graph build cannot be interrupted
    any other way); a process that dies is reported as an error row, never raised."""
    child = Child(_measure_child, job, name="rnn-explorer-measure")
    try:
        while not child.poll(0.1):
            if cancel is not None and cancel.is_set():
                child.end()
                return {"error": "cancelled", "cancelled": True}
        try:
            return child.recv()
        except EOFError:  # gone without a result
            child.join()
            return {"error": f"the measuring process ended unexpectedly ({child.exit_reason()})"}
    finally:
        child.join()
        child.close()


def run_each(jobs: list[tuple], on_result=None, cancel=None) -> list:
    """run_isolated for each job in order, one at a time (two would share the CPU and colour each other's
    figures); on_result(index, result) after each; stops before the next job once `cancel` is set."""
    results = []
    for i, job in enumerate(jobs):
        if cancel is not None and cancel.is_set():
            break
        results.append(run_isolated(job, cancel))
        if on_result is not None:
            on_result(i, results[-1])
    return results


def machine() -> dict:
    """CPU model, cores and library versions: the context every figure needs."""
    import tensorflow as tf

    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
    }
