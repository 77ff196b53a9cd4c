"""Runs on disk: one folder per run, written atomically, readable while the run trains.

runs/<run_id>/config.json     RunConfig + meta (id, created, owner, label)
              vocab.json      the characters, in id order
              metrics.jsonl   one event per line: metric, eval, epoch, log (appended as it trains)
              samples.jsonl   live samples (appended)
              status.json     status, message, timings, progress (rewritten whole)
              ckpt/           tf.train.Checkpoint: weights, optimizer state, step, carried RNN state

assets/examples/<run_id>/ holds runs that ship with the project (meta "example": true; made by
`python -m core.example`): listed beside everyone's runs, read-only, copied into a new run to train on.
"""

import dataclasses
import errno
import json
import os
import secrets
import shutil
import time
from pathlib import Path

from core.config import RunConfig
from core.data.corpus import Vocab
from core.errors import DiskFull, Refusal
from core.paths import EXAMPLE_ID, EXAMPLES
from core.runs import files, milestones
from core.runs.files import RUN_ID, RunDamaged
from core.runs.record import RunRecord, Status
from core.runs.rows import Probe, Progress, Sized

STREAMED = {
    "metric": "metrics.jsonl",
    "eval": "metrics.jsonl",
    "epoch": "metrics.jsonl",
    "log": "metrics.jsonl",
    "sample": "samples.jsonl",
}
# A rewind touches rows in both files; each file gets the part it holds, so a replay file by file is right.
REWIND_ROWS = {"metrics.jsonl": ["metrics", "evals", "epochs"], "samples.jsonl": ["samples"]}


class RunNotFound(Refusal, KeyError):
    """No run folder of that name."""

    def __str__(self):
        return f"no run named {self.args[0]!r}"


def write_atomic(path: Path, text: str) -> None:
    """Write then rename, so a reader or a crash never sees half a file (nor, if the write fails, a
    temporary file left behind)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def repair_tail(path: Path) -> None:
    """Cut a last line a crash left half-written, so the next row starts on a line of its own (readers
    skip such a line anyway: nothing that was readable is lost)."""
    if not path.exists():
        return
    with open(path, "rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)


def read_jsonl(path: Path) -> list[dict]:
    """Every complete line of a JSON-lines file of ours (a run's are read through core.runs.files, which
    checks each row); a last line cut short by a crash is skipped, not an error."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def checkpoint_step(prefix: str) -> int:
    """The train step a checkpoint's path names: tf.train.CheckpointManager numbers its files by it
    (ckpt/ckpt-913 -> 913)."""
    return int(str(prefix).rsplit("-", 1)[1])


class RunDir:
    """One run's folder."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.run_id = self.path.name

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "ckpt"

    @property
    def milestones_dir(self) -> Path:
        return self.path / milestones.FOLDER

    def milestones(self) -> dict[int, str]:
        """step -> path prefix of the weights kept for good at steps 100, 200, 500, ... (core.runs.milestones)."""
        return milestones.listed(self.milestones_dir)

    def meta(self) -> dict:
        """Who made the run and its label: read leniently, so that a run whose settings are damaged still
        has an owner (who may delete it)."""
        return files.read_meta(self.path / "config.json")

    @property
    def read_only(self) -> bool:
        """An example run that ships with the project: it can be read and copied, never changed."""
        return bool(self.meta().get("example"))

    def _read(self, loader, name: str):
        try:
            return loader(self.path / name)
        except RunDamaged as err:
            raise RunDamaged(f"run {self.run_id} is damaged: {err}") from None

    def config(self) -> RunConfig:
        return self._read(files.read_config, "config.json")[0]

    def save_config(self, config: RunConfig, meta: dict | None = None) -> None:
        """Write the run's config with its meta (kept as it was unless given): a resumed run may train on."""
        meta = self.meta() if meta is None else meta
        write_atomic(self.path / "config.json", json.dumps({**config.to_dict(), "meta": meta}, indent=2))

    def vocab(self) -> Vocab:
        return self._read(files.read_vocab, "vocab.json")

    def status(self) -> dict:
        return self._read(files.read_status, "status.json")

    def problem(self) -> str | None:
        """Why this run's folder cannot be shown (None: its config, vocabulary and status read back)."""
        try:
            self.config(), self.vocab(), self.status()
        except RunDamaged as err:
            return str(err)
        return None

    def has_checkpoint(self) -> bool:
        return self.latest_checkpoint() is not None

    def latest_checkpoint(self) -> str | None:
        """The newest checkpoint's path prefix, ckpt/ckpt-<step> (None: none yet): a name the index gives
        only if its files are in ckpt/ (core.runs.files.checkpoint_index)."""
        latest = files.checkpoint_index(self.checkpoint_dir).latest
        return None if latest is None else str(self.checkpoint_dir / latest)

    def what_is_kept(self) -> str:
        """How a run that ended early says what it keeps: its last checkpoint, or that it has none."""
        latest = self.latest_checkpoint()
        if latest is None:
            return "no checkpoint had been written yet, so there is nothing to resume from"
        return f"its last checkpoint (step {checkpoint_step(latest):,}) is kept"

    def kept_checkpoints(self) -> list[str]:
        """The names of the checkpoints kept, oldest first ([] if none)."""
        return files.checkpoint_index(self.checkpoint_dir).names

    def load_record(self) -> RunRecord:
        """Rebuild the run's record from its files (events replayed in the order they were written)."""
        config, meta = self._read(files.read_config, "config.json")
        record = RunRecord(self.run_id, {**config.to_dict(), "meta": meta})
        for name in ("metrics.jsonl", "samples.jsonl"):
            for event in files.read_rows(self.path / name):
                record.apply(event)
        status = self.status()
        record.timing(**status.get("timings", {}))
        record.progress(**status.get("progress", {}))
        if status.get("probe"):
            record.probe(Probe.from_json(status["probe"]))
        if status.get("sized"):
            record.sized(Sized.from_json(status["sized"]))
        record.set_status(
            status.get("status", Status.CREATED), status.get("message", ""), status.get("error", "")
        )
        return record

    def writer(self) -> "RunWriter":
        return RunWriter(self)


