"""The app in a real browser: preset, Start, live chart and samples updating by themselves, reload, Stop, generate;
and the Build time lab measuring one small point live.

Runs `streamlit run explorer/app.py` on a free port and drives Debian's chromium through Playwright.
Waits are on the page's own state (elements, the URL, Plotly's data), never fixed sleeps.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect, sync_playwright

from core.config import PRESETS

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert process.poll() is None, "streamlit exited during start-up"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} not healthy after {timeout} s")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """The app's runs folder."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def app_url(runs):
    port = free_port()
    env = {**os.environ, "RNN_EXPLORER_RUNS_DIR": str(runs), "PYTHONPATH": str(ROOT)}
    log = open(runs.parent / "streamlit.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "explorer/app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", process)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def screenshot_path(name: str = "screenshot.png") -> Path:
    """assets/<name> when RNN_EXPLORER_SCREENSHOT=1 (the README's pictures), else a scratch file."""
    if os.environ.get("RNN_EXPLORER_SCREENSHOT") == "1":
        return ROOT / "assets" / name
    return Path(tempfile.mkdtemp(prefix="rnn-explorer-")) / name


def wait_ready(page) -> None:
    """Connected, and the script has run at least once."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=TIMEOUT_MS
    )
    page.wait_for_selector(
        '[data-testid="stApp"]:not([data-test-script-state="initial"])', timeout=TIMEOUT_MS
    )


def wait_idle(page) -> None:
    """The script has finished its rerun: typing now cannot be swept away by a redraw."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=TIMEOUT_MS)


def set_number(page, key: str, value) -> None:
    """Type into the number input with this key and commit it; the bound URL parameter confirms it.

    A rerun that redraws the input between the typing and the Enter loses the edit, so it is tried
    again (each time after the page is idle) until the URL shows the value."""
    wanted = re.compile(rf"[?&]{key}={value}(&|$)")
    for _ in range(3):
        wait_idle(page)
        box = page.locator(f".st-key-{key} input")
        box.fill(str(value))
        box.press("Enter")
        try:
            page.wait_for_url(wanted, timeout=10_000)
            return
        except PlaywrightTimeoutError:
            continue
    page.wait_for_url(wanted, timeout=TIMEOUT_MS)


def set_choice(page, key: str, value, press: str) -> None:
    """Move the choice slider with this key one option per `press` (ArrowLeft or ArrowRight) until its
    bound URL parameter shows the value."""
    wanted = re.compile(rf"[?&]{key}={value}(&|$)")
    for _ in range(20):
        if wanted.search(page.url):
            return
        wait_idle(page)
        page.locator(f".st-key-{key} input[type=range]").press(press)
        page.wait_for_timeout(300)  # the rerun the move starts; the URL follows it
    page.wait_for_url(wanted, timeout=10_000)


def chart_points(page, run_id: str = "") -> int:
    """How many training-loss points the live Plotly chart holds (0 before it has any) — that of `run_id`
    only, if given (a chart keeps its run's id in its layout's uirevision): until a new run's panel is
    drawn, the page may still show the one before (the Train tab shows the example until a run is picked)."""
    return page.evaluate(
        """(run) => {
        const plot = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
        if (!plot || !plot.data || !plot.data.length) return 0;
        if (run && !String(plot.layout.uirevision || '').startsWith(run)) return 0;
        return plot.data[0].x.length;
    }""",
        run_id,
    )


def latest_sample_step(page) -> int:
    text = page.get_by_text(re.compile(r"Live sample at step [\d,]+")).first.inner_text()
    return int(re.search(r"step ([\d,]+)", text).group(1).replace(",", ""))


def wait_until(predicate, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "the page did not change in time"
        time.sleep(0.1)


@pytest.fixture
def page(browser, tmp_path):
    """A fresh page; if the test fails, its last screenshot is kept for a look."""
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
    page.close()


def test_train_watch_stop_reload_and_generate(app_url, runs, browser, page):
    page.goto(app_url + "?tab=Train")
    wait_ready(page)
    page.wait_for_url(re.compile(r"owner=\w+"))
    owner = re.search(r"owner=(\w+)", page.url).group(1)

    # The quick preset, made small: state 32, a budget of 1000 steps, samples and validation every 20.
    page.get_by_role("button", name="quick", exact=True).click()
    page.wait_for_url(re.compile(rf"cell={PRESETS['quick'].model.cell}"))  # differs from the default cell
    set_choice(page, "state", 32, "ArrowLeft")  # a slider over powers of two (and the presets' sizes)
    set_number(page, "epochs", 10)
    set_number(page, "max_steps", 1000)
    page.get_by_text("Validation, samples, checkpoints").click()
    set_number(page, "sample_every", 20)
    set_number(page, "eval_every", 20)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"[?&]run=[\w-]+"))
    run_id = re.search(r"[?&]run=([\w-]+)", page.url).group(1)
    # Until now the tab showed the example run's chart: wait for this run's own panel.
    status = page.locator('[data-testid="stAlert"]').filter(
        has_text=re.compile(r"Building the graph|Training")
    )
    expect(status.first).to_be_visible(timeout=TIMEOUT_MS)

    # The live view updates by itself: more loss points, then a newer sample, with no input from us.
    wait_until(lambda: chart_points(page, run_id) > 0)
    first = chart_points(page, run_id)
    wait_until(lambda: chart_points(page, run_id) > first)
    expect(page.get_by_text(re.compile(r"Live sample at step"))).to_be_visible(timeout=TIMEOUT_MS)
    step = latest_sample_step(page)
    wait_until(lambda: latest_sample_step(page) > step)
    expect(page.locator('[data-testid="stProgress"]')).to_be_visible()
    page.mouse.move(700, 5)  # no tooltip in the picture
    page.screenshot(path=str(screenshot_path()), full_page=True)

    # A reload while it trains re-attaches to the same run, still updating.
    page.reload()
    wait_ready(page)
    assert f"run={run_id}" in page.url
    wait_until(lambda: chart_points(page, run_id) > 0)
    before = chart_points(page, run_id)
    wait_until(lambda: chart_points(page, run_id) > before)

    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Stopped: "))).to_be_visible(timeout=20_000)

    # After a stop, a reload keeps the owner and the run, and shows what the run left.
    page.reload()
    wait_ready(page)
    assert f"owner={owner}" in page.url and f"run={run_id}" in page.url
    expect(page.get_by_text(re.compile(r"^Stopped: "))).to_be_visible()
    expect(
        page.locator('[data-testid="stPlotlyChart"]').first
    ).to_be_visible()  # the loss (then the gradient norm)
    expect(page.get_by_role("button", name="Continue training")).to_be_visible()  # the owner's to press

    # Share gives a link without the session's secret; opened elsewhere it shows the run, read-only.
    link = share_link(page)
    assert f"run={run_id}" in link and "owner" not in link and owner not in link
    viewer = browser.new_page()
    viewer.goto(link)
    wait_ready(viewer)
    expect(viewer.get_by_text(re.compile(r"^Stopped: "))).to_be_visible()
    expect(
        viewer.get_by_text(re.compile(r"View only: this run belongs to another browser session"))
    ).to_be_visible()
    expect(viewer.get_by_role("button", name="Continue training")).to_have_count(0)
    assert f"owner={owner}" not in viewer.url
    viewer.close()
    page.keyboard.press("Escape")  # the Share popover closed again

    # Generate's argmax text is the command line's for the same run and prime: the trained weights.
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
            run_id,
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

    # Another browser session (no owner in its URL) sees none of these runs, only the shipped example.
    other = browser.new_page()
    other.goto(app_url + "?tab=Runs")
    wait_ready(other)
    expect(other.get_by_text(re.compile(r"^example-quick: an example run"))).to_be_visible()
    wait_idle(other)
    expect(other.get_by_text(re.compile(run_id))).to_have_count(0)
    assert f"owner={owner}" not in other.url


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
        const plot = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
        const grid = plot && plot.data && plot.data.find(t => t.type === 'heatmap');
        if (!grid) return first ? '' : 0;
        return first ? grid.text[0].join('') : grid.z.length;
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


