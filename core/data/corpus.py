"""A UTF-8 text becomes a sorted vocabulary, an id array, and a train/validation split."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import Refusal


class CorpusError(Refusal, ValueError):
    """A corpus that cannot be trained on; the message says why and where."""


@dataclass(frozen=True)
class Vocab:
    """Characters sorted, so the same text always gives the same ids."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    @property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str) -> np.ndarray:
        """Text -> int32 ids; a character the vocabulary lacks is a CorpusError naming it."""
        index = self.index
        missing = sorted({c for c in text if c not in index})
        if missing:
            shown = ", ".join(repr(c) for c in missing[:10])
            raise CorpusError(f"characters not in the model's vocabulary: {shown}")
        return np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


@dataclass(frozen=True)
class Corpus:
    """The whole text as ids, split into a training head and a held-out validation tail."""

    vocab: Vocab
    train_ids: np.ndarray  # [n_train] int32
    val_ids: np.ndarray  # [n_val] int32
    name: str = "corpus"

    @property
    def size(self) -> int:
        return len(self.train_ids) + len(self.val_ids)


def decode_utf8(data: bytes, name: str = "corpus") -> str:
    """Bytes -> text, or a CorpusError that says the file is empty or where the bad bytes are."""
    if not data.strip():
        raise CorpusError(f"{name} is empty: there is nothing to learn from")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CorpusError(
            f"{name} is not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start} "
            f"(line {line}) cannot be decoded; save the file as UTF-8"
        ) from None


def make_corpus(text: str, val_fraction: float = 0.1, name: str = "corpus") -> Corpus:
    """Split the text's ids: the first (1 - val_fraction) for training, the tail for validation."""
    if not text.strip():
        raise CorpusError(f"{name} is empty: there is nothing to learn from")
    vocab = Vocab.from_text(text)
    ids = vocab.encode(text)
    n_val = int(len(ids) * val_fraction)
    return Corpus(vocab, ids[: len(ids) - n_val], ids[len(ids) - n_val :], name)


def load_corpus(path: str | Path, val_fraction: float = 0.1) -> Corpus:
    """Read a UTF-8 file from disk into a Corpus."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"no corpus file at {path}")
    return make_corpus(decode_utf8(path.read_bytes(), path.name), val_fraction, path.name)
