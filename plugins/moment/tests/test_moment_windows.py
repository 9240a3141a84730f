"""Cutting series into MOMENT's 512-row windows and putting the answers back."""
from __future__ import annotations

import numpy as np
import pytest

from ainode_plugin_moment.windows import plan_windows, stitch, window_arrays, window_starts


@pytest.mark.parametrize(("length", "starts"), [
    (8, [0]), (100, [0]), (512, [0]), (513, [0, 1]), (1024, [0, 512]), (1100, [0, 76, 588]),
])
def test_windows_are_counted_back_from_the_last_row(length: int, starts: list[int]) -> None:
    assert window_starts(length, 512) == starts


def test_short_windows_are_left_padded_and_masked_by_whole_patches() -> None:
    values = np.arange(20, dtype=np.float64)
    values[13] = np.nan
    x, input_mask, mask = window_arrays([values], plan_windows([20], 32), 32, 8)
    assert x.shape == (1, 1, 32) and x.dtype == np.float32
    np.testing.assert_array_equal(input_mask[0], np.r_[np.zeros(12), np.ones(20)])
    np.testing.assert_array_equal(x[0, 0, :12], 0)
    assert np.isnan(x[0, 0, 12 + 13])
    # patches of rows 0-7 (all padding), 8-15 (half padding), 16-23 (observed), 24-31 (holds the NaN)
    np.testing.assert_array_equal(mask[0], np.r_[np.zeros(16), np.ones(8), np.zeros(8)])


def test_stitching_takes_the_later_window_where_two_overlap() -> None:
    lengths = [40, 10]
    windows = plan_windows(lengths, 32)  # series 0: rows 0-31 and 8-39; series 1: rows 0-9
    outputs = np.stack([np.full(32, 1.0), np.full(32, 2.0), np.arange(32, dtype=np.float64)])
    first, second = stitch(outputs, windows, lengths, 32)
    np.testing.assert_array_equal(first, np.r_[np.ones(8), np.full(32, 2.0)])
    np.testing.assert_array_equal(second, np.arange(22, 32))
