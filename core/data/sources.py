"""Where a served app may read corpora from: the project's own assets and each session's own uploads.

A run's config names its corpus by path, and a run can come from elsewhere (an imported archive, a
folder edited by hand, another session's run that was shared or copied). So the app never opens the
path a run names as it is: `readable_corpus` resolves it and allows only

    assets/...                              the built-in corpus (tiny-shakespeare), anyone's
    <runs>/_corpora/<owner>/<name>.txt      an upload, only the session that uploaded it

An upload is checked (size, UTF-8, not empty, within the session's quota) and kept once, under a name
that holds its content's hash: so a session that uploads the same text as another reads its own copy
(and may continue a copy of the other's run on it). The command line reads any file its user names.
"""

import hashlib
import re
from pathlib import Path

from core.data.corpus import CorpusError, decode_utf8
from core.paths import ASSETS

BUILTIN_FILE = "tinyshakespeare.txt"  # in assets/: the default corpus
BUILTIN_FILES = (BUILTIN_FILE, "python-stdlib.txt")  # and source code (core/data/code_corpus.py made it)
CORPORA_DIR = "_corpora"  # under the runs folder (the run store skips it: no config.json)
MAX_UPLOAD_BYTES = 5 * 2**20  # one upload; the server itself takes up to 64 MB (a whole run)
MAX_UPLOADS = 20  # uploads one session keeps at once
MAX_UPLOADS_BYTES = 40 * 2**20  # and their total size


def builtin_path(name: str = BUILTIN_FILE) -> str:
    """A built-in corpus: relative when run from the checkout (as configs record it), else absolute."""
    relative = Path("assets") / name
    return (
        str(relative)
        if (Path.cwd() / relative).resolve() == (ASSETS / name).resolve()
        else str(ASSETS / name)
    )


def is_builtin(path: str) -> bool:
    """Whether a run's corpus path names a built-in corpus (on this machine or the one it came from)."""
    parts = Path(path).parts
    return len(parts) >= 2 and parts[-2] == "assets" and parts[-1] in BUILTIN_FILES


def uploads_of(runs_root: Path, owner: str) -> Path:
    """The folder of one session's uploads (`owner` is the session's public id: letters and digits)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", owner or ""):
        raise CorpusError("uploads belong to a browser session, and this one has none")
    return Path(runs_root) / CORPORA_DIR / owner


def uploads(runs_root: Path, owner: str) -> list[Path]:
    """This session's uploads, newest first."""
    try:
        folder = uploads_of(runs_root, owner)
    except CorpusError:
        return []
    files = [p for p in folder.glob("*.txt") if p.is_file() and not p.is_symlink()] if folder.is_dir() else []
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


def save_upload(runs_root: Path, owner: str, filename: str, data: bytes) -> str:
    """Check an uploaded text and keep it for this session; its corpus name, or CorpusError saying why
    not (too large, empty, not UTF-8, or the session's quota of uploads used up)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise CorpusError(
            f"{filename} is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB"
        )
    decode_utf8(data, filename)  # empty, or not UTF-8: the error names the byte and line
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(filename).stem)[:40] or "corpus"
    name = f"{stem}-{hashlib.sha256(data).hexdigest()[:12]}.txt"
    path = uploads_of(runs_root, owner) / name
    if path.exists():
        return name
    kept = uploads(runs_root, owner)
    if len(kept) >= MAX_UPLOADS or sum(p.stat().st_size for p in kept) + len(data) > MAX_UPLOADS_BYTES:
        raise CorpusError(
            f"this session keeps {len(kept)} uploaded corpora already, the most one session may keep "
            f"({MAX_UPLOADS} files, {MAX_UPLOADS_BYTES // 2**20} MB in all) on a machine others share too"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    from core.runs.store import write_atomic  # (the runs layer sits above the data layer)

    write_atomic(path, data.decode("utf-8"))
    return name


def _same_text(name: str, own: list[Path]) -> Path | None:
    """Among a session's uploads, the one holding the same text as the upload `name` (the hash in its
    name), if any."""
    digest = re.fullmatch(r".*-([0-9a-f]{12})\.txt", name)
    if digest is None:
        return None
    return next((p for p in own if p.name.endswith(f"-{digest.group(1)}.txt")), None)


def readable_corpus(path: str, runs_root: Path, owner: str, any_file: bool = False) -> Path:
    """The file this session may read as a run's corpus `path` (resolved: links followed), or
    CorpusError saying why it may not: another session's upload, a file outside the app's corpora, or
    a corpus that did not come with an imported run. `any_file`: the run is the command line's on a
    machine only its user reaches (the app's caller decides), so any file its user named is theirs."""
    if not path:
        raise CorpusError(
            "this run's corpus did not come with it (it was imported without one): it can be viewed, "
            "sampled and inspected, but not continued, and it has no validation excerpt here"
        )
    if is_builtin(path):  # on this machine, ours: wherever the run was trained, and from any folder
        return (ASSETS / Path(path).name).resolve()
    given = Path(path)
    resolved = (given if given.is_absolute() else Path.cwd() / given).resolve()
    if resolved.parent == ASSETS.resolve() and resolved.suffix == ".txt" and resolved.is_file():
        return resolved
    if any_file and not resolved.is_relative_to((Path(runs_root) / CORPORA_DIR).resolve()):
        return resolved
    shared = Path(runs_root) / CORPORA_DIR
    if resolved.is_relative_to(shared.resolve()):
        own = uploads(runs_root, owner)
        if resolved in [p.resolve() for p in own]:
            return resolved
        same = _same_text(resolved.name, own)
        if same is not None:
            return same.resolve()
        raise CorpusError(
            f"this run was trained on a text another browser session uploaded ({given.name}); it is theirs "
            "to read: upload the same file yourself, and this run reads your copy"
        )
    raise CorpusError(
        f"this run's corpus ({given.name}) is not one the app reads (the built-in tiny-shakespeare and "
        "Python source, and this session's own uploads); continue it from the command line: "
        "python -m core.train --resume RUN"
    )
