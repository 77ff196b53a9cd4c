"""How long each section of the Tour takes to draw, its live experiment included, as a class would wait.

    python benchmarks/tour_times.py [--repeats 2] [--race]

Each section is drawn through Streamlit's AppTest in this one process, in order, as a teacher walks the
tour: the first drawing of a section pays its one-off costs (TensorFlow's start, loading the example,
building a graph), the repeats show what moving a slider costs once those are paid. Section 3's button
(building its nine graphs) is clicked. With --race, section 3's stopwatch race is run too, as the page
runs it (core.tour.race: each racer in a child process of its own, the post's setting). Prints one line
per section.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def draw(section: str, click: str | None = None) -> float:
    from streamlit.testing.v1 import AppTest

    start = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "explorer" / "app.py"), default_timeout=300)
    at.query_params.update({"owner": "tour-times", "tab": "Tour", "step": section})
    at.run()
    if click:
        at.button(key=click).click().run()
    assert not at.exception, at.exception
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--race", action="store_true", help="also race the list against dynamic_rnn")
    args = parser.parse_args()
    os.environ["RNN_EXPLORER_RUNS_DIR"] = tempfile.mkdtemp(prefix="tour-times-")
    from explorer.tour.view import SECTIONS

    clicks = {"list": "tour_list_run", "loops": "tour_loops_run"}
    for section, (title, _) in SECTIONS.items():
        times = [draw(section, clicks.get(section)) for _ in range(args.repeats)]
        again = f", then {', '.join(f'{t:.1f}' for t in times[1:])} s" if len(times) > 1 else ""
        print(f"{title}: first {times[0]:.1f} s{again}", flush=True)
    if args.race:
        race()
    from explorer.common import services

    services.job_manager().shutdown()
    return 0


def race() -> None:
    """Section 3's race, as its page starts it: from the click to the last build, and each build."""
    from core.tour.race import Race
    from explorer.tour import basics

    start = time.perf_counter()
    laps = Race(basics.RACE, basics._post_config(), len(basics.corpus().vocab)).wait(timeout=600)
    whole = time.perf_counter() - start
    each = ", ".join(f"{lap.impl} {lap.build_s:.1f} s ({lap.ops:,} operations)" for lap in laps)
    print(f"race at the post's setting: {each}; {whole:.0f} s from the click, TensorFlow's start included")


if __name__ == "__main__":
    sys.exit(main())
