"""Series of any length ↔ MOMENT's fixed windows of ``seq_len`` (512) rows, in numpy.

MOMENT reads exactly 512 rows. A series is cut into windows counted back from its last row (the last 512
rows form the last window, the 512 before them the one before, ...); the first window is clamped to start at
row 0, so it overlaps the next one and every window of a series of >= 512 rows is full. A row covered by two
windows takes the later window's answer. A series shorter than 512 rows is one window, LEFT-padded with zeros
and ``input_mask`` 0, as momentfm's own data loaders do.

``mask`` hides what the model must not read: a patch of ``patch_len`` rows is shown only when every row of it
is observed (not NaN) and not padding — momentfm's patch rule, so for a series without gaps the mask equals
the one momentfm generates itself. Missing rows stay NaN in ``x``: RevIN skips them, as in momentfm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Window:
    series: int  # index of the series in the list given to plan_windows
    start: int  # first row of the series in this window
    stop: int  # one past its last row


def window_starts(length: int, seq_len: int) -> list[int]:
    """Ascending window starts: back from the last row by ``seq_len``, the first clamped to row 0."""
    if length <= seq_len:
        return [0]
    return sorted({*range(length - seq_len, 0, -seq_len), 0})


def plan_windows(lengths: Sequence[int], seq_len: int) -> list[Window]:
    return [Window(series, start, min(start + seq_len, length))
            for series, length in enumerate(lengths) for start in window_starts(length, seq_len)]


def window_arrays(series: Sequence[np.ndarray], windows: Sequence[Window], seq_len: int,
                  patch_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x [N, 1, seq_len] float32 (NaN where missing), input_mask [N, seq_len], mask [N, seq_len]."""
    x = np.zeros((len(windows), 1, seq_len), dtype=np.float32)
    input_mask = np.zeros((len(windows), seq_len), dtype=np.float32)
    for row, window in enumerate(windows):
        pad = seq_len - (window.stop - window.start)
        x[row, 0, pad:] = series[window.series][window.start:window.stop]
        input_mask[row, pad:] = 1.0
    observed = ~np.isnan(x[:, 0, :]) & (input_mask == 1.0)
    shown = observed.reshape(len(windows), -1, patch_len).all(axis=-1)
    mask = np.repeat(shown, patch_len, axis=-1).astype(np.float32)
    return x, input_mask, mask


def stitch(outputs: np.ndarray, windows: Sequence[Window], lengths: Sequence[int], seq_len: int) -> list[np.ndarray]:
    """Window outputs [N, seq_len] → one float64 array per series (later windows win where they overlap)."""
    results = [np.empty(length, dtype=np.float64) for length in lengths]
    for row, window in enumerate(windows):  # plan order is ascending per series
        size = window.stop - window.start
        results[window.series][window.start:window.stop] = outputs[row, seq_len - size:]
    return results
