"""Fixtures every test module may use."""

import pytest

from tests.tiny import write_corpus


@pytest.fixture
def corpus_path(tmp_path):
    """The tiny repetitive corpus in this test's folder (its path)."""
    return write_corpus(tmp_path)


@pytest.fixture(scope="module")
def no_lab_workers_left():
    """After a module that drives the Build time lab: its measurement cancelled, the app's workers ended."""
    yield
    from explorer.common import services  # Streamlit: only for the modules that ask
    from explorer.lab import view as build_time_view

    task = build_time_view.lab().task()
    if task is not None:
        task.cancel.set()
        task.wait(10)
    services.job_manager().shutdown()  # the spare training worker the app's first page starts


# Markers (pytest.ini declares them), so that `-m "not slow and not browser and not distributed"` is the
# inner loop: README.md, "Tests". By module, for files whose every test spawns processes, trains for
# seconds or drives a whole app; by name, for the few slow tests among fast ones.
MODULE_MARKS = {
    **dict.fromkeys(
        (
            "test_browser_inside",
            "test_browser_lab",
            "test_browser_stop",
            "test_browser_tour",
            "test_browser_train",
        ),
        "browser",
    ),
    "test_distribute": "distributed",
    **dict.fromkeys(
        (
            "test_bench",
            "test_buildtime",
            "test_cells_experiment",
            "test_checkpoints",
            "test_cli",
            "test_disk_full",
            "test_example",
            "test_experiment",
            "test_inside_app",
            "test_jobs",
            "test_resume",
            "test_tour_basics",
            "test_tour_cells",
        ),
        "slow",
    ),
}
SLOW_TESTS = (  # measured at 5-22 s each (--durations), then the next ones
    "test_an_exported_run_loads_without_the_project_and_matches_core_sample",
    "test_trains_like_dynamic",
    "test_a_run_keeps_milestones_across_a_resume_and_the_reader_reads_any_of_them",
    "test_an_auto_run_records_its_choice_and_learns_as_a_named_one",
    "test_start_trains_a_run_in_the_background",
    "test_the_quick_preset_sized_by_speed_trains_the_row_it_chose",
    "test_the_longer_preset_trains_its_first_steps",
    # 3.4-6.4 s each (--durations, 2026-12-02, when the inner loop took 3:28); their modules keep faster tests
    "test_the_quick_preset_trains_its_first_steps",
    "test_a_run_without_a_checkpoint_is_refused_in_a_sentence",
    "test_an_out_that_is_a_file_is_refused_in_a_sentence",
    "test_a_reader_follows_a_training_runs_checkpoints_without_a_new_graph",
    "test_samples_come_at_early_log_spaced_steps_and_at_the_end",
)


def pytest_collection_modifyitems(items):
    for item in items:
        mark = MODULE_MARKS.get(item.module.__name__.rsplit(".", 1)[-1])
        if mark:
            item.add_marker(getattr(pytest.mark, mark))
        if item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
