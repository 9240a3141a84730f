"""IoTDB tree model: a path pattern (``root.plant.boiler.**``, ``root.plant.*.temperature``) -> named series.

The pattern ``<prefix>.<last>`` becomes ``select <last> from <prefix> [where time >= a and time < b]``, the
shape IoTDB's own AINode uses for its series, so ``root.plant.boiler.**`` reads ``select ** from
root.plant.boiler`` in one query and each result column is a full series path. The session comes from the
``ain_cluster_ingress_*`` settings.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import pandas as pd

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.ingress.frames import as_float64
from ainode_core.ingress.iotdb_session import run_query, tree_session
from ainode_core.ingress.timerange import check_time_range, where_clause

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ainode_core.config import Settings

__all__ = ["split_path", "build_tree_query", "read_tree_frame", "NUMERIC_TYPE_NAMES"]

NUMERIC_TYPE_NAMES = frozenset({"INT32", "INT64", "FLOAT", "DOUBLE"})


def split_path(pattern: str) -> list[str]:
    """Split a path on dots outside backquotes (``root.`a.b`.c`` has three nodes)."""
    nodes, current, quoted = [], [], False
    for char in pattern:
        if char == "`":
            quoted = not quoted
        if char == "." and not quoted:
            nodes.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise InvalidInferenceConfigError(f"Path pattern {pattern!r} has an unclosed backquote.")
    nodes.append("".join(current))
    return nodes


def build_tree_query(pattern: str, time_range: Sequence[int] | None = None) -> str:
    """The SELECT for a path pattern; rejects anything that is not a single tree path."""
    text = pattern.strip()
    nodes = split_path(text)
    unquoted = "".join(node for node in nodes if not node.startswith("`"))
    if (
        len(nodes) < 2
        or nodes[0].lower() != "root"
        or any(not node.strip() for node in nodes)
        or any(char.isspace() or char in ";,()'\"" for char in unquoted)
    ):
        raise InvalidInferenceConfigError(
            f"Dataset path pattern {pattern!r} is not a tree path; write it like root.plant.boiler.temperature "
            "or root.plant.boiler.** (a SQL query belongs to dbType iotdb.table)."
        )
    return f"select {nodes[-1]} from {'.'.join(nodes[:-1])}{where_clause(check_time_range(time_range))}"


def read_tree_frame(settings: "Settings", pattern: str, time_range: Sequence[int] | None = None) -> pd.DataFrame:
    """Every numeric series matching ``pattern`` as a float64 column named by its path, indexed by time
    (epoch ms). Rows where a series has no point are NaN (aligning series with different timestamps)."""
    window = check_time_range(time_range)
    sql = build_tree_query(pattern, window)
    with tree_session(settings) as session:
        result = run_query(session, sql, settings)
    frame, types = result.frame, result.types
    series = [name for name in frame.columns if name != "Time"]
    where = f"{settings.ain_cluster_ingress_address}:{settings.ain_cluster_ingress_port}"
    if not series:
        raise InvalidInferenceConfigError(
            f"Dataset path pattern {pattern!r} matches no time series on the IoTDB DataNode at {where}; "
            f"check it with SHOW TIMESERIES {pattern.strip()}."
        )
    numeric = [name for name in series if types.get(name) in NUMERIC_TYPE_NAMES]
    if not numeric:
        found = ", ".join(f"{name} ({types.get(name)})" for name in series)
        raise InvalidInferenceConfigError(
            f"Dataset path pattern {pattern!r} matches only non-numeric series ({found}); "
            "a model needs INT32, INT64, FLOAT or DOUBLE series."
        )
    if frame.shape[0] == 0:
        span = "" if window is None else f" in timeRange [{window[0]}, {window[1]}) (epoch ms)"
        raise InvalidInferenceConfigError(
            f"Dataset path pattern {pattern!r} matches {len(numeric)} series but they hold no data{span}; "
            "widen the time range or check the path."
        )
    index = pd.Index(frame["Time"].to_numpy(dtype="int64"), name="time")
    return pd.DataFrame({name: as_float64(frame[name]) for name in numeric}, index=index)
