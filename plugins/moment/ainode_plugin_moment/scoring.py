"""A series and its reconstruction → what a request asked for: labels, scores or the imputed series.

Scores are momentfm's ``mse`` anomaly criterion, ``(x - reconstruction)²`` per row (NaN on a missing row).
Labels need a cut-off a zero-shot model does not have, so a row is labelled 1 when its reconstruction error is
an outlier among the column's own errors: modified z-score ``0.6745 · (r - median r) / MAD(r)`` above the
threshold (Iglewicz & Hoaglin), which adapts to each column's scale and to a reconstruction's constant bias.
"""
from __future__ import annotations

import numpy as np

MAD_TO_Z = 0.6745  # MAD of a standard normal: makes the modified z-score comparable to a z-score
MEAN_AD_TO_Z = 0.7979  # mean absolute deviation of a standard normal, the fallback when MAD is 0


def scores(values: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    return np.square(values - reconstruction)


def labels(values: np.ndarray, reconstruction: np.ndarray, threshold: float) -> np.ndarray:
    """0/1 per row; a missing row (or one without a reconstruction) is 0."""
    residual = values - reconstruction
    usable = np.isfinite(residual)
    flags = np.zeros(values.shape, dtype=np.float64)
    if not usable.any():
        return flags
    kept = residual[usable]
    centre = np.median(kept)
    spread = np.median(np.abs(kept - centre)) / MAD_TO_Z
    if spread == 0:  # over half the errors equal: fall back to the mean deviation
        spread = np.mean(np.abs(kept - centre)) / MEAN_AD_TO_Z
    if spread == 0:
        return flags
    flags[usable] = (np.abs(kept - centre) / spread > threshold).astype(np.float64)
    return flags


def imputed(values: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """The input with its missing rows taken from the reconstruction; observed rows are left as sent."""
    return np.where(np.isnan(values), reconstruction, values)
