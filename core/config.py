"""Frozen configs, one per concern, with defaults that run and errors a person can read."""

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields

from core.catalogue import AUTO, CELL_CHOICES, IMPL_CHOICES
from core.errors import Refusal

OPTIMIZERS = ("adam", "rmsprop", "sgd")
SCHEDULES = ("constant", "cosine", "stable-decay")
STRATEGIES = {  # tf.distribute strategies (core/training/replicas.py), in words
    "none": "one device: TensorFlow's own threads use every core",
    "mirrored": "tf.distribute.MirroredStrategy: the batch split over replicas on this machine (its GPUs, "
    "else logical CPU devices sharing its cores), gradients summed every step",
    "multi-worker": "tf.distribute.MultiWorkerMirroredStrategy: one replica per process, on this machine "
    "or several, named by TF_CONFIG; start them with python -m core.cluster",
}
# The app trains a run in one process of its own; several processes are the command line's (core.cluster).
STRATEGIES_IN_APP = ("none", "mirrored")
SEED_MAX = 2**32 - 1  # the largest seed numpy's global generator takes (keras.utils.set_random_seed seeds it)


class ConfigError(Refusal, ValueError):
    """A setting that cannot work; the message says which and why."""


@dataclass(frozen=True)
class Control:
    """How the app shows a setting, and the bounds every caller (app, CLI, lab) is held to."""

    label: str  # the widget's label
    url: str  # its query-parameter key (short: URLs are shared)
    low: float | None = None  # the smallest value allowed (None: no bound)
    high: float | None = None  # the largest value allowed
    widget: str = "number"  # number (a box), slider, choice (a slider over `choices`), select, check
    step: float | None = None  # a number box's or slider's step
    format: str | None = None  # printf-style format of the shown value
    choices: tuple = ()  # a choice slider's values (the values in use are added to them)


def setting(default, help: str, control: Control | None = None):
    """A config field: its default, the help text the CLI's --help and the app's controls both show, and
    how the app shows it (with its bounds, which the config's own checks enforce)."""
    return field(default=default, metadata={"help": help, "control": control})


def help_of(cls, name: str) -> str:
    """The help text of one config field."""
    return next(f.metadata.get("help", "") for f in fields(cls) if f.name == name)


def control_of(cls, name: str) -> Control:
    """The Control of one config field."""
    return next(f.metadata["control"] for f in fields(cls) if f.name == name)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _check_fields(config) -> None:
    """Every float setting a finite number, and every setting within its Control's low..high."""
    for f in fields(config):
        control, value = f.metadata.get("control"), getattr(config, f.name)
        if isinstance(value, float):  # inf or nan passes no comparison a setting could be read by
            _check(math.isfinite(value), f"{f.name} must be a finite number, got {value}")
        if control is None or (control.low is None and control.high is None):
            continue
        if control.high is None:
            _check(value >= control.low, f"{f.name} must be at least {control.low}, got {value}")
        else:
            _check(control.low <= value <= control.high,
                   f"{f.name} must be {control.low}..{control.high}, got {value}")  # fmt: skip


POWERS_OF_TWO = tuple(2**i for i in range(12))  # 1 .. 2048
LOG_RATES = tuple(m * 10.0**e for e in range(-5, 0) for m in (1, 2, 5)) + (1.0,)  # 1e-5, 2e-5, 5e-5 .. 1


