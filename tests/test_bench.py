"""The benchmark CLI on a tiny config writes valid JSON with every field."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.commands.bench import fused_targets
from core.config import ConfigError, RunConfig
from core.measure.plan import BenchPlan
from tests.tiny import write_corpus

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {
    "impl",
    "trace_s",
    "first_call_s",
    "step_s",
    "step_min_s",
    "step_max_s",
    "chars_per_s",
    "gflop_per_s",
    "gflop_per_step",
    "peak_rss_mb",
    "rounds",
    "config",
}


def bench(tmp_path, *args):
    out_file = tmp_path / "bench.json"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.bench",
            "--preset",
            "quick",
            "--corpus",
            str(write_corpus(tmp_path)),
            "--state-size",
            "8",
            "--matmul-size",
            "256",
            *args,
            "--json",
            str(out_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=400,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out_file.read_text()), out.stdout


def test_bench_sweep_writes_every_field(tmp_path):
    data, stdout = bench(
        tmp_path,
        "--impls",
        "static,tf1-dynamic",
        "--batch-size",
        "2",
        "--sweep",
        "num_steps=4,8",
        "--timed-steps",
        "2",
        "--warmup",
        "1",
    )
    assert {"cpu", "cores", "tensorflow", "matmul_gflop_per_s"} <= set(data["machine"])
    assert data["machine"]["matmul_gflop_per_s"] > 0
    rows = data["results"]
    assert [(r["impl"], r["num_steps"]) for r in rows] == [
        ("static", 4),
        ("static", 8),
        ("tf1-dynamic", 4),
        ("tf1-dynamic", 8),
    ]
    for row in rows:
        assert FIELDS <= set(row), row.get("error")
        assert row["trace_s"] > 0 and row["step_min_s"] <= row["step_s"] <= row["step_max_s"]
        assert row["config"]["train"]["num_steps"] == row["num_steps"]
    assert rows[1]["gflop_per_step"] > rows[0]["gflop_per_step"]  # twice the steps, twice the work
    assert "static" in stdout and "chars/s" in stdout


def test_bench_trains_whole_epochs_like_the_post(tmp_path):
    data, stdout = bench(
        tmp_path,
        "--impls",
        "dynamic,tf1-scan",
        "--batch-size",
        "8",
        "--num-steps",
        "32",
        "--train-epochs",
        "2",
        "--lr",
        "0.01",
    )
    for row in data["results"]:
        assert len(row["epoch_losses"]) == 2, row.get("error")
        assert row["epoch_losses"][1] < row["epoch_losses"][0]
        assert row["train_s"] > 0
    assert "epochs " in stdout


def test_bench_refuses_unknown_implementations(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "core.bench", "--impls", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert out.returncode == 2 and "unknown implementation 'nope'" in out.stderr


@pytest.mark.parametrize(
    "flags, message",
    [
        (("--repeats", "0"), "--repeats must be 1 or more, got 0"),
        (("--matmul-size", "0"), "--matmul-size must be 1 or more, got 0"),
        (("--timed-steps", "0"), "--timed-steps must be 1 or more, got 0"),
        (("--warmup", "-1"), "--warmup must be 0 or more, got -1"),
        (("--train-epochs", "-1"), "train_epochs must be 0 or more, got -1"),
        (("--scaling", "1"), "--scaling compares one device with N replicas: N must be 2 or more, got 1"),
        (("--scaling", "2", "--batch-size", "0"), "batch_size must be 1..1024, got 0"),
        (("--sweep", "num_steps"), "--sweep takes KEY=V1,V2,..., got 'num_steps'"),
        (
            ("--json", "{tmp}/a-file/bench.json"),
            "cannot make {tmp}/a-file/bench.json: {tmp}/a-file is a file",
        ),
        (("--json", "{tmp}"), "{tmp} is a folder; name a file to write the results to"),
        (
            ("--json", "{tmp}/locked/bench.json"),
            "cannot make {tmp}/locked/bench.json: the folder {tmp}/locked",
        ),
    ],
)
def test_bench_refuses_what_could_give_no_result_before_measuring(tmp_path, flags, message):
    (tmp_path / "a-file").write_text("")
    (tmp_path / "locked").mkdir(mode=0o555)
    if "locked" in message and os.access(tmp_path / "locked", os.W_OK):
        pytest.skip("as root the write bits stop nothing (the file under a file tests the same refusal)")
    flags = [f.replace("{tmp}", str(tmp_path)) for f in flags]
    out = subprocess.run(
        [sys.executable, "-m", "core.bench", "--impls", "dynamic", *flags],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and out.stderr.startswith(f"error: {message.replace('{tmp}', str(tmp_path))}")
    assert out.stdout == "" and "Traceback" not in out.stderr  # refused before the first measurement
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "locked"]


def test_a_plan_that_could_time_nothing_is_refused_for_every_caller():
    for counts, message in (
        (dict(timed_steps=0), "timed_steps must be 1 or more, got 0"),
        (dict(warmup=-1), "warmup must be 0 or more, got -1"),
        (dict(train_epochs=-2), "train_epochs must be 0 or more, got -2"),
    ):
        with pytest.raises(ConfigError, match=f"^{message}$"):
            BenchPlan(RunConfig(), ("dynamic",), **counts)
    assert BenchPlan(RunConfig(), ("dynamic",), timed_steps=1, warmup=0).describe()["timed_steps"] == 1


def test_fused_targets_are_reported_from_one_runs_medians(tmp_path):
    data, stdout = bench(
        tmp_path,
        "--impls",
        "fused,keras-fused",
        "--cell",
        "lstm",
        "--batch-size",
        "2",
        "--num-steps",
        "4",
        "--timed-steps",
        "2",
        "--warmup",
        "1",
    )
    targets = data["fused_targets"]
    fused, keras_fused = data["results"]
    assert targets["speedup_vs_keras_fused"] == fused["chars_per_s"] / keras_fused["chars_per_s"]
    assert targets["matmul_share"] == fused["gflop_per_s"] / data["machine"]["matmul_gflop_per_s"]
    assert targets["speedup_met"] == (targets["speedup_vs_keras_fused"] >= 1.3)
    assert "keras-fused's chars/s (target ≥ 1.3" in stdout and "of the matmul rate (target ≥ 70%" in stdout


def test_fused_targets_need_both_and_ignore_sweeps():
    row = lambda impl, chars, **extra: {
        "impl": impl,
        "chars_per_s": chars,
        "gflop_per_s": chars / 1000,
        **extra,
    }
    assert fused_targets([row("fused", 100)], 10.0) is None
    assert fused_targets([row("fused", 100, num_steps=5), row("keras-fused", 50, num_steps=5)], 10.0) is None
    got = fused_targets([row("fused", 140), row("keras-fused", 100), row("dynamic", 120)], 0.2)
    assert got["speedup_met"] and abs(got["speedup_vs_keras_fused"] - 1.4) < 1e-9
    assert abs(got["matmul_share"] - 0.7) < 1e-9 and got["matmul_share_met"]
    assert fused_targets([row("fused", 120), row("keras-fused", 100)], 1.0)["speedup_met"] is False
