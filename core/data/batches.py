"""The post's ptb_iterator: contiguous rows walked in windows, so state carries from batch to batch."""

import numpy as np


def num_batches(n_ids: int, batch_size: int, num_steps: int) -> int:
    """Windows per epoch: each row holds n_ids // batch_size ids and y needs one id past x."""
    return (n_ids // batch_size - 1) // num_steps


def batch_iterator(ids: np.ndarray, batch_size: int, num_steps: int):
    """Yield (x, y), each [batch_size, num_steps] int32, with y = x shifted one id to the left.

    The stream is cut into batch_size contiguous rows; window i takes columns
    [i*num_steps, (i+1)*num_steps) of every row. So row r of window i+1 continues row r of
    window i, and the final RNN state of one batch is the right initial state of the next.
    """
    row_len = len(ids) // batch_size
    rows = np.asarray(ids[: row_len * batch_size], dtype=np.int32).reshape(batch_size, row_len)
    for i in range(num_batches(len(ids), batch_size, num_steps)):
        start = i * num_steps
        yield rows[:, start : start + num_steps], rows[:, start + 1 : start + num_steps + 1]
