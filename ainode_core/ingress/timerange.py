"""IoTDB's ``timeRange`` ([start, end) in epoch milliseconds): validation and filtering of a time-indexed frame.

Shared by every data source so a bad or empty range reads the same whether the data came from a file or
from a DataNode.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ainode_core.errors import InvalidInferenceConfigError

__all__ = ["check_time_range", "epoch_ms", "describe_span", "filter_time", "where_clause"]


def check_time_range(time_range: Sequence[int] | None) -> tuple[int, int] | None:
    """``None`` or an empty list (Thrift's unset optional list) mean "everything"."""
    if time_range is None:
        return None
    bounds = list(time_range)
    if not bounds:
        return None
    if len(bounds) != 2:
        raise InvalidInferenceConfigError(
            f"timeRange must be [start, end) in epoch milliseconds (two numbers), got {bounds}."
        )
    try:
        start, end = (int(bound) for bound in bounds)
    except (TypeError, ValueError) as exc:
        raise InvalidInferenceConfigError(f"timeRange must hold integers (epoch milliseconds), got {bounds}.") from exc
    if start >= end:
        raise InvalidInferenceConfigError(f"timeRange [{start}, {end}) is empty; start must be before end.")
    return start, end


def where_clause(window: tuple[int, int] | None) -> str:
    """The SQL filter IoTDB's own AINode appends for a time range (``""`` for none)."""
    if window is None:
        return ""
    return f" where time >= {window[0]} and time < {window[1]}"


def epoch_ms(index: pd.Index) -> np.ndarray:
    """An int (epoch ms) or datetime index -> int64 epoch milliseconds. Naive datetimes are taken as UTC,
    the only reading that does not depend on this machine's zone."""
    if isinstance(index, pd.DatetimeIndex):
        utc = index.tz_convert("UTC") if index.tz is not None else index.tz_localize("UTC")
        return utc.as_unit("ms").asi8
    return index.to_numpy(dtype=np.int64)


def describe_span(index: pd.Index) -> str:
    if len(index) == 0:
        return "no rows at all"
    millis = epoch_ms(index)
    first, last = int(millis.min()), int(millis.max())
    if isinstance(index, pd.DatetimeIndex):
        return f"{index.min()} .. {index.max()} (epoch ms {first} .. {last})"
    return f"epoch ms {first} .. {last}"


def filter_time(frame: pd.DataFrame, window: tuple[int, int] | None, subject: str) -> pd.DataFrame:
    """Rows of ``frame`` inside ``window``. ``subject`` starts the error message ("Dataset file x.csv")."""
    if window is None:
        return frame
    if isinstance(frame.index, pd.RangeIndex):
        raise InvalidInferenceConfigError(
            f"{subject} has no time column, so timeRange cannot select rows; add a time column or leave "
            "timeRange out."
        )
    start, end = window
    millis = epoch_ms(frame.index)
    selected = frame[(millis >= start) & (millis < end)]
    if selected.shape[0] == 0:
        raise InvalidInferenceConfigError(
            f"{subject} has no rows in timeRange [{start}, {end}) (epoch ms); it covers "
            f"{describe_span(frame.index)}. Widen the time range."
        )
    return selected
