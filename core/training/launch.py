"""Opening a run folder for training, the one way the command line, the app's worker and the tests do it."""

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


def make_trainer(run_dir: RunDir, record: RunRecord, resume: bool, corpus: Corpus | None = None):
    """A Trainer on the folder's config and corpus (`corpus`, if the caller has loaded it already);
    refuses a corpus whose vocabulary has changed."""
    from core.training.trainer import Trainer  # TensorFlow: only once a run is really about to train

    config = run_dir.config()
    corpus = corpus or load_corpus(config.corpus, config.train.val_fraction)
    if corpus.vocab != run_dir.vocab():
        raise CorpusError(
            f"the corpus {config.corpus} gives a different vocabulary from the one run "
            f"{run_dir.run_id} was created with"
        )
    return Trainer(config, corpus, record, run_dir, resume=resume)