@pytest.fixture
def projector(browser, tmp_path):
    """A page the size of a classroom projector's screen."""
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
    page.close()


def tour_section(page, title: str) -> None:
    wait_idle(page)
    page.get_by_text(title, exact=True).first.click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(title)))).to_be_visible(timeout=TIMEOUT_MS)


def test_the_tour_at_a_projectors_size_runs_its_experiments(app_url, projector):
    """A first visit opens the tour; sections 1, 3 and 8 run their live experiments and show their
    figures: the text cut into windows, the graphs' sizes against num_steps, samples at three
    temperatures. Each section is walked to at 1024×768."""
    page = projector
    page.goto(app_url)
    wait_ready(page)
    expect(page.get_by_role("heading", name=re.compile("1 · The data"))).to_be_visible(timeout=TIMEOUT_MS)
    wait_until(lambda: grid_rows(page) == 2 * 4)  # batch 4: each row's x line and its y line
    assert grid_rows(page, first=True).startswith("First")  # the corpus's own first characters
    page.locator(".st-key-tour_batch input[type=range]").press("ArrowRight")
    page.wait_for_url(re.compile(r"[?&]tour_batch=5(&|$)"))
    wait_until(lambda: grid_rows(page) == 2 * 5)
    page.mouse.move(700, 5)
    page.screenshot(path=str(screenshot_path("tour.png")), full_page=False)

    for title in ("2 · One step", "4 · dynamic_rnn and scan", "5 · Better cells", "6 · Stacking and dropout",
                  "7 · Layer normalisation"):  # fmt: skip
        tour_section(page, title)
        wait_idle(page)
        assert not page.get_by_text("Something went wrong").count(), title

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
