"""The Inside tab in a real browser: the shipped example read on first open, a unit picked."""

import re

from playwright.sync_api import expect

from tests.browser_kit import TIMEOUT_MS, screenshot_path, set_number, wait_ready, wait_until

pytest_plugins = ("tests.browser_kit",)


def coloured_titles(page) -> list[str]:
    """The hover titles of the first coloured text on the page (one per character)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('span[title]')).map(s => s.title)""")


def test_inside_reads_the_example_and_a_unit_can_be_picked(app_url, page):
    """On first open, the Inside tab reads the shipped example: coloured text with values on hover;
    picking another unit redraws it with that unit's values."""
    page.goto(app_url + "?tab=Inside")
    wait_ready(page)
    first_read = page.get_by_text(re.compile(r"^example-quick at step [\d,]+ read 1,000 characters"))
    expect(first_read).to_be_visible(timeout=TIMEOUT_MS)  # the first read loads the model, builds its graph
    expect(page.get_by_text(re.compile(r"^layer 1 h 0: hover a character"))).to_be_visible()
    wait_until(lambda: len(coloured_titles(page)) == 1000)
    before = coloured_titles(page)
    assert re.match(r"^.+: [+-]\d\.\d{3} · next: ", before[0]), before[0]
    set_number(page, "in_unit", 7)
    expect(page.get_by_text(re.compile(r"^layer 1 h 7: hover a character"))).to_be_visible()
    wait_until(lambda: coloured_titles(page) != before)
    assert len(coloured_titles(page)) == 1000
    page.mouse.move(700, 5)
    page.screenshot(path=str(screenshot_path("inside.png")), full_page=False)
