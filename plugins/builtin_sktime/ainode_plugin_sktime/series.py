"""One variate of one input, made ready for an estimator: what to do with missing values (NaN = null row).

Forecasting (the estimators here cannot take NaN):

* leading NaNs are dropped (the series simply starts later);
* interior NaNs are filled by linear interpolation between their observed neighbours;
* trailing NaNs are dropped and counted: the forecast still starts at the first row AFTER the input, so
  with ``k`` missing rows at the end the model predicts steps ``k+1 .. k+H`` after its last observed value.

Detection: rows without a value get no verdict. The model sees only the observed rows, and the output holds
NaN at the missing rows (so labels stay aligned with the input's rows).

A series with no values, or fewer observed values than the model needs, is rejected with a 1512 that says
what the model needs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError


@dataclass(frozen=True)
class ForecastSeries:
    values: np.ndarray  # observed span, interior gaps interpolated
    trailing_missing: int  # rows after the last observed value; the horizon is shifted by this many steps


def _observed(values: np.ndarray, where: str) -> np.ndarray:
    if np.isinf(values).any():
        raise InvalidInferenceConfigError(f"{where} contains infinite values; send finite numbers or nulls")
    observed = ~np.isnan(values)
    if not observed.any():
        raise InvalidInferenceConfigError(f"{where} has no values (every row is null/NaN); send at least one value")
    return observed


def _require(count: int, min_length: int, needs: str, where: str) -> None:
    if count < min_length:
        raise InvalidInferenceConfigError(f"{where} has {count} observed values, but {needs}; send a longer series")


def prepare_forecast_series(values: np.ndarray, where: str, min_length: int, needs: str) -> ForecastSeries:
    observed = _observed(values, where)
    positions = np.flatnonzero(observed)
    first, last = positions[0], positions[-1]
    span = values[first:last + 1]
    _require(len(span), min_length, needs, where)
    if np.isnan(span).any():
        inside = np.arange(len(span))
        mask = ~np.isnan(span)
        span = np.interp(inside, inside[mask], span[mask])
    return ForecastSeries(values=np.ascontiguousarray(span, dtype=np.float64),
                          trailing_missing=len(values) - 1 - int(last))


def prepare_detection_series(values: np.ndarray, where: str, min_length: int,
                             needs: str) -> tuple[np.ndarray, np.ndarray]:
    """(mask of observed rows, observed values)."""
    observed = _observed(values, where)
    _require(int(observed.sum()), min_length, needs, where)
    return observed, np.ascontiguousarray(values[observed], dtype=np.float64)


def scatter_labels(labels: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Labels of the observed rows back onto every input row, NaN where the input had no value."""
    result = np.full(observed.shape, np.nan, dtype=np.float64)
    result[observed] = labels
    return result
