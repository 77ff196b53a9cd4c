"""The post's experiment on a tiny config: rows arrive one by one, ratios are drawn, cancel stops it."""

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from core.commands.experiment import table
from core.measure.experiment import POST_FIGURES, post_plan, ratios, run_experiment, save
from tests.tiny import tiny_config, write_corpus


def tiny_plan(tmp_path, tf1=False):
    cfg = tiny_config(write_corpus(tmp_path), cell="lstm", batch_size=8, num_steps=32, learning_rate=0.01)
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, num_layers=2))
    return post_plan(epochs=1, base=cfg, tf1=tf1)


def test_plan_mirrors_the_post():
    plan = post_plan()
    assert [m.impl for m in plan] == [
        "tf1-static",
        "static",
        "tf1-static",
        "static",
        "tf1-dynamic",
        "dynamic",
        "tf1-scan",
        "scan",
    ]
    assert plan[0].config.model.cell == "rnn" and plan[0].epochs == 0
    assert all(m.config.model.num_layers == 3 and m.epochs == 3 for m in plan[2:])
    assert {m.post for m in plan} == set(POST_FIGURES)


def test_rows_ratios_table_and_json(tmp_path):
    seen = []
    rows = run_experiment(tiny_plan(tmp_path), on_result=lambda i, row: seen.append(i))
    assert seen == [0, 1, 2, 3]
    for row in rows:
        assert "error" not in row, row
        assert row["trace_s"] > 0
    assert len(rows[1]["epoch_losses"]) == 1 and rows[1]["train_s"] > 0
    found = ratios(rows)
    assert found["TF2: list build ÷ dynamic build"] > 0 and "TF2: scan step ÷ dynamic step" in found
    assert abs(found["post: list build ÷ dynamic build"] - 25.6 / 0.53) < 1e-9
    text = table(rows)
    assert "list (TF2 static)" in text and "3.533 / 3.314 / 3.218" in text
    saved = save(rows, tmp_path / "exp.json", epochs=1)
    assert json.loads((tmp_path / "exp.json").read_text())["rows"][0]["label"] == saved["rows"][0]["label"]


def test_cancel_stops_mid_measurement(tmp_path):
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()  # the first worker is still starting TensorFlow by then
    t0 = time.monotonic()
    rows = run_experiment(tiny_plan(tmp_path, tf1=True), cancel=cancel)
    assert time.monotonic() - t0 < 5
    assert len(rows) == 1 and rows[0]["error"] == "cancelled"


def test_flags_that_could_give_no_result_are_refused_before_measuring(tmp_path):
    root = Path(__file__).resolve().parents[1]
    (tmp_path / "a-file").write_text("")
    for flags, message in (
        (("--epochs", "-1"), "error: --epochs must be 0 or more, got -1"),
        (("--json", str(tmp_path / "a-file" / "r.json")), f"error: cannot make {tmp_path}/a-file/r.json: "),
    ):
        out = subprocess.run(
            [sys.executable, "-m", "core.experiment", *flags],
            cwd=root, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)}, timeout=120,
        )  # fmt: skip
        assert out.returncode == 2 and out.stderr.startswith(message) and out.stdout == "", out.stderr
