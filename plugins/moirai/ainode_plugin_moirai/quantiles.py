"""Moirai-2's quantile forecasts → the pipeline's output rows (the layout Chronos-2 uses too).

The model predicts ``[C, Q, H]`` at its levels (0.1 … 0.9). The pipeline returns ``[K * C, H]`` for K requested
levels, **level-major**: row ``k * C + c`` is target ``c`` at the k-th requested level; by default (the median
only) exactly ``[C, H]``. A level between two of the model's levels is interpolated linearly between them.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def select_levels(prediction: np.ndarray, model_levels: Sequence[float], levels: Sequence[float]) -> np.ndarray:
    """``[C, Q, H]`` at ``model_levels`` (ascending) → ``[K * C, H]`` at ``levels``, level-major."""
    known = np.asarray(model_levels, dtype=np.float64)
    rows = []
    for level in levels:
        upper = int(np.clip(np.searchsorted(known, level - 1e-9), 0, len(known) - 1))
        if abs(known[upper] - level) < 1e-9:
            rows.append(prediction[:, upper])  # a level the model predicts: its own numbers, untouched
            continue
        lower = upper - 1
        weight = (level - known[lower]) / (known[upper] - known[lower])
        rows.append(prediction[:, lower] + weight * (prediction[:, upper] - prediction[:, lower]))
    return np.concatenate(rows, axis=0)
