"""size_by_speed: the rule picks what the table says on made-up speeds; a sized run trains, records and
keeps the chosen model (core/training/sizing.py)."""

import dataclasses
import json

import pytest

from core.config import RunConfig
from core.presets import PRESETS
from core.runs.rows import RowError, Sized
from core.training import sizing
from core.training.sizing import SIZES, Size, choose, predicted_steps

TABLE = (
    Size("small", "gru", 1, 16, 0.0, 1e-2, 1.0, 0),
    Size("medium", "gru", 1, 24, 0.0, 7e-3, 2.0, 500),
    Size("large", "gru", 1, 32, 0.0, 5e-3, 3.0, 1_000),
)
USABLE = 1 - sizing.KEPT_FOR_EVALUATION


def seconds_for(steps: int, size: Size, first_step_s: float) -> float:
    """The budget's seconds left that hold exactly `steps` of `size`."""
    return steps * first_step_s * size.step_ratio / USABLE + 1e-6


@pytest.mark.parametrize(
    "first_step_s, seconds_left, chosen",
    [
        (0.1, seconds_for(499, TABLE[1], 0.1), "small"),  # medium's 500 steps not held: the first row
        (0.1, seconds_for(500, TABLE[1], 0.1), "medium"),  # held exactly
        (0.1, seconds_for(999, TABLE[2], 0.1), "medium"),  # large one step short
        (0.1, seconds_for(1_000, TABLE[2], 0.1), "large"),
        (0.2, seconds_for(1_000, TABLE[2], 0.1), "medium"),  # a machine half as fast, the same budget
        (0.05, seconds_for(1_000, TABLE[2], 0.1), "large"),  # twice as fast
        (10.0, 1.0, "small"),  # a budget that holds nothing: still the first row
    ],
)
def test_the_rule_picks_the_largest_row_whose_steps_the_budget_holds(first_step_s, seconds_left, chosen):
    size, sized = choose(first_step_s, seconds_left, TABLE)
    assert size.name == sized.chosen == chosen
    assert sized.steps == {s.name: predicted_steps(s, first_step_s, seconds_left) for s in TABLE}
    assert sized.first_step_s == first_step_s and sized.seconds_left == seconds_left


@pytest.mark.parametrize(
    "first_step_s, seconds_left, chosen",
    [  # the first step and the seconds left that runs measured (docs/time-to-quality.md)
        (0.268, 280.0, "GRU 256"),  # half this machine's speed
        (0.127, 284.0, "GRU 512"),  # this machine, 5 minutes
        (0.1487, 575.9, "GRU 512, dropout 0.2"),  # twice the steps: GRU 512 alone overfits there
    ],
)
def test_the_shipped_table_picks_what_the_runs_measured_best(first_step_s, seconds_left, chosen):
    assert choose(first_step_s, seconds_left)[0].name == chosen


def test_the_predicted_steps_are_the_usable_seconds_over_the_rows_step_time():
    assert abs(predicted_steps(TABLE[2], 0.1, 300.0) - 300 * USABLE / 0.3) <= 1  # rounded down
    assert predicted_steps(TABLE[0], 0.1, -5.0) == 0


def test_the_table_starts_at_the_quick_preset_and_grows():
    quick = PRESETS["quick"]
    assert quick.train.size_by_speed and quick.train.max_minutes > 0
    assert SIZES[0].applied(quick) == quick  # a slow machine trains the preset as it is set
    assert SIZES[0].step_ratio == 1.0 and SIZES[0].least_steps == 0
    for before, after in zip(SIZES, SIZES[1:]):
        assert after.step_ratio > before.step_ratio and after.least_steps > 0


def test_applies_only_to_a_new_time_budgeted_run_that_asks():
    quick = PRESETS["quick"]
    assert sizing.applies(quick, resume=False)
    assert not sizing.applies(quick, resume=True)
    unbudgeted = dataclasses.replace(quick, train=dataclasses.replace(quick.train, max_minutes=0.0))
    assert not sizing.applies(unbudgeted, resume=False)
    off = dataclasses.replace(quick, train=dataclasses.replace(quick.train, size_by_speed=False))
    assert not sizing.applies(off, resume=False)


def test_a_sized_row_refuses_a_bad_table_of_steps():
    assert Sized.from_json({"chosen": "GRU 384", "steps": {"GRU 256": 10}}).steps == {"GRU 256": 10}
    with pytest.raises(RowError, match="steps"):
        Sized.from_json({"chosen": "GRU 384", "steps": {"GRU 256": -1}})


