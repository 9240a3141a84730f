"""From validated pipeline inputs to a batch of clean univariate series, and back.

Timer-XL and Sundial are univariate: an input with targets [C, L] is C independent series, and every
series of every input in one ``forecast()`` call goes through the model in one batch.

Missing values (NaN, which is how the core delivers IoTDB nulls) are handled, not rejected, because
real sensor data has gaps: leading NaNs are dropped (the series had not started yet), interior gaps are
linearly interpolated, trailing NaNs repeat the last observed value. A series with no value at all, or
with an infinite value, is rejected with 1512.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError

log = logging.getLogger(__name__)


def clean_series(values: np.ndarray, where: str) -> np.ndarray:
    if np.isinf(values).any():
        raise InvalidInferenceConfigError(f"{where} contains an infinite value; send finite numbers or nulls.")
    observed = ~np.isnan(values)
    if not observed.any():
        raise InvalidInferenceConfigError(f"{where} has no values (all nulls); there is nothing to forecast from.")
    if observed.all():
        return values
    values = values[int(np.argmax(observed)):]
    observed = observed[len(observed) - len(values):]
    index = np.arange(len(values))
    # np.interp is linear between observed points and holds the last value after the final one.
    return np.interp(index, index[observed], values[observed])


@dataclass
class SeriesBatch:
    """The series of all inputs, in order, and how many each input contributed."""

    series: list[np.ndarray]
    counts: list[int]

    def split(self, rows: Sequence[Any]) -> list[Any]:
        """Regroup per-series results (indexable along the first axis) into one block per input."""
        out, start = [], 0
        for count in self.counts:
            out.append(rows[start:start + count])
            start += count
        return out


def collect_series(
    inputs: Sequence[dict[str, Any]], *, model_id: str, max_lookback: int, min_length: int = 1
) -> SeriesBatch:
    """Clean every variate of every input, keep its newest ``max_lookback`` points, check the length."""
    series: list[np.ndarray] = []
    counts: list[int] = []
    for index, item in enumerate(inputs):
        if item.get("past_covariates") or item.get("future_covariates"):
            log.warning("model %s forecasts from the targets only; the covariates of input %d are ignored",
                        model_id, index)
        targets = np.asarray(item["targets"], dtype=np.float64)
        for variate, row in enumerate(targets):
            where = f"input {index}, variate {variate}"
            cleaned = clean_series(row, where)[-max_lookback:]
            if len(cleaned) < min_length:
                raise InvalidInferenceConfigError(
                    f"{where} has {len(cleaned)} observed points but model {model_id} needs at least "
                    f"{min_length} (one input patch); send a longer history."
                )
            series.append(cleaned)
        counts.append(len(targets))
    return SeriesBatch(series, counts)


def left_pad(series: Sequence[np.ndarray], multiple: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Right-align series of different lengths: values [B, W] (padding 0) and mask [B, W] (1 = real),
    with W the longest length rounded up to ``multiple``."""
    longest = max(len(row) for row in series)
    width = -(-longest // multiple) * multiple
    values = np.zeros((len(series), width), dtype=np.float32)
    mask = np.zeros((len(series), width), dtype=np.float32)
    for row, data in enumerate(series):
        values[row, width - len(data):] = data
        mask[row, width - len(data):] = 1.0
    return values, mask
