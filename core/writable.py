"""Whether a command can write where it was told to: asked before the work whose result it would hold."""

import os
from pathlib import Path

from core.errors import Refusal


class CannotWrite(Refusal):
    """A place to write a result that cannot be used."""


def check_can_make(path: Path) -> None:
    """Refuse, in a sentence, a file or folder that cannot be made at `path`: one under a file, or in a
    folder this process may not write to. Folders missing on the way are fine (the writer makes them)."""
    folder = Path(os.path.abspath(path)).parent
    while not os.path.exists(folder):  # False too for a folder that cannot be looked into
        folder = folder.parent
    if not folder.is_dir():
        raise CannotWrite(f"cannot make {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CannotWrite(f"cannot make {path}: the folder {folder} cannot be written to")


def check_file(path: Path) -> None:
    """Refuse a path where a results file cannot be written (an existing file there is replaced)."""
    if os.path.isdir(path):
        raise CannotWrite(f"{path} is a folder; name a file to write the results to")
    check_can_make(path)
