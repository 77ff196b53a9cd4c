"""A run trained from the Train tab in a real browser: Start, the live view updating by itself, a reload.

One run, started once for the module (`live`); each test opens what it needs from it. A stopped run's
behaviours are in tests/test_browser_stop.py: a module of their own, so that stopping never races these.
"""

import re

import pytest
from playwright.sync_api import expect

from core.presets import PRESETS
from core.runs.store import RunStore
from tests.browser_kit import (
    TIMEOUT_MS,
    chart_points,
    latest_sample_step,
    new_page,
    screenshot_path,
    start_a_small_run,
    wait_ready,
    wait_until,
)

pytest_plugins = ("tests.browser_kit",)


@pytest.fixture(scope="module")
def live(app_url, browser, tmp_path_factory):
    """A small run training (a budget of 1000 steps), and the page that started it."""
    with new_page(browser, tmp_path_factory.mktemp("starter")) as page:
        yield start_a_small_run(page, app_url)


def test_start_trains_a_run_with_the_settings_chosen(live, runs):
    assert f"run={live.run_id}" in live.url and f"owner={live.owner}" in live.url
    config = RunStore(runs).get(live.run_id).config()
    assert (config.model.cell, config.model.state_size) == (PRESETS["quick"].model.cell, 32)
    train = config.train
    assert (train.epochs, train.max_steps, train.sample_every, train.eval_every) == (10, 1000, 20, 20)


def test_the_live_view_updates_by_itself(live):
    """More loss points, then a newer sample, on the page that pressed Start, with no input from us."""
    page = live.page
    wait_until(lambda: chart_points(page, live.run_id) > 0)
    first = chart_points(page, live.run_id)
    wait_until(lambda: chart_points(page, live.run_id) > first)
    expect(page.get_by_text(re.compile(r"Live sample at step"))).to_be_visible(timeout=TIMEOUT_MS)
    step = latest_sample_step(page)
    wait_until(lambda: latest_sample_step(page) > step)
    expect(page.locator('[data-testid="stProgress"]')).to_be_visible()
    page.mouse.move(700, 5)  # no tooltip in the picture
    page.screenshot(path=str(screenshot_path()), full_page=True)


def test_a_reload_while_it_trains_reattaches_to_the_same_run_still_updating(live, page):
    page.goto(live.url)
    wait_ready(page)
    wait_until(lambda: chart_points(page, live.run_id) > 0)  # a page showing the run, as in the starter's tab
    page.reload()
    wait_ready(page)
    assert f"run={live.run_id}" in page.url
    wait_until(lambda: chart_points(page, live.run_id) > 0)
    before = chart_points(page, live.run_id)
    wait_until(lambda: chart_points(page, live.run_id) > before)
