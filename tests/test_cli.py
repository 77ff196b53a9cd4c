"""The CLIs end to end on a tiny corpus in a temporary folder, bad input included."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tiny import TEXT, write_corpus

ROOT = Path(__file__).resolve().parents[1]
SMALL = [
    "--cell",
    "gru",
    "--state-size",
    "16",
    "--batch-size",
    "4",
    "--num-steps",
    "16",
    "--eval-batches",
    "2",
]


def cli(*args, timeout=240):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "RNN_EXPLORER_QUIET_TF")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_train_sample_and_resume(tmp_path):
    corpus, runs = write_corpus(tmp_path), tmp_path / "runs"
    out = cli(
        "core.train",
        "--corpus",
        str(corpus),
        "--runs-dir",
        str(runs),
        *SMALL,
        "--epochs",
        "2",
        "--sample-every",
        "0",
        "--eval-every",
        "0",
    )
    assert out.returncode == 0, out.stderr
    assert (
        "Average training loss for Epoch 1 : " in out.stdout
        and "Average training loss for Epoch 2 : " in out.stdout
    )
    assert "bits/char" in out.stdout and "trace: " in out.stdout
    (run,) = [p.name for p in runs.iterdir()]
    assert {"config.json", "vocab.json", "metrics.jsonl", "status.json", "ckpt"} <= {
        p.name for p in (runs / run).iterdir()
    }

    # No TensorFlow start-up chatter before our own lines (the env of these tests leaves its level unset).
    assert "cuda" not in out.stderr.lower() and "absl" not in out.stderr, out.stderr
    draw = ("--prime", "All:", "--length", "30", "--top-k", "3", "--seed", "4")
    sample = cli("core.sample", "--runs-dir", str(runs), "--run", run, *draw)
    again = cli("core.sample", "--runs-dir", str(runs), "--run", run, *draw)
    assert sample.returncode == 0, sample.stderr
    assert sample.stdout.startswith("All:") and len(sample.stdout.rstrip("\n")) >= 30
    assert sample.stdout == again.stdout
    # The folder path that core.train ends with names the run as well as its id does.
    folder = re.search(r"run folder: (.+)", out.stdout).group(1).strip()
    by_path = cli("core.sample", "--run", folder, *draw)
    assert by_path.returncode == 0 and by_path.stdout == sample.stdout, by_path.stderr

    resumed = cli("core.train", "--runs-dir", str(runs), "--resume", run, "--epochs", "3")
    assert resumed.returncode == 0, resumed.stderr
    assert "Average training loss for Epoch 3 : " in resumed.stdout
    assert "Epoch 1 :" not in resumed.stdout  # it continued, it did not start over
    assert json.loads((runs / run / "config.json").read_text())["train"]["epochs"] == 3

    changed = cli("core.train", "--runs-dir", str(runs), "--resume", run, "--state-size", "32")
    assert changed.returncode == 2 and "keeps its model" in changed.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"abc\xff\xfe", "is not UTF-8 text: byte 0xff at offset 3"),
        (TEXT[:300].encode(), "are needed"),
    ],
)
def test_bad_corpora_give_a_clear_error_and_no_traceback(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    out = cli("core.train", "--corpus", str(path), "--runs-dir", str(tmp_path / "runs"), *SMALL)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "runs").exists()  # nothing half-made


def test_bad_flags_and_unknown_runs(tmp_path):
    bad = cli("core.train", "--runs-dir", str(tmp_path), "--dropout", "1.5")
    assert bad.returncode == 2 and "dropout must be 0.0..0.95" in bad.stderr and "Traceback" not in bad.stderr
    missing = cli("core.sample", "--runs-dir", str(tmp_path), "--run", "nope")
    assert missing.returncode == 2 and "no run named 'nope'" in missing.stderr


def test_help_lists_the_registries():
    out = cli("core.train", "--help")
    for name in ("static", "dynamic", "scan", "keras", "lstm", "ln_lstm", "gru", "quick", "seed"):
        assert name in out.stdout
