"""CSV, Parquet and TsFile files -> one pandas DataFrame of numeric series indexed by time.

Used by the ``file`` data source (fine-tuning datasets given as ``file://`` URIs) and by the CLI
(``ainode forecast --input FILE``). The frame's index is the file's time column (epoch milliseconds as in
IoTDB when the column holds integers, a DatetimeIndex when it holds date strings or datetimes), or a
RangeIndex when the file has none; its columns are every numeric column as float64 (NaN where a value is
missing). ``time_range`` is IoTDB's ``[start, end)`` in epoch milliseconds.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.ingress.frames import as_float64, is_measurement
from ainode_core.ingress.timerange import check_time_range, filter_time

log = logging.getLogger(__name__)

__all__ = ["read_frame", "resolve_path", "SUPPORTED_SUFFIXES", "TIME_COLUMN_NAMES"]

TIME_COLUMN_NAMES = ("time", "timestamp", "date")


def resolve_path(location: str | Path) -> Path:
    """A local path or a ``file://`` URI -> a Path. ``file:///abs/x.csv`` and ``file://rel/x.csv`` both work."""
    if isinstance(location, Path):
        return location
    text = str(location).strip()
    if text.lower().startswith("file:"):
        parsed = urlparse(text)
        # file://data/x.csv is a common way to write a relative path: netloc is then the first folder.
        netloc = "" if parsed.netloc in ("", "localhost") else parsed.netloc
        return Path(unquote(netloc + parsed.path))
    return Path(text)


def read_frame(location: str | Path, time_range: Sequence[int] | None = None) -> pd.DataFrame:
    """Read a ``.csv``, ``.parquet``/``.pq`` or ``.tsfile`` file (a path or a ``file://`` URI).

    Raises :class:`InvalidInferenceConfigError` with a message saying what to change when the file is
    missing, its extension unknown, it has no numeric column, or no row falls inside ``time_range``.
    """
    path = resolve_path(location)
    window = check_time_range(time_range)
    if not path.exists():
        raise InvalidInferenceConfigError(f"Dataset file {path} does not exist; check the path (or file:// URI).")
    if not path.is_file():
        raise InvalidInferenceConfigError(f"Dataset {path} is not a file; give a .csv, .parquet or .tsfile file.")
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InvalidInferenceConfigError(
            f"Dataset file {path} has an unsupported extension {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}."
        )
    try:
        raw = reader(path)
    except InvalidInferenceConfigError:
        raise
    except Exception as exc:  # a corrupt file: say which file and what the parser said
        raise InvalidInferenceConfigError(f"Cannot read dataset file {path}: {type(exc).__name__}: {exc}") from exc
    frame = _to_series_frame(raw, path)
    if window is not None and isinstance(frame.index, pd.RangeIndex):
        raise InvalidInferenceConfigError(
            f"Dataset file {path} has no time column ({'/'.join(TIME_COLUMN_NAMES)}), so timeRange cannot "
            "select rows; add a time column or leave timeRange out."
        )
    return filter_time(frame, window, f"Dataset file {path}")


# --- format readers: each returns the file's table as it is (time column still a column) ---------------


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def _read_parquet(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    # pandas restores a named index written by to_parquet; it may well be the time column.
    if frame.index.name is not None or not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    return frame


def _read_tsfile(path: Path) -> pd.DataFrame:
    from ainode_core.ingress.tsfiles import read_tsfile

    return read_tsfile(path)


_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": _read_csv,
    ".parquet": _read_parquet,
    ".pq": _read_parquet,
    ".tsfile": _read_tsfile,
}
SUPPORTED_SUFFIXES = tuple(_READERS)


# --- shaping: time index + float64 numeric columns ------------------------------------------------------


def _find_time_column(frame: pd.DataFrame) -> str | None:
    by_name = {str(column).strip().lower(): column for column in frame.columns}
    for name in TIME_COLUMN_NAMES:
        if name in by_name:
            return by_name[name]
    return None


def _time_index(values: pd.Series, column: str, path: Path) -> pd.Index:
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise InvalidInferenceConfigError(
            f"Dataset file {path}: time column {column!r} is empty at row {row}; every row needs a time."
        )
    if pd.api.types.is_bool_dtype(values):
        raise InvalidInferenceConfigError(f"Dataset file {path}: time column {column!r} holds booleans, not times.")
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=np.float64)
        if not np.all(numbers == np.round(numbers)):
            raise InvalidInferenceConfigError(
                f"Dataset file {path}: time column {column!r} holds fractional numbers; "
                "use integer epoch milliseconds or date strings."
            )
        return pd.Index(values.to_numpy(dtype=np.int64), name=column)
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.DatetimeIndex(values, name=column)
    try:
        parsed = pd.to_datetime(values.astype(str))
    except (ValueError, TypeError):
        try:  # mixed UTC offsets only parse into one UTC column
            parsed = pd.to_datetime(values.astype(str), utc=True)
        except (ValueError, TypeError) as exc:
            raise InvalidInferenceConfigError(
                f"Dataset file {path}: time column {column!r} holds values that are neither epoch milliseconds "
                f"nor dates (first value {values.iloc[0]!r}): {exc}"
            ) from exc
    return pd.DatetimeIndex(parsed, name=column)


def _to_series_frame(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    if raw.shape[0] == 0:
        raise InvalidInferenceConfigError(f"Dataset file {path} has no rows; give a file with data.")
    time_column = _find_time_column(raw)
    candidates = raw.drop(columns=[time_column]) if time_column is not None else raw
    numeric = [column for column in candidates.columns if is_measurement(candidates[column])]
    if not numeric:
        raise InvalidInferenceConfigError(
            f"Dataset file {path} has no numeric column (columns: {', '.join(map(str, raw.columns))}); "
            "every series must hold numbers."
        )
    dropped = [str(column) for column in candidates.columns if column not in numeric]
    if dropped:
        log.info("dataset %s: ignoring non-numeric columns %s", path, ", ".join(dropped))
    # Nullable ints/floats (pd.NA) become NaN: the pipelines want plain float64.
    values = {str(column): as_float64(candidates[column]) for column in numeric}
    if time_column is None:
        return pd.DataFrame(values, index=pd.RangeIndex(raw.shape[0]))
    index = _time_index(raw[time_column], str(time_column), path)
    frame = pd.DataFrame(values, index=index)
    return frame.sort_index(kind="stable")  # series must run forward in time
