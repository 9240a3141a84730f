"""``ainode cluster-demo``: a real Apache IoTDB cluster, this node joined to it, the docs' SQL through IoTDB.

Fetches IoTDB's ConfigNode and DataNode (Maven, ``IOTDB_VERSION``; see
:mod:`ainode_core.testing.iotdb_cluster`), starts them in a temp folder, starts ainode with
``ain_seed_config_node`` pointing at them, writes the bundled airline data into IoTDB (tree
``root.demo.airline.passengers`` and table ``demo.airline``), prints IoTDB's answers to ``SHOW CLUSTER``,
``SHOW MODELS``, ``CALL INFERENCE`` and ``SELECT * FROM FORECAST``, then stops everything.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ainode_core.cli.output import print_table

STATEMENTS = [
    ("tree", "SHOW CLUSTER"),
    ("tree", "SHOW MODELS"),
    ("tree", 'CALL INFERENCE(holtwinters, "SELECT passengers FROM root.demo.airline", generateTime=true, '
             "outputLength=12, sp=12)"),
    ("table", "SELECT * FROM FORECAST(model_id=>'holtwinters', targets=>(SELECT time, passengers FROM airline) "
              "ORDER BY time, output_length=>12, model_options=>'sp=12')"),
]


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("cluster-demo", help="run a real IoTDB cluster with this node and show the docs' SQL")
    demo.add_argument("--home", type=Path, help="folder for IoTDB and the node (default: a new temp folder)")
    demo.set_defaults(handler=cmd_cluster_demo)


def _load_airline(cluster) -> None:
    from iotdb.utils.IoTDBConstants import TSDataType
    from iotdb.utils.Tablet import ColumnType, Tablet

    from ainode_core.cli.demo import load_airline

    series = load_airline()
    times = [int(period.to_timestamp().value // 1_000_000) for period in series.index]
    values = [[float(v)] for v in series.to_numpy()]
    with cluster.tree_session() as session:
        session.insert_tablet(Tablet("root.demo.airline", ["passengers"], [TSDataType.DOUBLE], values, times))
    with cluster.table_session() as session:
        session.execute_non_query_statement("CREATE DATABASE demo")
        session.execute_non_query_statement("USE demo")
        session.execute_non_query_statement("CREATE TABLE airline (passengers DOUBLE FIELD)")
        session.insert(Tablet("airline", ["passengers"], [TSDataType.DOUBLE], values, times, [ColumnType.FIELD]))


def _wait_until_running(cluster, timeout: float = 60) -> None:
    """The ConfigNode marks the AINode Running at its first heartbeat, a few seconds after the start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(row[1] == "AINode" and row[2] == "Running" for row in cluster.query("show cluster")):
            return
        time.sleep(0.5)


def _run(cluster, dialect: str, sql: str) -> None:
    from ainode_core.testing.iotdb_cluster import rows_of

    sessions = {"tree": cluster.tree_session, "table": lambda: cluster.table_session("demo")}
    print(f"\nIoTDB> {sql}")
    with sessions[dialect]() as session:
        data = session.execute_query_statement(sql)
        names = list(data.get_column_names())
        rows = rows_of(data)
    print_table(names, [[_cell(name, value) for name, value in zip(names, row)] for row in rows])


def _cell(name: str, value: object) -> str:
    """Times as dates (IoTDB gives epoch ms in the tree model, timestamps in the table model), values to 0.1."""
    import pandas as pd

    if name.lower() == "time" and isinstance(value, (int, pd.Timestamp)):
        stamp = pd.Timestamp(value, unit="ms") if isinstance(value, int) else value
        return stamp.strftime("%Y-%m-%d %H:%M")
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def cmd_cluster_demo(args: argparse.Namespace) -> int:
    from ainode_core.testing.iotdb_cluster import ClusterStartError, ClusterUnavailable, IoTDBCluster
    from ainode_core.testing.node import RunningNode, make_home

    root = (args.home or Path(tempfile.mkdtemp(prefix="ainode-cluster-demo-"))).resolve()
    started = time.monotonic()
    print("Fetching and starting Apache IoTDB (1 ConfigNode + 1 DataNode); the first run downloads its jars...",
          flush=True)
    try:
        cluster = IoTDBCluster.start(root / "iotdb")
    except (ClusterUnavailable, ClusterStartError) as exc:
        print(f"error: {exc}")
        return 1
    node = None
    try:
        print(f"IoTDB {cluster.version} answers SQL on 127.0.0.1:{cluster.rpc_port} "
              f"({time.monotonic() - started:.0f} s); starting ainode joined to ConfigNode {cluster.config_node}",
              flush=True)
        home = make_home(root, f"ain_seed_config_node={cluster.config_node}\n"
                               f"ain_cluster_ingress_port={cluster.rpc_port}\n", name="ainode")
        node = RunningNode(home, standalone=False)
        _wait_until_running(cluster)
        _load_airline(cluster)
        for dialect, sql in STATEMENTS:
            _run(cluster, dialect, sql)
        print(f"\nDone in {time.monotonic() - started:.0f} s; stopping ainode and IoTDB (logs under {root}).")
    finally:
        if node is not None:
            node.stop()
        cluster.stop()
    return 0