def test_a_sized_run_trains_the_chosen_row_and_its_folder_and_record_say_so(tmp_path, monkeypatch):
    """A tiny table whose second row any machine reaches: the run trains that row's model, and the
    folder's config, its status and the rebuilt record all hold the choice."""
    from core.runs.store import RunStore
    from core.training.launch import create_run, make_trainer, open_record

    table = (
        Size("tiny 8", "gru", 1, 8, 0.0, 1e-2, 1.0, 0),
        Size("tiny 12", "gru", 1, 12, 0.0, 5e-3, 1.5, 1),
    )
    monkeypatch.setattr(sizing, "SIZES", table)
    corpus = tmp_path / "c.txt"
    corpus.write_text("to be or not to be, that is the question. " * 40)
    config = RunConfig(corpus=str(corpus))
    config = dataclasses.replace(
        config,
        model=dataclasses.replace(config.model, cell="gru", state_size=8, impl="dynamic"),
        train=dataclasses.replace(
            config.train,
            batch_size=4,
            num_steps=10,
            max_steps=3,
            max_minutes=5.0,
            size_by_speed=True,
            learning_rate=1e-2,  # the table's first row, as it is: so the run is sized
            eval_every=0,
            sample_every=0,
        ),
    )
    store = RunStore(tmp_path / "runs")
    run_dir, loaded = create_run(store, config, owner="test")
    record = open_record(run_dir, False)
    trainer = make_trainer(run_dir, record, False, loaded)
    snap = trainer.run()
    assert snap.status == "finished", snap.message
    assert trainer.model.stack.cells[0].units == 12  # the chosen row's model trained
    saved = run_dir.config()
    assert (saved.model.state_size, saved.train.learning_rate) == (12, 5e-3)
    assert run_dir.meta()["owner"] == "test"  # the rewritten config keeps who may stop the run
    assert snap.sized.chosen == "tiny 12" and snap.config["model"]["state_size"] == 12
    assert json.loads((run_dir.path / "status.json").read_text())["sized"]["chosen"] == "tiny 12"
    again = run_dir.load_record().snapshot()
    assert again.sized == snap.sized and again.config["model"]["state_size"] == 12
    assert any(line.startswith("Sized by speed: tiny 12") for line in snap.log)


def test_a_run_whose_model_was_set_by_hand_is_not_sized_and_says_why():
    quick = PRESETS["quick"]
    wider = dataclasses.replace(quick, model=dataclasses.replace(quick.model, state_size=512))
    assert not sizing.applies(wider, resume=False)
    assert "differs from the table's first row" in sizing.why_not(wider, resume=False)
    assert "resumed" in sizing.why_not(quick, resume=True)
    assert sizing.why_not(quick, resume=False) == ""  # it is sized
    off = dataclasses.replace(quick, train=dataclasses.replace(quick.train, size_by_speed=False))
    assert sizing.why_not(off, resume=False) == ""  # it did not ask


def test_reference_curves_are_read_as_written_and_malformed_entries_left_out(tmp_path):
    from core.runs import references

    path = tmp_path / "curves.json"
    good = {"date": "2026-12-02", "chars_per_s": 51355, "minutes": [0.5, 4.9], "val_loss": [1.77, 1.49]}
    path.write_text(
        json.dumps(
            {
                "quick": good,
                "uneven": {**good, "minutes": [0.5]},
                "nan": {**good, "val_loss": [1.7, float("nan")]},
                "text": {**good, "minutes": ["a", "b"]},
                "speed": {**good, "chars_per_s": "fast"},
                "list": [1, 2],
            }
        )
    )
    (curve,) = references.load(path)
    assert (curve.name, curve.minutes, curve.val_loss) == ("quick", (0.5, 4.9), (1.77, 1.49))
    assert "51,355 chars/s" in curve.label
    path.write_text("not json")
    assert references.load(path) == []
    assert references.load(tmp_path / "absent.json") == []


def test_the_card_says_what_sizing_chose_and_from_what():
    from explorer.train.card import facts

    sized = Sized("GRU 512", 0.126, 284.0, {"GRU 256": 2063, "GRU 384": 1146, "GRU 512": 699})
    size = dict(facts(PRESETS["quick"], None, sized))["Size"]
    assert "Sized to this machine's speed: GRU 512" in size
    assert "a GRU 256 step took 0.126 s" in size and "GRU 512 699 steps" in size
    assert "Sized" not in dict(facts(PRESETS["quick"], None))["Size"]
