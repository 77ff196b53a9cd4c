"""The results files of the benchmark, the experiment and the lab: one writer, atomic, dated."""

import json
import time
from pathlib import Path

from core.measure.timing import machine
from core.runs.store import write_atomic


def write_results(path, payload: dict, machine_info: dict | None = None) -> dict:
    """{"measured": date, "machine": facts, **payload} as JSON at `path` (a reader never sees half of
    it); returns what was written. `machine_info` is measured now unless given."""
    data = {"measured": time.strftime("%Y-%m-%d %H:%M"), "machine": machine_info or machine(), **payload}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, indent=2))
    return data


def sweep_payload(rows: list[dict], plan) -> dict:
    """A benchmark's results: its preset, its plan in the CLI's words ("args"), one row per point."""
    return {"preset": plan.preset, "args": plan.describe(), "results": rows}
