"""The code properties (core.inside.code_scan, core.inside.properties): checked against Python's tokenize."""

import io
import re
import tokenize

import numpy as np

from core.inside.code_scan import indentation, scan
from core.inside.properties import PROPERTIES, absent
from core.paths import ASSETS


def module_text(name: str) -> str:
    """One module's text from the shipped code corpus (whole, so tokenize accepts it)."""
    corpus = (ASSETS / "python-stdlib.txt").read_text(encoding="utf-8")
    parts = re.split(r"^# ======== Lib/(.+) ========\n", corpus, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))[name]


def expected_from_tokenize(text: str) -> tuple[np.ndarray, np.ndarray]:
    """[N] in_string, in_comment as tokenize sees them, in the properties' convention (after reading t)."""
    starts = np.cumsum([0] + [len(line) for line in text.splitlines(keepends=True)])  # offset of each line
    in_string, in_comment = np.zeros(len(text), bool), np.zeros(len(text), bool)
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        begin = starts[tok.start[0] - 1] + tok.start[1]
        end = starts[tok.end[0] - 1] + tok.end[1]
        if tok.type == tokenize.STRING:
            first = begin + min(
                tok.string.index(q) for q in "'\"" if q in tok.string
            )  # after a prefix (r, f, b)
            closing = 3 if tok.string.endswith(('"""', "'''")) and end - first >= 6 else 1
            in_string[first : end - closing] = True
        elif tok.type == tokenize.COMMENT:
            in_comment[begin:end] = True
    return in_string, in_comment


def test_strings_and_comments_agree_with_tokenize_on_whole_modules():
    for name in ("textwrap.py", "json/decoder.py", "shlex.py", "argparse.py"):
        text = module_text(name)
        strings, comments = expected_from_tokenize(text)
        got = scan(text)
        assert strings.sum() > 1000 and comments.sum() > 100, name  # the modules have both
        assert np.array_equal(got.in_string, strings), (name, np.flatnonzero(got.in_string != strings)[:5])
        assert np.array_equal(got.in_comment, comments), (
            name,
            np.flatnonzero(got.in_comment != comments)[:5],
        )


def test_bracket_depth_counts_code_brackets_only_and_never_goes_below_zero():
    text = 'f(a, [1, "(]", {2}])  # (\n)) x'
    depth = scan(text).depth
    assert depth[text.index("f(") + 1] == 1
    assert depth[text.index("[")] == 2 and depth[text.index("{")] == 3 and depth[text.index("}")] == 2
    assert depth[text.index('"(') + 1] == 2  # a bracket in a string is text, not code
    assert depth[text.index("# (") + 2] == 0  # nor one in a comment
    assert depth[-1] == 0 and depth.min() == 0  # the unmatched ")" at the end leaves it at 0


def test_a_cut_excerpt_is_scanned_without_failing_and_escapes_stay_in_their_string():
    text = "x = \"a\\\"b\" + '''open and never closed\n  ("  # tokenize refuses this; the scanner does not
    got = scan(text)
    assert got.in_string[text.index("a") : text.index('b"') + 1].all()  # \" does not close "a\"b"
    assert not got.in_string[text.index('b"') + 1]
    assert got.in_string[text.index("'''") :].all() and got.depth[-1] == 0


def test_indentation_grows_through_the_leading_spaces_then_holds():
    text = "def f():\n        return 1\nx"
    levels = indentation(text)
    line = text.index("        return")
    assert levels[:line].max() == 0  # the first line and its newline
    assert list(levels[line : line + 8] * 4) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert (levels[line + 8 : text.index("\nx") + 1] == 2).all() and levels[-1] == 0


def test_properties_that_never_occur_are_named_as_absent():
    prose = "First Citizen:\nBefore we proceed any further, hear me speak.\n"
    missing = absent(prose)
    assert {"inside a comment (code)", "bracket depth (code)", "inside brackets"} <= set(missing)
    assert "vowel" not in missing and "inside word" not in missing
    code = module_text("textwrap.py")[:5000]
    assert not {"inside a string (code)", "inside a comment (code)", "bracket depth (code)"} & set(
        absent(code)
    )
    assert all(PROPERTIES[name](prose).shape == (len(prose),) for name in PROPERTIES)