@dataclass(frozen=True)
class ModelConfig:
    """What network to build."""

    cell: str = setting(
        "lstm",
        "the recurrent cell computed at every step (a name in CELLS)",
        Control("Cell", "cell", widget="select"),
    )
    impl: str = setting(
        AUTO,
        "how the cell is unrolled over time: a name in UNROLLERS, or auto (the fastest here, measured by "
        "a few steps of each before training)",
        Control("Implementation", "impl", widget="select"),
    )
    num_layers: int = setting(
        1,
        "cells stacked on top of each other; each reads the outputs of the one below",
        Control("Layers", "layers", 1, 8, "slider", step=1),
    )
    state_size: int = setting(
        128,
        "units per cell (LSTM: each of c and h); also the embedding width",
        Control("State size", "state", 1, 2048, "choice", choices=POWERS_OF_TWO),
    )
    dropout: float = setting(
        0.0,
        "probability of dropping a cell's input and output while training (0 = off)",
        Control("Dropout", "dropout", 0.0, 0.95, "slider", step=0.05, format="%.2f"),
    )
    input_dropout: bool = setting(
        True,
        "dropout also on the first layer's input, the characters, as the post's DropoutWrapper did; off: "
        "between the layers and on the output only, which keeps fused's faster embedding lookup",
        Control("Dropout on the input characters too", "drop_in", widget="check"),
    )

    def __post_init__(self):
        # Checked against the catalogue, which holds the names without TensorFlow.
        cells, impls = CELL_CHOICES, IMPL_CHOICES
        _check(self.cell in cells, f"unknown cell {self.cell!r}; choose one of: {', '.join(cells)}")
        _check(
            self.impl in impls or self.impl == AUTO,
            f"unknown implementation {self.impl!r}; choose one of: {AUTO}, {', '.join(impls)}",
        )
        _check_fields(self)
        if self.impl == AUTO:
            return
        unroller = impls[self.impl]
        _check(
            unroller.trains,
            f"{self.impl!r} runs only inside a TF1 graph (the benchmark and the Build time lab); train with "
            f"one of: {', '.join(impls.names(trains_only=True))}",
        )
        _check(
            unroller.works_with(self.cell),
            f"implementation {self.impl!r} works only with cells {', '.join(unroller.supports or ())}",
        )

    @property
    def one_hot_inputs(self) -> bool:
        """The post fed the basic RNN one-hot characters and every other cell a learned embedding: the
        cell's catalogue entry says which."""
        return CELL_CHOICES[self.cell].one_hot_inputs


