"""The app's targets, measured in a real browser (Debian's chromium) driving `streamlit run explorer/app.py`.

    python benchmarks/app_targets.py [--runs 10] [--json FILE]

Prints, each measured in this one invocation: app start -> first page usable (cold: the Tour's first
slider shown and the sidebar's Start enabled; whether TensorFlow had loaded in the app by then, and when
it did), and the same for a Streamlit page of only those two widgets (`floor`: what Streamlit and the
browser take here); Start -> first loss point drawn (quick preset, dynamic and scan, warm spare worker); training
throughput inside the app with its page open and live-updating vs the CLI at the same config (interleaved
rounds); Stop -> "Stopped" shown, during training and during a static graph build; the app's memory after
N runs one after another; Start -> the new run named in the URL, alone and beside another session's
training run.
"""

import argparse
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

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
QUICK = "cell=gru&impl={impl}&state=256&batch=64&steps=100&epochs=2&lr=0.003"
POINTS_JS = """() => { const p = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
                      return p && p.data && p.data.length ? p.data[0].x.length : 0; }"""


class App:
    """A streamlit server on a free port with its own runs folder."""

    def __init__(self, script: str = "explorer/app.py"):
        self.runs = tempfile.mkdtemp(prefix="rnn-explorer-bench-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "RNN_EXPLORER_RUNS_DIR": self.runs}
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                script,
                "--server.port",
                str(self.port),
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def url(self, query: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/" + (f"?{query}" if query else "")

    def wait_healthy(self) -> None:
        while True:
            try:
                urllib.request.urlopen(self.url("") + "_stcore/health", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)

    def rss_mb(self) -> float:
        return next(
            int(line.split()[1]) / 1024
            for line in open(f"/proc/{self.proc.pid}/status")
            if line.startswith("VmRSS")
        )

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


@contextmanager
def running_app():
    app = App()
    try:
        app.wait_healthy()
        yield app
    finally:
        app.close()


def interactive(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Start training", disabled=False).wait_for(timeout=120_000)


def start_run(page) -> str:
    old = page.url
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(lambda url: "run=" in url and url != old, timeout=60_000)
    return re.search(r"run=([\w-]+)", page.url).group(1)


def wait_status(app: App, run_id: str, statuses: tuple, timeout: float = 600) -> dict:
    path, end = Path(app.runs) / run_id / "status.json", time.monotonic() + timeout
    while time.monotonic() < end:
        status = json.loads(path.read_text()) if path.exists() else {}
        if status.get("status") in statuses:
            return status
        time.sleep(0.05)
    raise TimeoutError(f"run {run_id} never reached {statuses}")


def tensorflow_loaded(pid: int) -> bool:
    """Whether the process has TensorFlow's library mapped (its import has begun)."""
    return "libtensorflow" in Path(f"/proc/{pid}/maps").read_text()


def first_page_usable(page, url: str) -> None:
    """The first page's own content can be used: the Tour's first slider, and the sidebar's Start."""
    page.goto(url)
    page.get_by_role("slider", name="batch_size: rows side by side").wait_for(timeout=120_000)
    page.get_by_role("button", name="Start training", disabled=False).wait_for(timeout=120_000)


def tensorflow_watch(app: App) -> dict:
    """Seconds from `streamlit run` until TensorFlow's library is mapped in the app process (polled in a
    thread; "s" stays unset until then)."""
    seen: dict = {}

    def poll():
        while app.proc.poll() is None and "s" not in seen:
            try:
                if tensorflow_loaded(app.proc.pid):
                    seen["s"] = time.monotonic() - app.started
            except OSError:
                return
            time.sleep(0.05)

    threading.Thread(target=poll, daemon=True).start()
    return seen


def cold_start(browser, script: str = "explorer/app.py") -> dict:
    """A new app process: seconds until healthy, until the first page (the Tour's first section and the
    sidebar) is usable and whether TensorFlow had loaded by then, until it loads, and a second session."""
    app = App(script)
    tf_seen = tensorflow_watch(app)
    try:
        app.wait_healthy()
        healthy = time.monotonic() - app.started
        first_page_usable(browser.new_page(), app.url())
        first = time.monotonic() - app.started
        tf_then = tensorflow_loaded(app.proc.pid)
        t0 = time.monotonic()
        first_page_usable(browser.new_page(), app.url())
        second = time.monotonic() - t0
        while script == "explorer/app.py" and "s" not in tf_seen and time.monotonic() - app.started < 120:
            time.sleep(0.05)
        return {
            "healthy_s": healthy,
            "first_interactive_s": first,
            "tensorflow_at_first_page": tf_then,
            "tensorflow_loading_s": tf_seen.get("s"),
            "second_session_s": second,
        }
    finally:
        app.close()


def first_point(page, app: App, impl: str) -> float:
    """Start click -> the first training-loss point drawn on the page."""
    interactive(page, app.url(QUICK.format(impl=impl) + "&max_steps=15&eval_every=0&sample_every=0"))
    time.sleep(8)  # the spare worker has imported TensorFlow, as it has for any Start after the first page
    t0 = time.monotonic()
    run_id = start_run(page)
    while page.evaluate(POINTS_JS) == 0:
        time.sleep(0.02)
    seconds = time.monotonic() - t0
    wait_status(app, run_id, ("finished", "failed"))
    return seconds


def app_throughput(page, app: App, steps: int) -> float:
    """chars/s of a run trained from the app while its live page stays open (the trainer's own median)."""
    interactive(
        page, app.url(QUICK.format(impl="dynamic") + f"&max_steps={steps}&eval_every=0&sample_every=0")
    )
    run_id = start_run(page)
    status = wait_status(app, run_id, ("finished", "failed", "stopped"))
    assert page.evaluate(POINTS_JS) > 0  # the live view was drawing throughout
    return status["progress"]["chars_per_s"]


def cli_throughput(steps: int) -> float:
    runs = tempfile.mkdtemp(prefix="rnn-explorer-cli-")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "core.train",
            "--preset",
            "quick",
            "--impl",
            "dynamic",
            "--max-steps",
            str(steps),
            "--eval-every",
            "0",
            "--sample-every",
            "0",
            "--runs-dir",
            runs,
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run = next(Path(runs).iterdir())
    return json.loads((run / "status.json").read_text())["progress"]["chars_per_s"]


def stop_latency(page, app: App, query: str, when: tuple) -> float:
    """Click Stop once the run's status is in `when`; seconds until the page says Stopped."""
    interactive(page, app.url(query))
    run_id = start_run(page)
    wait_status(app, run_id, when)
    if "building" in when:
        time.sleep(3)  # well inside the static trace, where the trainer cannot look at the stop event
    t0 = time.monotonic()
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Stopped: "))).to_be_visible(timeout=60_000)
    return time.monotonic() - t0


def memory(page, app: App, runs: int) -> dict:
    """The app's RSS after its first page and after `runs` tiny runs one after another."""
    query = (
        "cell=gru&impl=scan&state=32&batch=64&steps=100&epochs=2&max_steps=40&sample_every=20&eval_every=20"
    )
    interactive(page, app.url(query))
    before = app.rss_mb()
    for _ in range(runs):
        wait_status(app, start_run(page), ("finished", "failed"))
    time.sleep(2)
    return {"before_mb": before, "after_mb": app.rss_mb(), "runs": runs}


def first_points(page, app: App, args) -> dict:
    out = {impl: first_point(page, app, impl) for impl in ("dynamic", "scan")}
    print("Start -> first loss point: " + ", ".join(f"{k} {v:.2f} s" for k, v in out.items()), flush=True)
    return out


def throughputs(page, app: App, args) -> dict:
    rounds = [(cli_throughput(args.steps), app_throughput(page, app, args.steps)) for _ in range(2)]
    out = {
        "cli": [c for c, _ in rounds],
        "app": [a for _, a in rounds],
        "ratio": statistics.median(a / c for c, a in rounds),
    }
    print(
        "throughput (quick, dynamic): "
        + "; ".join(f"CLI {c:,.0f} vs app {a:,.0f} chars/s" for c, a in rounds)
        + f"; app/CLI median {out['ratio']:.2f}",
        flush=True,
    )
    return out


def stops(page, app: App, args) -> dict:
    out = {"training": [], "static build": []}
    for _ in range(2):
        out["training"].append(
            stop_latency(page, app, QUICK.format(impl="dynamic") + "&max_steps=100000", ("training",))
        )
        out["static build"].append(
            stop_latency(
                page,
                app,
                "cell=lstm&impl=static&layers=3&state=100&batch=32&steps=200&lr=0.0001&epochs=3",
                ("building",),
            )
        )
    print(
        "Stop -> 'Stopped' shown: "
        + ", ".join(f"{k} {' / '.join(f'{v:.2f}' for v in vs)} s" for k, vs in out.items()),
        flush=True,
    )
    return out


def memories(page, app: App, args) -> dict:
    m = memory(page, app, args.runs)
    print(
        f"app memory: {m['before_mb']:.0f} MB after the first page, {m['after_mb']:.0f} MB after "
        f"{m['runs']} runs ({m['after_mb'] - m['before_mb']:+.0f} MB)",
        flush=True,
    )
    return m


def cpu_seconds(pattern: str) -> float:
    """CPU time (user + system) of every process whose command line contains `pattern`."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if pattern in Path(f"/proc/{pid}/cmdline").read_text():
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        except OSError:
            continue  # the process ended meanwhile
    return total / os.sysconf("SC_CLK_TCK")


def cpu_split(page, app: App, args) -> dict:
    """Who uses the CPU while a run trains with its live page open: browser, app, training worker."""
    who = {"browser": "chrom", "app": "streamlit", "worker": "multiprocessing"}
    interactive(
        page, app.url(QUICK.format(impl="dynamic") + f"&max_steps={args.steps}&eval_every=0&sample_every=0")
    )
    time.sleep(6)  # the spare worker's import is over
    before, t0 = {k: cpu_seconds(p) for k, p in who.items()}, time.monotonic()
    wait_status(app, start_run(page), ("finished", "failed"))
    out = {k: cpu_seconds(p) - before[k] for k, p in who.items()} | {"wall_s": time.monotonic() - t0}
    print(
        f"CPU seconds during a {out['wall_s']:.1f} s run: " + ", ".join(f"{k} {out[k]:.1f}" for k in who),
        flush=True,
    )
    return out


def run_in_url(page, app: App, query: str) -> float:
    """A fresh session at `query`: Start click -> the new run named in the page's URL (from then on a
    reload shows it); the run is then stopped."""
    interactive(page, app.url(query))
    t0 = time.monotonic()
    run_id = start_run(page)
    seconds = time.monotonic() - t0
    wait_status(app, run_id, ("training",))
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Stopped: "))).to_be_visible(timeout=60_000)
    return seconds


def url_naming(page, app: App, args) -> dict:
    """Start -> `run=` in the URL, 3 times alone and 3 times while another session's run trains with its
    live page open (both cores busy)."""
    query = QUICK.format(impl="dynamic") + "&max_steps=100000&eval_every=0&sample_every=0"
    out = {"alone": [run_in_url(page, app, query) for _ in range(3)]}
    other = page.context.browser.new_page()
    interactive(other, app.url(query))
    wait_status(app, start_run(other), ("training",))
    out["busy"] = [run_in_url(page, app, query) for _ in range(3)]
    other.get_by_role("button", name="Stop", exact=True).click()
    print(
        "Start -> run= in the URL: "
        + "; ".join(f"{k} {' / '.join(f'{v:.2f}' for v in vs)} s" for k, vs in out.items()),
        flush=True,
    )
    return out


PARTS = {
    "cold": None,
    "floor": None,
    "first": first_points,
    "throughput": throughputs,
    "stop": stops,
    "memory": memories,
    "cpu": cpu_split,
    "url": url_naming,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10, help="runs in a row for the memory figure")
    parser.add_argument("--steps", type=int, default=120, help="train steps per throughput run")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    out, parts = {}, args.only.split(",")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        if "cold" in parts:
            out["cold"] = cold = cold_start(browser)
            print(
                f"cold start: healthy {cold['healthy_s']:.2f} s, first page usable (Tour slider, Start "
                f"enabled) {cold['first_interactive_s']:.2f} s from `streamlit run`, TensorFlow "
                f"{'already loaded' if cold['tensorflow_at_first_page'] else 'not yet loaded'} then (its "
                f"library mapped at {cold['tensorflow_loading_s'] or 0:.2f} s); second session "
                f"{cold['second_session_s']:.2f} s",
                flush=True,
            )
        if "floor" in parts:
            out["floor"] = floor = cold_start(browser, "benchmarks/floor_app.py")
            print(
                f"floor (a Streamlit page of one slider and one button): healthy {floor['healthy_s']:.2f} s, "
                f"usable {floor['first_interactive_s']:.2f} s from `streamlit run`; second session "
                f"{floor['second_session_s']:.2f} s",
                flush=True,
            )
        rest = [p for p in parts if p not in ("cold", "floor")]
        with running_app() if rest else contextlib.nullcontext() as app:
            page = browser.new_page() if rest else None
            for part in rest:
                out[part] = PARTS[part](page, app, args)
        browser.close()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
