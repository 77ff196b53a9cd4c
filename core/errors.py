"""The one base of every error a person can cause: its message is a sentence written for them.

The app and the CLIs show a `Refusal`'s message as it is; any other exception is a bug, shown with its type
and logged with its traceback. Each concern keeps its own subclass (ConfigError, CorpusError, ...), so a
caller can still catch just the kind it expects.
"""

import signal
import sys


class Refusal(Exception):
    """Something that cannot be done as asked; str(err) says why, and what to do instead."""


class DiskFull(Refusal):
    """A file cannot be written: no space (or quota) left on its disk."""


def on_interrupt(what: str) -> None:
    """From now on Ctrl-C ends this command with one line, not a traceback (until the command sets its own
    handler, as core.train does to stop between steps). Call it before the imports that load TensorFlow:
    this module is light."""
    signal.signal(signal.SIGINT, lambda *_: sys.exit(f"\ninterrupted {what}"))
