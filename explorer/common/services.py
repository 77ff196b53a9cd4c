"""What every page shares: the runs folder, the process-wide job manager, run snapshots and samplers."""

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import streamlit as st

from core.config import ConfigError, RunConfig
from core.data.corpus import CorpusError, Vocab
from core.paths import ROOT
from core.runs import archive
from core.runs.store import RunDir, RunNotFound, RunStore
from core.training.jobs import JobError, JobManager
from core.training.launch import check_resumable
from explorer.common import state
from explorer.common.corpora import MAX_UPLOAD_BYTES, corpus_facts, readable_corpus

RUNS_DIR_ENV = "RNN_EXPLORER_RUNS_DIR"
MAX_JOBS = max(1, min(2, os.cpu_count() or 1))  # one training process per core, at most two
# Served to a class, one session trains one run at a time, so that one student cannot take every
# training slot (MAX_JOBS, machine-wide, still holds); on a machine only its user reaches, all of them.
SESSION_JOBS_SERVED = 1
MAX_IMPORTS = 10  # runs one session may hold that came from archives
MAX_IMPORTS_BYTES = 2 * 2**30  # and their folders' total size


def runs_root() -> Path:
    return Path(os.environ.get(RUNS_DIR_ENV) or ROOT / "runs")


def store() -> RunStore:
    return RunStore(runs_root())


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    """One per app process, shared by every session: the cap counts everyone's runs. Its spare worker
    starts with TensorFlow's import, after the first page (main.py)."""
    return JobManager(max_jobs=MAX_JOBS, prestart=False)


CLI = "cli"  # the owner `python -m core.train` records: this machine's user
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def local_server() -> bool:
    """Whether only this machine can reach the app (the default, .streamlit/config.toml)."""
    return st.get_option("server.address") in LOOPBACK


def owners(owner: str) -> tuple[str, ...]:
    """Whose runs this session acts for: its own, and the command line's while the app is local only
    (served to a class, the command-line runs on the server are the teacher's, shown read-only)."""
    return (owner, CLI) if local_server() else (owner,)


def owns(run_dir: RunDir, owner: str) -> bool:
    """May this session stop, pause, continue or delete the run? (Viewing and copying need no claim.)"""
    return not run_dir.read_only and run_dir.meta().get("owner", "") in owners(owner)


def _everyones(owner: str, everyone: bool) -> list[RunDir]:
    return store().list(owner=None if everyone else owners(owner))


def runs_for(owner: str, everyone: bool = False) -> list[RunDir]:
    """This session's whole runs (and the command line's, see owners), or everyone's; then the examples.
    A run whose files are damaged is left out here (damaged_runs lists it, to be deleted)."""
    return [r for r in _everyones(owner, everyone) if run_problem(r) is None]


def damaged_runs(owner: str, everyone: bool = False) -> list[tuple[RunDir, str]]:
    """(run, why it cannot be shown) for every run among runs_for's whose files do not read back."""
    found = [(r, run_problem(r)) for r in _everyones(owner, everyone)]
    return [(r, problem) for r, problem in found if problem is not None]


def run_problem(run_dir: RunDir) -> str | None:
    """Why a run folder cannot be shown (core.runs.files), read once per change of its files."""
    return _run_problem(str(run_dir.path), _stamp(run_dir.path, ("config.json", "vocab.json", "status.json")))


@st.cache_data(max_entries=512, show_spinner=False)
def _run_problem(path: str, stamp: tuple) -> str | None:
    return RunDir(Path(path)).problem()


def readable_runs(owner: str) -> tuple[list[RunDir], list[str]]:
    """(runs whose newest whole checkpoint holds every weight, the ids of those whose checkpoints do
    not): this session's (everyone's with "Show runs from other sessions too"), then the examples, and
    a run someone shared with this session (the URL names it)."""
    everyone = bool(st.session_state.get("all_runs"))
    runs = runs_for(owner, everyone)
    shared = shared_run([r.run_id for r in runs])
    with_checkpoint = [r for r in runs + ([shared] if shared else []) if r.has_checkpoint()]
    usable = [r for r in with_checkpoint if checkpoint_problem(r) is None]
    return usable, [r.run_id for r in with_checkpoint if r not in usable]


def shared_run(listed: list[str]) -> RunDir | None:
    """The run the page shows (a shared link names it), if it is not among `listed` and its files are
    whole."""
    run_id = state.selected_run()
    if not run_id or run_id in listed:
        return None
    try:
        run_dir = store().get(run_id)
    except RunNotFound:
        return None
    return run_dir if run_problem(run_dir) is None else None


