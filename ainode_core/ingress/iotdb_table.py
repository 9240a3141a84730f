"""IoTDB table model: a SQL query run through ``TableSession`` -> named series.

The query's TIMESTAMP column (``time`` preferred) is the index; STRING/TEXT columns with more than one value
are read as tags that tell devices apart, so select tags and numeric fields, not free-text fields
(``select time, device, temperature from boiler`` gives ``b1.temperature``, ``b2.temperature``; one device
keeps the plain name); numeric columns are the series. ``timeRange`` filters
on the time column after reading, so any query works unchanged (IoTDB's AINode ignored it for tables).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.ingress.frames import widen_by_device
from ainode_core.ingress.iotdb_session import run_query, table_session
from ainode_core.ingress.iotdb_tree import NUMERIC_TYPE_NAMES
from ainode_core.ingress.timerange import check_time_range, filter_time

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ainode_core.config import Settings

__all__ = ["read_table_frame"]

_TAG_TYPE_NAMES = frozenset({"STRING", "TEXT"})


def _time_column(names: list[str], types: dict[str, str]) -> str | None:
    stamps = [name for name in names if types.get(name) == "TIMESTAMP"]
    preferred = [name for name in stamps if name.lower() == "time"]
    return (preferred or stamps or [None])[0]


def _epoch_ms(values: pd.Series) -> np.ndarray:
    """The client hands TIMESTAMP values over as zone-aware pandas Timestamps; back to epoch ms."""
    return pd.to_datetime(values, utc=True).dt.as_unit("ms").astype("int64").to_numpy()


def read_table_frame(
    settings: "Settings", sql: str, time_range: Sequence[int] | None = None, database: str | None = None
) -> pd.DataFrame:
    """The query's numeric columns as float64 series, split by device, indexed by time (epoch ms)."""
    window = check_time_range(time_range)
    query = sql.strip().rstrip(";").strip()
    if not query:
        raise InvalidInferenceConfigError("The dataset query is empty; give a SELECT for dbType iotdb.table.")
    with table_session(settings, database) as session:
        result = run_query(session, query, settings)
    frame, types = result.frame, result.types
    names = [str(name) for name in frame.columns]
    time_column = _time_column(names, types)
    fields = [name for name in names if types.get(name) in NUMERIC_TYPE_NAMES]
    # The result does not say which STRING column is a TAG; one holding a single value cannot tell
    # devices apart, so only varying ones split the rows (a constant STRING field is just dropped).
    tags = [
        name for name in names
        if types.get(name) in _TAG_TYPE_NAMES and frame[name].nunique(dropna=False) > 1
    ]
    if not fields:
        found = ", ".join(f"{name} ({types.get(name)})" for name in names) or "none"
        raise InvalidInferenceConfigError(
            f"The dataset query `{query}` returns no numeric column (columns: {found}); select at least one "
            "INT32, INT64, FLOAT or DOUBLE column."
        )
    if frame.shape[0] == 0:
        raise InvalidInferenceConfigError(
            f"The dataset query `{query}` returns no rows; check the table name and its WHERE clause."
        )
    if time_column is not None:
        frame = frame.assign(**{time_column: _epoch_ms(frame[time_column])})
    elif window is not None:
        raise InvalidInferenceConfigError(
            f"The dataset query `{query}` returns no TIMESTAMP column, so timeRange cannot select rows; "
            "add time to the SELECT list or leave timeRange out."
        )
    wide = widen_by_device(frame, time_column, tags, fields)
    return filter_time(wide, window, f"The dataset query `{query}`")
