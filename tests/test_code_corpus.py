"""The code corpus (core.data.code_corpus): how it is built, and that the shipped file is that build."""

import re

from core.data import code_corpus
from core.data.corpus import load_corpus
from core.paths import ASSETS

SHIPPED = ASSETS / "python-stdlib.txt"


def test_building_expands_tabs_replaces_non_ascii_and_names_each_module(tmp_path):
    for name in code_corpus.MODULES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"def f():\r\n\treturn '{name} é'\n\n\n", encoding="utf-8")
    text = code_corpus.build(tmp_path)
    first = code_corpus.MODULES[0]
    assert text.startswith(f"# ======== Lib/{first} ========\ndef f():\n    return '{first} ?'\n\n")
    assert (
        tuple(re.findall(r"^# ======== Lib/(.+) ========$", text, flags=re.MULTILINE)) == code_corpus.MODULES
    )
    assert code_corpus.build(tmp_path) == text  # the same library, the same corpus


def test_the_shipped_file_is_ascii_code_with_the_characters_the_units_need():
    text = SHIPPED.read_text(encoding="utf-8")
    assert 1_000_000 <= len(text) <= 3_000_000
    assert all(c == "\n" or " " <= c <= "~" for c in text)
    for c in "\"'()[]{}#":  # strings, brackets and comments: what tiny-shakespeare lacks
        assert text.count(c) > 500 or c in "{}" and text.count(c) > 100, c
    headers = re.findall(r"^# ======== Lib/(.+) ========$", text, flags=re.MULTILINE)
    assert tuple(headers) == code_corpus.MODULES
    assert (ASSETS / "python-stdlib-LICENSE.txt").read_text().count("PYTHON SOFTWARE FOUNDATION LICENSE") >= 1


def test_the_shipped_file_loads_as_a_corpus_with_brackets_in_its_validation_part():
    corpus = load_corpus(str(SHIPPED), 0.1)
    val = corpus.vocab.decode(corpus.val_ids)
    assert len(corpus.vocab.chars) <= 96
    assert val.count('"') > 500 and val.count("[") > 100 and val.count("(") > 1000, (
        "the validation text has code's marks too"
    )
