"""CSV, Parquet and TsFile files -> one pandas DataFrame of numeric series indexed by time.

Used by the ``file`` data source (fine-tuning datasets given as ``file://`` URIs), by the CLI
(``ainode forecast --input FILE``) and by the Python client (a path as data). How a table becomes series
(which column is the time, epoch units, dates, text columns) is :mod:`ainode_core.ingress.shaping`, the same
for files and for the client's frames. ``time_range`` is IoTDB's ``[start, end)`` in epoch milliseconds.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import unquote, urlparse

import pandas as pd

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.ingress.shaping import TIME_COLUMN_NAMES, SeriesFrame, shape_series
from ainode_core.ingress.timerange import check_time_range, filter_time

log = logging.getLogger(__name__)

__all__ = ["read_frame", "read_series", "resolve_path", "SUPPORTED_SUFFIXES", "TIME_COLUMN_NAMES"]


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
    """Every numeric column of a ``.csv``, ``.parquet``/``.pq`` or ``.tsfile`` file (a path or a ``file://``
    URI) as a frame indexed by time; what the reader assumed is logged. See :func:`read_series`."""
    series = read_series(location, time_range)
    for note in series.notes:
        log.info("dataset %s: %s", location, note)
    return series.frame


def read_series(location: str | Path, time_range: Sequence[int] | None = None,
                columns: Sequence[str] | None = None) -> SeriesFrame:
    """The file's series (``columns``, default every numeric one), where their time came from, and notes.

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
    series = shape_series(raw, f"Dataset file {path}", columns)
    if window is not None and series.time_source is None:
        raise InvalidInferenceConfigError(
            f"Dataset file {path} has no time column ({'/'.join(TIME_COLUMN_NAMES)}), so timeRange cannot "
            "select rows; add a time column or leave timeRange out."
        )
    return SeriesFrame(filter_time(series.frame, window, f"Dataset file {path}"), series.time_source, series.notes)


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
