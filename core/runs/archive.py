"""A whole run as one zip file, to send to someone, and the import that takes one in safely.

    pack(run_dir) -> bytes                    config, vocabulary, metrics, samples, status, checkpoints,
                                              milestones, TensorBoard event files, under one folder named
                                              by the run
    unpack(data, store, owner) -> RunDir      checked first, written only if every check passes

An archive comes from someone else: every member is checked before anything is written — no absolute
path, no `..`, no link, no member or total past the size limits (nor a zip bomb's compression ratio),
only the files a run folder holds, config.json and vocab.json present and readable — and refused, in a
sentence, otherwise. It is then extracted into a hidden folder of the store and renamed into place as a
new run of the importer's, so a failure half-way leaves nothing behind.
"""

import io
import json
import shutil
import stat
import zipfile
from pathlib import PurePosixPath

from core.config import RunConfig
from core.errors import Refusal
from core.runs.store import RunDir, RunStore

TOP_FILES = {"config.json", "vocab.json", "metrics.jsonl", "samples.jsonl", "status.json"}
FOLDERS = {"ckpt", "tb", "milestones"}  # a run folder's subfolders: files directly inside them
MAX_MEMBER = 256 * 2**20  # bytes, uncompressed
MAX_TOTAL = 1024 * 2**20
MAX_MEMBERS = 2_000
MAX_RATIO = 200  # uncompressed / compressed: above it, a zip bomb


class ArchiveRefused(Refusal):
    """An archive that is not a run this app can import safely."""


def pack(run_dir: RunDir) -> bytes:
    """The run folder as a zip: <run id>/ and under it every file of the folder (config.json, ..., ckpt/...,
    milestones/..., tb/...)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(run_dir.path.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, f"{run_dir.run_id}/{path.relative_to(run_dir.path).as_posix()}")
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
        scratch = store.root / f".import-{RunDir(store.new_path(config)).run_id}"
        try:
            for info, relative in members:
                target = scratch.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
            run_dir = RunDir(store.new_path(config))
            scratch.rename(run_dir.path)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    meta = {**run_dir.meta(), "run_id": run_dir.run_id, "owner": owner, "imported_from": top}
    meta.pop("example", None)  # an imported example is a run of the importer's
    run_dir.save_config(run_dir.config(), meta)
    return run_dir


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
    except (ValueError, KeyError, TypeError) as err:  # ConfigError is a ValueError
        raise ArchiveRefused(f"{name}'s config.json or vocab.json cannot be read ({err})") from None
    return config
