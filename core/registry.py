"""Name -> implementation maps that the UI, the CLI and the tests all read.

A `Catalogue` holds the choices' names and words and imports nothing heavy, so a config can be checked and
a page drawn before TensorFlow loads (core/catalogue.py holds the cells' and the implementations'). A
`Registry` is a catalogue whose entries gain their implementation: `@CELLS.register("lstm")` above the
class, in the module the entry names; the registry imports that module the first time the entry is looked
up, so every module of a family is read without any importing another for its side effect.
"""

import dataclasses
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One choice: its name, its words, and where its implementation is registered."""

    name: str
    description: str  # what it is, in the code's terms (the CLI's --help, docs/implementations.md)
    # What it does in words a class follows, no code names (the app says this first, `description` second).
    plain: str = ""
    module: str = ""  # the module whose import registers the implementation ("core.model.cells")
    impl: Any = dataclasses.field(default=None, compare=False, repr=False)  # set by Registry.register

    @property
    def said(self) -> str:
        """The plain words if there are any, else the description."""
        return self.plain or self.description

    @property
    def trains(self) -> bool:
        """Whether the trainer (the app's Train tab, python -m core.train) can use it."""
        return True


class Catalogue:
    """An ordered name -> Entry map with readable errors for unknown names."""

    def __init__(self, kind: str, entries: tuple[Entry, ...]):
        self.kind = kind
        self._entries: dict[str, Entry] = {e.name: e for e in entries}

    def __getitem__(self, name: str) -> Entry:
        if name not in self._entries:
            raise KeyError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self._entries)}")
        return self._entries[name]

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def names(self, trains_only: bool = False) -> list[str]:
        """Every name in order; with trains_only, those the trainer can use."""
        return [name for name, e in self._entries.items() if e.trains or not trains_only]

    def help(self, trains_only: bool = False) -> str:
        """`name: description` lines, for --help texts and the UI."""
        return "\n".join(f"  {name}: {self._entries[name].description}" for name in self.names(trains_only))


class Registry(Catalogue):
    """A catalogue's entries with their implementations attached (entry.impl)."""

    def __init__(self, catalogue: Catalogue):
        super().__init__(catalogue.kind, tuple(catalogue._entries.values()))

    def register(self, name: str) -> Callable:
        """Decorator: `@CELLS.register("lstm")` above a class or function; its words are the catalogue's."""
        if name not in self:  # refused at import: the words come first
            raise KeyError(f"unknown {self.kind} {name!r}: give it an entry in core/catalogue.py first")
        entry = self._entries[name]

        def add(impl):
            self._entries[name] = dataclasses.replace(entry, impl=impl)
            return impl

        return add

    def __getitem__(self, name: str) -> Entry:
        entry = super().__getitem__(name)
        if entry.impl is None:  # its module has not been imported yet: importing it registers it
            importlib.import_module(entry.module)
            entry = self._entries[name]
        if entry.impl is None:
            raise LookupError(f"{entry.module} registers no {self.kind} named {name!r}")
        return entry
