"""What every page shares: the runs folder, the process-wide job manager, run snapshots and samplers."""

import gc
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import streamlit as st

import core.model.cells  # noqa: F401  the registries (and TensorFlow) load once, before any thread needs them
import core.model.unrollers  # noqa: F401
from core.config import RunConfig
from core.data.corpus import Vocab
from core.runs.checkpoints import load_for_sampling
from core.runs.store import RunDir, RunStore
from core.training.jobs import JobError, JobManager
from explorer.common.corpora import ROOT, corpus_facts

RUNS_DIR_ENV = "RNN_EXPLORER_RUNS_DIR"
MAX_JOBS = max(1, min(2, os.cpu_count() or 1))  # one training process per core, at most two

# Streamlit clears the Keras session after every script run (each live-view refresh), and
# clear_session() runs a full gc.collect(): ~0.17 s over TensorFlow's objects. Moving everything
# imported so far out of the collector's reach makes that ~1 ms. (No gc.collect() first: it would
# cost the same 0.17 s on the first page, to free next to nothing.) Module code runs once per process.
gc.freeze()


def runs_root() -> Path:
    return Path(os.environ.get(RUNS_DIR_ENV) or ROOT / "runs")


def store() -> RunStore:
    return RunStore(runs_root())


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    """One per app process, shared by every session: the cap counts everyone's runs."""
    return JobManager(max_jobs=MAX_JOBS, prestart=True)


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


def runs_for(owner: str, everyone: bool = False) -> list[RunDir]:
    """This session's runs (and the command line's, see owners), or everyone's; then the examples."""
    return store().list(owner=None if everyone else owners(owner))


def readable_runs(owner: str) -> tuple[list[RunDir], list[str]]:
    """(runs whose latest checkpoint holds every weight, the ids of those whose checkpoint does not):
    this session's (everyone's with "Show runs from other sessions too"), then the examples."""
    everyone = bool(st.session_state.get("all_runs"))
    with_checkpoint = [r for r in runs_for(owner, everyone) if r.has_checkpoint()]
    usable = [r for r in with_checkpoint if checkpoint_problem(r) is None]
    return usable, [r.run_id for r in with_checkpoint if r not in usable]


def launch(config: RunConfig, owner: str, label: str = "") -> RunDir:
    """Check the run fits its corpus, create its folder and start training it; raises with a reason."""
    chars, n_train, n_val = corpus_facts(config.corpus, config.train.val_fraction)
    config.train.check_fits(n_train, n_val)
    jobs = job_manager()
    jobs.check_room()  # before making a folder for nothing
    run_dir = store().create(config, Vocab(chars), owner=owner, label=label)
    try:
        jobs.start(run_dir)
    except JobError:
        store().delete(run_dir.run_id)
        raise
    return run_dir


def continue_run(run_id: str, owner: str, learning_rate: float | None = None) -> None:
    """Train a stopped (or diverged: at a new `learning_rate`) run on from its last checkpoint; refused
    (JobError) if that holds no weights."""
    run_dir = store().get(run_id)
    if not owns(run_dir, owner):
        raise JobError(f"{run_id} belongs to another session: it can be viewed or copied, not continued")
    problem = run_dir.resume_problem()
    if problem:
        raise JobError(f"{run_id} cannot be resumed: {problem}")
    if learning_rate is not None:
        config = run_dir.config()
        run_dir.save_config(replace(config, train=replace(config.train, learning_rate=learning_rate)))
    job_manager().start(run_dir, resume=True)


def delete_run(run_id: str, owner: str) -> None:
    """Delete a run of this session's that is not training."""
    run_dir = store().get(run_id)
    if not owns(run_dir, owner):
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
    from core.export import export

    with tempfile.TemporaryDirectory() as scratch:
        export(RunDir(Path(run_path)), Path(scratch) / "saved_model")
        return Path(
            shutil.make_archive(str(Path(scratch) / "model"), "zip", scratch, "saved_model")
        ).read_bytes()


def saved_model_zip(run_dir: RunDir) -> bytes:
    """core.export's SavedModel of the run's latest checkpoint, zipped (made once per checkpoint)."""
    return _saved_model_zip(str(run_dir.path), run_dir.latest_checkpoint() or "")


def snapshot(run_id: str):
    """The live record of a training run, else the record its folder holds."""
    job = job_manager().get(run_id)
    if job is not None and job.active:
        return job.snapshot()
    run_dir = store().get(run_id)
    return _disk_snapshot(str(run_dir.path), _stamp(run_dir.path))


def _stamp(path: Path) -> tuple:
    """Changes whenever the run folder's record does (a cache key)."""
    return tuple(
        (p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None
        for p in (path / "status.json", path / "metrics.jsonl", path / "samples.jsonl")
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _disk_snapshot(path: str, stamp: tuple):
    return RunDir(Path(path)).load_record().snapshot()


def is_live(run_id: str) -> bool:
    job = job_manager().get(run_id)
    return job is not None and job.active


@st.cache_resource(max_entries=4, show_spinner=False)
def _sampler(run_path: str, checkpoint: str):
    return load_for_sampling(RunDir(Path(run_path)))


def sampler_for(run_dir: RunDir):
    """(Sampler, step) on the run's latest checkpoint; cached per checkpoint, and safe to share:
    a Sampler keeps no state between calls, each stream carries its own."""
    return _sampler(str(run_dir.path), run_dir.latest_checkpoint() or "")


@st.cache_data(max_entries=256, show_spinner=False)
def _checkpoint_problem(run_path: str, checkpoint: str) -> str | None:
    return RunDir(Path(run_path)).checkpoint_problem()


def checkpoint_problem(run_dir: RunDir) -> str | None:
    """Why the run's latest checkpoint can be neither sampled nor resumed (None: it can, or there is
    none); read once per checkpoint file."""
    latest = run_dir.latest_checkpoint()
    return None if latest is None else _checkpoint_problem(str(run_dir.path), latest)
