"""A whole run as one zip file, to send to someone, and the import that takes one in safely.

    pack(run_dir) -> bytes                    config, vocabulary, metrics, samples, status, checkpoints,
                                              milestones, TensorBoard event files, under one folder named
                                              by the run
    unpack(data, store, owner) -> RunDir      checked first, written only if every check passes

An archive comes from someone else: every member is checked before anything is written — no absolute
path, no `..`, no link, no member or total past the size limits (nor a zip bomb's compression ratio),
only the files a run folder holds, config.json and vocab.json present and readable — and refused, in a
sentence, otherwise. It is then extracted into a hidden folder of the store, where every file is read
through its loader (core.runs.files: settings, vocabulary, status, each metrics row) and the checkpoint
index is rebuilt from the checkpoints actually there, and only then renamed into place as a new run of
the importer's, so a failure half-way leaves nothing behind.

The run's corpus never names a file on the importer's machine: the built-in corpus is named as such;
an uploaded one travels inside the archive (`corpus.txt`, packed only for a session that may read it)
and becomes the importer's own upload; any other is marked absent (the run can be viewed, sampled and
inspected, not continued).
"""

import dataclasses
import io
import json
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from core.config import RunConfig
from core.data import sources
from core.data.corpus import CorpusError, Vocab, decode_utf8
from core.errors import Refusal
from core.runs import files
from core.runs.store import RunDir, RunStore

CORPUS = "corpus.txt"  # an uploaded corpus, carried with its run
TOP_FILES = {"config.json", "vocab.json", "metrics.jsonl", "samples.jsonl", "status.json", CORPUS}
FOLDERS = {"ckpt", "tb", "milestones"}  # a run folder's subfolders: files directly inside them
MAX_MEMBER = 256 * 2**20  # bytes, uncompressed
MAX_TOTAL = 1024 * 2**20
MAX_MEMBERS = 2_000
MAX_RATIO = 200  # uncompressed / compressed: above it, a zip bomb


class ArchiveRefused(Refusal):
    """An archive that is not a run this app can import safely."""


def pack(run_dir: RunDir, corpus: Path | None = None) -> bytes:
    """The run folder as a zip: <run id>/ and under it every file of the folder (config.json, ..., ckpt/...,
    milestones/..., tb/...); with `corpus` (an upload the caller may read), that file as corpus.txt."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(run_dir.path.rglob("*")):
            relative = path.relative_to(run_dir.path)
            if path.is_file() and not path.is_symlink() and _expected(PurePosixPath(relative.as_posix())):
                archive.write(path, f"{run_dir.run_id}/{relative.as_posix()}")
        if corpus is not None:
            archive.write(corpus, f"{run_dir.run_id}/{CORPUS}")
    return buffer.getvalue()


def unpack(data: bytes, store: RunStore, owner: str = "", name: str = "the archive") -> RunDir:
    """A new run of `owner`'s holding the archive's run; ArchiveRefused (and nothing written) if unsafe."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ArchiveRefused(f"{name} is not a zip file") from None
    with archive:
        top, members = check(archive, name)
        config = _read_config(archive, top, name)
        store.root.mkdir(parents=True, exist_ok=True)
        corpus = _corpus(archive, top, members, config, store, owner, name)
        scratch = store.root / f".import-{RunDir(store.new_path(config)).run_id}"
        try:
            for info, relative in members:
                if str(relative) == CORPUS:
                    continue
                target = scratch.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
            vouch(scratch, name)
            run_dir = RunDir(store.new_path(config))
            scratch.rename(run_dir.path)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    meta = {**run_dir.meta(), "run_id": run_dir.run_id, "owner": owner, "imported_from": top}
    meta.pop("example", None)  # an imported example is a run of the importer's
    if not corpus:
        meta["corpus_absent"] = True
    run_dir.save_config(dataclasses.replace(run_dir.config(), corpus=corpus), meta)
    return run_dir


def vouch(folder: Path, name: str) -> None:
    """Read every file of an extracted run through its loader; ArchiveRefused saying which is wrong. The
    checkpoint index is rebuilt from the checkpoints present, so it names nothing outside the run."""
    try:
        files.read_config(folder / "config.json")
        files.read_vocab(folder / "vocab.json")
        files.read_status(folder / "status.json")
        for rows in ("metrics.jsonl", "samples.jsonl"):
            _rows_whole(folder / rows)
        files.repair_index(folder / "ckpt")
    except files.RunDamaged as err:
        raise ArchiveRefused(f"{name} is not a run this app can read: {err}") from None


