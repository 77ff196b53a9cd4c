"""What the app's first page costs, part by part: the app as it is, then with parts of its page left out,
each timed as benchmarks/app_targets.py times the app (`streamlit run` -> the Tour's first slider shown
and the sidebar's Start enabled, in Debian's chromium), in interleaved rounds.

    python benchmarks/first_page_parts.py [--rounds 3]

The pages (each a small script written to a temp folder, which replaces one function of the app's):
- app: explorer/app.py as it is;
- no settings: the sidebar without its five groups of settings (presets, label and Start only);
- Start only: the sidebar is the Start button alone (the title, tabs and Tour as they are);
- floor: benchmarks/floor_app.py, one slider and one button: what Streamlit and the browser take.
The differences between them are what each part costs the first page on this machine.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
import app_targets  # noqa: E402  the same App, browser flags and first-page wait

ROOT = Path(__file__).resolve().parents[1]
PREAMBLE = f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom explorer.train import controls, view\n"
SIDEBARS = {  # page name -> the sidebar function its script puts in place of the app's
    "no settings": (
        "def sidebar(owner):\n"
        "    controls.preset_ui()\n"
        "    controls.label_ui()\n"
        "    controls.start_ui('', on_click=view.start_clicked, args=(owner,))\n"
    ),
    "Start only": "def sidebar(owner):\n    import streamlit as st\n    st.button('Start training')\n",
}


def pages(folder: Path) -> dict[str, str]:
    """Page name -> the script `streamlit run` is given."""
    out = {"app": "explorer/app.py"}
    for name, sidebar in SIDEBARS.items():
        path = folder / f"{name.replace(' ', '_')}.py"
        path.write_text(
            PREAMBLE + sidebar + "view.sidebar = sidebar\nfrom explorer.main import main\nmain()\n"
        )
        out[name] = str(path)
    out["floor"] = "benchmarks/floor_app.py"
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="times each page is timed, interleaved")
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        scripts = pages(Path(folder))
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=app_targets.CHROMIUM_ARGS
        )
        for round_ in range(args.rounds):
            for name, script in scripts.items():
                usable = app_targets.cold_start(browser, script)["first_interactive_s"]
                times.setdefault(name, []).append(usable)
                print(f"round {round_ + 1}: {name}: first page usable {usable:.2f} s", flush=True)
        browser.close()
    print("\npage           median   runs (s from `streamlit run` to the first page usable)")
    for name, values in times.items():
        print(f"{name:<14} {statistics.median(values):6.2f}   {', '.join(f'{v:.2f}' for v in values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
