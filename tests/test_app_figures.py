"""The app's figures and tables from run snapshots, without a page: light loss charts, quality against
time, the loss axis, the runs table, CSV export."""

from core.runs.record import RunSnapshot
from core.runs.rows import EvalRow, MetricRow, Probe
from explorer.common import figures, tables


def test_the_loss_chart_stays_light_however_long_the_run():
    snap = RunSnapshot(
        "long",
        {},
        metrics=[MetricRow(step=i, train_loss=4.0 - i * 1e-4, elapsed_s=i * 0.01) for i in range(1, 10_001)],
        evals=[EvalRow(step=i, val_loss=3.9, elapsed_s=i * 0.01) for i in range(100, 10_001, 100)],
    )
    fig = figures.loss_figure(snap, x_axis="time")
    assert [len(trace.x) for trace in fig.data] == [2000, 2000, 100]
    assert fig.data[0].x[-1] == 100.0  # the newest point is always drawn
    assert fig.data[1].y[-1] < fig.data[1].y[0]  # smoothed, and still falling


def test_quality_against_time_draws_each_runs_validation_losses_where_they_came():
    snap = RunSnapshot("r", {"train": {"batch_size": 8, "num_steps": 20}})
    snap.evals = [
        EvalRow(step=1, val_loss=3.1),  # recorded before validation rows carried their wall time
        EvalRow(step=100, val_loss=2.0, wall_s=30.0),
        EvalRow(step=200, val_loss=1.6, wall_s=90.0),
    ]
    (by_time,) = figures.quality_figure([("a", snap)], "wall", curves=[]).data
    assert list(by_time.x) == [0.5, 1.5] and list(by_time.y) == [2.0, 1.6]
    (by_chars,) = figures.quality_figure([("a", snap)], "chars").data  # no reference curves on this axis
    assert list(by_chars.x) == [160, 16_000, 32_000] and list(by_chars.y) == [3.1, 2.0, 1.6]
    lines = figures.quality_figure([("a", snap)]).layout.shapes
    assert sorted(line.y0 for line in lines) == [loss for loss, _ in figures.REFERENCES]


def test_the_presets_measured_curves_are_drawn_dashed_beside_the_runs_on_the_minutes_axis():
    from core.runs.references import Curve, load

    snap = RunSnapshot("r", {"train": {"batch_size": 8, "num_steps": 20}})
    snap.evals = [EvalRow(step=100, val_loss=2.0, wall_s=30.0)]
    curve = Curve("quick", "2026-12-02", 16912, (1.2, 4.9), (1.75, 1.47))
    run, reference = figures.quality_figure([("a", snap)], "wall", curves=[curve]).data
    assert (list(reference.x), list(reference.y)) == ([1.2, 4.9], [1.75, 1.47])
    assert reference.line.dash == "dash" and "quick, measured 2026-12-02" in reference.name
    shipped = figures.quality_figure([("a", snap)], "wall").data[1:]  # assets/reference-curves.json
    assert [list(t.y) for t in shipped] == [list(c.val_loss) for c in load()] and shipped


def test_the_runs_table_names_the_implementation_auto_chose():
    snap = RunSnapshot("r", {"model": {"impl": "auto"}})
    assert tables.summary(snap)["impl"] == "auto"
    snap.probe = Probe(chosen="fused")
    assert tables.summary(snap)["impl"] == "auto → fused"


def test_csv_export_joins_validation_losses_to_their_steps():
    snap = RunSnapshot(
        "r",
        {},
        metrics=[MetricRow(step=s, epoch=1, train_loss=3.0) for s in (1, 2, 3)],
        evals=[EvalRow(step=2, val_loss=2.5)],
    )
    rows = tables.metrics_csv(snap).splitlines()
    assert rows[0].startswith("step,epoch,train_loss,val_loss")
    assert [r.split(",")[3] for r in rows[1:]] == ["", "2.5", ""]


def test_the_loss_axis_can_be_log_or_zoomed_on_the_later_loss():
    metrics = [MetricRow(step=i, train_loss=4.2 * 0.97**i + 1.5) for i in range(1, 201)]
    snap = RunSnapshot("r", {}, metrics=metrics, evals=[EvalRow(step=200, val_loss=1.55)])
    log = figures.loss_figure(snap, scale="log").layout.yaxis
    assert log.type == "log" and {"2", "5"} <= set(log.ticktext)  # whole labels, not a digit per minor tick
    low, high = figures.loss_figure(snap, smoothing=0.0, scale="recent").layout.yaxis.range
    later = [m.train_loss for m in metrics[100:]] + [1.55]
    assert low < min(later) and max(later) < high < 1.8  # the first, 5.6, is off the chart
