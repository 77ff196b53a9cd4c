"""Every file of a run folder, read as untrusted input: one loader per kind of file.

A run folder may come from elsewhere — an imported archive, a folder edited by hand, a copy cut short —
so each loader checks the shape and the values of what it reads and refuses, in a sentence (RunDamaged),
a file it cannot vouch for; rows appended while a run trains are checked one by one and a row that is not
whole is skipped. Nothing further on (the record, the tables, the charts) meets a wrong type.

    read_config(path)      -> (RunConfig, meta)   config.json
    read_meta(path)        -> meta                config.json's meta alone, read leniently (who owns a
                                                  run must be known even when its settings are damaged)
    read_vocab(path)       -> Vocab               vocab.json
    read_status(path)      -> dict                status.json (absent: a run just created); its progress,
                                                  timings and probe checked as core/runs/rows.py's rows
    read_rows(path)        -> [event]             metrics.jsonl, samples.jsonl: each row checked by its
                                                  kind's from_json (core/runs/rows.py)
    checkpoint_index(dir)  -> Index               ckpt/checkpoint: only plain names of checkpoints that
                                                  are in the folder, else rebuilt from the files present
    repair_index(dir)                             rewrite an index that names anything else, before
                                                  TensorFlow's CheckpointManager reads (and sweeps) it
"""

import json
import math
import re
from pathlib import Path
from typing import NamedTuple

from core.config import RunConfig
from core.data.corpus import Vocab
from core.errors import Refusal
from core.runs.record import REWOUND, Status
from core.runs.rows import (
    STREAMED_ROWS,
    Probe,
    Progress,
    RowError,
    Sized,
    Timings,
    fields_of,
    is_count,
    is_number,
)

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # a run folder's name: never a path
CHECKPOINT = re.compile(r"ckpt-([0-9]{1,15})")  # what tf.train.CheckpointManager names its files
INDEX = "checkpoint"  # the index file's name inside ckpt/
MAX_SMALL_FILE = 4 * 2**20  # config.json, vocab.json, status.json: far larger is not a run's
MAX_VOCAB = 20_000  # characters; a run's vocabulary is its corpus's distinct characters

# What a meta key holds; anything else in config.json's meta is dropped when read.
META_TYPES = {
    "run_id": str,
    "created": (int, float),
    "owner": str,
    "label": str,
    "example": bool,
    "copied_from": str,
    "imported_from": str,
    "corpus_absent": bool,
}
STREAM_KINDS = (*STREAMED_ROWS, "log", "rewind")  # the rows' kinds (core/runs/rows.py), and two more
STATUS_PARTS = {
    "timings": Timings,
    "progress": Progress,
    "probe": Probe,
    "sized": Sized,
}  # status.json's typed parts


class RunDamaged(Refusal):
    """A run folder whose files cannot be read; the message names the file and what is wrong."""


def load_json(path: Path, what: str):
    """A small JSON file's value; RunDamaged naming the file if it is missing, too large or not JSON."""
    path = Path(path)
    try:
        if path.is_symlink() or not path.is_file():
            raise RunDamaged(f"{what} is missing")
        if path.stat().st_size > MAX_SMALL_FILE:
            raise RunDamaged(f"{what} is {path.stat().st_size:,} bytes, far more than a run's")
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise RunDamaged(f"{what} cannot be read ({type(err).__name__})") from None
    except OSError as err:
        raise RunDamaged(f"{what} cannot be opened ({err.strerror})") from None


def _object(path: Path, what: str) -> dict:
    data = load_json(path, what)
    if not isinstance(data, dict):
        raise RunDamaged(f"{what} holds a {type(data).__name__}, not the object a run's file holds")
    return data


def clean_meta(meta) -> dict:
    """The meta keys a run may have, each of its own type; the rest dropped."""
    if not isinstance(meta, dict):
        return {}
    return {k: v for k, v in meta.items() if k in META_TYPES and isinstance(v, META_TYPES[k])}


def read_meta(path: Path) -> dict:
    """config.json's meta (owner, label, ...), checked key by key; {} if the file is unreadable."""
    try:
        return clean_meta(_object(path, "config.json").get("meta"))
    except RunDamaged:
        return {}


def read_config(path: Path) -> tuple[RunConfig, dict]:
    """(the run's settings, its meta), or RunDamaged saying which setting is wrong."""
    data = _object(path, "config.json")
    settings = {k: v for k, v in data.items() if k != "meta"}
    if not isinstance(settings.get("corpus", ""), str):
        raise RunDamaged("config.json's corpus is not a file name")
    try:
        config = RunConfig.from_dict(settings)
    except (ValueError, TypeError, AttributeError) as err:  # ConfigError is a ValueError
        raise RunDamaged(f"config.json does not hold settings this app can use ({err})") from None
    return config, clean_meta(data.get("meta"))


def read_vocab(path: Path) -> Vocab:
    """The run's characters in id order, or RunDamaged."""
    chars = _object(path, "vocab.json").get("chars")
    if not isinstance(chars, str) or not chars:
        raise RunDamaged("vocab.json holds no characters")
    if len(chars) > MAX_VOCAB or len(set(chars)) != len(chars):
        raise RunDamaged("vocab.json's characters are not a vocabulary (too many, or repeated)")
    return Vocab(chars)


