"""Where the project's own files are, wherever it is run from."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout: core/, explorer/, assets/, ...
ASSETS = ROOT / "assets"
EXAMPLES = ASSETS / "examples"  # runs that ship with the project (core/runs/store.py)
EXAMPLE_ID = "example-quick"  # the example run in EXAMPLES the app opens on (python -m core.example makes it)
