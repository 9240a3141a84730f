"""Running the SELECT inside ``CALL INFERENCE``: against an IoTDB DataNode (``--iotdb host:port``, via
``apache-iotdb``'s Session), or, standalone, against a local file with the small local SELECT
(``select s1, s2 from 'data.csv' [where time >= A and time < B] [limit n]``)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ainode_core.cli.sql.parse import parse_statement
from ainode_core.cli.sql.statements import LocalSelect


class QueryError(Exception):
    """The input query could not run; the message says why and what to do."""


@dataclass(frozen=True)
class IoTDBTarget:
    host: str
    port: int
    user: str = "root"
    password: str = "root"

    @classmethod
    def parse(cls, text: str, user: str = "root", password: str = "root") -> "IoTDBTarget":
        host, sep, port = text.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"--iotdb {text!r}: write host:port of a DataNode, e.g. 127.0.0.1:6667")
        return cls(host, int(port), user, password)


_TREE_SOURCE = re.compile(r"\bfrom\s+root\b", re.IGNORECASE)


def is_local_select(query: str) -> bool:
    """IoTDB's tree-model queries read paths (``from root.x``); anything else is meant to be the local
    SELECT (``from 'x.csv'``), so its syntax errors are reported against the local grammar."""
    return _TREE_SOURCE.search(query) is None


def run_local(query: str) -> pd.DataFrame:
    """The local SELECT → a frame indexed by time (read with the ingress file reader). A syntax error
    raises :class:`~ainode_core.cli.sql.parse.SqlSyntaxError` positioned in ``query``."""
    from ainode_core.cli.inputs import read_input

    select: LocalSelect = parse_statement(query, "local_select")
    frame = read_input(select.source, select.columns)
    if select.start is not None or select.end is not None:
        frame = _time_window(frame, select.start, select.end)
    if select.limit is not None:
        frame = frame.iloc[:select.limit]
    if frame.empty:
        raise QueryError(f"the query selected no rows from {select.source}; widen its WHERE time window")
    return frame


def _time_window(frame: pd.DataFrame, start: int | None, end: int | None) -> pd.DataFrame:
    if isinstance(frame.index, pd.RangeIndex):
        raise QueryError("the file has no time column (time/timestamp/date), so WHERE time ... cannot apply")
    if isinstance(frame.index, pd.DatetimeIndex):
        index = frame.index.tz_localize("UTC") if frame.index.tz is None else frame.index.tz_convert("UTC")
        millis = index.as_unit("ms").asi8
    else:
        millis = frame.index.to_numpy(dtype="int64")
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= millis >= start
    if end is not None:
        keep &= millis < end
    return frame[keep]


def run_iotdb(query: str, target: IoTDBTarget) -> pd.DataFrame:
    """The query on an IoTDB DataNode (tree model) → a frame indexed by its ``Time`` column (epoch ms)."""
    from iotdb.Session import Session

    session = Session(target.host, target.port, target.user, target.password)
    try:
        session.open(False)
    except Exception as exc:
        raise QueryError(f"cannot connect to IoTDB at {target.host}:{target.port}: {exc}") from None
    try:
        result = session.execute_query_statement(query)
        frame = result.todf()
        result.close_operation_handle()
    except Exception as exc:
        raise QueryError(f"IoTDB rejected the query: {exc}") from None
    finally:
        session.close()
    if "Time" in frame.columns:
        frame = frame.set_index("Time")
    numeric = frame.apply(pd.to_numeric, errors="coerce").astype("float64")
    if numeric.shape[1] == 0 or numeric.shape[0] == 0:
        raise QueryError(f"the query returned {numeric.shape[0]} rows and {numeric.shape[1]} value columns")
    return numeric
