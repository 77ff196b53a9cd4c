"""Small corpora and configs that make the core's tests fast."""

from core.config import ModelConfig, RunConfig, TrainConfig

# A short, repetitive text: a tiny model learns it within a few dozen steps.
TEXT = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\n"
) * 30


# A tiny model's command-line flags (tests of python -m core.train).
SMALL_FLAGS = [
    "--cell",
    "gru",
    "--state-size",
    "16",
    "--batch-size",
    "4",
    "--num-steps",
    "16",
    "--eval-batches",
    "2",
]


def write_corpus(tmp_path, text: str = TEXT, name: str = "tiny.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def tiny_config(corpus_path="", cell="gru", impl="dynamic", **train) -> RunConfig:
    defaults = dict(
        batch_size=4,
        num_steps=16,
        epochs=1,
        max_steps=20,
        learning_rate=1e-2,
        eval_every=10,
        eval_batches=2,
        sample_every=10,
        sample_length=20,
        checkpoint_every=10,
        seed=3,
    )
    return RunConfig(
        model=ModelConfig(cell=cell, impl=impl, num_layers=1, state_size=16),
        train=TrainConfig(**{**defaults, **train}),
        corpus=str(corpus_path),
    )


def train(store, config: RunConfig, resume_dir=None, stop=None, pause=None):
    """Train `config` in a new folder of `store`, or resume `resume_dir` with it, as the CLI and the app's
    worker do (core.training.launch); returns the Trainer after its run."""
    from core.data.corpus import load_corpus
    from core.training.launch import make_trainer, open_record

    resume = resume_dir is not None
    if resume:
        run_dir = resume_dir
        run_dir.save_config(config)
    else:
        run_dir = store.create(config, load_corpus(config.corpus, config.train.val_fraction).vocab)
    trainer = make_trainer(run_dir, open_record(run_dir, resume), resume)
    trainer.run(stop, pause)
    return trainer