@dataclass(frozen=True)
class TrainConfig:
    """How to train it."""

    batch_size: int = setting(
        32,
        "rows of the text walked in parallel; each row carries its own RNN state",
        Control("Batch size", "batch", 1, 1024, "choice", choices=POWERS_OF_TWO[:11]),
    )
    num_steps: int = setting(
        50,
        "characters per window: gradients flow back this many steps (truncated backprop)",
        Control("Steps per window (num_steps)", "steps", 1, 1000, step=1),
    )
    epochs: int = setting(1, "passes over the training split", Control("Epochs", "epochs", 1, step=1))
    max_steps: int = setting(
        0,
        "stop after this many train steps (0 = run all epochs)",
        Control("Max steps (0 = all)", "max_steps", 0, step=100),
    )
    max_minutes: float = setting(
        0.0,
        "stop after this much wall time, graph build included (0 = no limit)",
        Control("Time budget, minutes (0 = none)", "max_min", 0.0, step=1.0, format="%.1f"),
    )
    size_by_speed: bool = setting(
        False,
        "with a time budget, on the quick preset's model and rate as it sets them: the GRU's width, dropout and "
        "learning rate chosen from a table (core/training/sizing.py) by the speed the run measures in its "
        "first seconds (a model or rate changed by hand is kept as it is)",
        Control("Size the model to this machine's speed", "sized", widget="check"),
    )
    learning_rate: float = setting(
        2e-3,
        "step size of the optimizer",  # no upper bound: a test makes a run diverge on purpose
        Control("Learning rate", "lr", widget="choice", format="%g", choices=LOG_RATES),
    )
    optimizer: str = setting(
        "adam",
        "the Keras optimizer: adam, rmsprop or sgd",
        Control("Optimizer", "optimizer", widget="select"),
    )
    clip_norm: float = setting(
        5.0,
        "global-norm gradient clipping: gradients scaled down to this norm at most (0 = off, not inf)",
        Control("Gradient clip norm (0 = off)", "clip", 0.0, step=0.5, format="%.2f"),
    )
    lr_decay: float = setting(
        1.0,
        "learning rate is multiplied by this after every epoch (1 = constant)",
        Control("Learning-rate decay per epoch", "decay", 0.01, 1.0, "slider", step=0.01, format="%.2f"),
    )
    lr_schedule: str = setting(
        "constant",
        "constant (only the per-epoch decay); cosine: down to a tenth of the rate by the run's end, "
        "whichever of its steps or its time budget ends it first; stable-decay: constant, then that "
        "cosine squeezed into the run's last 30 %",
        Control("Learning-rate schedule", "schedule", widget="select"),
    )
    decay_share: float = setting(
        0.3,
        "stable-decay: the last share of the run, by steps or time, in which the rate comes down",
        Control(
            "Share of the run spent decaying (stable-decay)",
            "decay_share",
            0.05,
            1.0,
            "slider",
            step=0.05,
            format="%.2f",
        ),
    )
    warmup_steps: int = setting(
        0,
        "steps over which the learning rate rises linearly from near 0 to its value (0 = none)",
        Control("Warm-up steps", "warmup", 0, step=10),
    )
    val_fraction: float = setting(
        0.1,
        "fraction of the corpus, from its end, held out for validation loss",
        Control("Validation fraction", "val", 0.01, 0.49, step=0.01, format="%.2f"),
    )
    eval_every: int = setting(
        100,
        "train steps between validation losses (0 = only at epoch ends)",
        Control("Evaluate every (steps)", "eval_every", 0, step=10),
    )
    eval_batches: int = setting(
        20,
        "validation windows per evaluation (0 = the whole split)",
        Control("Validation windows", "eval_batches", 0, step=5),
    )
    sample_every: int = setting(
        200,
        "train steps between live samples (0 = never)",
        Control("Sample every (steps)", "sample_every", 0, step=10),
    )
    sample_length: int = setting(
        200, "characters per live sample", Control("Sample length (chars)", "sample_len", 1, 5000, step=50)
    )
    checkpoint_every: int = setting(
        200,
        "train steps between checkpoints (also at the end and at epoch ends)",
        Control("Checkpoint every (steps)", "ckpt_every", 0, step=50),
    )
    seed: int = setting(
        0,
        f"seeds weights, dropout and live samples: the same seed gives the same run (0..{SEED_MAX})",
        Control("Seed", "seed", 0, SEED_MAX, step=1),
    )
    strategy: str = setting(
        "none",
        "none (one device); mirrored: the batch split over `replicas` devices of this machine (its GPUs, "
        "else logical CPU devices); multi-worker: one replica per process, the processes named by "
        "TF_CONFIG (python -m core.cluster starts them on this machine)",
        Control("Distribution strategy", "strategy", widget="select"),
    )
    replicas: int = setting(
        1,
        "replicas under the mirrored strategy; each trains batch_size / replicas of the rows",
        Control("Replicas (mirrored)", "replicas", 1, 64, step=1),
    )
    collective_timeout_s: float = setting(
        120.0,
        "multi-worker: seconds a worker waits for the others at an all-reduce before the run fails (the "
        "chief's validations, samples and checkpoints happen while the others wait, so keep it above them)",
        Control("All-reduce timeout, s (multi-worker)", "timeout", 1.0, step=10.0, format="%.0f"),
    )

    def __post_init__(self):
        _check_fields(self)
        _check(
            self.strategy in STRATEGIES,
            f"unknown strategy {self.strategy!r}; choose one of: {', '.join(STRATEGIES)}",
        )
        _check(
            self.replicas == 1 or self.strategy == "mirrored",
            f"replicas = {self.replicas} needs the mirrored strategy (multi-worker runs one replica per "
            "worker: start more workers instead)",
        )
        _check(
            self.batch_size % self.replicas == 0,
            f"batch_size {self.batch_size} cannot be split evenly over {self.replicas} replicas",
        )
        _check(self.collective_timeout_s > 0, "collective_timeout_s must be positive")
        _check(self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}")
        _check(
            self.optimizer in OPTIMIZERS,
            f"unknown optimizer {self.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}",
        )
        _check(
            self.lr_schedule in SCHEDULES,
            f"unknown learning-rate schedule {self.lr_schedule!r}; choose one of: {', '.join(SCHEDULES)}",
        )

    def check_fits(self, n_train: int, n_val: int) -> None:
        """Refuse a batch shape the corpus cannot fill: one window needs batch_size * num_steps + 1 ids."""
        need = self.batch_size * self.num_steps + 1
        _check(
            n_train >= need,
            f"the training split has {n_train:,} characters but batch_size × num_steps + 1 = "
            f"{need:,} are needed; use a longer corpus or a smaller batch size or num_steps",
        )
        _check(
            n_val >= need,
            f"the validation split has {n_val:,} characters but {need:,} are needed for one "
            f"batch_size × num_steps window; use a longer corpus, a larger val_fraction or a smaller batch",
        )