def read_status(path: Path) -> dict:
    """status.json checked field by field ({"status": "created"} while there is none), or RunDamaged."""
    if not Path(path).exists():
        return {"status": Status.CREATED}
    data = _object(path, "status.json")
    if data.get("status") not in set(Status):
        raise RunDamaged(f"status.json names no status a run can have ({str(data.get('status'))[:40]!r})")
    for key in ("message", "error"):
        if not isinstance(data.get(key, ""), str):
            raise RunDamaged(f"status.json's {key} is not text")
    for key, row in STATUS_PARTS.items():
        try:
            row.from_json(data.get(key, {}))
        except RowError as err:
            raise RunDamaged(f"status.json's {key} is not what a run records ({err})") from None
    return data


def valid_row(event) -> bool:
    """Whether a line of metrics.jsonl or samples.jsonl is an event of the kind it says, whole: a row
    its kind's from_json takes (core/runs/rows.py), a log line, or a rewind."""
    if not isinstance(event, dict) or event.get("kind") not in STREAM_KINDS:
        return False
    kind = event["kind"]
    if kind == "log":
        return isinstance(event.get("line"), str)
    if kind == "rewind":
        rows = event.get("rows", list(REWOUND))
        return is_count(event.get("step")) and isinstance(rows, list) and all(r in REWOUND for r in rows)
    try:
        STREAMED_ROWS[kind].from_json(fields_of(event))
    except RowError:
        return False
    return True


def read_rows(path: Path) -> list[dict]:
    """Every whole, well-formed event of a streamed file; a line cut short by a crash, or one that is
    not an event of ours, is skipped."""
    path = Path(path)
    if not path.is_file() or path.is_symlink():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            continue
        if valid_row(event):
            rows.append(event)
    return rows


def finite(value) -> bool:
    return is_number(value) and math.isfinite(value)


# ---- the checkpoint index -------------------------------------------------------------------------
class Index(NamedTuple):
    """What a run's ckpt/ holds: the names of its checkpoints, oldest first, and whether the index file
    says exactly that (if not, it is rebuilt from the files present before TensorFlow reads it)."""

    names: list[str]
    clean: bool

    @property
    def latest(self) -> str | None:
        return self.names[-1] if self.names else None


def present(directory: Path) -> list[str]:
    """The checkpoints whose table of contents is a plain file in `directory`, oldest first."""
    directory = Path(directory)
    if directory.is_symlink() or not directory.is_dir():
        return []
    found = [
        p.name[: -len(".index")]
        for p in directory.glob("ckpt-*.index")
        if CHECKPOINT.fullmatch(p.name[: -len(".index")]) and p.is_file() and not p.is_symlink()
    ]
    return sorted(found, key=step_of)


def step_of(name: str) -> int:
    return int(CHECKPOINT.fullmatch(Path(name).name).group(1))


def _listed(text: str) -> tuple[str | None, list[str]]:
    """(model_checkpoint_path, all_model_checkpoint_paths) as the index's text names them."""
    latest, kept = None, []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if key.strip() == "model_checkpoint_path":
            latest = value
        elif key.strip() == "all_model_checkpoint_paths":
            kept.append(value)
    return latest, kept


def checkpoint_index(directory: Path) -> Index:
    """The run's checkpoints as its index names them — if every name is a plain `ckpt-N` whose files are
    in the folder, the latest among them last — else every checkpoint present, by step."""
    directory = Path(directory)
    index = directory / INDEX
    files = present(directory)
    if not index.exists() and not index.is_symlink():
        return Index(files, clean=not files)
    try:
        if index.is_symlink() or index.stat().st_size > MAX_SMALL_FILE:
            raise OSError("not a plain small file")
        latest, kept = _listed(index.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return Index(files, clean=False)
    names = kept or ([latest] if latest else [])
    clean = bool(names) and names[-1] == latest and all(n in files for n in names)
    return Index(names if clean else files, clean)


def write_index(directory, paths: list) -> None:
    """The folder's `checkpoint` index (the text tf.train.CheckpointManager keeps), naming `paths` (oldest
    first) as the checkpoints kept and the last of them as the latest, by name: the folder can move. With
    their files' times, so that a CheckpointManager opened on the folder counts them as its own (without
    times it would neither list nor ever delete them)."""
    names = [Path(p).name for p in paths]
    times = [Path(directory, f"{n}.index").stat().st_mtime for n in names]
    lines = (
        [f'model_checkpoint_path: "{names[-1]}"']
        + [f'all_model_checkpoint_paths: "{n}"' for n in names]
        + [f"all_model_checkpoint_timestamps: {t!r}" for t in times]
        + [f"last_preserved_timestamp: {min(times) - 1!r}"]
    )
    Path(directory, INDEX).write_text("\n".join(lines) + "\n", encoding="utf-8")


def repair_index(directory: Path) -> bool:
    """Rewrite the index from the checkpoints present if it names anything else (a path outside the
    folder, a name with no files), or remove it if none is present: TensorFlow's CheckpointManager
    deletes the files its index lists as it saves, so it must never list another folder's. True if
    anything was rewritten."""
    directory = Path(directory)
    if directory.is_symlink():
        raise RunDamaged("its ckpt folder is a link to another place; refused")
    found = checkpoint_index(directory)
    if found.clean:
        return False
    if found.names:
        write_index(directory, found.names)
    else:
        (directory / INDEX).unlink(missing_ok=True)
    return True
