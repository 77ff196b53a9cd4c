"""Opening a run folder for training, new or resumed: the one way the command line, the app's jobs and the
tests do it. A new run's corpus must fill a batch (and a validation batch); a resumed run must keep what its
checkpoint depends on, have a checkpoint to go on from, and read a corpus with the vocabulary it was
trained on. Each refusal is a sentence (ConfigError, CorpusError).
"""

from core.config import ConfigError, RunConfig
from core.data.corpus import Corpus, CorpusError, load_corpus
from core.runs.record import RunRecord
from core.runs.store import RunDir, RunStore

# What a checkpoint's shapes and the position in the text depend on: a resumed run keeps them.
KEPT_ON_RESUME = ("batch_size", "num_steps", "optimizer", "val_fraction")


def fitting_corpus(config: RunConfig) -> Corpus:
    """The config's corpus, loaded and checked to fill a training batch and a validation batch."""
    corpus = load_corpus(config.corpus, config.train.val_fraction)
    config.train.check_fits(len(corpus.train_ids), len(corpus.val_ids))
    return corpus


def create_run(store: RunStore, config: RunConfig, owner: str) -> tuple[RunDir, Corpus]:
    """A new run folder for `config` (its corpus loaded and checked first, so a refusal leaves none)."""
    corpus = fitting_corpus(config)
    return store.create(config, corpus.vocab, owner=owner), corpus


def check_resumable(run_dir: RunDir, saved: RunConfig, config: RunConfig) -> None:
    """Refuse, in words, a resume that cannot continue the run exactly: `saved` is the run's config,
    `config` what the caller would go on with (only training settings outside KEPT_ON_RESUME may change)."""
    if config.model != saved.model:
        raise ConfigError(
            "a resumed run keeps its model: only training settings (--epochs, --max-steps, "
            "--lr, ...) can change"
        )
    changed = [name for name in KEPT_ON_RESUME if getattr(config.train, name) != getattr(saved.train, name)]
    if changed:
        raise ConfigError(
            f"a resumed run keeps its {', '.join(changed)}: the checkpoint's optimizer state and "
            "carried RNN state, and its place in the text, depend on them"
        )
    check_checkpoint(run_dir)


def check_checkpoint(run_dir: RunDir) -> None:
    """Refuse a run whose checkpoint cannot be resumed from (none, or damaged)."""
    from core.runs.checkpoints import resume_problem  # late: TensorFlow reads the checkpoint's contents

    problem = resume_problem(run_dir)
    if problem:
        raise ConfigError(f"run {run_dir.run_id} cannot be resumed: {problem}")


def check_vocab(run_dir: RunDir, corpus: Corpus, path: str) -> None:
    """Refuse a corpus (read from `path`) whose vocabulary is not the one the run was trained on."""
    if corpus.vocab != run_dir.vocab():
        raise CorpusError(
            f"{path} gives a different vocabulary from the one run {run_dir.run_id} was trained on"
        )


def resume_run(run_dir: RunDir, config: RunConfig) -> Corpus:
    """Check that `run_dir` can go on with `config` (its saved config with the caller's changes) and
    return its corpus; the folder then records `config`, so it describes what it was trained with."""
    saved = run_dir.config()
    check_resumable(run_dir, saved, config)
    corpus = fitting_corpus(config)
    check_vocab(run_dir, corpus, config.corpus)
    if config != saved:
        run_dir.save_config(config)
    return corpus


def record_for(run_dir: RunDir, resume: bool) -> RunRecord:
    """The run's record: rebuilt from its files when resuming (so its curves go on), else a new one."""
    if resume:
        return run_dir.load_record()
    return RunRecord(run_dir.run_id, {**run_dir.config().to_dict(), "meta": run_dir.meta()})


def open_record(run_dir: RunDir, resume: bool, *listeners) -> RunRecord:
    """The record a training writes: every event goes into the folder first, then to each listener,
    so whatever a listener saw is on disk."""
    record = record_for(run_dir, resume)
    for listener in (run_dir.writer(), *listeners):
        record.subscribe(listener)
    return record


def make_trainer(
    run_dir: RunDir,
    record: RunRecord,
    resume: bool,
    corpus: Corpus | None = None,
    started: float | None = None,
    replicas=None,
):
    """A Trainer on the folder's config and corpus (`corpus`, if the caller has loaded it already);
    refuses a run that cannot be resumed and a corpus whose vocabulary has changed. `started`: time.time()
    when the person asked for the run (the time budget counts from it); `replicas`: its strategy, if made
    already (core.training.replicas)."""
    from core.training.trainer import Trainer  # TensorFlow: only once a run is really about to train

    if resume:  # checked here too: the app's worker resumes through this function alone
        check_checkpoint(run_dir)
    config = run_dir.config()
    corpus = corpus or fitting_corpus(config)
    check_vocab(run_dir, corpus, config.corpus)
    return Trainer(config, corpus, record, run_dir, resume=resume, started=started, replicas=replicas)
