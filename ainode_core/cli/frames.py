"""Time-indexed result frames (forecasts, detections, CALL INFERENCE) as tables, JSON rows and files."""
from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ainode_core.cli.output import print_table

TIME_HEADER = "Time"


def format_time(stamp: Any) -> str:
    """ISO text for dates (IoTDB prints ISO 8601), the number itself for epoch-ms or step indexes."""
    if isinstance(stamp, pd.Period):
        return str(stamp)
    if isinstance(stamp, (pd.Timestamp, datetime)):
        return pd.Timestamp(stamp).isoformat()
    return str(stamp)


def format_value(value: Any) -> str:
    """Floats as Python's shortest round-trip text (like Java's Double.toString in IoTDB); NaN as null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def print_frame(frame: pd.DataFrame, file=None) -> None:
    """A time-indexed frame as an IoTDB table: ``Time`` then its columns."""
    rows = [(format_time(stamp), *(format_value(v) for v in values))
            for stamp, values in zip(frame.index, frame.itertuples(index=False, name=None))]
    print_table([TIME_HEADER, *map(str, frame.columns)], rows, file=file)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: ``{"Time": epoch ms or ISO text, column: number or None}``."""
    records = []
    for stamp, values in zip(frame.index, frame.itertuples(index=False, name=None)):
        row: dict[str, Any] = {TIME_HEADER: _json_time(stamp)}
        for column, value in zip(frame.columns, values):
            number = float(value)
            row[str(column)] = None if math.isnan(number) else number
        records.append(row)
    return records


def _json_time(stamp: Any) -> Any:
    if isinstance(stamp, (int, np.integer)) and not isinstance(stamp, bool):
        return int(stamp)
    return format_time(stamp)


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """``--output``: CSV by default, Parquet for ``.parquet``/``.pq``; the index becomes a ``Time`` column."""
    path = Path(path)
    out = frame.copy()
    if isinstance(out.index, pd.PeriodIndex):
        out.index = out.index.to_timestamp()
    out.index.name = TIME_HEADER
    if path.suffix.lower() in (".parquet", ".pq"):
        out.reset_index().to_parquet(path, index=False)
    else:
        out.to_csv(path)
    return path
