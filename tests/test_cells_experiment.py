"""The post's second experiment (a GRU, an LSTM and a layer-normalised LSTM trained alike): its plan, a tiny
short measurement through the lab's runner, the loss figure, the Build time section and the CLI."""

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.commands.experiment import cells_table
from core.lab import jobs, results
from core.lab.jobs import Lab
from core.measure.experiment import CELLS_COMPARED, POST_CELLS_SOURCE, SHORT_STEPS, cells_plan, final_loss
from core.measure.timing import CURVE_POINTS, loss_curve
from explorer.common import services
from explorer.lab import figures
from explorer.lab import view as build_time_view
from tests.tiny import TEXT, tiny_config, write_corpus

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "explorer" / "app.py")
MACHINE = {"cpu": "Fixture CPU 3000", "cores": 2, "tensorflow": "2.21.0", "python": "3.11.2"}


def fake_cells() -> dict:
    """A made-up but well-formed cell comparison: three falling curves, and one cell that failed."""
    rows = []
    for i, m in enumerate(cells_plan(short=True)):
        curve = [[step, 4.2 - 0.001 * step - 0.1 * i] for step in range(100, 601, 100)]
        rows.append({"label": m.label, "impl": m.impl, "cell": m.post, "post": m.post, "epochs": m.epochs,
                     "trace_s": 1.0, "first_call_s": 1.0, "steps": 600, "loss_curve": curve,
                     "val_loss": 3.7 - 0.1 * i, "train_s": 60.0 * (i + 1), "epoch_losses": [3.9, 3.7]})  # fmt: skip
    rows.append(
        {"label": "broken", "impl": "dynamic", "cell": "gru", "post": "gru", "error": "RuntimeError: x"}
    )
    return {"measured": "2025-01-31 14:02", "machine": MACHINE, "experiment": "cells", "variant": "short",
            "rows": rows}  # fmt: skip


pytestmark = pytest.mark.usefixtures("no_lab_workers_left")


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(services.RUNS_DIR_ENV, str(tmp_path / "runs"))
    return tmp_path / "runs"


def app(owner="tester"):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"owner": owner, "tab": "Build time", "lab": "Compare cells"})
    return at.run()


# ---- the plan ------------------------------------------------------------------------------------------
def test_the_full_plan_holds_the_posts_settings():
    plan = cells_plan()
    assert [m.config.model.cell for m in plan] == ["gru", "lstm", "ln_lstm"] == list(CELLS_COMPARED)
    for m in plan:
        model, train = m.config.model, m.config.train
        assert (m.impl, model.impl, model.num_layers, model.state_size) == ("dynamic", "dynamic", 3, 100)
        assert (train.batch_size, train.num_steps, train.learning_rate) == (32, 80, 1e-4)
        assert train.optimizer == "adam" and (train.epochs, m.epochs, train.max_steps) == (20, 20, 0)
        assert (train.clip_norm, model.dropout) == (0.0, 0.0)  # the post clipped nothing, dropped nothing
    short = cells_plan(short=True)
    assert [m.config.train.max_steps for m in short] == [SHORT_STEPS] * 3
    uncapped = [replace(m.config, train=replace(m.config.train, max_steps=0)) for m in short]
    assert uncapped == [m.config for m in plan]  # the short variant differs in its step cap only


def test_a_loss_curve_averages_equal_runs_of_steps():
    losses = list(np.linspace(4.0, 2.0, 237))
    curve = loss_curve(losses)
    assert len(curve) <= CURVE_POINTS and curve[-1][0] == len(losses)
    sizes = np.diff([0] + [step for step, _ in curve])
    assert np.isclose(sum(n * mean for n, (_, mean) in zip(sizes, curve)), sum(losses))  # nothing lost
    assert loss_curve([3.0, 2.0]) == [[1, 3.0], [2, 2.0]]


