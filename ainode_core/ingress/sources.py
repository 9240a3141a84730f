"""The built-in data sources and :func:`read_dataset`, which picks a source for each ``IDataSchema``.

A source is a :class:`ainode_core.records.DataSource` whose ``read(schema_name, time_range, settings)``
yields ``(series name, 1-D float64 array)``. Built-ins: ``file`` (CSV / Parquet / TsFile, scheme ``file``),
``iotdb.tree`` (a path pattern) and ``iotdb.table`` (a SQL query). Plugins add more through
``ainode_register_data_sources``; a schemaName ``<scheme>://...`` goes to the source claiming that scheme,
whatever the request's dbType, so ``file://`` datasets work without IoTDB.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np
import pandas as pd

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.records import DataSource, normalise_name

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ainode_core.config import Settings
    from ainode_core.plugins import PluginManager

log = logging.getLogger(__name__)

__all__ = ["FILE_SOURCE", "TREE_SOURCE", "TABLE_SOURCE", "BUILTIN_DATA_SOURCES", "read_dataset", "pick_source"]

Series = tuple[str, np.ndarray]
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def _columns(frame: pd.DataFrame, *, drop_missing: bool) -> Iterator[Series]:
    for name in frame.columns:
        values = np.ascontiguousarray(frame[name].to_numpy(dtype=np.float64))
        if drop_missing:
            values = values[~np.isnan(values)]
        yield str(name), values


def read_file(
    schema_name: str, time_range: Sequence[int] | None, settings: "Settings | None" = None
) -> Iterator[Series]:
    """Every numeric column of a CSV / Parquet / TsFile; NaN where a cell is empty (the file's own gaps)."""
    from ainode_core.ingress.files import read_frame

    yield from _columns(read_frame(schema_name, time_range), drop_missing=False)


def read_tree(schema_name: str, time_range: Sequence[int] | None, settings: "Settings") -> Iterator[Series]:
    """Every numeric series matching a tree path pattern. A tree series has no nulls of its own: the NaNs
    of the time-aligned result are other series' timestamps, so each series keeps only its own points."""
    from ainode_core.ingress.iotdb_tree import read_tree_frame

    yield from _columns(read_tree_frame(settings, schema_name, time_range), drop_missing=True)


def read_table(schema_name: str, time_range: Sequence[int] | None, settings: "Settings") -> Iterator[Series]:
    """Every numeric column of a table-model query, one series per device; nulls in a row stay NaN."""
    from ainode_core.ingress.iotdb_table import read_table_frame

    yield from _columns(read_table_frame(settings, schema_name, time_range), drop_missing=False)


FILE_SOURCE = DataSource(name="file", read=read_file, schemes=("file",))
TREE_SOURCE = DataSource(name="iotdb.tree", read=read_tree)
TABLE_SOURCE = DataSource(name="iotdb.table", read=read_table)
BUILTIN_DATA_SOURCES = (FILE_SOURCE, TREE_SOURCE, TABLE_SOURCE)


def _looks_like_local_file(schema_name: str) -> bool:
    # A tree path (root.a.b) is never taken for a file, even if a file of that name happens to exist.
    if schema_name.strip().lower().startswith("root."):
        return False
    try:
        return Path(schema_name).expanduser().is_file()
    except (OSError, ValueError):
        return False


def pick_source(plugins: "PluginManager", db_type: str, schema_name: str) -> DataSource:
    """The source for one schema: a ``scheme://`` or an existing local file first, else ``db_type``."""
    sources: dict[str, DataSource] = {name: reg.record for name, reg in plugins.registry("data_sources").items()}
    match = _SCHEME.match(schema_name.strip())
    if match:
        scheme = match.group(1).lower()
        for source in sources.values():
            if scheme in (s.lower() for s in source.schemes):
                return source
        known = sorted({s for source in sources.values() for s in source.schemes}) or ["none"]
        raise InvalidInferenceConfigError(
            f"No data source reads {scheme}:// datasets ({schema_name!r}); known schemes: {', '.join(known)}."
        )
    if _looks_like_local_file(schema_name):
        file_sources = [source for source in sources.values() if "file" in source.schemes]
        if file_sources:
            return file_sources[0]
    source = sources.get(normalise_name(db_type or ""))
    if source is None:
        raise InvalidInferenceConfigError(
            f"Unknown dataset dbType {db_type!r} for {schema_name!r}; use one of {', '.join(sorted(sources))}, "
            "or give the dataset as a file:// URI."
        )
    return source


def _unique(name: str, seen: dict[str, int]) -> str:
    """Two schemas can yield the same name (overlapping patterns, two time ranges): keep both, told apart."""
    count = seen.get(name, 0) + 1
    seen[name] = count
    return name if count == 1 else f"{name}#{count}"


def read_dataset(
    plugins: "PluginManager",
    settings: "Settings",
    db_type: str,
    schemas: Sequence[tuple[str, Sequence[int] | None]],
) -> list[Series]:
    """Read every ``(schemaName, timeRange)`` of a TTuningReq into named float64 series.

    Raises :class:`InvalidInferenceConfigError` when nothing is given or nothing usable comes back; the
    sources raise their own errors (missing file, unknown path, unreachable DataNode) on the way.
    """
    if not schemas:
        raise InvalidInferenceConfigError(
            "No dataset given; name one in ON DATASET (a tree path pattern, a table query or a file:// URI)."
        )
    result: list[Series] = []
    seen: dict[str, int] = {}
    for schema_name, time_range in schemas:
        if not schema_name or not str(schema_name).strip():
            raise InvalidInferenceConfigError("A dataset schemaName is empty; give a path pattern, query or file.")
        source = pick_source(plugins, db_type, schema_name)
        for name, values in source.read(schema_name, time_range, settings):
            values = np.asarray(values, dtype=np.float64).reshape(-1)
            if not np.isfinite(values).any():
                log.info("dataset %s: series %s has no values, skipped", schema_name, name)
                continue
            result.append((_unique(name, seen), values))
    if not result:
        described = ", ".join(repr(name) for name, _ in schemas)
        raise InvalidInferenceConfigError(
            f"The dataset ({described}) holds no numeric values; check the path, query or file and timeRange."
        )
    return result
