"""Opening a run folder for training, the one way the command line, the app's worker and the tests do it."""

from core.config import ConfigError
from core.data.corpus import Corpus, CorpusError, load_corpus
from core.runs.record import RunRecord
from core.runs.store import RunDir


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

    problem = run_dir.resume_problem() if resume else None
    if problem:  # checked here too: the app's worker resumes through this function alone
        raise ConfigError(f"run {run_dir.run_id} cannot be resumed: {problem}")
    config = run_dir.config()
    corpus = corpus or load_corpus(config.corpus, config.train.val_fraction)
    if corpus.vocab != run_dir.vocab():
        raise CorpusError(
            f"the corpus {config.corpus} gives a different vocabulary from the one run "
            f"{run_dir.run_id} was created with"
        )
    return Trainer(config, corpus, record, run_dir, resume=resume, started=started, replicas=replicas)
