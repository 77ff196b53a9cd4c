"""The Build-time lab: its background runner, results on disk, figures and explanations, and the page
driven by AppTest. Measurements use tiny configs; result files here are test fixtures, made up."""

import dataclasses
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.commands.bench import parse_args, plan_of
from core.config import ConfigError
from core.lab import jobs, results
from core.lab.jobs import Lab, LabBusy
from core.measure.experiment import POST_FIGURES, post_plan
from core.measure.plan import BenchPlan
from core.model.unrollers import UNROLLERS
from core.presets import PRESETS
from explorer.common import services
from explorer.lab import figures, implementations
from explorer.lab import view as build_time_view
from tests.tiny import tiny_config, write_corpus

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "explorer" / "app.py")
MACHINE = {"cpu": "Fixture CPU 3000", "cores": 2, "tensorflow": "2.21.0", "python": "3.11.2"}
TINY = {"batch_size": 4, "num_layers": 1, "state_size": 8}


# ---- fixtures: made-up but well-formed results ---------------------------------------------------------
def fake_experiment() -> dict:
    """Every row of the post's plan with invented figures; static builds slowest, as it would."""
    rows = []
    for i, m in enumerate(post_plan()):
        slow = m.impl.endswith("static")
        row = {
            "label": m.label,
            "impl": m.impl,
            "post": m.post,
            "epochs": m.epochs,
            "trace_s": 8.0 if slow else 0.4,
            "first_call_s": 16.0 if slow else 0.5,
            "step_s": 0.12 if m.impl.endswith("scan") else 0.1,
        }
        if m.epochs:
            row |= {"epoch_losses": [3.5, 3.3, 3.2], "train_s": 60.0 + i}
        rows.append(row)
    return {"measured": "2025-01-31 14:02", "machine": MACHINE, "epochs": 3, "rows": rows, "ratios": {}}


def fake_sweep() -> dict:
    base = tiny_config()
    rows = [
        {
            "impl": impl,
            "num_steps": t,
            "config": dataclasses.replace(base, train=dataclasses.replace(base.train, num_steps=t)).to_dict(),
            "trace_s": (0.05 * t if impl == "static" else 0.4),
            "first_call_s": 0.5,
            "step_s": 0.01 * t,
            "chars_per_s": 1000.0 * t,
            "gflop_per_s": 1.0,
            "peak_rss_mb": 500.0,
        }
        for impl in ("static", "dynamic")
        for t in (50, 25)
    ]
    rows.append({"impl": "scan", "num_steps": 25, "config": base.to_dict(), "error": "RuntimeError: boom"})
    return {"machine": MACHINE, "preset": "seed", "args": {"sweep": "num_steps=25,50"}, "results": rows}