def _rows_whole(path) -> None:
    """Every line of a streamed file an event of ours (a last line cut short excepted, as after a crash)."""
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if path.read_bytes()[-1:] not in (b"\n", b""):
        lines = lines[:-1]
    for number, line in enumerate(lines, 1):
        try:
            whole = files.valid_row(json.loads(line))
        except (json.JSONDecodeError, RecursionError):
            whole = False
        if not whole:
            raise files.RunDamaged(f"line {number} of {path.name} is not a row of a run's record")


def _corpus(
    archive, top: str, members: list, config: RunConfig, store: RunStore, owner: str, name: str
) -> str:
    """The corpus path the imported run's config names: the built-in corpus, the archive's corpus.txt
    kept as the importer's upload (its vocabulary must be the run's), or "" (absent)."""
    carried = [info for info, relative in members if str(relative) == CORPUS]
    if not carried:
        return sources.builtin_path(Path(config.corpus).name) if sources.is_builtin(config.corpus) else ""
    if carried[0].file_size > sources.MAX_UPLOAD_BYTES:
        raise ArchiveRefused(
            f"{name}'s corpus is larger than an upload may be ({sources.MAX_UPLOAD_BYTES // 2**20} MB)"
        )
    data = archive.read(carried[0])
    try:
        text = decode_utf8(data, CORPUS)
        chars = json.loads(archive.read(f"{top}/vocab.json"))["chars"]
        if Vocab.from_text(text).chars != chars:
            raise CorpusError("its corpus.txt does not give the run's vocabulary")
        upload = sources.save_upload(store.root, owner, Path(config.corpus).name or CORPUS, data)
    except CorpusError as err:
        raise ArchiveRefused(f"{name} cannot be imported: {err}") from None
    return str(sources.uploads_of(store.root, owner) / upload)


def check(archive: zipfile.ZipFile, name: str) -> tuple[str, list]:
    """(the run's folder name, [(member, its path inside the run)]) or ArchiveRefused saying why."""
    infos = archive.infolist()
    if not infos:
        raise ArchiveRefused(f"{name} is empty")
    if len(infos) > MAX_MEMBERS:
        raise ArchiveRefused(f"{name} has {len(infos):,} members; a run has at most {MAX_MEMBERS:,}")
    total, tops, members = 0, set(), []
    for info in infos:
        path = PurePosixPath(info.filename)
        if info.filename.startswith(("/", "\\")) or (path.parts and ":" in path.parts[0]):
            raise ArchiveRefused(f"{name} holds an absolute path ({info.filename}); refused")
        if ".." in path.parts or "\\" in info.filename:
            raise ArchiveRefused(f"{name} holds a path that leaves its folder ({info.filename}); refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveRefused(f"{name} holds a link ({info.filename}); refused")
        if info.is_dir():
            continue
        if info.file_size > MAX_MEMBER:
            raise ArchiveRefused(
                f"{info.filename} is {info.file_size / 2**20:,.0f} MB; the limit is {MAX_MEMBER // 2**20} MB"
            )
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 2**20:
            raise ArchiveRefused(
                f"{info.filename} expands {info.file_size // max(info.compress_size, 1):,}-fold; refused"
            )
        total += info.file_size
        if total > MAX_TOTAL:
            raise ArchiveRefused(f"{name} expands past {MAX_TOTAL // 2**20} MB; refused")
        top, relative = path.parts[0], PurePosixPath(*path.parts[1:])
        if not _expected(relative):
            raise ArchiveRefused(f"{name} holds {info.filename}, which is not part of a run folder; refused")
        tops.add(top)
        members.append((info, relative))
    if len(tops) != 1:
        raise ArchiveRefused(f"{name} must hold one run's folder; it holds {len(tops)}")
    (top,) = tops
    present = {str(relative) for _, relative in members}
    missing = sorted({"config.json", "vocab.json"} - present)
    if missing:
        raise ArchiveRefused(f"{name} lacks {', '.join(missing)}: it is not a whole run")
    return top, members


def _expected(relative: PurePosixPath) -> bool:
    parts = relative.parts
    if len(parts) == 1:
        return parts[0] in TOP_FILES
    return len(parts) == 2 and parts[0] in FOLDERS and not parts[1].startswith(".")


def _read_config(archive: zipfile.ZipFile, top: str, name: str) -> RunConfig:
    """The archive's config and vocabulary, read before anything is written."""
    try:
        data = json.loads(archive.read(f"{top}/config.json"))
        config = RunConfig.from_dict({k: v for k, v in data.items() if k != "meta"})
        chars = json.loads(archive.read(f"{top}/vocab.json"))["chars"]
        if not isinstance(chars, str) or not chars:
            raise ValueError("no characters")
        if not isinstance(config.corpus, str):
            raise ValueError("its corpus is not a file name")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:  # ConfigError too
        raise ArchiveRefused(f"{name}'s config.json or vocab.json cannot be read ({err})") from None
    return config