def session_jobs() -> int:
    """How many runs one browser session may train at once (see SESSION_JOBS_SERVED)."""
    return MAX_JOBS if local_server() else SESSION_JOBS_SERVED


def corpus_for(config: RunConfig, owner: str, run_dir: RunDir | None = None) -> Path:
    """The corpus file this session may read for a run's config (core.data.sources), or CorpusError.
    A command-line run's own file is read as named while the app is local only (its user named it)."""
    any_file = run_dir is not None and local_server() and run_dir.meta().get("owner") == CLI
    return readable_corpus(config.corpus, runs_root(), owner, any_file)


def launch(config: RunConfig, owner: str, label: str = "") -> RunDir:
    """Check the run fits its corpus, create its folder and start training it; raises with a reason."""
    corpus = corpus_for(config, owner)
    chars, n_train, n_val = corpus_facts(str(corpus), config.train.val_fraction)
    config.train.check_fits(n_train, n_val)
    jobs = job_manager()
    jobs.check_room(owner, session_jobs())  # before making a folder for nothing
    run_dir = store().create(config, Vocab(chars), owner=owner, label=label)
    try:
        jobs.start(run_dir, owner=owner, per_owner=session_jobs())
    except JobError:
        store().delete(run_dir.run_id)
        raise
    return run_dir


def continue_run(run_id: str, owner: str, learning_rate: float | None = None) -> None:
    """Train a stopped (or diverged: at a new `learning_rate`) run on from its last checkpoint; refused
    (JobError) if that holds no weights, or if its corpus is not one this session may read."""
    run_dir = store().get(run_id)
    if not owns(run_dir, owner):
        raise JobError(f"{run_id} belongs to another session: it can be viewed or copied, not continued")
    config = run_dir.config()
    train = config.train if learning_rate is None else replace(config.train, learning_rate=learning_rate)
    try:  # the command line's resume rules (core.training.launch); the worker checks the corpus's vocabulary
        check_resumable(run_dir, config, replace(config, train=train))
    except ConfigError as err:
        raise JobError(str(err)) from None
    try:
        corpus = corpus_for(config, owner, run_dir)
    except CorpusError as err:
        raise JobError(f"{run_id} cannot be continued here: {err}") from None
    if learning_rate is not None or Path(config.corpus).resolve() != corpus:  # the worker reads config.corpus
        run_dir.save_config(replace(config, train=train, corpus=str(corpus)))
    job_manager().start(run_dir, resume=True, owner=owner, per_owner=session_jobs())


def import_run(data: bytes, owner: str, name: str) -> RunDir:
    """A run of this session's from an archive (core.runs.archive.unpack), within the session's share
    of imports on a machine others use too."""
    imported = [r for r in store().list(owner=owner) if r.meta().get("imported_from") is not None]
    size = sum(p.stat().st_size for r in imported for p in r.path.rglob("*") if p.is_file())
    if len(imported) >= MAX_IMPORTS or size + len(data) > MAX_IMPORTS_BYTES:
        raise archive.ArchiveRefused(
            f"this session holds {len(imported)} imported runs ({size / 2**20:,.0f} MB), the most one "
            f"session may ({MAX_IMPORTS} runs, {MAX_IMPORTS_BYTES // 2**30} GB): delete one first"
        )
    return archive.unpack(data, store(), owner, name=name)


def archive_of(run_dir: RunDir, owner: str) -> bytes:
    """The run as a zip; with its corpus inside when that is an upload this session may read (another
    session's upload is theirs: a download by another session leaves it out)."""
    try:
        corpus = corpus_for(run_dir.config(), owner, run_dir)
    except CorpusError:
        corpus = None
    carried = (
        corpus
        if corpus is not None
        and not corpus.is_relative_to((ROOT / "assets").resolve())
        and corpus.stat().st_size <= MAX_UPLOAD_BYTES  # an importer keeps it as an upload
        else None
    )
    return archive.pack(run_dir, corpus=carried)


def delete_run(run_id: str, owner: str) -> None:
    """Delete a run of this session's that is not training."""
    run_dir = store().get(run_id)
    unknown = not run_dir.meta() and run_problem(run_dir) is not None and local_server()  # see damaged_runs
    if not (owns(run_dir, owner) or unknown):
        raise JobError(
            f"{run_id} belongs to another session (or ships with the app): it cannot be deleted here"
        )
    if is_live(run_id):
        raise JobError(f"{run_id} is training: stop it first")
    store().delete(run_id)


