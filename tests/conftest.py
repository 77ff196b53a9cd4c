"""Fixtures every test module may use."""

import pytest

from tests.tiny import write_corpus


@pytest.fixture
def corpus_path(tmp_path):
    """The tiny repetitive corpus in this test's folder (its path)."""
    return write_corpus(tmp_path)
