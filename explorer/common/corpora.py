"""Corpora the app can train on: the built-in Shakespeare and uploaded files kept under the runs folder.

An upload is checked (size, UTF-8, not empty) and saved once as runs/_corpora/<owner>/<name>-<sha>.txt:
it belongs to the session that uploaded it; a run's config points at that file, so the run can be
repeated from its config alone.
"""

import hashlib
import re
from pathlib import Path

import streamlit as st

from core.data.corpus import CorpusError, decode_utf8, load_corpus
from core.paths import ROOT
from core.runs.store import write_atomic

BUILTIN = "tinyshakespeare"  # the name the select box shows for assets/tinyshakespeare.txt
# A corpus upload; the server itself takes up to 64 MB (a whole run, .streamlit/config.toml).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
CORPORA_DIR = "_corpora"  # under the runs folder; RunStore skips it (no config.json)


def builtin_path() -> str:
    """The RunConfig default, relative when the app runs from the repo root, else absolute."""
    relative = Path("assets/tinyshakespeare.txt")
    return str(relative) if (Path.cwd() / relative).is_file() else str(ROOT / relative)


def uploads_of(runs_root: Path, owner: str) -> Path:
    return Path(runs_root) / CORPORA_DIR / owner


def corpus_names(runs_root: Path, owner: str) -> list[str]:
    """The built-in corpus first, then this session's uploads, newest first."""
    folder = uploads_of(runs_root, owner)
    uploads = (
        sorted(folder.glob("*.txt"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    )
    return [BUILTIN] + [p.name for p in uploads]


def corpus_path(name: str, runs_root: Path, owner: str) -> str:
    return builtin_path() if name == BUILTIN else str(uploads_of(runs_root, owner) / Path(name).name)


def save_upload(runs_root: Path, owner: str, filename: str, data: bytes) -> str:
    """Check an uploaded file and keep it; returns its corpus name, or raises CorpusError saying why not."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise CorpusError(
            f"{filename} is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB"
        )
    decode_utf8(data, filename)  # empty, or not UTF-8: the error names the byte and line
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(filename).stem)[:40] or "corpus"
    name = f"{stem}-{hashlib.sha256(data).hexdigest()[:12]}.txt"
    path = uploads_of(runs_root, owner) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data.decode("utf-8"))
    return name


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
