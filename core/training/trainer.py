"""The training loop. It reports through a RunRecord (and so to its listeners); it never prints or renders."""

import math
import threading
import time
import traceback
from enum import Enum

import keras
import numpy as np
import tensorflow as tf

from core.config import RunConfig, SampleConfig
from core.data.batches import batch_iterator, num_batches
from core.data.corpus import Corpus
from core.errors import Refusal
from core.inside.trace import Tracer
from core.model.char_rnn import CharRNN
from core.model.sampler import Sampler
from core.runs.checkpoints import CARRY, RunCheckpoint, legacy_view, model_entries, optimizer_entries
from core.runs.record import RunRecord, Status
from core.training.clock import Clock
from core.training.probe import Prober
from core.training.schedule import learning_rate
from core.training.summaries import FOLDER as SUMMARIES
from core.training.summaries import Summaries

OPTIMIZERS = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop, "sgd": keras.optimizers.SGD}
LN2 = math.log(2.0)
GATE_EXCERPT = 500  # validation characters whose gate values TensorBoard shows at every evaluation
EXPLODED = 3.0  # a training loss this many times the run's first has exploded (char-rnn aborts at 3×)


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
        # Made by setup(), in the thread or process that trains (building them is part of the build):
        self.model: CharRNN | None = None
        self.prober: Prober | None = None  # which implementation takes each step (impl=auto: measured)
        self.optimizer = self.step = self.checkpoint = self.sampler = None
        self.train_steps: dict = {}  # implementation -> its train step, a tf.function traced on first use
        self.eval_step = None
        self.summaries: Summaries | None = None  # TensorBoard's writer (a record listener)
        self.gate_reader = None  # a Tracer on a fixed validation excerpt, for the gates' histograms
        self.state: tuple = ()  # carried from batch to batch, [batch, units] each
        self.carry: tuple = ()  # its variables, for checkpoints
        # Made by run() and loop():
        self.began = time.monotonic()  # `started` on the monotonic clock
        self.deadline = math.inf  # time.monotonic() at which the time budget ends
        self.wall_before = 0.0  # wall seconds of the run's earlier sessions (a resumed run goes on from them)
        self.clock: Clock | None = None
        self.last_eval_step = 0  # the step of the last validation loss
        self.epoch_losses: list[float] = []
        self.first_loss: float | None = None  # the run's first training loss (explosion is judged by it)
        self.grad_norm = 0.0  # the last step's gradient norm, before clipping
        self.divergence = ""  # why the run diverged, in words

    # ---- set-up ------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Model, optimizer, checkpoint (restored when resuming) and the two compiled steps."""
        tc = self.config.train
        keras.utils.set_random_seed(tc.seed)  # weights, dropout masks and sampling reproducible
        self.model = CharRNN(self.config.model, len(self.corpus.vocab), seed=tc.seed)
        self.optimizer = OPTIMIZERS[tc.optimizer](
            learning_rate=tc.learning_rate, global_clipnorm=tc.clip_norm or None
        )
        self.optimizer.build(self.model.trainable_variables)  # its slots exist before any checkpoint restore
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        B, T = tc.batch_size, tc.num_steps
        # The state carried from batch to batch ([batch, units] each), saved with the weights so that a
        # run resumed mid-epoch goes on exactly as it would have without the stop.
        self.state = self.model.zero_state(B)
        self.carry = tuple(tf.Variable(s, trainable=False) for s in self.state)
        entries = {
            **model_entries(self.model),
            **optimizer_entries(self.optimizer),
            "step": self.step,
            **{f"{CARRY}{i}": v for i, v in enumerate(self.carry)},
        }
        self.checkpoint = RunCheckpoint(
            entries,
            None if self.run_dir is None else self.run_dir.checkpoint_dir,
            legacy=self.legacy_checkpoint,
        )
        if self.resume:
            if self.checkpoint.latest:
                self.checkpoint.restore(self.checkpoint.latest)  # every entry, or a CheckpointMismatch
            if self.record.last_step() > int(self.step.numpy()):
                self.record.rewind(int(self.step.numpy()))
        ids = tf.TensorSpec([B, T], tf.int32)
        state = tuple(tf.TensorSpec([B, n], tf.float32) for n in self.model.stack.state_size)
        self.prober = Prober(self.config.model)
        self.train_steps = {name: self.compiled(name, [ids, ids, state]) for name in self.prober.names}
        self.eval_step = tf.function(self._eval_step, input_signature=[ids, ids, state])
        self.sampler = Sampler(self.model, self.corpus.vocab)
        if self.tensorboard:
            self.summaries = Summaries(self.run_dir.path / SUMMARIES)
            self.record.subscribe(self.summaries)

    @property
    def train_step(self):
        """The train step the next step runs (the probe's candidate, or the chosen implementation's)."""
        return self.train_steps[self.prober.next()]

    def compiled(self, impl: str, signature: list):
        """The train step unrolled by `impl`, as a tf.function; every one shares the model and optimizer."""

        def train_step(x, y, state):
            return self._train_step(x, y, state, impl)

        return tf.function(train_step, input_signature=signature)

    def legacy_checkpoint(self):
        """How the earlier checkpoint layout is read (core.runs.checkpoints.legacy_view)."""
        return legacy_view(self.model, self.optimizer, self.step)

    def _train_step(self, x, y, state, impl: str):
        """x, y [batch, time] ids; state the carried tuple -> (mean loss in nats/char, final state,
        whether every weight is finite after the update, the gradients' global norm before clipping)."""
        with tf.GradientTape() as tape:
            logits, state = self.model(x, state, training=True, impl=impl)  # [batch, time, vocab]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        variables = self.model.trainable_variables
        grads = tape.gradient(loss, variables)
        grad_norm = tf.linalg.global_norm(grads)  # what clip_norm is compared with: char-rnn's number
        self.optimizer.apply(grads, variables)
        self.step.assign_add(1)
        # A finite loss can still come with an update that overflows the weights: never checkpoint those.
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in variables])
        return loss, state, finite, grad_norm

    def _eval_step(self, x, y, state):
        logits, state = self.model(x, state, training=False)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)), state

    def measure_build(self) -> None:
        """Graph build time, recorded apart from training: the trace (concrete function) here, the first
        call (graph optimisation and kernel creation) when the loop makes it."""
        t0 = time.perf_counter()
        self.train_step.get_concrete_function()
        self.record.timing(trace_s=time.perf_counter() - t0)

    # ---- the loop ----------------------------------------------------------------------------------
    def run(self, stop: threading.Event | None = None, pause: threading.Event | None = None):
        """Train until done, stopped, diverged or failed; returns the record's final snapshot."""
        stop, pause = stop or threading.Event(), pause or threading.Event()
        minutes = self.config.train.max_minutes
        self.began = time.monotonic() - max(0.0, time.time() - self.started)
        self.deadline = self.began + minutes * 60 if minutes else math.inf
        try:
            self.record.set_status(Status.BUILDING)
            self.setup()
            if not stop.is_set():
                self.measure_build()
            self.loop(stop, pause)
        except Exception as err:  # a crash is reported, never lost: the last checkpoint stays on disk
            self.fail(err)
        finally:
            if self.summaries is not None:
                self.summaries.close()
        return self.record.snapshot()

    def fail(self, err: Exception) -> None:
        """Report a crash in words (a Refusal's message as it is), leaving the last checkpoint whole."""
        if self.checkpoint is not None:
            self.checkpoint.tidy()  # a save cut short (a full disk) leaves no half-written files
        what = str(err) if isinstance(err, Refusal) else f"{type(err).__name__}: {err}"
        self.record.set_status(
            Status.FAILED,
            f"training failed: {what}; the last checkpoint on disk is kept",
            "" if isinstance(err, Refusal) else traceback.format_exc(),
        )

    def loop(self, stop, pause) -> None:
        tc = self.config.train
        start_step = int(self.step.numpy())
        progress = self.record.snapshot().progress
        self.clock = Clock(progress.get("elapsed_s", 0.0), tc.batch_size * tc.num_steps)
        self.wall_before = progress.get("wall_s", 0.0)
        self.last_eval_step = -1
        metrics = self.record.snapshot().metrics  # a resumed run judges explosion by its very first loss
        self.first_loss = metrics[0]["train_loss"] if metrics else None
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
        self.state = (
            tuple(v.read_value() for v in self.carry) if skip else self.model.zero_state(tc.batch_size)
        )
        self.epoch_losses = []
        for i, (x, y) in enumerate(batch_iterator(self.corpus.train_ids, tc.batch_size, tc.num_steps)):
            if i < skip:
                continue
            if self.wait_while_paused(stop, pause) or stop.is_set():
                return Outcome.STOPPED
            # forward, backward, update, by the implementation the probe names (impl=auto) or the config's
            impl, compiling = self.prober.next(), self.prober.first_call
            self.optimizer.learning_rate.assign(self.rate(epoch))
            t0 = time.perf_counter()
            loss, self.state, finite, grad_norm = self.train_steps[impl](x, y, self.state)
            loss, self.grad_norm = float(loss), float(grad_norm)
            seconds = time.perf_counter() - t0
            self.tick(seconds, compiling)
            if self.prober.report(seconds):
                self.settle_probe()
            self.divergence = self.diverged(loss, bool(finite))
            if self.divergence:
                return Outcome.DIVERGED
            self.epoch_losses.append(loss)
            # logging, evaluation, samples, checkpoints
            self.after_step(epoch, loss)
            if self.done():
                break
        whole = int(self.step.numpy()) == (epoch + 1) * self.batches_per_epoch
        return Outcome.EPOCH_DONE if whole else Outcome.STEP_LIMIT

    def diverged(self, loss: float, finite_weights: bool) -> str:
        """Why this step ends the run ('' if it does not): a loss or weights that are not finite, or a loss
        far above the run's first (char-rnn's rule: more than EXPLODED times it)."""
        step = int(self.step.numpy())
        if not math.isfinite(loss):
            return f"the loss became {loss} at step {step:,}"
        first = self.first_loss if self.first_loss is not None else loss
        self.first_loss = first
        if loss > EXPLODED * first:
            return (
                f"the loss exploded to {loss:,.4g} nats/char at step {step:,}, "
                f"over {EXPLODED:g}× the run's first ({first:.3f})"
            )
        if not finite_weights:
            return (
                f"the weights became NaN or infinite at step {step:,} (the loss before the update was finite)"
            )
        return ""

    def rate(self, epoch: int) -> float:
        """The learning rate for the step about to run (core/training/schedule.py)."""
        return learning_rate(self.config.train, int(self.step.numpy()), epoch, self.done_fraction())

    def done_fraction(self) -> float:
        """How much of the run is spent: by its steps or its time budget, whichever is further."""
        done = int(self.step.numpy()) / self.total_steps
        if self.deadline < math.inf:
            done = max(done, (time.monotonic() - self.began) / (self.deadline - self.began))
        return min(done, 1.0)

    def wall(self) -> float:
        """Seconds since the run was asked for, its earlier sessions included."""
        return self.wall_before + time.monotonic() - self.began

    def settle_probe(self) -> None:
        """Record what the probe measured and chose (impl=auto), and let the other candidates' graphs go."""
        if self.prober.auto and self.prober.taken:
            self.record.probe(**self.prober.result().to_dict())
        chosen = self.prober.chosen
        self.train_steps = {chosen: self.train_steps[chosen]}

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
            step=step,
            epoch=epoch + 1,
            train_loss=loss,
            grad_norm=self.grad_norm,
            learning_rate=float(self.optimizer.learning_rate),
            chars_per_s=self.clock.rate,
            elapsed_s=self.clock.elapsed,
        )
        self.record.progress(
            step=step,
            total_steps=self.total_steps,
            epoch=epoch + 1,
            epochs=tc.epochs,
            chars_per_s=self.clock.rate,
            elapsed_s=self.clock.elapsed,
            wall_s=self.wall(),
            done=self.done_fraction(),  # the time budget may end the run long before its last step
            eta_s=min(self.clock.eta(self.total_steps - step), max(0.0, self.deadline - time.monotonic())),
        )
        evaluated = tc.eval_every and step % tc.eval_every == 0
        if evaluated:
            self.evaluate(epoch)
        if tc.sample_every and step % tc.sample_every == 0:
            self.live_sample(step)
        if tc.checkpoint_every and step % tc.checkpoint_every == 0:
            self.save()
        if evaluated:  # after the sample: the first builds a graph, and a person waits for the sample
            self.histograms()

    def end_epoch(self, epoch: int) -> None:
        mean = float(np.mean(self.epoch_losses)) if self.epoch_losses else float("nan")
        val = self.evaluate(epoch)
        self.record.epoch(
            epoch=epoch + 1,
            step=int(self.step.numpy()),
            train_loss=mean,
            val_loss=val,
            elapsed_s=self.clock.elapsed,
        )
        self.record.log(
            f"Average training loss for Epoch {epoch + 1} : {mean:.3f}   "
            f"(validation {val:.3f} nats/char, {val / LN2:.3f} bits/char)"
        )
        self.save()
        self.histograms()

    def finish(self, outcome: "Outcome") -> None:
        step = int(self.step.numpy())
        if self.prober.deciding:  # a run shorter than its probe still says what it measured
            self.settle_probe()
        if outcome is Outcome.DIVERGED:
            self.record.set_status(Status.DIVERGED, f"{self.divergence}; {self.keep_good_weights(step)}")
            return
        self.save()
        if outcome is Outcome.STOPPED:
            self.record.set_status(
                Status.STOPPED, f"stopped at step {step}; its checkpoint is kept and can be resumed"
            )
            return
        if self.last_eval_step != step:
            self.evaluate(self.epoch_of(step))  # every finished run ends with a validation loss
            self.histograms()
        why = "the time budget ran out" if time.monotonic() > self.deadline else "done"
        self.record.set_status(
            Status.FINISHED, f"finished after {step:,} steps ({why}); {reached(self.record.snapshot())}"
        )

    def keep_good_weights(self, step: int) -> str:
        """After divergence at `step`: drop a checkpoint whose weights gave the bad loss (saved at step - 1:
        a checkpoint holds the weights after its step, and the loss at `step` is theirs); say truthfully
        which weights are kept."""
        saved = self.checkpoint.saved_steps()
        loss_was_bad = not self.divergence.startswith("the weights")
        if saved and loss_was_bad and saved[-1] == step - 1:
            self.checkpoint.discard_latest()
            saved = saved[:-1]
        if not saved:
            return ("no checkpoint holds weights whose loss was finite, so none are kept; start again with "
                    "a lower learning rate or gradient clipping")  # fmt: skip
        return (f"the weights from step {saved[-1]:,} (their loss was finite) are kept: continue from them "
                "with a lower learning rate or gradient clipping")  # fmt: skip

    def done(self) -> bool:
        return int(self.step.numpy()) >= self.total_steps or time.monotonic() > self.deadline

    def epoch_of(self, step: int) -> int:
        """0-based epoch that train step `step` (1-based) fell in."""
        return min(max(step - 1, 0) // self.batches_per_epoch, self.config.train.epochs - 1)

    # ---- helpers -----------------------------------------------------------------------------------
    def wait_while_paused(self, stop, pause) -> bool:
        """Block while paused (checking stop); True if stopped during the pause."""
        if not pause.is_set():
            return False
        self.record.set_status(Status.PAUSED)
        while pause.is_set() and not stop.is_set():
            stop.wait(0.05)
        if stop.is_set():
            return True
        self.record.set_status(Status.TRAINING)
        return False

    def evaluate(self, epoch: int) -> float:
        """Mean validation loss over the held-out tail (at most eval_batches windows), state carried."""
        tc = self.config.train
        state, losses = self.model.zero_state(tc.batch_size), []
        for i, (x, y) in enumerate(batch_iterator(self.corpus.val_ids, tc.batch_size, tc.num_steps)):
            if tc.eval_batches and i >= tc.eval_batches:
                break
            loss, state = self.eval_step(x, y, state)
            losses.append(float(loss))
        val = float(np.mean(losses))
        self.last_eval_step = int(self.step.numpy())
        self.record.eval(
            step=int(self.step.numpy()),
            epoch=epoch + 1,
            val_loss=val,
            val_bits=val / LN2,
            elapsed_s=self.clock.elapsed,
            wall_s=self.wall(),
        )
        return val

    def histograms(self) -> None:
        """TensorBoard's weight and gate histograms at this step (made after each evaluation)."""
        if self.summaries is not None:
            self.summaries.histograms(int(self.step.numpy()), self.model, self.gates_on_excerpt())

    def gates_on_excerpt(self):
        """The model reading the same stretch of the validation split at every evaluation (a Trace)."""
        if self.gate_reader is None:
            self.gate_reader = Tracer(self.model, self.corpus.vocab)
        return self.gate_reader(self.corpus.vocab.decode(self.corpus.val_ids[:GATE_EXCERPT]))

    def live_sample(self, step: int) -> None:
        tc = self.config.train
        prime = self.corpus.vocab.decode(self.corpus.val_ids[:1])  # a character the vocabulary surely has
        text = self.sampler.generate(SampleConfig(length=tc.sample_length, prime=prime, top_k=0, seed=step))
        self.record.sample(step, prime + text)

    def save(self) -> None:
        """Checkpoint, only ever with finite weights (a diverged step returns before reaching here)."""
        if self.checkpoint.manager is not None:
            for variable, value in zip(self.carry, self.state):
                variable.assign(value)
            self.checkpoint.save(int(self.step.numpy()))


def reached(snap) -> str:
    """The best validation loss of a run and when it came, in words (the final line of a run)."""
    best = snap.best_eval
    if best is None:
        return "no validation loss yet"
    when = f", {best['wall_s'] / 60:.1f} minutes after Start" if "wall_s" in best else ""
    return f"best validation loss {best['val_loss']:.3f} nats/char at step {best['step']:,}{when}"


class Outcome(Enum):
    """How an epoch's loop (or the whole run's) ended."""

    EPOCH_DONE = "every batch of the epoch was trained"
    STEP_LIMIT = "max_steps or the time budget ended it mid-epoch"
    STOPPED = "asked to stop"
    DIVERGED = "the loss or the weights stopped being finite"
    DONE = "every epoch, or the step or time budget, is spent"
