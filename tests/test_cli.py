"""The CLIs end to end on a tiny corpus in a temporary folder, bad input included."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tiny import SMALL_FLAGS, TEXT, write_corpus

ROOT = Path(__file__).resolve().parents[1]
SMALL = SMALL_FLAGS


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
    # impl auto may train with fused, so TensorFlow was set to one thread per op before it started.
    assert "TensorFlow ops run on 1 thread each" in out.stdout
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


@pytest.mark.parametrize(
    "flags, message",
    [
        (("--seed", str(2**64)), "seed must be 0..4294967295, got 18446744073709551616"),
        (("--seed", "-1"), "seed must be 0..4294967295, got -1"),
        (("--clip-norm", "inf"), "clip_norm must be a finite number, got inf"),
        (("--lr", "nan"), "learning_rate must be a finite number, got nan"),
        (("--connect-timeout-s", "nan"), "--connect-timeout-s must be a positive number of seconds"),
    ],
)
def test_settings_no_run_can_use_are_refused_before_a_run_folder_is_made(tmp_path, flags, message):
    runs = tmp_path / "runs"
    out = cli("core.train", "--corpus", str(write_corpus(tmp_path)), "--runs-dir", str(runs), *SMALL, *flags)
    assert out.returncode == 2 and f"error: {message}" in out.stderr and "Traceback" not in out.stderr
    assert not runs.exists()  # refused by the config's own checks, before the store makes a folder


@pytest.mark.parametrize(
    "flags, message",
    [
        (("--seed", "-5"), "seed must be 0..4294967295, got -5"),
        (("--seed", str(2**32)), "seed must be 0..4294967295, got 4294967296"),
        (("--temperature", "nan"), "temperature must be a finite number, got nan"),
    ],
)
def test_sample_settings_out_of_range_are_a_sentence(tmp_path, flags, message):
    out = cli("core.sample", "--runs-dir", str(tmp_path), "--run", "any", *flags)
    assert out.returncode == 2 and out.stderr.strip() == f"error: {message}" and out.stdout == ""


def test_help_lists_the_registries():
    out = cli("core.train", "--help")
    for name in ("static", "dynamic", "scan", "keras", "lstm", "ln_lstm", "gru", "quick", "seed"):
        assert name in out.stdout


# ---- a run folder that a crash or a person left damaged: repaired or refused, never duplicated ---------
def tiny_run(tmp_path, *flags) -> tuple[Path, Path]:
    """(runs folder, run folder) of a tiny run trained to step 8 with a checkpoint every 4 steps."""
    corpus, runs = write_corpus(tmp_path), tmp_path / "runs"
    out = cli("core.train", "--corpus", str(corpus), "--runs-dir", str(runs), *SMALL, "--max-steps", "8",
              "--checkpoint-every", "4", "--sample-every", "0", "--eval-every", "0", *flags)  # fmt: skip
    assert out.returncode == 0, out.stderr
    (run,) = runs.iterdir()
    return runs, run


def steps_of(run: Path) -> list[int]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return [r["step"] for r in rows if r["kind"] == "metric"]


def test_a_half_written_last_line_is_cut_before_a_resume_appends(tmp_path):
    runs, run = tiny_run(tmp_path)
    metrics = run / "metrics.jsonl"
    metrics.write_text(metrics.read_text() + '{"kind": "metric", "step": 9, "tra')  # a crash mid-write
    out = cli("core.train", "--runs-dir", str(runs), "--resume", run.name, "--max-steps", "12")
    assert out.returncode == 0, out.stderr
    assert steps_of(run) == list(range(1, 13))  # every row readable, each step once
    assert all(json.loads(line) for line in metrics.read_text().splitlines())


def test_resumes_that_cannot_continue_exactly_are_refused_in_a_sentence(tmp_path):
    runs, run = tiny_run(tmp_path)
    before = (run / "metrics.jsonl").read_text()
    empty = cli("core.train", "--runs-dir", str(runs), "--resume", "")
    assert empty.returncode == 2 and "no run named ''" in empty.stderr
    parent = cli("core.train", "--runs-dir", str(runs), "--resume", "..")
    assert parent.returncode == 2 and "no run named '..'" in parent.stderr
    shutil.rmtree(run / "ckpt")
    lost = cli("core.train", "--runs-dir", str(runs), "--resume", run.name, "--max-steps", "12")
    assert lost.returncode == 2 and "its ckpt folder is gone" in lost.stderr
    (run / "config.json").write_text('{"model": {"cell": ')
    broken = cli("core.train", "--runs-dir", str(runs), "--resume", run.name)
    assert broken.returncode == 2 and "config.json cannot be read" in broken.stderr
    for out in (empty, parent, lost, broken):
        assert "Traceback" not in out.stderr
    assert (run / "metrics.jsonl").read_text() == before and sorted(p.name for p in runs.iterdir()) == [
        run.name
    ]


def test_a_runs_folder_that_cannot_be_written_is_a_sentence(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the runs folder would go")
    out = cli(
        "core.train", "--corpus", str(write_corpus(tmp_path)), "--runs-dir", str(blocker / "runs"), *SMALL
    )
    assert (
        out.returncode == 2 and "cannot write the run's files" in out.stderr and "Traceback" not in out.stderr
    )


def test_ctrl_c_while_starting_is_a_sentence(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "core.train", "--corpus", str(write_corpus(tmp_path)), "--runs-dir",
         str(tmp_path / "runs"), *SMALL],
        cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.0)  # TensorFlow is loading
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode != 0 and "interrupted before training began" in err and "Traceback" not in err
