"""Which characters each row of each window holds: the post's batch iterator laid out on real text.

The layout is read off core.data.batches.batch_iterator itself, so the picture cannot drift from what
training reads: the stream is cut into batch_size rows of row_len characters, and window i is columns
[i*num_steps, (i+1)*num_steps) of every row, so row r of window i+1 goes on where row r of window i ended.
"""

import itertools
from dataclasses import dataclass

import numpy as np

from core.data.batches import batch_iterator, num_batches
from core.data.corpus import Vocab


@dataclass(frozen=True)
class Window:
    """One (x, y) pair the iterator yields, decoded: one string of num_steps characters per row."""

    index: int  # its place in the epoch: 0 for the first batch
    x: tuple[str, ...]  # [batch_size] what the RNN reads
    y: tuple[str, ...]  # [batch_size] what it must guess: each x one character later


@dataclass(frozen=True)
class Layout:
    """The first few windows of an epoch and where their characters come from in the text."""

    batch_size: int
    num_steps: int
    row_len: int  # characters per row: the stream cut into batch_size equal, contiguous rows
    windows_per_epoch: int
    windows: tuple[Window, ...]

    def offset(self, row: int, window: int, step: int) -> int:
        """Where x[row][step] of that window sits in the text (its y is the next character)."""
        return row * self.row_len + window * self.num_steps + step


def layout(ids: np.ndarray, vocab: Vocab, batch_size: int, num_steps: int, shown: int = 3) -> Layout:
    """The first `shown` windows batch_iterator yields for ids [n], decoded with `vocab`."""
    batches = itertools.islice(batch_iterator(ids, batch_size, num_steps), shown)
    windows = tuple(
        Window(i, tuple(vocab.decode(row) for row in x), tuple(vocab.decode(row) for row in y))
        for i, (x, y) in enumerate(batches)  # x, y: [batch_size, num_steps] ids
    )
    return Layout(
        batch_size, num_steps, len(ids) // batch_size, num_batches(len(ids), batch_size, num_steps), windows
    )
