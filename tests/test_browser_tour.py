"""The app at a classroom projector's size (1024×768) in a real browser: the tour's sections and their live
experiments, and presentation mode.

A first visit opens the tour; each test opens its own first visit and walks to its section.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_kit import TIMEOUT_MS, screenshot_path, wait_idle, wait_ready, wait_until

pytest_plugins = ("tests.browser_kit",)


def traces(page, nth: int = 0) -> list:
    """The nth Plotly chart's traces on the page: [name, x values, y values] each."""
    return page.evaluate(
        """(nth) => {
        const plots = document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot');
        const plot = plots[nth];
        return plot && plot.data ? plot.data.map(t => [t.name || '', Array.from(t.x || []),
                                                        Array.from(t.y || [])]) : [];
    }""",
        nth,
    )


def grid_rows(page, first: bool = False):
    """The data section's grid: how many lines it draws (or, with `first`, its first line's text)."""
    return page.evaluate(
        """(first) => {
        const table = document.querySelector('.tour-batches table');
        const lines = table ? [...table.querySelectorAll('tr')].filter(tr => tr.querySelector('td[title]')) : [];
        if (!lines.length) return first ? '' : 0;
        return first ? [...lines[0].querySelectorAll('td[title]')].map(td => td.textContent).join('') : lines.length;
    }""",
        first,
    )


def sidebar_shown(page) -> bool:
    return page.evaluate("""() => {
        const bar = document.querySelector('[data-testid="stSidebar"]');
        if (!bar) return false;
        const box = bar.getBoundingClientRect();
        return box.width > 50 && box.right > 50;
    }""")


def cut_labels(page) -> list[str]:
    """Metric labels whose text is cut (wider than their box): a 1024×768 screen must show them whole."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid="stMetricLabel"]'))
        .filter(l => l.scrollWidth > l.clientWidth + 1).map(l => l.innerText)""")


def tour_section(page, title: str) -> None:
    wait_idle(page)
    page.get_by_text(title, exact=True).first.click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(title)))).to_be_visible(timeout=TIMEOUT_MS)


def first_visit(page, app_url: str) -> None:
    page.goto(app_url)
    wait_ready(page)


def test_a_first_visit_opens_the_tour_on_the_text_cut_into_windows(app_url, projector):
    """Section 1: the corpus's first characters in a grid of batch rows, redrawn when the batch grows."""
    page = projector
    first_visit(page, app_url)
    expect(page.get_by_role("heading", name=re.compile("1 · The data"))).to_be_visible(timeout=TIMEOUT_MS)
    wait_until(lambda: grid_rows(page) == 2 * 4)  # batch 4: each row's x line and its y line
    assert grid_rows(page, first=True).startswith("First")  # the corpus's own first characters
    page.locator(".st-key-tour_batch input[type=range]").press("ArrowRight")
    page.wait_for_url(re.compile(r"[?&]tour_batch=5(&|$)"))
    wait_until(lambda: grid_rows(page) == 2 * 5)
    page.mouse.move(700, 5)
    page.screenshot(path=str(screenshot_path("tour.png")), full_page=False)


SECTIONS = ("2 · One step", "4 · dynamic_rnn and scan", "5 · Better cells", "6 · Stacking and dropout",
            "7 · Layer normalisation")  # fmt: skip


@pytest.mark.parametrize("title", SECTIONS, ids=lambda title: title.replace(" · ", "-"))
def test_a_tour_section_draws_without_an_error(app_url, projector, title):
    page = projector
    first_visit(page, app_url)
    tour_section(page, title)
    wait_idle(page)
    assert not page.get_by_text("Something went wrong").count(), title


def test_unrolling_as_a_list_grows_the_graph_with_num_steps_and_the_loops_stay_flat(app_url, projector):
    """Section 3's live experiment: the graphs' sizes (and seconds) against num_steps, per implementation."""
    page = projector
    first_visit(page, app_url)
    tour_section(page, "3 · Unrolling as a list")
    wait_idle(page)
    page.locator(".st-key-tour_list_run button").click()
    wait_until(lambda: any(len(x) == 3 for _, x, _ in traces(page)), timeout=180)
    lines = [(name, y) for name, x, y in traces(page) if len(x) == 3]  # ops, and seconds, per implementation
    assert len({name for name, _ in lines}) >= 3, lines
    ops = max(
        (y for name, y in lines if "list" in name.lower()), key=lambda y: y[-1]
    )  # ops outnumber seconds
    assert ops[0] < ops[1] < ops[2] and ops[2] > 1000  # the list's graph grows with num_steps
    loops = [y for name, y in lines if "list" not in name.lower() and y[-1] > 100]
    assert loops and all(y[2] - y[0] < 50 for y in loops)  # the loops' stay flat


def test_generating_text_samples_at_three_temperatures_and_a_new_temperature_resamples(app_url, projector):
    """Section 8: three texts from one prime and seed, one per temperature; moving one redraws them."""
    page = projector
    first_visit(page, app_url)
    tour_section(page, "8 · Generating text")
    samples = page.locator('[data-testid="stCode"]')
    wait_until(
        lambda: samples.count() >= 4 and all(t.startswith("ROMEO:") for t in samples.all_inner_texts())
    )
    texts = samples.all_inner_texts()
    assert len(set(texts[:3])) == 3  # three temperatures, three texts from one prime and seed
    page.locator(".st-key-tour_gen_t2 [role=slider], .st-key-tour_gen_t2 input[type=range]").first.press(
        "ArrowLeft"
    )
    wait_until(lambda: samples.all_inner_texts()[:3] != texts[:3])
    assert not page.get_by_text("Something went wrong").count()


def test_presentation_mode_puts_the_chart_first_and_cuts_nothing_at_1024x768(app_url, projector):
    page = projector
    page.goto(app_url + "?tab=Train&present=true")
    wait_ready(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    expect(chart).to_be_visible(timeout=TIMEOUT_MS)
    wait_until(lambda: len(traces(page)) > 0)
    assert chart.bounding_box()["y"] < 768  # above the fold: the class sees the chart without scrolling
    assert not sidebar_shown(page)  # folded away: the page's width goes to the chart
    assert cut_labels(page) == []
    page.mouse.move(700, 5)
    page.screenshot(path=str(screenshot_path("present.png")), full_page=False)
    for tab in ("Runs", "Generate", "Inside", "Build time", "Tour"):  # every tab reads whole at this size
        page.get_by_role("tab", name=tab).click()
        wait_idle(page)
        assert cut_labels(page) == [], tab
        assert not page.get_by_text("Something went wrong").count(), tab
