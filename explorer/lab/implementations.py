"""What each implementation builds, in words, beside the lines of the project's code that build it.

The code is read from the registered function itself (inspect.getsource), so the page always quotes
core/model/unrollers.py and core/model/unrollers_tf1.py as they are. Names and words come from the
catalogue (core/catalogue.py), never from a list here.
"""

import inspect
from pathlib import Path

from core.catalogue import IMPL_CHOICES, ImplementationEntry
from core.paths import ROOT


def names() -> list[str]:
    """Every implementation the lab can measure: the TF2 unrollers, then the TF1 family."""
    return IMPL_CHOICES.names()


def entry(name: str) -> ImplementationEntry:
    return IMPL_CHOICES[name]


def is_tf1(name: str) -> bool:
    return IMPL_CHOICES[name].family == "tf1"


def explanation(name: str) -> str:
    """What it builds and why that costs what it does (the catalogue's one line if none is written)."""
    return entry(name).explanation or entry(name).description


def _impl(name: str):
    """The registered function (imports TensorFlow: only the code needs it, not the words)."""
    from core.model.unrollers import UNROLLERS

    return UNROLLERS[name].impl


def _from_def(name: str) -> tuple[list[str], int]:
    """The registered function's source lines from its `def` on (the registering decorator left out),
    and the line number of that `def`."""
    lines, first = inspect.getsourcelines(_impl(name))
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("def "))
    return lines[start:], first + start


def snippet(name: str) -> str:
    """The code that builds this implementation's loop, as the project has it now."""
    return "".join(_from_def(name)[0]).rstrip()


def source_of(name: str) -> str:
    """'core/model/unrollers.py, line 24': where the snippet lives."""
    path = Path(inspect.getsourcefile(_impl(name))).resolve()
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return f"{where}, line {_from_def(name)[1]}"