def write_json(path: Path, payload: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


pytestmark = pytest.mark.usefixtures("no_lab_workers_left")


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """An empty runs folder for the app, and no reference result unless a test writes one."""
    monkeypatch.setenv(services.RUNS_DIR_ENV, str(tmp_path / "runs"))
    for kind in results.REFERENCES:
        monkeypatch.setitem(results.REFERENCES, kind, tmp_path / "assets" / f"{kind}.json")
    return tmp_path / "runs"


@pytest.fixture
def app(runs_dir):
    def make(owner="tester", **query):
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params.update({"owner": owner, "tab": "Build time", **query})
        return at.run()

    return make


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def result_box(at):
    """The lab's result picker (the sidebar has select boxes too)."""
    return next(box for box in at.selectbox if box.label == "Result")


# ---- explanations, plans, results, figures (no measuring) ----------------------------------------------
def test_every_implementation_is_explained_with_its_real_code():
    assert implementations.names() == UNROLLERS.names()  # one registry: the TF1 family is in it
    assert [n for n in UNROLLERS if implementations.is_tf1(n)] == ["tf1-static", "tf1-dynamic", "tf1-scan"]
    marks = {
        "static": "for t in range(",
        "dynamic": "tf.while_loop",
        "scan": "tf.scan(",
        "keras": "keras.layers.RNN(",
        "keras-fused": "fused_layer(",
        "fused": "fused.unroll(",
        "tf1-static": "static_rnn(",
        "tf1-dynamic": "dynamic_rnn(",
        "tf1-scan": "tf.scan(",
    }
    for name in implementations.names():
        assert implementations.explanation(name) != implementations.entry(name).description  # written for it
        code = implementations.snippet(name)
        source, line = implementations.source_of(name).split(", line ")
        assert code in (ROOT / source).read_text(encoding="utf-8")  # quoted, not copied: it cannot drift
        assert (ROOT / source).read_text(encoding="utf-8").splitlines()[int(line) - 1] == code.splitlines()[0]
        assert code.startswith("def ") and marks[name] in code, name


def test_a_sweep_is_the_bench_clis_own_plan(tmp_path):
    corpus = str(write_corpus(tmp_path))
    plan = jobs.sweep_plan(
        ["static", "tf1-dynamic"], "gru", "num_steps", [10, 20], {"num_steps": 200, **TINY}, 2, corpus
    )
    points = plan.points()
    assert [(p.impl, p.swept) for p in points] == [
        ("static", {"num_steps": 10}),
        ("static", {"num_steps": 20}),
        ("tf1-dynamic", {"num_steps": 10}),
        ("tf1-dynamic", {"num_steps": 20}),
    ]
    config = points[1].config
    assert (config.model.impl, config.model.cell, config.model.state_size, config.model.num_layers) == (
        "static",
        "gru",
        8,
        1,
    )
    assert (config.train.batch_size, config.train.num_steps, config.corpus) == (4, 20, corpus)
    # The same plan as the command line builds from the same flags: the same measurements, the same "args".
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]
    cli = plan_of(parse_args(["--preset", "seed", "--corpus", corpus, "--impls", "static,tf1-dynamic", "--cell",
                              "gru", "--sweep", "num_steps=10,20", "--timed-steps", "2", "--warmup",
                              str(jobs.WARMUP), *flags]))  # fmt: skip
    assert cli == plan and cli.describe() == plan.describe()
    assert plan.describe()["sweep"] == "num_steps=10,20"


def test_impossible_sweeps_are_refused_in_words(tmp_path):
    assert jobs.parse_values("25, 50,25 100") == [25, 50, 100]
    with pytest.raises(ConfigError, match="whole numbers"):
        jobs.parse_values("25, ten")
    assert jobs.usable(["keras-fused", "static", "tf1-static"], "rnn") == ["static", "tf1-static"]
    with pytest.raises(ConfigError, match="at least one implementation"):
        jobs.sweep_plan([], "lstm", "num_steps", [10], TINY, 2, "x.txt")
    with pytest.raises(ConfigError, match="at most 30"):
        jobs.sweep_plan(implementations.names(), "lstm", "num_steps", [1, 2, 3, 4], TINY, 2, "x.txt")
    with pytest.raises(ConfigError, match="num_layers must be 1..8"):
        jobs.sweep_plan(["dynamic"], "lstm", "num_layers", [4, 9], {"state_size": 8}, 2, "x.txt")


