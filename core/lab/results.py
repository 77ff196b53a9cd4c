"""Build-time results on disk: saved, listed and loaded as JSON, and shaped into table rows.

Three formats, the core's own: an experiment as `core.measure.experiment.save` writes it
({"measured", "machine", "epochs", "rows", "ratios"}), a cell comparison as
`core.measure.experiment.save_cells` writes it ({"measured", "machine", "experiment", "variant", "rows"})
and a sweep as `python -m core.bench --json` writes it ({"machine", "preset", "args", "results"}, plus "measured").
Results measured here live under <runs dir>/_buildtime/; a reference measured on a known machine ships in
assets/ (when it exists; none for the cell comparison).
"""

import json
import time
from pathlib import Path

from core.errors import Refusal
from core.measure.experiment import POST_FIGURES, final_loss
from core.measure.experiment import save as save_experiment_json
from core.measure.experiment import save_cells as save_cells_json
from core.measure.plan import SWEEPABLE
from core.measure.results import sweep_payload, write_results
from core.paths import ROOT

FOLDER = "_buildtime"  # under the runs folder; RunStore skips it (no config.json)
KINDS = {"experiment": "rows", "cells": "rows", "sweep": "results"}  # kind -> the key that holds its rows
NAMES = {"experiment": "experiment", "cells": "cell comparison", "sweep": "sweep"}  # kind -> in words
REFERENCES = {
    "experiment": ROOT / "assets" / "buildtime_reference.json",
    "sweep": ROOT / "assets" / "buildtime_sweep_reference.json",
}


class ResultError(Refusal, ValueError):
    """A result file that cannot be shown; the message says which and why."""


def folder_of(runs_root: Path) -> Path:
    return Path(runs_root) / FOLDER


def _new_path(folder: Path, kind: str) -> Path:
    """A new file named by the time, so names sort by age (-2, -3 … if one is saved within the same second)."""
    stem = f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = Path(folder) / f"{stem}.json", 1
    while path.exists():
        n += 1
        path = Path(folder) / f"{stem}-{n}.json"
    return path


def save_experiment(rows: list[dict], folder: Path, epochs: int) -> Path:
    """The core's experiment JSON, in a new file of `folder`."""
    path = _new_path(folder, "experiment")
    save_experiment_json(rows, path, epochs)
    return path


def save_cells(rows: list[dict], folder: Path, short: bool) -> Path:
    """The core's cell-comparison JSON, in a new file of `folder`."""
    path = _new_path(folder, "cells")
    save_cells_json(rows, path, short)
    return path


def save_sweep(rows: list[dict], plan, folder: Path) -> Path:
    """The bench CLI's JSON (machine, preset, args, results) for a BenchPlan's rows, in a new file."""
    path = _new_path(folder, "sweep")
    write_results(path, sweep_payload(rows, plan))
    return path


def saved(folder: Path, kind: str) -> list[Path]:
    """This machine's results of one kind, newest first."""
    folder = Path(folder)
    return sorted(folder.glob(f"{kind}-*.json"), key=_age, reverse=True) if folder.is_dir() else []


def _age(path: Path) -> tuple:
    """experiment-20250131-140211-2.json -> ('20250131', '140211', 2): its order among saved results."""
    parts = path.stem.split("-")
    n = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else 1
    return (*parts[1:3], n)


def stamp_of(path: Path) -> str:
    """'2025-01-31 14:02:11', from a saved result's name (experiment-20250131-140211.json)."""
    try:
        stamp = "-".join(Path(path).stem.split("-")[1:3])
        return time.strftime("%Y-%m-%d %H:%M:%S", time.strptime(stamp, "%Y%m%d-%H%M%S"))
    except (IndexError, ValueError):
        return Path(path).stem


def reference(kind: str) -> Path | None:
    """The shipped reference result of this kind, if there is one."""
    path = REFERENCES.get(kind)
    return path if path is not None and path.is_file() else None


def load(path: Path, kind: str) -> dict:
    """A result file's contents; ResultError if it is not a result of this kind."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ResultError(f"{Path(path).name} cannot be read: {err}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get(KINDS[kind]), list):
        raise ResultError(f"{Path(path).name} is not a build-time {kind} result (no {KINDS[kind]!r} list)")
    return payload


def describe(path: Path, kind: str) -> str:
    """A result file's machine and date, or why it cannot be read."""
    try:
        return machine_label(load(path, kind))
    except ResultError as err:
        return str(err)


def rows_of(payload: dict, kind: str) -> list[dict]:
    return payload[KINDS[kind]]


def machine_label(payload: dict) -> str:
    """'Intel Xeon …, 2 cores, TensorFlow 2.21.0, measured 2025-01-31 14:02'."""
    m = payload.get("machine") or {}
    when = f"measured {payload['measured']}" if payload.get("measured") else "date not recorded"
    cpu, cores, version = m.get("cpu", "an unknown CPU"), m.get("cores", "?"), m.get("tensorflow", "?")
    return f"{cpu}, {cores} cores, TensorFlow {version}, {when}"


# ---- table rows ----------------------------------------------------------------------------------------
def experiment_table(rows: list[dict]) -> list[dict]:
    """Our figures beside the post's, one row per measurement (the post's "build" is our trace)."""
    out = []
    for r in rows:
        post = POST_FIGURES.get(r.get("post"), {})
        trained = bool(r.get("epochs"))
        out.append(
            {
                "measurement": r.get("label", r.get("impl")),
                "build s": r.get("trace_s"),
                "post build s": post.get("build_s"),
                "first call s": r.get("first_call_s"),
                "loss per epoch": _losses(r.get("epoch_losses")),
                "post loss per epoch": _losses(post.get("epoch_losses")) if trained else "",
                "training s": r.get("train_s"),
                "post training s": post.get("train_s") if trained else None,
                "error": r.get("error", ""),
            }
        )
    return out


def cells_table(rows: list[dict]) -> list[dict]:
    """One row per cell: how far it trained, its losses at the end and its training time."""
    return [
        {
            "cell": r.get("label", r.get("cell")),
            "steps": r.get("steps"),
            "final training loss": final_loss(r) if "error" not in r else None,
            "validation loss": r.get("val_loss"),
            "training s": r.get("train_s"),
            "s per step": r["train_s"] / r["steps"] if r.get("train_s") and r.get("steps") else None,
            "error": r.get("error", ""),
        }
        for r in rows
    ]


def _losses(values) -> str:
    return " / ".join(f"{v:.3f}" for v in values or [])


def swept_key(payload: dict) -> str:
    """The setting a sweep varied: from its args, else the rows' own fields ('num_steps' if it varied none)."""
    key = ((payload.get("args") or {}).get("sweep") or "").split("=", 1)[0]
    if key in SWEEPABLE:
        return key
    return next((k for k in SWEEPABLE if any(k in r for r in payload.get("results", []))), "num_steps")


def x_of(row: dict, key: str):
    """A sweep row's value of `key`: its own field if swept, else the config it measured."""
    if key in row:
        return row[key]
    return (row.get("config") or {}).get(SWEEPABLE[key], {}).get(key)


def sweep_table(rows: list[dict], key: str) -> list[dict]:
    """One row per measurement, with the figures the bench CLI prints."""
    names = ("trace_s", "first_call_s", "step_s", "chars_per_s", "gflop_per_s", "peak_rss_mb")
    return [
        {
            "implementation": r.get("impl"),
            key: x_of(r, key),
            **{n: r.get(n) for n in names},
            "error": r.get("error", ""),
        }
        for r in rows
    ]
