"""What every page shares: the runs folder, the process-wide job manager, run snapshots and samplers."""

import gc
import os
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


def continue_run(run_id: str) -> None:
    """Train a stopped run on from its last checkpoint; refused (JobError) if that holds no weights."""
    run_dir = store().get(run_id)
    problem = checkpoint_problem(run_dir)
    if problem:
        raise JobError(f"{run_id} cannot be resumed: {problem}")
    job_manager().start(run_dir, resume=True)


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