class RunWriter:
    """A RunRecord listener that persists every event into the run's folder."""

    def __init__(self, run_dir: RunDir):
        self.run_dir = run_dir
        for name in set(STREAMED.values()):
            repair_tail(run_dir.path / name)
        self.state = run_dir.status()
        self.state.setdefault("timings", {})
        self.state.setdefault("progress", {})
        self.full: DiskFull | None = None  # once the disk is full: only the final status is still tried

    def __call__(self, event: dict) -> None:
        """Persist the event. The first write the disk refuses raises DiskFull (the trainer then ends the
        run); after that, rows are dropped and only status changes are tried, quietly, as far as the disk
        allows: the listeners after this one (the app) still hear every event."""
        if self.full is not None:
            if event["kind"] == "status":
                try:
                    self.rewrite_status(event)
                except OSError:
                    pass
            return
        try:
            self.write(event)
        except OSError as err:
            if err.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            self.full = DiskFull(f"the disk holding {self.run_dir.path} is full ({err.strerror})")
            raise self.full from None

    def write(self, event: dict) -> None:
        kind = event["kind"]
        if kind in STREAMED:
            self.append(STREAMED[kind], event)
        elif kind == "rewind":
            for name, rows in REWIND_ROWS.items():
                self.append(name, {**event, "rows": rows})
        else:
            self.rewrite_status(event)

    def append(self, name: str, event: dict) -> None:
        """One write() of a whole line; readers skip a last line a crash cut short (and one a full disk
        cut short is cut off again here)."""
        path = self.run_dir.path / name
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(event) + "\n")
        except OSError:
            repair_tail(path)
            raise

    def rewrite_status(self, event: dict) -> None:
        kind = event["kind"]
        if kind == "status":
            self.state.update(
                status=event["status"], message=event.get("message", ""), error=event.get("error", "")
            )
        else:
            values = {k: v for k, v in event.items() if k != "kind"}
            if kind in ("probe", "sized"):  # a sized event's config is the run's config.json
                self.state[kind] = {k: v for k, v in values.items() if k != "config"}
            else:
                self.state[{"timing": "timings", "progress": "progress"}[kind]].update(values)
        self.state["updated"] = time.time()
        write_atomic(self.run_dir.path / "status.json", json.dumps(self.state))


class ReadOnlyRun(Refusal):
    """A change asked of an example run."""


