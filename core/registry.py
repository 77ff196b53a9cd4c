"""Name -> implementation maps that the UI, the CLI and the tests all read."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One registered choice: what to call, and one line a person can read."""

    name: str
    impl: Any
    description: str  # what it is, in the code's terms (the CLI's --help, the README's tables)
    # Names of other registries' entries this one works with (None = all of them).
    supports: tuple[str, ...] | None = None
    # Where it runs: "tf2" (eagerly and in tf.function: trains anywhere) or "tf1" (inside a tf.Graph
    # run by a Session: the benchmark and the Build time lab only).
    family: str = "tf2"
    # An unroller that takes an embedding's table and ids (core.model.unrollers.Rows) rather than the
    # looked-up rows, to fold the lookup into its first matmul.
    reads_rows: bool = False
    # Threads each TensorFlow op may use in a process that trains with it (None: TensorFlow's default,
    # every core); set before TensorFlow starts (core/training/threads.py).
    op_threads: int | None = None
    # What it does in words a class follows, no code names (the app says this first, `description` second).
    plain: str = ""

    @property
    def said(self) -> str:
        """The plain words if there are any, else the description."""
        return self.plain or self.description

    def works_with(self, name: str) -> bool:
        return self.supports is None or name in self.supports

    @property
    def trains(self) -> bool:
        """Whether the trainer (the app's Train tab, python -m core.train) can use it."""
        return self.family == "tf2"


class Registry:
    """An ordered name -> Entry map with readable errors for unknown names."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, description: str, supports=None, **options) -> Callable:
        """Decorator: `@CELLS.register("lstm", "...")` above a class or function; `options` are Entry's
        other fields (family, reads_rows, op_threads, plain)."""

        def add(impl):
            self._entries[name] = Entry(
                name, impl, description, tuple(supports) if supports else None, **options
            )
            return impl

        return add

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
