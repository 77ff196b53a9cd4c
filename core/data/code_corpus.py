"""The second built-in corpus: source code, a fixed selection of Python's own standard library.

Tiny-shakespeare holds no double quote and no bracket of any kind, so the units people come to see in a
character model (one that knows it is inside a string, one that counts bracket depth or indentation) cannot
appear in a model trained on it. Python's standard library has all of them, and every machine that runs this
project has it. The corpus is *shipped* (assets/python-stdlib.txt) rather than built on first use: the
library's text differs between Python releases, and a shipped example run's vocabulary must match the file
on every machine. This module is how the shipped file was made, and makes it again:

    python -m core.data.code_corpus --out assets/python-stdlib.txt

Each module follows a header line naming it; tabs become four spaces and the few characters outside
printable ASCII become "?", so the vocabulary stays about 95 characters. The text is the Python Software
Foundation's, under the PSF License (assets/python-stdlib-LICENSE.txt, copied from the interpreter).
"""

import argparse
import sys
import sysconfig
from pathlib import Path

# Modules of ordinary, readable Python (strings, brackets, comments, nested blocks), largest machine-written
# tables left out. Order is the corpus's order; the last 10 % (the validation split) is whatever comes last.
MODULES = (
    "textwrap.py",
    "string.py",
    "shlex.py",
    "json/decoder.py",
    "json/encoder.py",
    "argparse.py",
    "dataclasses.py",
    "functools.py",
    "heapq.py",
    "bisect.py",
    "collections/__init__.py",
    "fractions.py",
    "statistics.py",
    "difflib.py",
    "pprint.py",
    "csv.py",
    "configparser.py",
    "tokenize.py",
    "ast.py",
    "inspect.py",
    "enum.py",
    "typing.py",
    "pathlib.py",
    "shutil.py",
    "tempfile.py",
    "calendar.py",
    "datetime.py",
    "random.py",
    "queue.py",
    "threading.py",
    "logging/__init__.py",
    "subprocess.py",
    "zipfile.py",
)
HEADER = "# ======== Lib/{name} ========\n"


def normalise(text: str) -> str:
    """Tabs to four spaces, Windows line ends to \\n, anything outside printable ASCII and \\n to "?"."""
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    return "".join(c if c == "\n" or " " <= c <= "~" else "?" for c in text)


def build(stdlib: Path) -> str:
    """The corpus from the standard library at `stdlib` (a folder holding textwrap.py, json/ ...)."""
    parts = []
    for name in MODULES:
        text = (Path(stdlib) / name).read_text(encoding="utf-8")
        parts.append(HEADER.format(name=name) + normalise(text).rstrip("\n") + "\n")
    return "\n".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.data.code_corpus", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", required=True, help="the file to write (e.g. assets/python-stdlib.txt)")
    parser.add_argument("--stdlib", default=sysconfig.get_paths()["stdlib"], help="the library's folder")
    args = parser.parse_args(argv)
    try:
        text = build(Path(args.stdlib))
    except OSError as err:
        print(f"Not built: {err}", file=sys.stderr)
        return 2
    Path(args.out).write_text(text, encoding="utf-8")
    version = ".".join(map(str, sys.version_info[:3]))
    print(f"{args.out}: {len(text):,} characters from {len(MODULES)} modules of Python {version}'s library")
    return 0


if __name__ == "__main__":
    sys.exit(main())
