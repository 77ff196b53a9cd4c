"""The Build time tab in a real browser: the lab measures one small point live and draws it."""

import re

from playwright.sync_api import expect

from tests.browser_kit import TIMEOUT_MS, set_number, wait_idle, wait_ready, wait_until

pytest_plugins = ("tests.browser_kit",)


def plot_data(page) -> list:
    """(name, x) of every trace in the first Plotly chart on the page."""
    return page.evaluate("""() => {
        const plot = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
        return plot && plot.data ? plot.data.map(t => [t.name, Array.from(t.x || [])]) : [];
    }""")


def test_build_time_lab_measures_one_small_point(app_url, page):
    """The Build time tab's Explore: one implementation at one tiny size, measured live, its point drawn."""
    page.goto(app_url)
    wait_ready(page)
    page.get_by_role("tab", name="Build time").click()
    page.locator(".st-key-lab").get_by_text("Explore", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]lab=Explore"))
    for name in ("static", "scan"):  # leave dynamic alone ticked
        wait_idle(page)
        page.locator(f".st-key-bt_use_{name} label").click()
        page.wait_for_url(re.compile(rf"[?&]bt_use_{name}=false"))
    for key, value in (
        ("bt_state_size", 8),
        ("bt_batch_size", 4),
        ("bt_num_layers", 1),
        ("bt_values_num_steps", 10),
        ("bt_timed", 2),
    ):
        set_number(page, key, value)
    expect(page.get_by_text(re.compile(r"^1 measurement\. "))).to_be_visible()
    page.get_by_role("button", name="Measure", exact=True).click()
    expect(page.locator('[data-testid="stProgress"]')).to_contain_text(
        "Measuring 1 of 1: dynamic · num_steps=10"
    )
    expect(page.get_by_text(re.compile(r"^Finished: 1 measurement in"))).to_be_visible(timeout=TIMEOUT_MS)
    wait_until(lambda: plot_data(page) == [["dynamic", [10]]])
