"""Long table-model rows (time, tag columns, field columns) -> one wide frame with a column per device field.

Table-model data (a TsFile table, a TableSession query) holds several devices in one table, told apart by
their TAG values. A training series is one device's field, so rows are split by device and each device's
fields become columns named ``<prefix>.<tag values>.<field>``, joined on time (NaN where a device has no row).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["widen_by_device", "join_on_index", "as_float64", "is_measurement"]


def is_measurement(values: pd.Series) -> bool:
    """Numbers a model can learn from: ints and floats, not booleans (IoTDB's INT32/INT64/FLOAT/DOUBLE)."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def as_float64(values: pd.Series) -> np.ndarray:
    """Any numeric column (nullable Int64/Float64 included) -> float64 with NaN for missing values."""
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def join_on_index(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    parts = [part for part in parts if part.shape[1] > 0]
    if not parts:
        return pd.DataFrame()
    # IoTDB keeps one row per (device, time); a duplicate would make the outer join ambiguous, keep the last.
    parts = [part[~part.index.duplicated(keep="last")] for part in parts]
    joined = parts[0] if len(parts) == 1 else pd.concat(parts, axis=1, join="outer")
    return joined.sort_index(kind="stable")


def widen_by_device(
    frame: pd.DataFrame,
    time_column: str | None,
    tag_columns: Sequence[str],
    field_columns: Sequence[str],
    prefix: Sequence[str] = (),
) -> pd.DataFrame:
    """Split ``frame`` by the values of ``tag_columns``; tag values enter the names only when there are
    several devices, so a single-device table keeps its plain field names. Non-numeric fields are dropped."""
    field_columns = [field for field in field_columns if is_measurement(frame[field])]
    if tag_columns:
        devices = list(frame.groupby(list(tag_columns), dropna=False, sort=True))
    else:
        devices = [((), frame)]
    parts = []
    for key, rows in devices:
        key = key if isinstance(key, tuple) else (key,)
        names = list(prefix)
        if len(devices) > 1:
            names += ["null" if pd.isna(value) else str(value) for value in key]
        values = {".".join([*names, str(field)]): as_float64(rows[field]) for field in field_columns}
        index = pd.Index(rows[time_column].to_numpy(), name="time") if time_column else pd.RangeIndex(len(rows))
        parts.append(pd.DataFrame(values, index=index))
    return join_on_index(parts)
