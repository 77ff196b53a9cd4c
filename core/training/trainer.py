"""The training loop. It reports through a RunRecord (and so to its listeners); it never prints or renders."""

import functools
import threading
import time
import traceback
from enum import Enum

import keras
import numpy as np
import tensorflow as tf

from core.config import AUTO, RunConfig
from core.data.batches import batch_iterator, num_batches
from core.data.corpus import Corpus
from core.errors import Refusal
from core.model.char_rnn import CharRNN
from core.runs.record import RunRecord, Status
from core.runs.rows import EpochRow, MetricRow
from core.training import sizing
from core.training.budget import Budget
from core.training.clock import Clock
from core.training.divergence import Divergence, keep_good_weights, why_diverged
from core.training.replicas import PEER_ERRORS, PeerLost, Replicas, make_replicas
from core.training.reports import LN2, Reports, reached
from core.training.saving import RunSaver
from core.training.schedule import learning_rate
from core.training.steps import TrainSteps
from core.training.summaries import FOLDER as SUMMARIES
from core.training.summaries import Summaries
from core.training.threads import set_op_threads
from core.training.update import OPTIMIZER_CLASSES, input_specs, make_eval_step


class Trainer:
    """Train a CharRNN on a corpus as `config` says, optionally checkpointing into a run folder."""

    def __init__(
        self,
        config: RunConfig,
        corpus: Corpus,
        record: RunRecord,
        run_dir=None,
        resume: bool = False,
        tensorboard: bool = True,
        started: float | None = None,
        replicas: Replicas | None = None,
    ):
        self.config, self.corpus, self.record = config, corpus, record
        # time.time() when the person asked for this run (the CLI's start, the app's Start button): the
        # time budget and the wall clock of every validation loss count from it, TensorFlow's start-up
        # and the graph build included.
        self.started = time.time() if started is None else started
        self.run_dir, self.resume = run_dir, resume
        self.tensorboard = tensorboard and run_dir is not None  # event files in run_dir/tb
        tc = config.train
        tc.check_fits(len(corpus.train_ids), len(corpus.val_ids))
        self.batches_per_epoch = num_batches(len(corpus.train_ids), tc.batch_size, tc.num_steps)
        all_steps = tc.epochs * self.batches_per_epoch
        self.total_steps = min(tc.max_steps, all_steps) if tc.max_steps else all_steps
        # The tf.distribute strategy (core/training/replicas.py), made first in setup() unless the caller
        # made it earlier (a multi-worker run connects to its workers before anything else).
        self.replicas: Replicas | None = replicas
        # Made by setup(), in the thread or process that trains (building them is part of the build):
        self.model: CharRNN | None = None
        self.optimizer = self.step = None
        self.saver: RunSaver | None = None  # the checkpoint, and the carried state's variables
        self.steps: TrainSteps | None = None  # each candidate's train step, and the probe that picks one
        self.summaries: Summaries | None = None  # TensorBoard's writer (a record listener)
        self.reports: Reports | None = None  # validation, samples, histograms (the chief's)
        self.state: tuple = ()  # carried from batch to batch, [batch, units] each
        # Made by run() and loop():
        self.budget = Budget(self.total_steps, tc.max_minutes, self.started)  # steps, minutes, a stop asked
        self.wall_before = 0.0  # wall seconds of the run's earlier sessions (a resumed run goes on from them)
        self.clock: Clock | None = None
        self.last_eval_step = 0  # the step of the last validation loss
        self.epoch_losses: list[float] = []
        self.first_loss: float | None = None  # the run's first training loss (explosion is judged by it)
        self.grad_norm = 0.0  # the last step's gradient norm, before clipping
        self.divergence: Divergence | None = None  # why the run diverged

    # ---- set-up ------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Model, optimizer, checkpoint (restored when resuming) and the compiled steps."""
        threads = set_op_threads(self.config.model)  # before TensorFlow starts, as the strategy is made
        self.replicas = self.replicas or make_replicas(self.config.train)
        self.budget.agreeing = self.replicas.workers > 1  # then the chief decides when every worker ends
        if sizing.applies(self.config, self.resume):
            self.size_by_speed()
        elif why := sizing.why_not(self.config, self.resume):
            self.record.log(f"Not sized by speed: {why}")
        self.build_model()
        tc = self.config.train
        self.saver = RunSaver(
            self.model, self.optimizer, self.step, tc.batch_size, self.run_dir, self.replicas
        )
        if self.resume:
            self.saver.restore_latest(self.record)  # every entry, or a CheckpointMismatch
        self.state = self.zero_state()
        self.compile_steps()
        if self.replicas.distributed:
            self.record.log(f"Distributed: {self.replicas.describe()}")
        if threads:
            self.record.log(threads)

    def size_by_speed(self) -> None:
        """Choose the model from core/training/sizing.py's table by a few timed steps of its first row,
        before the run's own model is built; the run's folder and record then hold the chosen config."""
        if self.replicas.distributed:  # each replica's share of a step is not the step the table measured
            self.record.log("size_by_speed: not under a tf.distribute strategy; the model stays as set")
            return
        model = self.config.model
        impl = model.impl if model.impl != AUTO else sizing.TIMED_WITH
        first_step_s = sizing.time_step(self.config, len(self.corpus.vocab), self.corpus.train_ids, impl)
        size, sized = sizing.choose(first_step_s, self.budget.seconds_left())
        self.config = size.applied(self.config)
        if self.run_dir is not None:
            self.run_dir.save_config(self.config)
        self.record.sized(sized, self.config.to_dict())
        self.record.log(f"Sized by speed: {sized.summary()}")

    def build_model(self) -> None:
        """The model, its optimizer and the step counter, mirrored over the replicas if there are several."""
        tc = self.config.train
        keras.utils.set_random_seed(tc.seed)  # weights, dropout masks and sampling reproducible
        with self.replicas.scope():  # mirrored over the replicas, if there are several
            self.model = CharRNN(self.config.model, len(self.corpus.vocab), seed=tc.seed)
            # Clipped in the train step, by the norm of the gradients summed over every replica (Keras's
            # global_clipnorm would clip each replica's part before the sum).
            self.optimizer = OPTIMIZER_CLASSES[tc.optimizer](learning_rate=tc.learning_rate)
            self.optimizer.build(self.model.trainable_variables)  # slots exist before a checkpoint restore
            self.replicas.summed_already(self.optimizer)
            self.step = tf.Variable(
                0,
                dtype=tf.int64,
                trainable=False,
                name="step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )

    def compile_steps(self) -> None:
        """A train step per implementation the probe may try, the eval step, and the chief's reports."""
        tc = self.config.train
        self.steps = TrainSteps(
            self.config, self.model, self.optimizer, self.step, self.replicas, self.record
        )
        if self.tensorboard and self.replicas.chief:
            self.summaries = Summaries(self.run_dir.path / SUMMARIES)
            self.record.subscribe(self.summaries)
        ids, state = input_specs(tc.batch_size, tc.num_steps, self.model)
        eval_step = make_eval_step(self.model, [ids, ids, state])
        self.reports = Reports(self.config, self.corpus, self.model, self.record, eval_step, self.summaries)

    @property
    def train_step(self):
        """The train step the next step runs (the probe's candidate, or the chosen implementation's), as
        a function of (x, y [batch, time] ids, state) -> (loss, state, ...): see TrainSteps.take."""
        return functools.partial(self.steps.take, self.steps.prober.next())

    def zero_state(self) -> tuple:
        """The state an epoch starts from, each replica's rows of it."""
        return self.replicas.split(
            tuple(s.numpy() for s in self.model.zero_state(self.config.train.batch_size))
        )

    def measure_build(self) -> None:
        """Graph build time, recorded apart from training: the trace (concrete function) here, the first
        call (graph optimisation and kernel creation) when the loop makes it."""
        self.record.timing(trace_s=self.steps.trace(self.state))

    # ---- the loop ----------------------------------------------------------------------------------
    def run(self, stop: threading.Event | None = None, pause: threading.Event | None = None):
        """Train until done, stopped, diverged or failed; returns the record's final snapshot."""
        stop, pause = stop or threading.Event(), pause or threading.Event()
        try:
            self.record.set_status(Status.BUILDING)
            self.setup()
            if not stop.is_set():
                self.measure_build()
            self.loop(stop, pause)
        except PEER_ERRORS as err:
            self.fail(PeerLost.of(err, self.replicas.workers) if self.budget.agreeing else err)
        except Exception as err:  # a crash is reported, never lost: the last checkpoint stays on disk
            self.fail(err)
        finally:
            if self.summaries is not None:
                self.summaries.close()
        return self.record.snapshot()

    def fail(self, err: Exception) -> None:
        """Report a crash in words (a Refusal's message as it is), leaving the last checkpoint whole."""
        if self.saver is not None:
            self.saver.checkpoint.tidy()  # a save cut short (a full disk) leaves no half-written files
        what = str(err) if isinstance(err, Refusal) else f"{type(err).__name__}: {err}"
        kept = self.run_dir.what_is_kept() if self.run_dir is not None else "the last checkpoint is kept"
        self.record.set_status(
            Status.FAILED,
            f"training failed: {what}; {kept}",
            "" if isinstance(err, Refusal) else traceback.format_exc(),
        )

    def loop(self, stop, pause) -> None:
        tc = self.config.train
        start_step = int(self.step.numpy())
        progress = self.record.snapshot().progress
        self.clock = Clock(progress.elapsed_s or 0.0, tc.batch_size * tc.num_steps)
        self.wall_before = progress.wall_s or 0.0
        self.last_eval_step = -1
        metrics = self.record.snapshot().metrics  # a resumed run judges explosion by its very first loss
        self.first_loss = metrics[0].train_loss if metrics else None
        if start_step == 0 and self.replicas.chief and sample_due(0, tc.sample_every):
            self.reports.sample(0)  # what the untrained network writes: noise, for the story to start from
        first_epoch = start_step // self.batches_per_epoch  # a resumed run re-enters its epoch mid-way
        for epoch in range(first_epoch, tc.epochs if not self.done() else first_epoch):
            skip = start_step - epoch * self.batches_per_epoch if epoch == first_epoch else 0
            outcome = self.run_epoch(epoch, skip, stop, pause)
            if outcome in (Outcome.STOPPED, Outcome.DIVERGED):
                return self.finish(outcome)
            if outcome is Outcome.EPOCH_DONE:
                self.end_epoch(epoch)
            if self.done():
                break
        self.finish(Outcome.DONE)

    def run_epoch(self, epoch: int, skip: int, stop, pause) -> "Outcome":
        tc = self.config.train
        # Carried batch to batch, reset each epoch; a run resumed mid-epoch takes the state it saved.
        if skip:
            self.state = self.saver.carried()
        else:
            self.state = self.zero_state()
        self.epoch_losses = []
        for i, (x, y) in enumerate(batch_iterator(self.corpus.train_ids, tc.batch_size, tc.num_steps)):
            if i < skip:
                continue
            if self.wait_while_paused(stop, pause) or self.budget.stop_asked(stop):
                return Outcome.STOPPED
            # forward, backward, update, by the implementation the probe names (impl=auto) or the config's
            impl, compiling = self.steps.prober.next(), self.steps.prober.first_call
            self.optimizer.learning_rate.assign(self.rate(epoch))
            wish = self.budget.wish(stop)  # under multi-worker, the chief's becomes every worker's
            t0 = time.perf_counter()
            took = self.steps.take(impl, x, y, self.state, wish)  # core.training.update.StepResult
            self.state, loss, self.grad_norm = took.state, float(took.loss), float(took.grad_norm)
            self.budget.agree(took.agreed.numpy())
            seconds = time.perf_counter() - t0
            self.tick(seconds, compiling)
            if self.steps.prober.report(seconds):
                self.steps.settle()
            self.divergence = self.diverged(loss, bool(took.finite))
            if self.divergence is not None:
                return Outcome.DIVERGED
            self.epoch_losses.append(loss)
            # logging, evaluation, samples, checkpoints
            self.after_step(epoch, loss)
            if self.done():
                break
        whole = int(self.step.numpy()) == (epoch + 1) * self.batches_per_epoch
        return Outcome.EPOCH_DONE if whole else Outcome.STEP_LIMIT

    def diverged(self, loss: float, finite_weights: bool) -> Divergence | None:
        """Why this step ends the run (None if it does not): core/training/divergence.py."""
        self.first_loss = self.first_loss if self.first_loss is not None else loss
        return why_diverged(loss, finite_weights, self.first_loss, int(self.step.numpy()))

    def rate(self, epoch: int) -> float:
        """The learning rate for the step about to run (core/training/schedule.py)."""
        step = int(self.step.numpy())
        return learning_rate(self.config.train, step, epoch, self.budget.done_fraction(step))

    def wall(self) -> float:
        """Seconds since the run was asked for, its earlier sessions included."""
        return self.wall_before + self.budget.elapsed()

    def tick(self, seconds: float, compiling: bool = False) -> None:
        """Time one step; the first call of a run is graph optimisation too, so it is recorded apart (and
        the first call of each implementation the probe tries is left out of the step times)."""
        first = self.clock.steps == 0
        self.clock.tick(seconds, first=first or compiling)
        if first:
            self.record.timing(first_call_s=seconds)
            self.record.set_status(Status.TRAINING)

    def after_step(self, epoch: int, loss: float) -> None:
        tc, step = self.config.train, int(self.step.numpy())
        self.record.metric(
            MetricRow(
                step=step,
                epoch=epoch + 1,
                train_loss=loss,
                grad_norm=self.grad_norm,
                learning_rate=float(keras.ops.convert_to_numpy(self.optimizer.learning_rate)),
                chars_per_s=self.clock.rate,
                elapsed_s=self.clock.elapsed,
            )
        )
        self.record.progress(
            step=step,
            total_steps=self.total_steps,
            epoch=epoch + 1,
            epochs=tc.epochs,
            chars_per_s=self.clock.rate,
            elapsed_s=self.clock.elapsed,
            wall_s=self.wall(),
            done=self.budget.done_fraction(step),  # the time budget may end the run long before its last step
            eta_s=min(self.clock.eta(self.total_steps - step), self.budget.seconds_left()),
            finishing=0.0,  # 1.0 only during a finished run's last validation (a resumed run trains again)
        )
        chief = self.replicas.chief  # validation, samples and histograms come from the chief alone
        evaluated = chief and tc.eval_every and step % tc.eval_every == 0
        if evaluated:
            self.evaluate(epoch)
        if chief and sample_due(step, tc.sample_every):
            self.reports.sample(step)
        if tc.checkpoint_every and step % tc.checkpoint_every == 0:
            self.save()
        if evaluated:  # after the sample: the first builds a graph, and a person waits for the sample
            self.histograms()

    def end_epoch(self, epoch: int) -> None:
        if not self.replicas.chief:
            return self.save()
        mean = float(np.mean(self.epoch_losses)) if self.epoch_losses else float("nan")
        val = self.evaluate(epoch)
        self.record.epoch(
            EpochRow(
                epoch=epoch + 1,
                step=int(self.step.numpy()),
                train_loss=mean,
                val_loss=val,
                elapsed_s=self.clock.elapsed,
            )
        )
        self.record.log(
            f"Average training loss for Epoch {epoch + 1} : {mean:.3f}   "
            f"(validation {val:.3f} nats/char, {val / LN2:.3f} bits/char)"
        )
        self.save()
        self.histograms()

    def finish(self, outcome: "Outcome") -> None:
        step = int(self.step.numpy())
        if self.steps.prober.deciding:  # a run shorter than its probe still says what it measured
            self.steps.settle()
        if outcome is Outcome.DIVERGED:
            kept = keep_good_weights(self.saver.checkpoint, step, self.divergence)
            self.record.set_status(Status.DIVERGED, f"{self.divergence.why}; {kept}")
            return
        self.save()
        if outcome is Outcome.STOPPED:
            self.record.set_status(
                Status.STOPPED, f"stopped at step {step}; its checkpoint is kept and can be resumed"
            )
            return
        if self.last_eval_step != step and self.replicas.chief:
            self.record.progress(finishing=1.0)  # the page says what the seconds of the last validation are
            self.evaluate(self.epoch_of(step))  # every finished run ends with a validation loss
            self.histograms()
        samples = self.record.snapshot().samples
        if self.replicas.chief and self.config.train.sample_every and samples and samples[-1].step != step:
            self.reports.sample(step)  # and with a sample of what it writes at its end
        # The last progress came before the last step's validation and checkpoint; the budget may have run
        # out since, and a finished run's bar ends where the run did.
        self.record.progress(done=self.budget.done_fraction(step), eta_s=0.0, wall_s=self.wall())
        why = "the time budget ran out" if self.budget.time_up() else "done"
        losses = reached(self.record.snapshot()) if self.replicas.chief else "the chief reports the losses"
        self.record.set_status(Status.FINISHED, f"finished after {step:,} steps ({why}); {losses}")

    def done(self) -> bool:
        return self.budget.done(int(self.step.numpy()))

    def epoch_of(self, step: int) -> int:
        """0-based epoch that train step `step` (1-based) fell in."""
        return min(max(step - 1, 0) // self.batches_per_epoch, self.config.train.epochs - 1)

    # ---- helpers -----------------------------------------------------------------------------------
    def wait_while_paused(self, stop, pause) -> bool:
        """Block while paused (checking stop); True if stopped during the pause."""
        if not pause.is_set():
            return False
        paused_at = self.budget.now()
        self.record.set_status(Status.PAUSED)
        while pause.is_set() and not stop.is_set():
            stop.wait(0.05)
        self.budget.hold(self.budget.now() - paused_at)  # explaining to a class costs no training time
        if stop.is_set():
            return True
        self.record.set_status(Status.TRAINING)
        return False

    def evaluate(self, epoch: int) -> float:
        """The validation loss now, recorded (core/training/reports.py)."""
        self.last_eval_step = step = int(self.step.numpy())
        return self.reports.evaluate(step, epoch, self.clock.elapsed, self.wall())

    def histograms(self) -> None:
        self.reports.histograms(int(self.step.numpy()))

    def save(self) -> None:
        self.saver.save(self.state)


EARLY_SAMPLES = (0, 10, 30, 100)  # steps: before training, then log-spaced, so noise turning to words shows


def sample_due(step: int, every: int) -> bool:
    """Whether a live sample is written after `step`: every `every` steps, and at the early, log-spaced
    steps below `every` (0 = never)."""
    return bool(every) and (step % every == 0 or (step in EARLY_SAMPLES and step < every))


class Outcome(Enum):
    """How an epoch's loop (or the whole run's) ended."""

    EPOCH_DONE = "every batch of the epoch was trained"
    STEP_LIMIT = "max_steps or the time budget ended it mid-epoch"
    STOPPED = "asked to stop"
    DIVERGED = "the loss or the weights stopped being finite"
    DONE = "every epoch, or the step or time budget, is spent"
