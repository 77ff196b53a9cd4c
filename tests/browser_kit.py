"""What every browser test shares: the app served on a free port, Debian's chromium, pages, and the waits.

A browser test module registers these fixtures with `pytest_plugins = ("tests.browser_kit",)`. The app
server and the browser are module-scoped: each module starts its own app once (its own runs folder, so
a run one module trains never competes with another module's), and ending the server ends its workers.
Waits are on the page's own state (elements, the URL, Plotly's data), never fixed sleeps.

PYTEST_DONT_REWRITE: a test module imports this before its `pytest_plugins` line registers it, too late
for pytest to rewrite these asserts (it would warn so); they carry their own messages.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from core.presets import PRESETS

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


# ---- the app and the browser ----------------------------------------------------------------------------
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
    log = open(runs.parent / f"streamlit-{runs.name}.log", "w")  # one a module, beside its runs folder
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


@contextmanager
def new_page(browser, keep_in: Path, width: int = 1400, height: int = 1100):
    """A page of this size; when it closes, its last screenshot is kept in `keep_in` for a look."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.screenshot(path=str(keep_in / "last.png"), full_page=True)
    page.close()


@pytest.fixture
def page(browser, tmp_path):
    """A fresh page; if the test fails, its last screenshot is kept for a look."""
    with new_page(browser, tmp_path) as page:
        yield page


@pytest.fixture
def projector(browser, tmp_path):
    """A page the size of a classroom projector's screen."""
    with new_page(browser, tmp_path, 1024, 768) as page:
        yield page


def screenshot_path(name: str = "screenshot.png") -> Path:
    """assets/<name> when RNN_EXPLORER_SCREENSHOT=1 (the README's pictures), else a scratch file."""
    if os.environ.get("RNN_EXPLORER_SCREENSHOT") == "1":
        return ROOT / "assets" / name
    return Path(tempfile.mkdtemp(prefix="rnn-explorer-")) / name


# ---- waiting on the page --------------------------------------------------------------------------------
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


def wait_until(predicate, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "the page did not change in time"
        time.sleep(0.1)


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


# ---- the Train tab's live view --------------------------------------------------------------------------
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


@dataclass(frozen=True)
class Started:
    """A run started from the Train tab, and the page that pressed Start (its URL holds the secret)."""

    page: Page
    owner: str  # the session's secret, the URL's `owner` parameter
    run_id: str
    url: str  # the page's address once the run is picked: tab, owner, settings and run


def start_a_small_run(page, app_url: str) -> Started:
    """The quick preset, made small: state 32, a budget of 1000 steps, samples and validation every 20;
    Start pressed, and this run's own panel drawn."""
    page.goto(app_url + "?tab=Train")
    wait_ready(page)
    page.wait_for_url(re.compile(r"owner=\w+"))
    owner = re.search(r"owner=(\w+)", page.url).group(1)
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
    return Started(page, owner, run_id, page.url)
