"""Frozen configs, one per concern, with defaults that run and errors a person can read."""

import dataclasses
from dataclasses import dataclass, field, fields

OPTIMIZERS = ("adam", "rmsprop", "sgd")


class ConfigError(ValueError):
    """A setting that cannot work; the message says which and why."""


def setting(default, help: str):
    """A config field whose help text the CLI's --help and the app's controls both show."""
    return field(default=default, metadata={"help": help})


def help_of(cls, name: str) -> str:
    """The help text of one config field."""
    return next(f.metadata.get("help", "") for f in fields(cls) if f.name == name)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class ModelConfig:
    """What network to build."""

    cell: str = setting("lstm", "the recurrent cell computed at every step (a name in CELLS)")
    impl: str = setting("dynamic", "how the cell is unrolled over time (a name in UNROLLERS)")
    num_layers: int = setting(
        1, "cells stacked on top of each other; each reads the outputs of the one below"
    )
    state_size: int = setting(128, "units per cell (LSTM: each of c and h); also the embedding width")
    dropout: float = setting(
        0.0, "probability of dropping a cell's input and output while training (0 = off)"
    )

    def __post_init__(self):
        from core.model.cells import CELLS  # late imports: the registries pull in TensorFlow
        from core.model.unrollers import UNROLLERS

        _check(self.cell in CELLS, f"unknown cell {self.cell!r}; choose one of: {', '.join(CELLS)}")
        _check(
            self.impl in UNROLLERS,
            f"unknown implementation {self.impl!r}; choose one of: {', '.join(UNROLLERS)}",
        )
        unroller = UNROLLERS[self.impl]
        _check(
            unroller.works_with(self.cell),
            f"implementation {self.impl!r} works only with cells {', '.join(unroller.supports or ())}",
        )
        _check(1 <= self.num_layers <= 8, f"num_layers must be 1..8, got {self.num_layers}")
        _check(1 <= self.state_size <= 2048, f"state_size must be 1..2048, got {self.state_size}")
        _check(0.0 <= self.dropout < 1.0, f"dropout is a probability in [0, 1), got {self.dropout}")

    @property
    def one_hot_inputs(self) -> bool:
        """The post fed the basic RNN one-hot characters and every other cell a learned embedding: the
        cell class says which (`one_hot_inputs`)."""
        from core.model.cells import CELLS

        return CELLS[self.cell].impl.one_hot_inputs


@dataclass(frozen=True)
class TrainConfig:
    """How to train it."""

    batch_size: int = setting(32, "rows of the text walked in parallel; each row carries its own RNN state")
    num_steps: int = setting(
        50, "characters per window: gradients flow back this many steps (truncated backprop)"
    )
    epochs: int = setting(1, "passes over the training split")
    max_steps: int = setting(0, "stop after this many train steps (0 = run all epochs)")
    max_minutes: float = setting(0.0, "stop after this much wall time, graph build included (0 = no limit)")
    learning_rate: float = setting(2e-3, "step size of the optimizer")
    optimizer: str = setting("adam", "the Keras optimizer: adam, rmsprop or sgd")
    clip_norm: float = setting(5.0, "global-norm gradient clipping (0 = off)")
    lr_decay: float = setting(1.0, "learning rate is multiplied by this after every epoch (1 = constant)")
    val_fraction: float = setting(0.1, "fraction of the corpus, from its end, held out for validation loss")
    eval_every: int = setting(100, "train steps between validation losses (0 = only at epoch ends)")
    eval_batches: int = setting(20, "validation windows per evaluation (0 = the whole split)")
    sample_every: int = setting(200, "train steps between live samples (0 = never)")
    sample_length: int = setting(200, "characters per live sample")
    checkpoint_every: int = setting(
        200, "train steps between checkpoints (also at the end and at epoch ends)"
    )
    seed: int = setting(0, "seeds weights, dropout and live samples: the same seed gives the same run")

    def __post_init__(self):
        _check(self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}")
        _check(self.num_steps >= 1, f"num_steps must be at least 1, got {self.num_steps}")
        _check(self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}")
        _check(self.max_steps >= 0, f"max_steps must be 0 (no limit) or more, got {self.max_steps}")
        _check(self.max_minutes >= 0, f"max_minutes must be 0 (no limit) or more, got {self.max_minutes}")
        _check(self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}")
        _check(
            self.optimizer in OPTIMIZERS,
            f"unknown optimizer {self.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}",
        )
        _check(self.clip_norm >= 0, f"clip_norm must be 0 (off) or positive, got {self.clip_norm}")
        _check(0 < self.lr_decay <= 1, f"lr_decay must be in (0, 1], got {self.lr_decay}")
        _check(0 < self.val_fraction < 0.5, f"val_fraction must be in (0, 0.5), got {self.val_fraction}")
        for name in ("eval_every", "eval_batches", "sample_every", "checkpoint_every"):
            _check(getattr(self, name) >= 0, f"{name} must be 0 or more, got {getattr(self, name)}")
        _check(self.sample_length >= 1, f"sample_length must be at least 1, got {self.sample_length}")

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
    seed: int = setting(0, "the same seed, prime and settings give the same text")

    def __post_init__(self):
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
        """Inverse of to_dict; unknown keys are refused so a typo never goes unnoticed."""
        return cls(
            model=_build(ModelConfig, data.get("model", {})),
            train=_build(TrainConfig, data.get("train", {})),
            corpus=data.get("corpus", RunConfig.corpus),
        )


def _build(cls, values: dict):
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    _check(not unknown, f"unknown {cls.__name__} settings: {', '.join(sorted(unknown))}")
    return cls(**values)


# The post's setting, and a default that writes legible Shakespeare soon on 2 CPU cores.
PRESETS: dict[str, RunConfig] = {
    "seed": RunConfig(
        model=ModelConfig(cell="lstm", impl="dynamic", num_layers=3, state_size=100),
        train=TrainConfig(
            batch_size=32,
            num_steps=200,
            epochs=3,
            learning_rate=1e-4,
            clip_norm=0.0,
            eval_every=0,
            sample_every=0,
        ),
    ),
    # Chosen by measurement (README.md, "Measured figures"): about 4 minutes on 2 cores.
    "quick": RunConfig(
        model=ModelConfig(cell="gru", impl="dynamic", num_layers=1, state_size=256),
        train=TrainConfig(
            batch_size=64, num_steps=100, epochs=10, learning_rate=3e-3, eval_every=100, sample_every=100
        ),
    ),
}
PRESET_DESCRIPTIONS = {
    "seed": "the r2rt post's setting: 3-layer LSTM, state 100, batch 32, 200 steps, Adam 1e-4, 3 epochs",
    "quick": "legible Shakespeare within minutes on 2 CPU cores",
}
