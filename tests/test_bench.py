"""The benchmark CLI on a tiny config writes valid JSON with every field."""
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.tiny import write_corpus

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"impl", "trace_s", "first_call_s", "step_s", "step_min_s", "step_max_s", "chars_per_s", "peak_rss_mb", "loss"}


def test_bench_writes_every_field(tmp_path):
    out_file = tmp_path / "bench.json"
    args = ["--preset", "quick", "--corpus", str(write_corpus(tmp_path)), "--impls", "static,dynamic",
            "--state-size", "8", "--batch-size", "2", "--sweep", "num_steps=4,8", "--timed-steps", "2",
            "--warmup", "1", "--json", str(out_file)]
    out = subprocess.run([sys.executable, "-m", "core.bench", *args], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out_file.read_text())
    assert {"cpu", "cores", "tensorflow"} <= set(data["machine"])
    rows = data["results"]
    assert [(r["impl"], r["num_steps"]) for r in rows] == [("static", 4), ("static", 8), ("dynamic", 4), ("dynamic", 8)]
    for row in rows:
        assert FIELDS <= set(row), row.get("error")
        assert row["trace_s"] > 0 and row["step_s"] > 0 and row["chars_per_s"] > 0
        assert row["config"]["train"]["num_steps"] == row["num_steps"]
    assert "static" in out.stdout and "chars/s" in out.stdout
