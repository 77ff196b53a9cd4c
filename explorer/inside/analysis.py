"""The Inside tab's computations, cached: a run's checkpoint is read once, a text is traced once per
checkpoint, an n-gram is counted once per corpus and order. Reruns of the page (and a live run's refreshes
on other tabs) cost nothing here; a new checkpoint of a training run is a new cache key."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from core.config import SampleConfig
from core.data.corpus import CorpusError, load_corpus
from core.inside.ngram import fit_ngram
from core.inside.units import rank_all
from core.runs.store import RunDir
from explorer.common import services

if TYPE_CHECKING:  # the reader needs TensorFlow, imported when a run is first read (not for the first page)
    from core.inside.trace import RunReader
    from core.model.trace import Trace


@st.cache_resource(max_entries=4, show_spinner=False)
def _reader(run_path: str) -> RunReader:
    from core.inside.trace import RunReader

    return RunReader(RunDir(Path(run_path)))


def checkpoint_of(run_dir: RunDir) -> str:
    """The checkpoint the tab reads: the newest whose files read back whole (a damaged latest is passed
    over, and the page says so)."""
    return services.usable_checkpoint(run_dir) or ""


@st.cache_data(max_entries=12, show_spinner=False)
def _trace(run_path: str, checkpoint: str, text: str) -> tuple[Trace, int]:
    return _reader(run_path).read(text, checkpoint)


def trace(run_dir: RunDir, text: str, checkpoint: str | None = None) -> tuple[Trace, int]:
    """The run's latest checkpoint (or the one at path prefix `checkpoint`: a milestone) reading `text`,
    and the step it is from (CorpusError: an empty text, or characters the run never saw;
    CheckpointMismatch: no checkpoint, or one that lacks weights)."""
    return _trace(str(run_dir.path), checkpoint or checkpoint_of(run_dir), text)


@st.cache_data(max_entries=12, show_spinner=False)
def _ranks(run_path: str, checkpoint: str, text: str) -> dict:
    acts, _ = _trace(run_path, checkpoint, text)[0].units()
    return rank_all(acts, text, top=5)


def ranks(run_dir: RunDir, text: str) -> dict:
    """Property -> the units that track it best (core.inside.units.rank_all) over this text."""
    return _ranks(str(run_dir.path), checkpoint_of(run_dir), text)


@st.cache_data(max_entries=8, show_spinner=False)
def _sample(run_path: str, checkpoint: str, length: int, seed: int) -> str:
    from core.runs.checkpoints import load_for_sampling

    sampler, _ = load_for_sampling(RunDir(Path(run_path)))
    return sampler.generate(SampleConfig(length=length, prime="\n", seed=seed, temperature=0.8))[1:]


def sample(run_dir: RunDir, length: int, seed: int) -> str:
    """Text the run writes itself (after a newline, at temperature 0.8), once per checkpoint and seed."""
    return _sample(str(run_dir.path), checkpoint_of(run_dir), length, seed)


@st.cache_data(max_entries=8, show_spinner=False)
def _connectivity(run_path: str, checkpoint: str, text: str):
    from core.inside.connectivity import connectivity

    return _reader(run_path).using(checkpoint, lambda model, vocab: connectivity(model, vocab, text))


def connectivity(run_dir: RunDir, text: str):
    """How much each prediction of `text` depends on each earlier character (core.inside.connectivity)."""
    return _connectivity(str(run_dir.path), checkpoint_of(run_dir), text)


@st.cache_resource(max_entries=4, show_spinner=False)
def _clamped(run_path: str, model_id: int, _model, _vocab):
    """The run's model with a held-units step, compiled once per model (`_model`, `_vocab`: not hashed)."""
    from core.inside.intervene import Clamped

    return Clamped(_model, _vocab)


def _held(run_dir: RunDir, how: str, what, clamp):
    """Clamped.read or .generate on the run's usable checkpoint, under its reader's lock."""
    run_path = str(run_dir.path)

    def work(model, vocab):
        return getattr(_clamped(run_path, id(model), model, vocab), how)(what, clamp)

    return _reader(run_path).using(checkpoint_of(run_dir), work)


@st.cache_data(max_entries=8, show_spinner=False)
def _held_reading(run_path: str, checkpoint: str, text: str, clamp):
    return _held(RunDir(Path(run_path)), "read", text, clamp)


def held_reading(run_dir: RunDir, text: str, clamp):
    """(free, held) readings of `text` with `clamp`'s units held (core.inside.intervene)."""
    return _held_reading(str(run_dir.path), checkpoint_of(run_dir), text, clamp)


@st.cache_data(max_entries=8, show_spinner=False)
def _held_generation(run_path: str, checkpoint: str, cfg: SampleConfig, clamp):
    return _held(RunDir(Path(run_path)), "generate", cfg, clamp)


def held_generation(run_dir: RunDir, cfg: SampleConfig, clamp):
    """(free, held) generations from the same seed, `clamp`'s units held in the second."""
    return _held_generation(str(run_dir.path), checkpoint_of(run_dir), cfg, clamp)


def _corpus_key(run_dir: RunDir, owner: str) -> tuple[str, int]:
    """The run's corpus file as this session may read it (never a path a run's config names unchecked:
    core.data.sources), and its time (a cache key)."""
    file = services.corpus_for(run_dir.config(), owner, run_dir)
    if not file.is_file():
        raise CorpusError(f"the run's corpus is no longer at {file}")
    return str(file), file.stat().st_mtime_ns


@st.cache_data(max_entries=4, show_spinner=False)
def _validation(path: str, mtime_ns: int, val_fraction: float) -> str:
    corpus = load_corpus(path, val_fraction)
    return corpus.vocab.decode(corpus.val_ids)


def validation_text(run_dir: RunDir, owner: str) -> str:
    """The held-out tail of the run's corpus, as text (CorpusError: not a corpus this session may read)."""
    return _validation(*_corpus_key(run_dir, owner), run_dir.config().train.val_fraction)


@st.cache_resource(max_entries=6, show_spinner=False)
def _ngram(path: str, mtime_ns: int, val_fraction: float, order: int):
    corpus = load_corpus(path, val_fraction)
    return fit_ngram(corpus.train_ids, len(corpus.vocab), order), corpus.vocab


def ngram_bits(run_dir: RunDir, text: str, order: int, owner: str) -> np.ndarray:
    """[N-1] an n-gram's surprisal (bits) of each next character of `text`, counted on the run's own
    training split; CorpusError if the text has characters that split lacks, or if the corpus is not one
    this session may read."""
    model, vocab = _ngram(*_corpus_key(run_dir, owner), run_dir.config().train.val_fraction, order)
    return model.surprisal_bits(vocab.encode(text))
