"""A run stopped by its owner in a real browser: what a reload shows, the share link, Generate against the
command line, and another session's view.

One run for the module (`stopped`): started, trained until it has a chart and a sample, then stopped. Each
test opens its own page at the owner's address (the secret is in the URL), so none depends on another.
"""

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from core.runs.store import RunStore
from tests.browser_kit import (
    ROOT,
    TIMEOUT_MS,
    chart_points,
    latest_sample_step,
    new_page,
    set_number,
    start_a_small_run,
    wait_idle,
    wait_ready,
    wait_until,
)

pytest_plugins = ("tests.browser_kit",)
STOPPED = re.compile(r"^Stopped: ")


@pytest.fixture(scope="module")
def stopped(app_url, browser, tmp_path_factory):
    """A small run trained until its chart has grown and a second live sample came, then Stop pressed on
    the page that started it (an earlier stop could come while `auto` still times its candidates)."""
    with new_page(browser, tmp_path_factory.mktemp("owner")) as page:
        run = start_a_small_run(page, app_url)
        wait_until(lambda: chart_points(page, run.run_id) > 0)
        first = chart_points(page, run.run_id)
        wait_until(lambda: chart_points(page, run.run_id) > first)
        expect(page.get_by_text(re.compile(r"Live sample at step"))).to_be_visible(timeout=TIMEOUT_MS)
        step = latest_sample_step(page)
        wait_until(lambda: latest_sample_step(page) > step)
        page.get_by_role("button", name="Stop", exact=True).click()
        expect(page.get_by_text(STOPPED)).to_be_visible(timeout=20_000)
        yield run


def test_stop_ends_the_run(stopped, runs):
    expect(stopped.page.get_by_text(STOPPED)).to_be_visible()
    assert RunStore(runs).get(stopped.run_id).status()["status"] == "stopped"


def test_after_a_stop_a_reload_keeps_the_owner_and_the_run_and_shows_what_it_left(stopped, page):
    page.goto(stopped.url)
    wait_ready(page)
    wait_until(lambda: chart_points(page, stopped.run_id) > 0)  # a page showing the run, as its owner left it
    page.reload()
    wait_ready(page)
    assert f"owner={stopped.owner}" in page.url and f"run={stopped.run_id}" in page.url
    expect(page.get_by_text(STOPPED)).to_be_visible()
    expect(
        page.locator('[data-testid="stPlotlyChart"]').first
    ).to_be_visible()  # the loss (then the gradient norm)
    expect(page.get_by_role("button", name="Continue training")).to_be_visible()  # the owner's to press


def test_share_gives_a_link_without_the_secret_that_shows_the_run_read_only(stopped, page, browser):
    page.goto(stopped.url)
    wait_ready(page)
    expect(page.get_by_text(STOPPED)).to_be_visible()
    link = share_link(page)
    assert f"run={stopped.run_id}" in link and "owner" not in link and stopped.owner not in link
    viewer = browser.new_page()
    viewer.goto(link)
    wait_ready(viewer)
    expect(viewer.get_by_text(STOPPED)).to_be_visible()
    expect(
        viewer.get_by_text(re.compile(r"View only: this run belongs to another browser session"))
    ).to_be_visible()
    expect(viewer.get_by_role("button", name="Continue training")).to_have_count(0)
    assert f"owner={stopped.owner}" not in viewer.url
    viewer.close()


def share_link(page) -> str:
    """Open the run's Share popover and read its link; a rerun that redraws the panel closes the popover
    again, so it is opened once the page is idle, and again if the link does not show."""
    code = page.locator('[data-testid="stCode"]').filter(has_text="run=")
    for _ in range(3):
        wait_idle(page)
        page.get_by_role("button", name="Share").click()
        try:
            expect(code.first).to_be_visible(timeout=10_000)
            return code.first.inner_text().strip()
        except AssertionError:
            continue
    expect(code.first).to_be_visible(timeout=10_000)
    return code.first.inner_text().strip()


def test_generate_argmax_is_the_command_lines_for_the_same_run_and_prime(stopped, page, runs):
    """The same text from the app and from `core.sample`: the app samples the trained weights."""
    page.goto(stopped.url)
    wait_ready(page)
    page.get_by_role("tab", name="Generate").click()
    set_number(page, "length", 120)
    wait_idle(page)
    page.locator(".st-key-argmax label").click()
    page.wait_for_url(re.compile(r"[?&]argmax=true"))
    wait_idle(page)
    page.get_by_role("button", name="Generate", exact=True).click()
    generated = page.locator('[data-testid="stCode"]').filter(has_text=re.compile(r"^The "))
    expect(generated).to_be_visible()
    wait_until(lambda: len(generated.inner_text()) >= len("The ") + 120)
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.sample",
            "--runs-dir",
            str(runs),
            "--run",
            stopped.run_id,
            "--prime",
            "The ",
            "--length",
            "120",
            "--argmax",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert cli.returncode == 0, cli.stderr
    assert generated.inner_text() == cli.stdout.rstrip("\n")


def test_another_browser_session_sees_none_of_these_runs_only_the_shipped_example(stopped, app_url, page):
    """No owner in its URL: a session of its own."""
    page.goto(app_url + "?tab=Runs")
    wait_ready(page)
    expect(page.get_by_text(re.compile(r"^example-quick: an example run"))).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text(re.compile(stopped.run_id))).to_have_count(0)
    assert f"owner={stopped.owner}" not in page.url
