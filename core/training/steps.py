"""A run's train steps: one per implementation the probe may try (core/training/probe.py), which one
takes each step, and the graph build's timing."""

import dataclasses
import time

import numpy as np
import tensorflow as tf

from core.config import AUTO, RunConfig
from core.model.char_rnn import FALLBACK
from core.training.budget import GO_ON, Wish
from core.training.probe import Prober
from core.training.replicas import Replicas
from core.training.update import StepResult, input_specs, make_train_step


class TrainSteps:
    """Every candidate implementation's train step (tf.functions sharing the model, the optimizer and
    the step counter, each traced on first use) and the probe that picks among them."""

    def __init__(self, config: RunConfig, model, optimizer, step: tf.Variable, replicas: Replicas, record):
        self.config, self.replicas, self.record = config, replicas, record
        tc = config.train
        self.prober = Prober(self.probed_model())
        # Under a strategy the inputs are per-replica values, which a TensorSpec signature cannot name.
        ids, state = input_specs(tc.batch_size, tc.num_steps, model)
        signature = None if replicas.distributed else [ids, ids, state, tf.TensorSpec([2], tf.float32)]
        self.by_impl = {
            name: make_train_step(model, optimizer, replicas, step, tc.clip_norm, name, signature)
            for name in self.prober.names
        }

    def probed_model(self):
        """The model config the probe reads. Under multi-worker every worker must run the same graph, and
        each would time only its own steps, so impl=auto trains with CharRNN's fallback."""
        model = self.config.model
        if model.impl != AUTO or self.replicas.workers == 1:
            return model
        self.record.log(f"impl auto under multi-worker: every worker trains with {FALLBACK} (no probe)")
        return dataclasses.replace(model, impl=FALLBACK)

    def take(self, impl: str, x, y, state, wish: Wish = GO_ON) -> StepResult:
        """One train step by `impl` on the global batch x, y (split over the replicas) from `state` (each
        replica's) -> StepResult(loss, state, finite, grad_norm, agreed)."""
        split = self.replicas.split
        return self.by_impl[impl](split(x), split(y), state, tf.constant(wish.numbers(), tf.float32))

    def trace(self, state) -> float:
        """Trace the next step's graph (its concrete function) -> seconds: the build, apart from the first
        call's graph optimisation and kernel creation."""
        t0 = time.perf_counter()
        step = self.by_impl[self.prober.next()]
        if self.replicas.distributed:  # no signature: traced for example inputs of the right kinds
            tc = self.config.train
            ids = self.replicas.split(np.zeros((tc.batch_size, tc.num_steps), np.int32))
            step.get_concrete_function(ids, ids, state, tf.constant(GO_ON.numbers()))
        else:
            step.get_concrete_function()
        return time.perf_counter() - t0

    def settle(self) -> None:
        """Record what the probe measured and chose (impl=auto), and let the other candidates' graphs go."""
        if self.prober.auto and self.prober.taken:
            self.record.probe(self.prober.result())
        chosen = self.prober.chosen
        self.by_impl = {chosen: self.by_impl[chosen]}