class RunStore:
    """The runs folder: create, list, find, copy and delete runs; the example runs are listed too."""

    def __init__(self, root: str | Path = "runs", examples: Path | None = EXAMPLES):
        self.root = Path(root)
        self.examples = examples  # None: no example runs (tests that count runs)

    def create(self, config: RunConfig, vocab: Vocab, owner: str = "", label: str = "") -> RunDir:
        """A new run folder holding its config and vocabulary."""
        run_dir = RunDir(self.new_path(config))
        run_dir.path.mkdir(parents=True)
        run_dir.save_config(config, self._meta(run_dir, owner, label))
        write_atomic(run_dir.path / "vocab.json", json.dumps({"chars": vocab.chars}))
        return run_dir

    def copy(self, source: RunDir, owner: str = "", label: str = "", more_epochs: int = 0) -> RunDir:
        """A new run holding everything `source` holds (weights, metrics, samples); with more_epochs, its
        budget grows by that many epochs and it waits, stopped, to be continued."""
        config = source.config()
        run_dir = RunDir(self.new_path(config))
        shutil.copytree(source.path, run_dir.path, ignore=_links)  # a link inside a run is not its own file
        # Re-indexed with the files' times, so that the copy's CheckpointManager counts the copied
        # checkpoints as its own and deletes them in turn (an index without times, as the shipped
        # example's, would keep them in every copy for good).
        kept = run_dir.kept_checkpoints()
        if kept:
            files.write_index(run_dir.checkpoint_dir, kept)
        label = label or f"copy of {source.meta().get('label') or source.run_id}"
        if more_epochs:
            train = dataclasses.replace(config.train, epochs=config.train.epochs + more_epochs, max_steps=0)
            config = dataclasses.replace(config, train=train)
            status = run_dir.status()
            status["progress"] = {k: v for k, v in status.get("progress", {}).items() if k != "total_steps"}
            step = Progress.from_json(status["progress"]).step  # read_status has checked it
            message = f"copied from {source.run_id} at step {step:,}; {more_epochs} more epoch(s) to train"
            write_atomic(run_dir.path / "status.json", json.dumps({**status, "status": Status.STOPPED,
                                                                  "message": message}))  # fmt: skip
        run_dir.save_config(config, {**self._meta(run_dir, owner, label), "copied_from": source.run_id})
        return run_dir

    def new_path(self, config: RunConfig) -> Path:
        m = config.model
        return self.root / f"{time.strftime('%Y%m%d-%H%M%S')}-{m.cell}-{m.impl}-{secrets.token_hex(2)}"

    @staticmethod
    def _meta(run_dir: RunDir, owner: str, label: str) -> dict:
        return {"run_id": run_dir.run_id, "created": time.time(), "owner": owner, "label": label}

    def get(self, run_id: str) -> RunDir:
        """A run of this folder (or an example) by its id (never a path: the app passes ids from URLs here)."""
        if isinstance(run_id, str) and RUN_ID.fullmatch(run_id):
            for folder in (self.root, self.examples):
                if folder is not None and _is_run(folder / run_id):
                    return RunDir(folder / run_id)
        raise RunNotFound(run_id)

    def find(self, name: str) -> RunDir:
        """For command lines: a run by id, or by its folder's path as `python -m core.train` prints it."""
        path = Path(name)
        if (path / "config.json").is_file():
            return RunDir(path)
        return self.get(name)

    def list(self, owner: str | tuple[str, ...] | None = None) -> list[RunDir]:
        """Runs newest first (with owner, only that owner's, or those owners'), then the example runs."""
        runs = _runs_in(self.root)
        if owner is not None:
            owners = (owner,) if isinstance(owner, str) else tuple(owner)
            runs = [r for r in runs if r.meta().get("owner", "") in owners]
        examples = _runs_in(self.examples) if self.examples is not None else []
        examples.sort(key=lambda r: r.run_id != EXAMPLE_ID)  # the one the app opens on first, the rest by id
        return sorted(runs, key=lambda r: r.run_id, reverse=True) + examples

    def delete(self, run_id: str) -> None:
        run_dir = self.get(run_id)
        if run_dir.read_only:
            raise ReadOnlyRun(f"{run_id} is an example that ships with the app; it cannot be deleted")
        shutil.rmtree(run_dir.path)


def _links(folder: str, names: list[str]) -> list[str]:
    """shutil.copytree's `ignore`: the entries of `folder` that are links (copying one would copy whatever
    file, anywhere, it points at)."""
    return [name for name in names if Path(folder, name).is_symlink()]


def _is_run(path: Path) -> bool:
    """A run folder: named as a run id, a real folder (not a link to one elsewhere) holding config.json."""
    return (
        RUN_ID.fullmatch(path.name) is not None
        and not path.is_symlink()
        and path.is_dir()
        and (path / "config.json").is_file()
    )


def _runs_in(folder: Path) -> list[RunDir]:
    if not folder.exists():
        return []
    return sorted((RunDir(p) for p in folder.iterdir() if _is_run(p)), key=lambda r: r.run_id)
