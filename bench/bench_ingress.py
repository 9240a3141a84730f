"""Dataset reading speed: read_frame on CSV / Parquet / TsFile, and the IoTDB tree / table readers against the
DataNode test double (real apache-iotdb client, real Thrift, loopback).

    .venv/bin/python bench/bench_ingress.py

Prints seconds per read, rows per second, and each format's ratio to CSV. The DataNode figures include the
double's own (Python) encoding, so they bound the client side from above.
"""
from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the DataNode double

from ainode_core.config import Settings  # noqa: E402
from ainode_core.ingress import read_frame  # noqa: E402
from ainode_core.ingress.iotdb_table import read_table_frame  # noqa: E402
from ainode_core.ingress.iotdb_tree import read_tree_frame  # noqa: E402
from support.datanode import FakeDataNode  # noqa: E402

T0 = 1_700_000_000_000


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def files(rows: int, columns: int) -> None:
    from tsfile import dataframe_to_tsfile

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"time": T0 + np.arange(rows, dtype=np.int64) * 1000,
                          **{f"s{i}": rng.standard_normal(rows) for i in range(columns)}})
    with tempfile.TemporaryDirectory() as folder:
        paths = {"csv": Path(folder) / "x.csv", "parquet": Path(folder) / "x.parquet",
                 "tsfile-table": Path(folder) / "x.tsfile"}
        frame.to_csv(paths["csv"], index=False)
        frame.to_parquet(paths["parquet"], index=False)
        dataframe_to_tsfile(frame, str(paths["tsfile-table"]), table_name="bench")
        seconds = {kind: best_of(lambda p=path: read_frame(p)) for kind, path in paths.items()}
        window = [T0 + rows // 4 * 1000, T0 + rows // 2 * 1000]
        filtered = best_of(lambda: read_frame(paths["parquet"], window))
    for kind, value in seconds.items():
        print(f"read_frame {kind:12s} {rows}x{columns}: {value * 1e3:8.1f} ms  {rows / value / 1e6:6.2f} M rows/s  "
              f"(CSV / {kind}: {seconds['csv'] / value:5.2f}x)")
    print(f"read_frame parquet with a timeRange (1/4 of the rows): {filtered * 1e3:8.1f} ms")


def tree_tsfile(rows: int) -> None:
    """Tree-model TsFiles only offer tsfile's row-by-row DataFrame reader (no Arrow path), hence slower."""
    from tsfile import Tablet, TimeseriesSchema, TSDataType, TsFileWriter

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tree.tsfile"
        writer = TsFileWriter(str(path))
        for name in ("s0", "s1"):
            writer.register_timeseries("root.bench.d", TimeseriesSchema(name, TSDataType.DOUBLE))
        tablet = Tablet(["s0", "s1"], [TSDataType.DOUBLE] * 2, rows)
        tablet.set_table_name("root.bench.d")
        tablet.set_timestamp_list([T0 + i for i in range(rows)])
        for i in range(rows):
            tablet.add_value_by_index(0, i, float(i))
            tablet.add_value_by_index(1, i, float(-i))
        writer.write_tablet(tablet)
        writer.close()
        value = best_of(lambda: read_frame(path))
    print(f"read_frame tree tsfile {rows}x2: {value * 1e3:8.1f} ms  {rows / value / 1e6:6.2f} M rows/s")


def datanode(rows: int) -> None:
    times = T0 + np.arange(rows, dtype=np.int64) * 1000
    rng = np.random.default_rng(1)
    node = FakeDataNode(
        tree={f"root.bench.d.s{i}": (times, rng.standard_normal(rows), "DOUBLE") for i in range(2)},
        tables={"bench": (pd.DataFrame({"time": times, "s0": rng.standard_normal(rows)}),
                          {"time": "TIMESTAMP", "s0": "DOUBLE"})},
        page_rows=1000,
    )
    settings = dataclasses.replace(Settings(), ain_cluster_ingress_port=node.port)
    tree = best_of(lambda: read_tree_frame(settings, "root.bench.d.**"), repeat=2)
    table = best_of(lambda: read_table_frame(settings, "select time, s0 from bench"), repeat=2)
    print(f"iotdb.tree  2 series x {rows} rows: {tree * 1e3:8.1f} ms  {rows / tree / 1e3:8.1f} k rows/s")
    print(f"iotdb.table 1 series x {rows} rows: {table * 1e3:8.1f} ms  {rows / table / 1e3:8.1f} k rows/s  "
          f"(table / tree time: {table / tree:5.2f}x; the client turns each TIMESTAMP into a pandas Timestamp)")


if __name__ == "__main__":
    files(200_000, 4)
    tree_tsfile(50_000)
    datanode(20_000)
