"""Measured curves of the presets, drawn as reference lines on the Runs tab's quality chart: validation
loss against minutes after Start, one run of each, with the machine's speed and the day.

`python benchmarks/time_to_quality.py --reference assets/reference-curves.json` writes them. The file is
read as untrusted input all the same (a checkout can be edited by hand): an entry that is not a pair of
equally long lists of finite numbers is left out, never drawn wrong.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from core.paths import ASSETS

PATH = ASSETS / "reference-curves.json"
MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Curve:
    name: str  # the candidate's name in the benchmark ("quick", "longer")
    date: str  # when it was measured
    chars_per_s: int  # the run's training throughput: how fast the machine was
    minutes: tuple[float, ...]  # after Start, of each validation loss
    val_loss: tuple[float, ...]  # nats/char

    @property
    def label(self) -> str:
        return f"{self.name}, measured {self.date} ({self.chars_per_s:,} chars/s)"


def load(path: Path = PATH) -> list[Curve]:
    """The curves the file holds ([] if there is none, or it cannot be read)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return []
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict):
        return []
    return [curve for name, entry in data.items() if (curve := _curve(name, entry)) is not None]


def _curve(name, entry) -> Curve | None:
    if not isinstance(name, str) or not isinstance(entry, dict):
        return None
    minutes, losses = entry.get("minutes"), entry.get("val_loss")
    if not (_numbers(minutes) and _numbers(losses) and len(minutes) == len(losses) and minutes):
        return None
    speed = entry.get("chars_per_s", 0)
    date = entry.get("date", "")
    if not isinstance(speed, int) or isinstance(speed, bool) or not isinstance(date, str):
        return None
    return Curve(name[:60], date[:20], speed, tuple(minutes), tuple(losses))


def _numbers(values) -> bool:
    return isinstance(values, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )
