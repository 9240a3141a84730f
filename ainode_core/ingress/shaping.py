"""A table -> the series a model reads: float64 columns indexed by time. The one reader behind the CLI's
``--input`` files, the file data source and the Python client's frames, so all of them read data alike.

The time is, in this order: a DatetimeIndex/PeriodIndex; a column named time/timestamp/date; a column of
datetimes or of date text; any other non-range index. Without one, rows are steps (the table's own
RangeIndex). Every numeric column is a series unless ``columns`` picks some; other columns are left out with
a note naming them; a picked column that holds text is an error naming it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.ingress.frames import as_float64, is_measurement
from ainode_core.ingress.timecolumn import parse_dates, time_index

__all__ = ["SeriesFrame", "ColumnChoiceError", "shape_series", "TIME_COLUMN_NAMES"]

TIME_COLUMN_NAMES = ("time", "timestamp", "date")


class ColumnChoiceError(InvalidInferenceConfigError):
    """A column the caller picked is missing or holds no numbers (a command-line mistake in the CLI)."""


@dataclass(frozen=True)
class SeriesFrame:
    """The series (``frame``), where their time came from (``time_source``: a column, ``"index"``, or
    ``None`` when rows are steps) and ``notes``: what the reader assumed, each a sentence for the user."""

    frame: pd.DataFrame
    time_source: str | None
    notes: tuple[str, ...] = ()

    def steps_note(self) -> str | None:
        """What to tell a user whose table has no time: rows become steps, and where the forecast continues."""
        if self.time_source is not None:
            return None
        index = self.frame.index
        return (f"no time column (none named {'/'.join(TIME_COLUMN_NAMES)} or holding dates): rows are used as "
                f"steps {index[0]}..{index[-1]}")


def shape_series(raw: pd.DataFrame, subject: str, columns: Sequence[str] | None = None) -> SeriesFrame:
    """``raw`` -> :class:`SeriesFrame`. ``subject`` starts every message ("Dataset file x.csv", "the data")."""
    if raw.shape[0] == 0:
        raise InvalidInferenceConfigError(f"{subject} has no rows; give data with at least one row.")
    notes: list[str] = []
    time_values, time_name, body = _split_time(raw, subject, notes)
    chosen = _choose_columns(body, subject, columns, notes)
    values = {str(column): as_float64(body[column]) for column in chosen}
    if time_values is None:
        return SeriesFrame(pd.DataFrame(values, index=raw.index), None, tuple(notes))
    index, time_notes = time_index(time_values, time_name, subject)
    frame = pd.DataFrame(values, index=index).sort_index(kind="stable")  # series must run forward in time
    return SeriesFrame(frame, time_name, tuple(notes + time_notes))


def _split_time(raw: pd.DataFrame, subject: str,
                notes: list[str]) -> tuple[pd.Series | pd.Index | None, str, pd.DataFrame]:
    """(time values, their name, the other columns)."""
    if isinstance(raw.index, (pd.DatetimeIndex, pd.PeriodIndex)):
        return raw.index, str(raw.index.name or "index"), raw
    by_name = {str(column).strip().lower(): column for column in raw.columns}
    for name in TIME_COLUMN_NAMES:
        if name in by_name:
            column = by_name[name]
            return raw[column], str(column), raw.drop(columns=[column])
    for column in raw.columns:
        if pd.api.types.is_datetime64_any_dtype(raw[column]) or _holds_date_text(raw[column]):
            notes.append(f"using column {str(column)!r} (dates) as the time")
            return raw[column], str(column), raw.drop(columns=[column])
    if not isinstance(raw.index, pd.RangeIndex):
        return raw.index, str(raw.index.name or "index"), raw
    return None, "", raw


def _holds_date_text(values: pd.Series) -> bool:
    """Text whose every value reads as a date (tried only when the first one does, to stay cheap)."""
    if is_measurement(values) or pd.api.types.is_bool_dtype(values) or values.isna().any():
        return False
    first = str(values.iloc[0]).strip()
    if not first or first.replace(".", "", 1).lstrip("-").isdigit():
        return False  # numbers kept as text are values, not dates
    try:
        parse_dates(values.iloc[:1], "", "")
        parse_dates(values, "", "")
    except InvalidInferenceConfigError:
        return False
    return True


def _choose_columns(body: pd.DataFrame, subject: str, columns: Sequence[str] | None,
                    notes: list[str]) -> list:
    numeric = [column for column in body.columns if is_measurement(body[column])]
    listed = ", ".join(map(str, numeric)) or "none"
    if columns:
        by_name = {str(column): column for column in body.columns}
        chosen = []
        for name in columns:
            if name not in by_name:
                raise ColumnChoiceError(f"{subject}: no numeric column {name!r}; the numeric columns are {listed}")
            column = by_name[name]
            if not is_measurement(body[column]):
                raise ColumnChoiceError(
                    f"{subject}: column {name!r} holds {_kind(body[column])}, not numbers; pick numeric columns "
                    f"({listed})")
            chosen.append(column)
        return chosen
    if not numeric:
        raise InvalidInferenceConfigError(
            f"{subject} has no numeric column (columns: {', '.join(map(str, body.columns))}); every series must "
            "hold numbers.")
    left_out = [column for column in body.columns if column not in numeric]
    if left_out:
        described = ", ".join(f"{str(column)!r} ({_kind(body[column])})" for column in left_out)
        notes.append(f"left out column{'s' if len(left_out) > 1 else ''} {described}: only numbers are series")
    return numeric


def _kind(values: pd.Series) -> str:
    """A column's content in words, with an example, for messages."""
    if pd.api.types.is_bool_dtype(values):
        return "booleans"
    sample = values.dropna()
    example = f", e.g. {sample.iloc[0]!r}" if len(sample) else ""
    return f"text{example}" if not pd.api.types.is_datetime64_any_dtype(values) else f"dates{example}"

