"""The named starting points a person picks (the sidebar's buttons, `--preset`), and a sentence on each."""

from core.config import ModelConfig, RunConfig, TrainConfig

# The post's setting, and a default that writes legible Shakespeare soon on 2 CPU cores.
PRESETS: dict[str, RunConfig] = {
    "seed": RunConfig(
        model=ModelConfig(cell="lstm", num_layers=3, state_size=100),
        train=TrainConfig(
            batch_size=32,
            num_steps=200,
            epochs=3,
            learning_rate=1e-4,
            clip_norm=0.0,
            eval_every=0,
            sample_every=100,  # not the post's (it sampled after training): a class watches noise become words
        ),
    ),
    # Chosen by measurement (docs/time-to-quality.md): the best validation loss 5 minutes after Start
    # buys, on 2 cores. The time budget ends it (a faster machine trains more steps, and anneals to the
    # same deadline); validation at epoch ends only, so its minutes go to training.
    "quick": RunConfig(
        model=ModelConfig(cell="gru", num_layers=1, state_size=256),
        train=TrainConfig(
            batch_size=64,
            num_steps=100,
            epochs=30,
            max_minutes=4.85,
            size_by_speed=True,  # a faster machine trains a wider GRU (core/training/sizing.py)
            learning_rate=1e-2,
            lr_schedule="stable-decay",
            eval_every=0,
            sample_every=300,
        ),
    ),
    # Chosen by measurement (docs/time-to-quality.md): what half an hour buys on 2 cores. Long enough for
    # two wide layers, and for them to learn the 1 MB corpus by heart: dropout 0.5 beat 0.2 (1.439 against
    # 1.457), and Adam 5e-3 did worse than 3e-3 (with 150 warm-up steps) or failed to learn (without).
    "longer": RunConfig(
        model=ModelConfig(cell="gru", num_layers=2, state_size=512, dropout=0.5),
        train=TrainConfig(
            batch_size=64,
            num_steps=100,
            epochs=60,
            max_minutes=29.5,
            learning_rate=3e-3,
            lr_schedule="stable-decay",
            decay_share=0.5,
            eval_every=0,
            sample_every=300,
        ),
    ),
}
PRESET_DESCRIPTIONS = {
    "seed": "the r2rt post's setting: 3-layer LSTM, state 100, batch 32, 200 steps, Adam 1e-4, 3 epochs "
    "(with a live sample every 100 steps)",
    "quick": "the best Shakespeare 5 minutes buy on 2 CPU cores: a 1-layer GRU, 256 units or wider (and "
    "with dropout on a fast machine) as this machine's measured speed allows, on a 4.85-minute budget",
    "longer": "what half an hour buys on 2 CPU cores: 2 layers of GRU 512 with dropout 0.5 on a "
    "29.5-minute budget",
}
