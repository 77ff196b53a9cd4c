"""Command-line flags generated from the config dataclasses, so every field is a flag and none is forgotten."""

import argparse
import dataclasses

from core.catalogue import CELL_CHOICES, IMPL_CHOICES
from core.config import AUTO, OPTIMIZERS, SCHEDULES, STRATEGIES, ModelConfig, RunConfig, TrainConfig
from core.presets import PRESETS

# Short names the post's readers expect, for the fields whose own names are long.
ALIASES = {"num_layers": "--layers", "state_size": "--state-size", "learning_rate": "--lr"}
CHOICES = {
    "cell": CELL_CHOICES.names(),
    "impl": [AUTO, *IMPL_CHOICES.names(trains_only=True)],
    "optimizer": list(OPTIMIZERS),
    "lr_schedule": list(SCHEDULES),
    "strategy": list(STRATEGIES),
}


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per ModelConfig/TrainConfig field (default None = take it from the preset)."""
    for cls in (ModelConfig, TrainConfig):
        group = parser.add_argument_group(cls.__name__)
        for f in dataclasses.fields(cls):
            flags = [f"--{f.name.replace('_', '-')}"]
            if f.name in ALIASES and ALIASES[f.name] not in flags:
                flags.insert(0, ALIASES[f.name])
            kind = (
                {"action": argparse.BooleanOptionalAction}
                if type(f.default) is bool
                else {"type": type(f.default)}
            )
            group.add_argument(
                *flags,
                dest=f.name,
                **kind,
                default=None,
                choices=CHOICES.get(f.name),
                # argparse formats help with %: a literal one ("30 %") is written %%
                help=f"{f.metadata['help']} (default: the preset's, else {f.default!r})".replace("%", "%%"),
            )


def config_from_args(args: argparse.Namespace, base: RunConfig | None = None) -> RunConfig:
    """`base` (else the preset, else the built-in defaults) with every flag the user gave laid over it."""
    base = base or (PRESETS[args.preset] if args.preset else RunConfig())
    model = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(ModelConfig)
        if getattr(args, f.name) is not None
    }
    train = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if getattr(args, f.name) is not None
    }
    return RunConfig(
        model=dataclasses.replace(base.model, **model),
        train=dataclasses.replace(base.train, **train),
        corpus=args.corpus or base.corpus,
    )
