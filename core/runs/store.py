"""Runs on disk: one folder per run, written atomically, readable while the run trains.

runs/<run_id>/config.json     RunConfig + meta (id, created, owner, label)
              vocab.json      the characters, in id order
              metrics.jsonl   one event per line: metric, eval, epoch, log (appended as it trains)
              samples.jsonl   live samples (appended)
              status.json     status, message, timings, progress (rewritten whole)
              ckpt/           tf.train.Checkpoint: weights, optimizer state, step, carried RNN state
"""

import json
import os
import secrets
import shutil
import time
from pathlib import Path

from core.config import RunConfig
from core.data.corpus import Vocab
from core.errors import Refusal
from core.runs.record import RunRecord, Status

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
    """Write then rename, so a reader or a crash never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_jsonl(path: Path) -> list[dict]:
    """Every complete line; a last line cut short by a crash is skipped, not an error."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


class RunDir:
    """One run's folder."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.run_id = self.path.name

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "ckpt"

    def meta(self) -> dict:
        return self._config_file().get("meta", {})

    def config(self) -> RunConfig:
        data = self._config_file()
        return RunConfig.from_dict({k: v for k, v in data.items() if k != "meta"})

    def save_config(self, config: RunConfig, meta: dict | None = None) -> None:
        """Write the run's config with its meta (kept as it was unless given): a resumed run may train on."""
        meta = self.meta() if meta is None else meta
        write_atomic(self.path / "config.json", json.dumps({**config.to_dict(), "meta": meta}, indent=2))

    def _config_file(self) -> dict:
        return json.loads((self.path / "config.json").read_text(encoding="utf-8"))

    def vocab(self) -> Vocab:
        return Vocab(json.loads((self.path / "vocab.json").read_text(encoding="utf-8"))["chars"])

    def status(self) -> dict:
        path = self.path / "status.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"status": Status.CREATED}

    def has_checkpoint(self) -> bool:
        return (self.checkpoint_dir / "checkpoint").exists()

    def latest_checkpoint(self) -> str | None:
        """The newest checkpoint's path prefix, as tf.train.CheckpointManager records it (None: none yet)."""
        index = self.checkpoint_dir / "checkpoint"
        if not index.exists():
            return None
        first = index.read_text(encoding="utf-8").splitlines()[0]  # model_checkpoint_path: "ckpt-200"
        return str(self.checkpoint_dir / first.split(":", 1)[1].strip().strip('"'))

    def checkpoint_problem(self) -> str | None:
        """Why this run's checkpoint can be neither sampled nor resumed (None: it can, or there is none)."""
        latest = self.latest_checkpoint()
        if latest is None:
            return None
        from core.runs.checkpoints import problem  # TensorFlow reads the file's table of contents

        return problem(latest)

    def load_record(self) -> RunRecord:
        """Rebuild the run's record from its files (events replayed in the order they were written)."""
        data = self._config_file()
        record = RunRecord(self.run_id, data)
        for name in ("metrics.jsonl", "samples.jsonl"):
            for event in read_jsonl(self.path / name):
                record.apply(event)
        status = self.status()
        record.timing(**status.get("timings", {}))
        record.progress(**status.get("progress", {}))
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
        self.state = run_dir.status()
        self.state.setdefault("timings", {})
        self.state.setdefault("progress", {})

    def __call__(self, event: dict) -> None:
        kind = event["kind"]
        if kind in STREAMED:
            self.append(STREAMED[kind], event)
        elif kind == "rewind":
            for name, rows in REWIND_ROWS.items():
                self.append(name, {**event, "rows": rows})
        else:
            self.rewrite_status(event)

    def append(self, name: str, event: dict) -> None:
        """One write() of a whole line; readers skip a last line a crash cut short."""
        with open(self.run_dir.path / name, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")

    def rewrite_status(self, event: dict) -> None:
        kind = event["kind"]
        if kind == "status":
            self.state.update(
                status=event["status"], message=event.get("message", ""), error=event.get("error", "")
            )
        else:
            key = {"timing": "timings", "progress": "progress"}[kind]
            self.state[key].update({k: v for k, v in event.items() if k != "kind"})
        self.state["updated"] = time.time()
        write_atomic(self.run_dir.path / "status.json", json.dumps(self.state))


class RunStore:
    """The runs folder: create, list, find and delete runs."""

    def __init__(self, root: str | Path = "runs"):
        self.root = Path(root)

    def create(self, config: RunConfig, vocab: Vocab, owner: str = "", label: str = "") -> RunDir:
        """A new run folder holding its config and vocabulary."""
        m = config.model
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{m.cell}-{m.impl}-{secrets.token_hex(2)}"
        path = self.root / run_id
        path.mkdir(parents=True)
        run_dir = RunDir(path)
        run_dir.save_config(
            config, {"run_id": run_id, "created": time.time(), "owner": owner, "label": label}
        )
        write_atomic(path / "vocab.json", json.dumps({"chars": vocab.chars}))
        return run_dir

    def get(self, run_id: str) -> RunDir:
        """A run of this folder by its id (never a path: the app passes ids from URLs here)."""
        path = self.root / run_id
        if not run_id or "/" in run_id or not (path / "config.json").exists():
            raise RunNotFound(run_id)
        return RunDir(path)

    def find(self, name: str) -> RunDir:
        """For command lines: a run by id, or by its folder's path as `python -m core.train` prints it."""
        path = Path(name)
        if (path / "config.json").is_file():
            return RunDir(path)
        return self.get(name)

    def list(self, owner: str | None = None) -> list[RunDir]:
        """Runs newest first; with owner, only that owner's."""
        if not self.root.exists():
            return []
        runs = [RunDir(p) for p in self.root.iterdir() if (p / "config.json").exists()]
        if owner is not None:
            runs = [r for r in runs if r.meta().get("owner", "") == owner]
        return sorted(runs, key=lambda r: r.run_id, reverse=True)

    def delete(self, run_id: str) -> None:
        shutil.rmtree(self.get(run_id).path)
