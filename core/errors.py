"""The one base of every error a person can cause: its message is a sentence written for them.

The app and the CLIs show a `Refusal`'s message as it is; any other exception is a bug, shown with its type
and logged with its traceback. Each concern keeps its own subclass (ConfigError, CorpusError, ...), so a
caller can still catch just the kind it expects.
"""


class Refusal(Exception):
    """Something that cannot be done as asked; str(err) says why, and what to do instead."""