@dataclass(frozen=True)
class SampleConfig:
    """How to generate text."""

    length: int = setting(500, "characters to generate after the prime")
    prime: str = setting("The ", "text fed in first, one character at a time, to set the state")
    temperature: float = setting(
        1.0, "below 1 the likeliest characters win more often, above 1 less; ignored by argmax"
    )
    top_k: int = setting(
        0, "sample only among the k likeliest characters (the post's pick_top_chars; 0 = all)"
    )
    argmax: bool = setting(False, "always take the likeliest character")
    seed: int = setting(0, f"the same seed, prime and settings give the same text (0..{SEED_MAX})")

    def __post_init__(self):
        _check_fields(self)
        _check(0 <= self.seed <= SEED_MAX, f"seed must be 0..{SEED_MAX}, got {self.seed}")
        _check(1 <= self.length <= 100_000, f"length must be 1..100000, got {self.length}")
        _check(len(self.prime) >= 1, "the prime text must have at least one character")
        _check(self.temperature > 0, f"temperature must be positive, got {self.temperature}")
        _check(self.top_k >= 0, f"top_k must be 0 (all) or more, got {self.top_k}")


@dataclass(frozen=True)
class RunConfig:
    """Everything one training run needs: the model, the training and the corpus it reads."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    corpus: str = setting("assets/tinyshakespeare.txt", "path of a UTF-8 text file")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RunConfig":
        """Inverse of to_dict, for JSON from anywhere: unknown keys are refused so a typo never goes
        unnoticed, and every value must have its setting's type."""
        _check(isinstance(data, dict), f"a run's settings must be a JSON object, got {_shown(data)}")
        unknown = set(data) - {f.name for f in fields(cls)}
        _check(not unknown, f"unknown RunConfig settings: {', '.join(sorted(map(str, unknown)))}")
        return cls(
            model=_build(ModelConfig, "model", data.get("model", {})),
            train=_build(TrainConfig, "train", data.get("train", {})),
            corpus=_typed("corpus", str, data.get("corpus", RunConfig.corpus)),
        )


KINDS = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}  # in a refusal


def _build(cls, section: str, values: dict):
    """`cls` from one section of a run's settings (model, train), each value of its field's type."""
    _check(isinstance(values, dict), f"the {section} settings must be a JSON object, got {_shown(values)}")
    types = {f.name: f.type for f in fields(cls)}
    unknown = set(values) - set(types)
    _check(not unknown, f"unknown {cls.__name__} settings: {', '.join(sorted(map(str, unknown)))}")
    return cls(**{name: _typed(f"{section}.{name}", types[name], value) for name, value in values.items()})


def _typed(name: str, kind: type, value):
    """`value` if it is a `kind` (an int where a float is wanted becomes one; a bool is no int), else
    ConfigError."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # past a float's range
            raise ConfigError(f"{name} must be a finite number, got {_shown(value)}") from None
    fits = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    _check(fits, f"{name} must be {KINDS[kind]}, got {_shown(value)}")
    return value


def _shown(value) -> str:
    """A value as its JSON reads, cut short."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
