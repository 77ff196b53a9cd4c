"""Corpora the app can train on: the built-in Shakespeare and this session's uploads (core.data.sources
keeps them, and says which files a session may read), with their facts cached for the sidebar."""

from pathlib import Path

import streamlit as st

from core.data.corpus import CorpusError, load_corpus
from core.data.sources import (  # noqa: F401  (re-exported: the pages' one import for corpora)
    MAX_UPLOAD_BYTES,
    MAX_UPLOADS,
    MAX_UPLOADS_BYTES,
    builtin_path,
    is_builtin,
    readable_corpus,
    save_upload,
    uploads,
    uploads_of,
)

BUILTIN = "tinyshakespeare"  # the name the select box shows for assets/tinyshakespeare.txt
BUILTINS = {BUILTIN: "tinyshakespeare.txt", "python source (code)": "python-stdlib.txt"}  # name -> assets/


def corpus_names(runs_root: Path, owner: str) -> list[str]:
    """The built-in corpora first, then this session's uploads, newest first."""
    return list(BUILTINS) + [p.name for p in uploads(runs_root, owner)]


def corpus_path(name: str, runs_root: Path, owner: str) -> str:
    if name in BUILTINS:
        return builtin_path(BUILTINS[name])
    return str(uploads_of(runs_root, owner) / Path(name).name)


def builtin_name(path: str) -> str:
    """The select box's name for a run's built-in corpus path (is_builtin(path) must hold)."""
    return next(name for name, file in BUILTINS.items() if Path(path).name == file)


@st.cache_data(max_entries=8, show_spinner=False)
def _facts(path: str, mtime_ns: int, val_fraction: float) -> tuple[str, int, int]:
    corpus = load_corpus(path, val_fraction)
    return corpus.vocab.chars, len(corpus.train_ids), len(corpus.val_ids)


def corpus_facts(path: str, val_fraction: float) -> tuple[str, int, int]:
    """(vocabulary characters, training length, validation length); CorpusError if unreadable."""
    file = Path(path)
    if not file.is_file():
        raise CorpusError(f"no corpus file at {path}")
    return _facts(str(file), file.stat().st_mtime_ns, val_fraction)
