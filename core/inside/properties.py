"""Simple properties of a text, one number per character: what a unit of a trained network might track.

Each property maps a text of N characters to a float32 array [N] whose entry t describes the character at
t, the one the network has just read, so it lines up with row t of an activation matrix. States that open
and close (quotes, brackets) hold the value *after* reading t: an opening mark is already inside, a
closing mark is already outside.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.inside.code_scan import indentation, scan


@dataclass(frozen=True)
class Property:
    """One property of a text: a name, one line a person can read, and text -> values [N] float32."""

    name: str
    description: str
    compute: Callable[[str], np.ndarray]

    def __call__(self, text: str) -> np.ndarray:
        return self.compute(text)


PROPERTIES: dict[str, Property] = {}


def _property(name: str, description: str) -> Callable:
    """Decorator: register a text -> [N] function in PROPERTIES under `name`."""

    def add(compute: Callable[[str], np.ndarray]) -> Callable[[str], np.ndarray]:
        PROPERTIES[name] = Property(name, description, compute)
        return compute

    return add


def _chars(text: str) -> np.ndarray:
    """The text as an array of one-character strings [N], so str tests run on every character at once."""
    return np.array(list(text), dtype="<U1")


# A single quote before one of these words is an elision ('tis, 'twas, on 't, 'em), not a quotation mark.
ELIDED_STARTS = frozenset(
    {"t", "s", "tis", "twas", "twere", "twill", "twould", "twixt", "tween", "em", "gainst", "fore"}
    | {"scape", "scapes", "scaped", "mongst", "longs", "greed", "bout", "neath"}
)
# A single quote after one of these words is an elision (o' the, i' the, ha' means), not a closing mark.
ELIDED_ENDS = frozenset({"o", "i", "a", "ha", "wi", "th"})
_CLOSING_AFTER = ".,;:!?-"  # punctuation a closing quotation mark may follow


def _word_after(text: str, t: int) -> str:
    """The letters right after position t, lower case."""
    end = t + 1
    while end < len(text) and text[end].isalpha():
        end += 1
    return text[t + 1 : end].lower()


def _word_before(text: str, t: int) -> str:
    """The letters right before position t, lower case."""
    start = t
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    return text[start:t].lower()


def _single_quote(text: str, t: int, inside: bool) -> bool:
    """Whether a single-quoted stretch is open after the apostrophe at t (`inside`: open before it)."""
    before = text[t - 1] if t > 0 else " "
    after = text[t + 1] if t + 1 < len(text) else " "
    if before.isalpha() and after.isalpha():  # within a word: we'll, o'er, answer'd
        return inside
    if not inside and not before.isalnum() and after.isalpha():
        return _word_after(text, t) not in ELIDED_STARTS
    if inside and not after.isalnum():
        closes = before in _CLOSING_AFTER or (before.isalpha() and _word_before(text, t) not in ELIDED_ENDS)
        return not closes
    return inside


def _ends_speech(text: str, t: int) -> bool:
    """Whether position t is the second newline of a blank line, which ends any open quote."""
    return text[t] == "\n" and t > 0 and text[t - 1] == "\n"


def _double_quoted(text: str) -> np.ndarray:
    """[N] bool: inside "..." or “...”."""
    out = np.zeros(len(text), bool)
    inside = False
    for t, c in enumerate(text):
        if c in '"“”':
            inside = not inside if c == '"' else c == "“"
        elif _ends_speech(text, t):
            inside = False
        out[t] = inside
    return out


def _single_quoted(text: str) -> np.ndarray:
    """[N] bool: inside '...', an apostrophe being a quotation mark by the rule of inside_quotes."""
    out = np.zeros(len(text), bool)
    inside, opened = False, 0
    for t, c in enumerate(text):
        if c == "'":
            was_inside, inside = inside, _single_quote(text, t, inside)
            opened = t if inside and not was_inside else opened
        elif _ends_speech(text, t) and inside:
            out[opened:t] = False  # never closed: the opening mark was an elision ('scapes, 'nointed)
            inside = False
        out[t] = inside
    return out


@_property(
    "inside quotes", "1 between an opening and a closing quotation mark (double, or single as in Shakespeare)"
)
def inside_quotes(text: str) -> np.ndarray:
    """1 from an opening quotation mark up to (not including) its closing one, else 0.

    Double quotes (" or curly “ ”) always count, up to a blank line at most. Tiny-shakespeare has no
    double quotes but quotes speech with single ones ('True is it,' quoth he), so an apostrophe counts
    too: it opens at the start of a word unless the word is an elision ('tis, 'em, on 't), it closes after
    punctuation or at the end of a word that is not an elision (o' the, ha'), and between two letters
    (we'll) it is part of the word; a single quote still open at a blank line (the speech's end) was an
    elision after all and marks nothing (at the text's end it is kept: an excerpt may stop mid-quote).
    Known misses: a quote that begins with 'Tis, and a plural possessive (lovers') inside a quote.
    """
    return (_double_quoted(text) | _single_quoted(text)).astype(np.float32)


@_property("inside brackets", "1 inside (), [] or {}, nested to any depth")
def inside_brackets(text: str) -> np.ndarray:
    """1 while at least one bracket is open (depth > 0); a closing bracket with none open is ignored."""
    out = np.zeros(len(text), np.float32)
    depth = 0
    for t, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(depth - 1, 0)
        out[t] = depth > 0
    return out


def _line_starts(chars: np.ndarray) -> np.ndarray:
    """[N] bool: True for the first character of each line (the text's first, and each after a newline)."""
    starts = np.zeros(len(chars), bool)
    starts[:1] = True
    starts[1:] = chars[:-1] == "\n"
    return starts


@_property("position in line", "characters before this one on its line: 0 for a line's first character")
def position_in_line(text: str) -> np.ndarray:
    """0, 1, 2, ... along each line; a newline is its line's last character and the count restarts after it."""
    starts = _line_starts(_chars(text))
    index = np.arange(len(text))
    line_start = np.maximum.accumulate(np.where(starts, index, 0))  # [N] index of the line's first character
    return (index - line_start).astype(np.float32)


@_property("after newline", "1 for the first character of a line (and of the text)")
def after_newline(text: str) -> np.ndarray:
    return _line_starts(_chars(text)).astype(np.float32)


@_property("inside word", "1 for a letter, or an apostrophe between two letters (we'll)")
def inside_word(text: str) -> np.ndarray:
    chars = _chars(text)
    letters = np.char.isalpha(chars)
    joins = np.zeros(len(chars), bool)  # apostrophes with a letter on both sides
    joins[1:-1] = (chars[1:-1] == "'") & letters[:-2] & letters[2:]
    return (letters | joins).astype(np.float32)


@_property("upper case", "1 for an upper-case letter")
def upper_case(text: str) -> np.ndarray:
    return np.char.isupper(_chars(text)).astype(np.float32)


@_property("vowel", "1 for a, e, i, o or u in either case")
def vowel(text: str) -> np.ndarray:
    return np.isin(_chars(text), list("aeiouAEIOU")).astype(np.float32)


# Properties of source code (the code corpus, assets/python-stdlib.txt): the units Karpathy found on the
# Linux source. On prose they are mostly constant, and the Inside tab says so.
@_property(
    "inside a string (code)", "1 inside a Python string literal: '...', \"...\" or a triple-quoted one"
)
def inside_code_string(text: str) -> np.ndarray:
    return scan(text).in_string.astype(np.float32)


@_property("inside a comment (code)", "1 from a # outside strings to the end of its line")
def inside_comment(text: str) -> np.ndarray:
    return scan(text).in_comment.astype(np.float32)


@_property(
    "bracket depth (code)", "how many (, [ or { are open in the code (not counting strings and comments)"
)
def bracket_depth(text: str) -> np.ndarray:
    return scan(text).depth.astype(np.float32)


@_property("indentation (code)", "how far the line is indented, in levels of 4 spaces, as read so far")
def indentation_level(text: str) -> np.ndarray:
    return indentation(text)


def absent(text: str) -> list[str]:
    """The properties that never change over `text` (no quotes in it, no code...): no unit can track them."""
    return [name for name, prop in PROPERTIES.items() if len(text) and np.ptp(prop(text)) == 0]