def test_results_are_saved_listed_and_loaded(tmp_path):
    folder = tmp_path / "_buildtime"
    plan = BenchPlan(PRESETS["seed"], ("dynamic",), "num_steps", (25,))
    first = results.save_sweep(fake_sweep()["results"], plan, folder)
    second = results.save_experiment(fake_experiment()["rows"], folder, epochs=3)
    again = results.save_sweep([], plan, folder)
    assert results.saved(folder, "sweep") == [again, first]  # newest first, none overwritten
    sweep = results.load(first, "sweep")
    assert set(sweep) == {"measured", "machine", "preset", "args", "results"} and sweep["preset"] == "seed"
    assert sweep["args"] == plan.describe() and results.swept_key(sweep) == "num_steps"
    experiment = results.load(second, "experiment")
    assert set(experiment) == {"measured", "machine", "epochs", "rows", "ratios"}
    assert experiment["ratios"]["TF2: list build ÷ dynamic build"] == pytest.approx(8.0 / 0.4)
    label = results.machine_label(experiment)
    assert f"{experiment['machine']['cores']} cores" in label and "measured 20" in label
    assert "date not recorded" in results.machine_label(fake_sweep() | {"measured": None})
    with pytest.raises(results.ResultError, match="not a build-time experiment"):
        results.load(first, "experiment")
    (folder / "broken.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(results.ResultError, match="broken.json cannot be read"):
        results.load(folder / "broken.json", "sweep")


def test_sweep_figures_show_static_growing_and_skip_failures():
    rows, key = fake_sweep()["results"], "num_steps"
    build = figures.sweep_build_figure(rows, key, log_y=True)
    assert [t.name for t in build.data] == ["static", "dynamic"]  # scan failed: not drawn
    assert list(build.data[0].x) == [25, 50] and build.data[0].y[1] > build.data[0].y[0]
    assert build.data[1].y[0] == build.data[1].y[1] and build.layout.yaxis.type == "log"
    parts = figures.sweep_parts_figure(rows, key)
    assert parts.layout.barmode == "stack" and [t.name.split()[0] for t in parts.data] == [
        "trace",
        "first",
        "one",
    ]
    assert parts.data[0].orientation == "h" and list(parts.data[0].y) == [
        "static num_steps=25",
        "static num_steps=50",
        "dynamic num_steps=25",
        "dynamic num_steps=50",
    ]
    assert list(figures.sweep_rate_figure(rows, key).data[0].y) == [25_000.0, 50_000.0]
    table = results.sweep_table(rows, "num_layers")  # not swept: read from each row's config
    assert {r["num_layers"] for r in table} == {1} and table[-1]["error"] == "RuntimeError: boom"


def test_post_figures_put_the_posts_numbers_beside_ours():
    rows = fake_experiment()["rows"]
    build = figures.post_build_figure(rows)
    assert [t.name for t in build.data] == [
        "build (trace) here",
        "first call here",
        "build in the post (2016)",
    ]
    assert list(build.data[2].x)[:3] == [POST_FIGURES["basic RNN, list"]["build_s"]] * 2 + [25.6]
    trained = figures.post_training_figure(rows)
    assert len(trained.data[0].y) == 6 and list(trained.data[1].x)[:2] == [117.8, 117.8]
    losses = figures.post_loss_figure(rows)
    assert [t.name for t in losses.data][-3:] == ["post: list", "post: dynamic_rnn", "post: tf.scan"]


# ---- the runner, measuring for real (tiny) -------------------------------------------------------------
def test_the_lab_measures_in_the_background_saves_and_refuses_a_second(tmp_path):
    cfg = tiny_config(write_corpus(tmp_path), cell="lstm", batch_size=8, num_steps=16)
    plan = post_plan(epochs=1, base=cfg, tf1=False)[1:3]  # the LSTM as a list, then dynamic
    lab, folder = Lab(), tmp_path / "_buildtime"
    task = jobs.start_experiment(lab, "me", plan, 1, folder)
    with pytest.raises(LabBusy, match=r"an experiment you started is measuring \(1 of 2\)"):
        jobs.start_experiment(lab, "me", plan, 1, folder)
    view = lab.current()
    assert view.running and view.current_label == "list (TF2 static)" and view.rows == ()
    assert task.wait(120)
    view = lab.current()
    assert view.status == "finished" and [r["impl"] for r in view.rows] == ["static", "dynamic"]
    assert all("error" not in r and r["trace_s"] > 0 and len(r["epoch_losses"]) == 1 for r in view.rows)
    saved = results.load(Path(view.saved), "experiment")
    assert saved["rows"] == json.loads(json.dumps(list(view.rows)))
    assert "TF2: list build ÷ dynamic build" in saved["ratios"]


# ---- the page ------------------------------------------------------------------------------------------
def test_the_post_section_shows_the_latest_result_beside_the_posts(app, runs_dir):
    at = app()
    assert not at.exception and any("No reference result yet" in c for c in texts(at.caption))
    assert any("Nothing measured yet" in i for i in texts(at.info))
    write_json(runs_dir / "_buildtime" / "experiment-20250131-140200.json", fake_experiment())
    write_json(results.REFERENCES["experiment"], fake_experiment() | {"measured": "2024-12-01 09:00"})
    at.run()
    assert not at.exception and not at.error
    assert result_box(at).options == [
        "measured here, 2025-01-31 14:02:00",
        "reference: Fixture CPU 3000, 2 cores, TensorFlow 2.21.0, measured 2024-12-01 09:00",
    ]
    assert result_box(at).value == "experiment-20250131-140200.json"  # the newest shows first
    assert any(c.startswith("Measured on Fixture CPU 3000, 2 cores") for c in texts(at.caption))
    table = at.dataframe[0].value.set_index("measurement")
    assert (
        table.loc["list (TF1 static)", "post build s"] == 25.6
        and table.loc["list (TF2 static)", "build s"] == 8.0
    )
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["post: list build ÷ dynamic build"] == f"{25.6 / 0.53:.2f}×"
    assert metrics["TF2: list build ÷ dynamic build"] == "20.00×"
    assert metrics["TF1: scan step ÷ dynamic step"] == "1.20×"
    assert len(at.get("plotly_chart")) == 3
    result_box(at).set_value("reference").run()
    assert any(
        c == "Reference measured on Fixture CPU 3000, 2 cores, TensorFlow 2.21.0, measured 2024-12-01 09:00"
        for c in texts(at.caption)
    )


def test_the_experiment_runs_in_the_background_one_at_a_time_and_cancels(app, runs_dir):
    at = app(owner="teacher")
    at.radio(key="bt_variant").set_value("Quick demo")
    at.button(key="bt_run").click().run()
    assert not at.exception and not at.error
    task = build_time_view.lab().task()
    assert task.view().running and task.labels == [m.label for m in post_plan(epochs=1, tf1=False)]
    other = app(owner="student")  # another browser session, and a reload, re-attach to the same experiment
    assert other.button(key="bt_run").disabled
    assert any("started in another browser session is measuring (1 of 4)" in i for i in texts(other.info))
    assert "Measuring 1 of 4: basic RNN, list (TF2 static)" in other.get("progress")[0].proto.text
    assert not [b for b in other.button if b.key == "bt_cancel"]
    at.run()
    at.button(key="bt_cancel").click().run()
    assert task.wait(10)
    at.run()
    assert any(w.startswith("Cancelled: cancelled after 0 of 4") for w in texts(at.warning))
    assert not at.button(key="bt_run").disabled
    assert results.saved(runs_dir / "_buildtime", "experiment") == []


def test_explore_measures_one_tiny_point_and_saves_it(app, runs_dir):
    at = app(lab="Explore")
    for name in ("static", "scan"):
        at.checkbox(key=f"bt_use_{name}").uncheck()
    for key, value in TINY.items():
        at.number_input(key=f"bt_{key}").set_value(value)
    at.text_input(key="bt_values_num_steps").set_value("10")
    at.number_input(key="bt_timed").set_value(2).run()
    assert any(c.startswith("1 measurement. Each") for c in texts(at.caption))
    at.button(key="bt_measure").click().run()
    assert not at.exception and not at.error
    task = build_time_view.lab().task()
    assert task.labels == ["dynamic · num_steps=10"] and task.wait(120)
    at.run()
    assert any(s.startswith("Finished: 1 measurement in") for s in texts(at.success))
    row = at.dataframe[0].value.iloc[0]
    assert (row["implementation"], row["num_steps"], row["error"]) == ("dynamic", 10, "") and row[
        "trace_s"
    ] > 0
    assert len(at.get("plotly_chart")) == 3
    (path,) = results.saved(runs_dir / "_buildtime", "sweep")
    saved = json.loads(path.read_text())
    assert saved["args"]["impls"] == "dynamic" and saved["results"][0]["config"]["model"]["state_size"] == 8
