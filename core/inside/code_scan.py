"""Where each character of a piece of Python source stands: in a string, in a comment, how deep in brackets,
how far indented. The code properties of core.inside.properties are read from here.

Python's own `tokenize` knows this exactly, but it refuses what the Inside tab reads: an excerpt cut in
the middle of a string, a pasted fragment, a model's sample. So this is a small forgiving scanner: it never
fails, and on whole, valid code it agrees with `tokenize` about strings and comments (tests/test_units.py
checks that on the code corpus). Like every property, a value describes the state *after* reading the
character: an opening quote is already inside its string, a closing quote already outside.
"""

from dataclasses import dataclass

import numpy as np

QUOTES = "'\""
OPENING, CLOSING = "([{", ")]}"
INDENT = 4  # spaces to one level, as PEP 8 writes Python


@dataclass(frozen=True)
class CodeScan:
    """Per-character states of a text of N characters, each [N]."""

    in_string: np.ndarray  # bool: inside a '...', "...", '''...''' or \"\"\"...\"\"\" literal
    in_comment: np.ndarray  # bool: from a # outside strings up to (not including) the line's end
    depth: np.ndarray  # int32: brackets open in the code, outside strings and comments


def scan(text: str) -> CodeScan:
    n = len(text)
    in_string, in_comment = np.zeros(n, bool), np.zeros(n, bool)
    depth = np.zeros(n, np.int32)
    quote, triple, level, t = "", False, 0, 0  # quote: the open string's quote character, "" in code
    comment = False
    while t < n:
        c = text[t]
        width = 1  # characters this step reads (3 for a triple quote)
        if comment:
            comment = c != "\n"
            in_comment[t] = comment
        elif quote:
            if c == "\\" and t + 1 < n:  # an escape: the next character is the string's, whatever it is
                width = 2
                in_string[t : t + 2] = True
            elif triple and text.startswith(quote * 3, t):
                quote, width = "", 3
            elif not triple and (c == quote or c == "\n"):  # a one-line string ends at its line's end anyway
                quote = ""
            else:
                in_string[t] = True
        elif c == "#":
            comment = in_comment[t] = True
        elif c in QUOTES:
            quote, triple = c, text.startswith(c * 3, t)
            width = 3 if triple else 1
            in_string[t : t + width] = True
        elif c in OPENING:
            level += 1
        elif c in CLOSING:
            level = max(level - 1, 0)
        depth[t : t + width] = level
        t += width
    return CodeScan(in_string, in_comment, depth)


def indentation(text: str) -> np.ndarray:
    """[N] float32: the indentation of each character's line in levels of INDENT spaces, as read so far —
    it grows through a line's leading spaces, then holds to the line's end (its newline included)."""
    out = np.zeros(len(text), np.float32)
    spaces, leading = 0, True
    for t, c in enumerate(text):
        if leading and c == " ":
            spaces += 1
        else:
            leading = False
        out[t] = spaces / INDENT
        if c == "\n":
            spaces, leading = 0, True
    return out
