"""The batch iterator has the post's ptb_iterator semantics, worked by hand."""

import numpy as np

from core.data.batches import batch_iterator, num_batches


def test_hand_worked_example():
    ids = np.arange(20)  # rows: [0..9] and [10..19]; (10 - 1) // 3 = 3 windows
    batches = list(batch_iterator(ids, batch_size=2, num_steps=3))
    assert len(batches) == num_batches(20, 2, 3) == 3
    x0, y0 = batches[0]
    np.testing.assert_array_equal(x0, [[0, 1, 2], [10, 11, 12]])
    np.testing.assert_array_equal(y0, [[1, 2, 3], [11, 12, 13]])
    x2, y2 = batches[2]
    np.testing.assert_array_equal(x2, [[6, 7, 8], [16, 17, 18]])
    np.testing.assert_array_equal(y2, [[7, 8, 9], [17, 18, 19]])


def test_each_row_continues_where_it_stopped():
    ids = np.arange(1000)
    batches = list(batch_iterator(ids, batch_size=4, num_steps=7))
    for (x, _), (x_next, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(x_next[:, 0], x[:, -1] + 1)  # so carried state is the right state
    for x, y in batches:
        np.testing.assert_array_equal(y, x + 1)
        assert x.dtype == np.int32 and x.shape == (4, 7)


def test_leftover_ids_are_dropped():
    assert num_batches(21, 2, 3) == 3  # row length 10: one window short of a fourth
    assert list(batch_iterator(np.arange(5), 2, 3)) == []
