"""A time column (or a frame's index) -> the series' time index.

Numbers are epoch times whose unit is told by their magnitude (IoTDB stores epoch milliseconds, so every
other unit is converted to milliseconds); text is parsed as dates, ISO 8601 first, then month-first and
day-first. Whatever was guessed comes back as a note that says what was assumed, so a caller can tell the
user (the CLI prints notes on stderr, the client raises them as warnings).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ainode_core.errors import InvalidInferenceConfigError

__all__ = ["epoch_unit", "time_index", "parse_dates", "MS_PER_UNIT"]

# Upper bounds of the largest |value| for each unit. Every unit's span covers 1973..2286: epoch seconds
# 1e8..1e10, milliseconds 1e11..1e13, ... Below 1e8 the numbers are steps (or milliseconds of early 1970):
# kept as they are.
_MAGNITUDES: tuple[tuple[float, str | None], ...] = ((1e8, None), (1e10, "s"), (1e13, "ms"), (1e16, "us"))
MS_PER_UNIT = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}
_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
ISO_HINT = "write dates as ISO 8601 (2024-03-01 or 2024-03-01T12:00:00) or times as epoch milliseconds"


def epoch_unit(numbers: Any) -> str | None:
    """``"s"``, ``"ms"``, ``"us"`` or ``"ns"`` when the numbers read as epoch times of that unit (by the
    magnitude of the largest), ``None`` for small numbers (steps)."""
    values = np.asarray(numbers, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    magnitude = float(np.abs(finite).max())
    for bound, unit in _MAGNITUDES:
        if magnitude < bound:
            return unit
    return "ns"


def time_index(values: pd.Series | pd.Index, column: str, subject: str) -> tuple[pd.Index, list[str]]:
    """The time index for ``values`` (a column or an index) and the notes on how it was read.

    Integers stay integers (epoch milliseconds, or steps when small); other epoch units become milliseconds.
    Raises :class:`InvalidInferenceConfigError` naming the column and the first value it cannot read.
    """
    if isinstance(values, (pd.DatetimeIndex, pd.PeriodIndex)):
        return values, []  # the caller's own index, as it is
    series = (values.to_series() if isinstance(values, pd.Index) else values).reset_index(drop=True)
    if series.isna().any():
        row = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise InvalidInferenceConfigError(f"{subject}: time column {column!r} is empty at row {row}; every row "
                                          "needs a time.")
    if pd.api.types.is_bool_dtype(series):
        raise InvalidInferenceConfigError(f"{subject}: time column {column!r} holds booleans, not times.")
    if pd.api.types.is_numeric_dtype(series):
        return _epoch_index(series.to_numpy(dtype=np.float64), column, subject)
    if pd.api.types.is_datetime64_any_dtype(series):
        return pd.DatetimeIndex(series, name=column), []
    parsed, note = parse_dates(series, column, subject)
    return pd.DatetimeIndex(parsed, name=column), [note] if note else []


def _epoch_index(numbers: np.ndarray, column: str, subject: str) -> tuple[pd.Index, list[str]]:
    unit = epoch_unit(numbers)
    if unit in (None, "ms"):
        if not np.all(numbers == np.round(numbers)):
            raise InvalidInferenceConfigError(
                f"{subject}: time column {column!r} holds fractional numbers; use integer epoch milliseconds, "
                "epoch seconds or date strings.")
        return pd.Index(numbers.astype(np.int64), name=column), []
    millis = np.round(numbers * MS_PER_UNIT[unit]).astype(np.int64)
    note = (f"time column {column!r} holds epoch {_UNIT_NAMES[unit]} (by their size, e.g. {numbers[0]:.0f}); "
            "converted to epoch milliseconds, as IoTDB keeps time")
    return pd.Index(millis, name=column), [note]


def _try_parse(strings: pd.Series, **kwargs: Any) -> pd.Series | None:
    """``pd.to_datetime`` or ``None``; pandas' own warnings and advice stay out of our messages."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for utc in (False, True):  # mixed UTC offsets only parse into one UTC column
            try:
                return pd.to_datetime(strings, utc=utc, **kwargs)
            except (ValueError, TypeError, OverflowError):
                continue
    return None


def parse_dates(strings: pd.Series, column: str, subject: str) -> tuple[pd.Series, str | None]:
    """Date text -> datetimes, and a note when the reading was a guess (day-first, ambiguous, mixed)."""
    strings = strings.astype(str).str.strip()
    iso = _try_parse(strings, format="ISO8601")
    if iso is not None:
        return iso, None
    month_first, day_first = _try_parse(strings, dayfirst=False), _try_parse(strings, dayfirst=True)
    if month_first is not None and day_first is not None:
        if month_first.equals(day_first):  # e.g. 13/03/2024: only one reading exists
            return month_first, None
        return _ambiguous(strings, month_first, day_first, column)
    if day_first is not None:
        row = _first_row(_try_parse(strings, dayfirst=False, errors="coerce"))
        return day_first, (f"dates in column {column!r} are day-first ({strings.iloc[row]!r} is "
                           f"{day_first.iloc[row]:%Y-%m-%d}); read them so")
    if month_first is not None:
        return month_first, None
    mixed = _try_parse(strings, format="mixed")
    if mixed is not None:
        return mixed, f"dates in column {column!r} come in several formats; each was read on its own"
    row = _first_row(_try_parse(strings, format="mixed", errors="coerce"))
    raise InvalidInferenceConfigError(
        f"{subject}: time column {column!r} holds {strings.iloc[row]!r} at row {row}, which is neither a date nor "
        f"an epoch number; {ISO_HINT}.")


def _first_row(coerced: pd.Series | None) -> int:
    """The first row that did not parse (NaT), else 0."""
    if coerced is None:
        return 0
    missing = np.flatnonzero(coerced.isna().to_numpy())
    return int(missing[0]) if missing.size else 0


def _ambiguous(strings: pd.Series, month_first: pd.Series, day_first: pd.Series,
               column: str) -> tuple[pd.Series, str]:
    """Both readings are valid (no day above 12). A file lists its rows in time order at a steady rhythm, so
    the reading that alone does so wins; otherwise month-first (pandas' default). The note says which, why."""
    scores = {"month-first": _regularity(month_first), "day-first": _regularity(day_first)}
    if scores["day-first"] > scores["month-first"]:
        chosen, why = "day-first", "only that reading keeps the rows in order at a steady step"
    elif scores["month-first"] > scores["day-first"]:
        chosen, why = "month-first", "only that reading keeps the rows in order at a steady step"
    else:
        chosen, why = "month-first", "both readings fit; month-first is pandas' default"
    reading = day_first if chosen == "day-first" else month_first
    row = int(np.flatnonzero((month_first != day_first).to_numpy())[0])
    return reading, (f"dates in column {column!r} such as {strings.iloc[row]!r} read either month-first or "
                     f"day-first; read {chosen} ({why}), so it is {reading.iloc[row]:%Y-%m-%d}. Write ISO dates "
                     "(YYYY-MM-DD) to avoid the guess")


def _regularity(times: pd.Series) -> tuple[bool, bool]:
    """(rows in time order, either way; a frequency pandas can name, e.g. daily or month starts)."""
    ordered = times.is_monotonic_increasing or times.is_monotonic_decreasing
    if not ordered or len(times) < 3:
        return ordered, False
    try:
        return True, pd.infer_freq(pd.DatetimeIndex(times).sort_values()) is not None
    except (TypeError, ValueError):
        return True, False
