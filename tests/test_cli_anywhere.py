"""`python -m core.train` from a folder other than the checkout: the default corpus is the project's own
(core.paths), not a path relative to wherever the command was started."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.paths import ASSETS
from tests.tiny import SMALL_FLAGS

pytestmark = pytest.mark.slow  # a process that imports TensorFlow and trains

ROOT = Path(__file__).resolve().parents[1]
SMALL = SMALL_FLAGS


def test_train_runs_from_another_folder_on_the_default_corpus(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "RNN_EXPLORER_QUIET_TF")}
    env["PYTHONPATH"] = str(ROOT)
    runs = tmp_path / "runs"
    out = subprocess.run(
        [sys.executable, "-m", "core.train", "--runs-dir", str(runs), *SMALL, "--max-steps", "2",
         "--sample-every", "0", "--eval-every", "0"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    (run,) = [p for p in runs.iterdir() if (p / "config.json").is_file()]
    config = json.loads((run / "config.json").read_text())
    assert Path(config["corpus"]) == ASSETS / "tinyshakespeare.txt"  # absolute: the run resumes from anywhere
    assert f"run folder: {run}" in out.stdout
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "finished", status
    assert any((run / "ckpt").glob("ckpt-2.*")), sorted(p.name for p in (run / "ckpt").iterdir())