def control(run_id: str, owner: str):
    """The job training `run_id`, for stop, pause and resume: only its owner gets it."""
    job = job_manager().get(run_id)
    if job is None or not owns(store().get(run_id), owner):
        raise JobError(f"{run_id} belongs to another session: it can be watched, not stopped or paused")
    return job


def copy_run(run_id: str, owner: str, more_epochs: int) -> RunDir:
    """A new run of this session's holding everything `run_id` holds (an example, a finished run), with
    `more_epochs` to train."""
    if is_live(run_id):
        raise JobError(f"{run_id} is training: stop it first, then copy it")
    return store().copy(store().get(run_id), owner=owner, more_epochs=more_epochs)


@st.cache_data(max_entries=2, show_spinner=False)
def _saved_model_zip(run_path: str, checkpoint: str) -> bytes:
    from core.runs.export import export

    with tempfile.TemporaryDirectory() as scratch:
        export(RunDir(Path(run_path)), Path(scratch) / "saved_model")
        return Path(
            shutil.make_archive(str(Path(scratch) / "model"), "zip", scratch, "saved_model")
        ).read_bytes()


def saved_model_zip(run_dir: RunDir) -> bytes:
    """core.runs.export's SavedModel of the run's latest checkpoint, zipped (made once per checkpoint)."""
    return _saved_model_zip(str(run_dir.path), run_dir.latest_checkpoint() or "")


def snapshot(run_id: str):
    """The live record of a training run, else the record its folder holds."""
    job = job_manager().get(run_id)
    if job is not None and job.active:
        return job.snapshot()
    run_dir = store().get(run_id)
    return _disk_snapshot(str(run_dir.path), _stamp(run_dir.path))


RECORD_FILES = ("status.json", "metrics.jsonl", "samples.jsonl")


def _stamp(path: Path, names: tuple = RECORD_FILES) -> tuple:
    """Changes whenever these files of the run folder do (a cache key)."""
    return tuple(
        (p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None for p in (path / n for n in names)
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _disk_snapshot(path: str, stamp: tuple):
    return RunDir(Path(path)).load_record().snapshot()


def is_live(run_id: str) -> bool:
    job = job_manager().get(run_id)
    return job is not None and job.active


@st.cache_resource(max_entries=4, show_spinner=False)
def _sampler(run_path: str, checkpoint: str):
    from core.runs.checkpoints import load_for_sampling  # late: TensorFlow (the first page goes without)

    return load_for_sampling(RunDir(Path(run_path)))


def sampler_for(run_dir: RunDir):
    """(Sampler, step) on the run's latest checkpoint; cached per checkpoint, and safe to share:
    a Sampler keeps no state between calls, each stream carries its own."""
    return _sampler(str(run_dir.path), run_dir.latest_checkpoint() or "")


def _checkpoint_stamp(run_dir: RunDir) -> tuple:
    """Changes whenever any file of the run's ckpt/ does (a cache key: a file can be damaged in place)."""
    folder = run_dir.checkpoint_dir
    files = sorted(folder.iterdir()) if folder.is_dir() and not folder.is_symlink() else []
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files if p.is_file())


@st.cache_data(max_entries=256, show_spinner=False)
def _checkpoint_facts(run_path: str, stamp: tuple) -> tuple[str | None, str | None, str | None]:
    from core.runs.checkpoints import problem, usable

    run_dir = RunDir(Path(run_path))
    found = usable(run_dir)  # every tensor read back once: the problem and the note both come from it
    return problem(run_dir, found), found.note(), found.prefix


def checkpoint_problem(run_dir: RunDir) -> str | None:
    """Why the run's checkpoints can be neither sampled nor resumed (None: they can, or there is none);
    read once per change of its checkpoint files."""
    if run_dir.latest_checkpoint() is None:
        return None
    return _checkpoint_facts(str(run_dir.path), _checkpoint_stamp(run_dir))[0]


def usable_checkpoint(run_dir: RunDir) -> str | None:
    """The run's newest checkpoint whose files read back whole (None: none does, or there is none)."""
    if run_dir.latest_checkpoint() is None:
        return None
    return _checkpoint_facts(str(run_dir.path), _checkpoint_stamp(run_dir))[2]


def checkpoint_note(run_dir: RunDir) -> str | None:
    """What a reader is told when the run's latest checkpoint is damaged and an earlier one is used."""
    if run_dir.latest_checkpoint() is None:
        return None
    return _checkpoint_facts(str(run_dir.path), _checkpoint_stamp(run_dir))[1]
