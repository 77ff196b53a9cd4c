"""Corpus: vocabulary, ids, the train/validation split, and readable errors for bad input."""

import numpy as np
import pytest

from core.config import ConfigError, TrainConfig
from core.data.corpus import CorpusError, Vocab, decode_utf8, load_corpus, make_corpus


def test_vocab_is_sorted_and_round_trips():
    vocab = Vocab.from_text("hello world")
    assert vocab.chars == " dehlorw"
    ids = vocab.encode("world hello")
    assert ids.dtype == np.int32
    assert vocab.decode(ids) == "world hello"


def test_split_holds_out_the_tail():
    corpus = make_corpus("abcdefghij" * 10, val_fraction=0.1)
    assert len(corpus.train_ids) == 90 and len(corpus.val_ids) == 10
    assert corpus.vocab.decode(corpus.val_ids) == "abcdefghij"


def test_unknown_character_is_named():
    with pytest.raises(CorpusError, match="'z'"):
        Vocab.from_text("abc").encode("abz")


@pytest.mark.parametrize("data", [b"", b"  \n\t "])
def test_empty_corpus_is_refused(tmp_path, data):
    path = tmp_path / "empty.txt"
    path.write_bytes(data)
    with pytest.raises(CorpusError, match="empty"):
        load_corpus(path)


def test_non_utf8_says_where():
    data = b"first line\nsecond " + b"\xff\xfe" + b" rest"
    with pytest.raises(CorpusError, match=r"0xff at offset 18 \(line 2\)"):
        decode_utf8(data, "bad.txt")


def test_missing_file_is_a_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="no corpus file"):
        load_corpus(tmp_path / "nope.txt")


def test_corpus_too_short_for_the_batch_shape():
    corpus = make_corpus("to be or not to be " * 20)
    cfg = TrainConfig(batch_size=8, num_steps=50)
    with pytest.raises(ConfigError, match="batch_size × num_steps \\+ 1 = 401"):
        cfg.check_fits(len(corpus.train_ids), len(corpus.val_ids))


def test_shipped_corpus_loads():
    corpus = load_corpus("assets/tinyshakespeare.txt")
    assert corpus.size == 1_115_394
    assert len(corpus.vocab) == 65
