"""A TsFile (tree or table model) -> one wide DataFrame with a ``time`` column, read with the ``tsfile`` package.

Tree model: one column per series, named by its full path (``root.plant.boiler.temperature``).
Table model: one column per FIELD column; when a table holds several devices (TAG values) or the file several
tables, the name gains the table and the tag values as prefixes (``boiler.b1.temperature``), like a tree path,
so that two devices' series never merge. Devices are outer-joined on time (NaN where one has no value).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ainode_core.ingress.frames import join_on_index, widen_by_device

TIME = "time"
_INT64_MIN = int(np.iinfo(np.int64).min)
_INT64_MAX = int(np.iinfo(np.int64).max)
_BATCH_ROWS = 65536


def _drain(result_set: Any) -> pd.DataFrame:
    """Every row of a tree-model result set (its first column is the time). read_data_frame converts row
    by row in Python; tree queries offer nothing faster, so at least ask for big batches."""
    batches = []
    with result_set as result:
        while result.next():
            batch = result.read_data_frame(_BATCH_ROWS)
            if batch is not None and not batch.empty:
                batches.append(batch)
    return _concat(batches)


def _drain_arrow(result_set: Any) -> pd.DataFrame:
    """Every row of a table-model result set through Arrow batches (~50x faster than read_data_frame)."""
    batches = []
    with result_set as result:
        while (batch := result.read_arrow_batch()) is not None:
            if batch.num_rows:
                batches.append(batch.to_pandas())
    return _concat(batches)


def _concat(batches: list[pd.DataFrame]) -> pd.DataFrame:
    if not batches:
        return pd.DataFrame()
    frame = pd.concat(batches, ignore_index=True)
    return frame.rename(columns={frame.columns[0]: TIME})


def _read_tree(reader: Any) -> pd.DataFrame:
    parts = []
    for device, schema in reader.get_all_timeseries_schemas().items():
        measurements = [series.get_timeseries_name() for series in schema.get_timeseries_list()]
        if measurements:
            # query_timeseries names its columns by full path already; its bounds are inclusive.
            part = _drain(reader.query_timeseries(device, measurements, _INT64_MIN, _INT64_MAX))
            if not part.empty:
                parts.append(part.set_index(TIME))
    return join_on_index(parts)


def _read_table(reader: Any, tables: dict[str, Any]) -> pd.DataFrame:
    from tsfile import ColumnCategory

    parts = []
    for table_name, schema in tables.items():
        columns = schema.get_columns()
        tags = [c.get_column_name() for c in columns if c.get_category() == ColumnCategory.TAG]
        fields = [c.get_column_name() for c in columns if c.get_category() == ColumnCategory.FIELD]
        if not fields:
            continue
        result_set = reader.query_table(table_name, tags + fields, _INT64_MIN, _INT64_MAX, batch_size=_BATCH_ROWS)
        frame = _drain_arrow(result_set)
        if not frame.empty:
            prefix = [table_name] if len(tables) > 1 else []
            parts.append(widen_by_device(frame, TIME, tags, fields, prefix))
    return join_on_index(parts)


def read_tsfile(path: Path) -> pd.DataFrame:
    from tsfile import TsFileReader

    reader = TsFileReader(str(path))
    try:
        tables = reader.get_all_table_schemas()
        wide = _read_table(reader, tables) if tables else _read_tree(reader)
    finally:
        reader.close()
    if wide.shape[1] == 0:
        return pd.DataFrame({TIME: []})
    return wide.rename_axis(TIME).reset_index()  # read_frame finds the time column by name