# ---- measuring, tiny -----------------------------------------------------------------------------------
def test_a_short_comparison_through_the_lab_records_a_falling_curve_per_cell(tmp_path):
    base = tiny_config(write_corpus(tmp_path), batch_size=8, num_steps=16, learning_rate=1e-2, epochs=20,
                       max_steps=0, eval_batches=0)  # fmt: skip
    plan = cells_plan(short=True, base=base, short_steps=40)  # more than one epoch of the tiny corpus
    lab, folder = Lab(), tmp_path / "_buildtime"
    task = jobs.start_cells(lab, "me", plan, True, folder)
    assert lab.current().current_label == "GRU"
    assert task.wait(180)
    view = lab.current()
    assert view.status == "finished" and [r["cell"] for r in view.rows] == list(CELLS_COMPARED)
    uniform = math.log(len(set(TEXT)))  # the loss of an even guess among the text's characters
    for row in view.rows:
        assert "error" not in row, row
        curve = [loss for _, loss in row["loss_curve"]]
        assert row["steps"] == 40 and row["loss_curve"][-1][0] == 40 and len(curve) > 10
        assert max(curve[-3:]) < curve[0], (row["label"], curve)  # it learned
        assert len(row["epoch_losses"]) == 2  # one whole epoch, then part of the next
        assert math.isfinite(row["val_loss"]) and row["val_loss"] < uniform
        assert row["train_s"] > 0 and final_loss(row) == curve[-1]
    saved = results.load(Path(view.saved), "cells")
    assert saved["rows"] == json.loads(json.dumps(list(view.rows))) and saved["variant"] == "short"
    assert "GRU" in cells_table(list(view.rows))


# ---- figure and page -----------------------------------------------------------------------------------
def test_the_figure_draws_one_curve_per_cell_and_its_validation_loss():
    rows = fake_cells()["rows"]
    fig = figures.cells_loss_figure(rows)
    lines = [t for t in fig.data if t.mode == "lines"]
    assert [t.name for t in lines] == ["GRU", "LSTM", "LN-LSTM"]  # the failed row is not drawn
    assert list(lines[2].x) == [100, 200, 300, 400, 500, 600] and lines[2].y[-1] == pytest.approx(3.4)
    diamonds = [t for t in fig.data if t.mode == "markers"]
    assert [(t.x[0], t.y[0]) for t in diamonds] == [(600, 3.7), (600, pytest.approx(3.6)), (600, 3.5)]
    assert [t.marker.color for t in diamonds] == [t.line.color for t in lines]  # each beside its curve
    table = results.cells_table(rows)
    assert [r["cell"] for r in table] == ["GRU", "LSTM", "LN-LSTM", "broken"]
    assert table[1]["final training loss"] == pytest.approx(3.5) and table[2]["s per step"] == 0.3
    assert table[3]["error"] == "RuntimeError: x" and table[3]["final training loss"] is None


def test_the_section_shows_a_result_and_says_the_posts_figures_were_not_found(runs_dir):
    at = app()
    assert not at.exception and not at.error
    assert any(i.startswith("Nothing measured yet: start one") for i in (i.value for i in at.info))
    path = runs_dir / "_buildtime" / "cells-20250131-140200.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(fake_cells()), encoding="utf-8")
    at.run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value.set_index("cell")
    assert table.loc["LN-LSTM", "validation loss"] == pytest.approx(3.5)
    assert any(POST_CELLS_SOURCE in m.value for m in at.markdown)
    assert len(at.expander) >= 3  # each cell in words, then its code


def test_start_measures_in_the_background_with_progress_and_cancels(runs_dir):
    at = app(owner="teacher")
    at.button(key="bt_cells_run").click().run()
    assert not at.exception and not at.error
    task = build_time_view.lab().task()
    assert task.kind == "cells" and task.labels == ["GRU", "LSTM", "LN-LSTM"]
    other = app(owner="student")  # another session sees it measuring, and cannot start a second
    assert other.button(key="bt_cells_run").disabled
    assert "Measuring 1 of 3: GRU" in other.get("progress")[0].proto.text
    assert any("a cell comparison started in another browser session" in i.value.lower() for i in other.info)
    at.run()
    at.button(key="bt_cancel").click().run()
    assert task.wait(10)
    at.run()
    assert any(w.value.startswith("Cancelled: cancelled after 0 of 3") for w in at.warning)
    assert results.saved(runs_dir / "_buildtime", "cells") == []


# ---- the command line ----------------------------------------------------------------------------------
def test_the_command_refuses_flags_that_do_not_go_with_the_cells_in_a_sentence():
    for flags, message in (
        (("--short",), "error: --short shortens the cell comparison: use it with --cells\n"),
        (("--cells", "--epochs", "2"), "error: --epochs and --no-tf1 are for the unrolling experiment; "),
    ):
        out = subprocess.run(
            [sys.executable, "-m", "core.experiment", *flags],
            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
        )  # fmt: skip
        assert out.returncode == 2 and out.stderr.startswith(message) and out.stdout == "", out.stderr
        assert "Traceback" not in out.stderr
