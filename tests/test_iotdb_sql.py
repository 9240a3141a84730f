"""ainode behind a real Apache IoTDB cluster (1 ConfigNode + 1 DataNode, Java, from Maven Central), driven
only with IoTDB SQL through apache-iotdb's ``Session`` (tree) and ``TableSession`` (table).

Modelled on IoTDB's own ``AINodeSharedClusterIT`` (2.0.10): the same data (``root.AI`` / ``db.AI``, s0 FLOAT,
s1 DOUBLE, s2 INT32, s3 INT64, time 0..5759, value = time), the same statements and the same expected texts.
Adapted: CPU only (its GPU device cases drop out), tiny random-weight checkpoints in place of downloaded
weights, all 14 built-ins of 2.0.10. The cluster needs java and Maven; where they are missing, or
Maven Central does not serve IoTDB, the module is skipped with the reason — unless ``AINODE_REQUIRE_IOTDB=1``,
which makes that a failure.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from ainode_core.testing.iotdb_cluster import ClusterUnavailable, IoTDBCluster, rows_of
from ainode_core.testing.node import RunningNode, make_home
from tests.support.models import place_builtin_weights
from tests.support.user_folders import model_folder

pytestmark = pytest.mark.timeout(1500)

BUILTINS = {  # id → model_type, as IoTDB's test expects them (all builtin, all active)
    "arima": "sktime", "holtwinters": "sktime", "exponential_smoothing": "sktime",
    "naive_forecaster": "sktime", "stl_forecaster": "sktime", "gaussian_hmm": "sktime", "gmm_hmm": "sktime",
    "stray": "sktime", "timer_xl": "timer", "sundial": "sundial", "chronos2": "t5", "toto": "toto",
    "moment": "moment", "moirai2": "moirai",
}
ROWS = 5760
COLUMNS = ("s0", "s1", "s2", "s3")


_unavailable: list[str] = []  # why the cluster cannot run here, found once for the whole module


def start_cluster(home: Path, properties: dict[str, str] | None = None) -> IoTDBCluster:
    """A running cluster, or a skip (a failure with AINODE_REQUIRE_IOTDB=1) where IoTDB cannot run here."""
    if not _unavailable:
        try:
            return IoTDBCluster.start(home, properties=properties)
        except ClusterUnavailable as exc:
            _unavailable.append(str(exc))
    if os.environ.get("AINODE_REQUIRE_IOTDB") == "1":
        pytest.fail(f"AINODE_REQUIRE_IOTDB=1 but IoTDB cannot run: {_unavailable[0]}")
    pytest.skip(f"no IoTDB cluster: {_unavailable[0]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = start_cluster(tmp_path_factory.mktemp("iotdb"))
    try:
        _load_data(running)
        yield running
    finally:
        running.stop()


def _load_data(cluster: IoTDBCluster) -> None:
    from iotdb.utils.IoTDBConstants import TSDataType
    from iotdb.utils.Tablet import ColumnType, Tablet

    times = list(range(ROWS))
    types = [TSDataType.FLOAT, TSDataType.DOUBLE, TSDataType.INT32, TSDataType.INT64]
    values = [[float(i), float(i), i, i] for i in times]
    with cluster.tree_session() as session:
        session.execute_non_query_statement("CREATE DATABASE root.AI")
        for start in range(0, ROWS, 1000):
            chunk = slice(start, start + 1000)
            session.insert_aligned_tablet(Tablet("root.AI", list(COLUMNS), types, values[chunk], times[chunk]))
    with cluster.table_session() as session:
        session.execute_non_query_statement("CREATE DATABASE db")
        session.execute_non_query_statement("USE db")
        session.execute_non_query_statement(
            "CREATE TABLE AI (s0 FLOAT FIELD, s1 DOUBLE FIELD, s2 INT32 FIELD, s3 INT64 FIELD)")
        for start in range(0, ROWS, 1000):
            chunk = slice(start, start + 1000)
            session.insert(Tablet("AI", list(COLUMNS), types, values[chunk], times[chunk],
                                  [ColumnType.FIELD] * 4))


def _ainode_home(root: Path, cluster: IoTDBCluster) -> Path:
    home = make_home(root, f"ain_seed_config_node={cluster.config_node}\n"
                           f"ain_cluster_ingress_port={cluster.rpc_port}\n"
                           "ain_cluster_ingress_time_zone=UTC\n")
    place_builtin_weights(home)
    return home


@pytest.fixture(scope="module")
def ainode(cluster, tmp_path_factory):
    node = RunningNode(_ainode_home(tmp_path_factory.mktemp("ainode"), cluster), standalone=False)
    _wait(lambda: _ainode_rows(cluster) and _ainode_rows(cluster)[0][2] == "Running", "AINode Running")
    yield node
    node.stop()


def _wait(condition, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _ainode_rows(cluster: IoTDBCluster) -> list[list]:
    return [row for row in cluster.query("show cluster") if row[1] == "AINode"]


def _query(open_session, sql: str) -> tuple[list[str], list[list]]:
    """(column names, rows). IoTDB 2.0.8's DataNode frees a FORECAST's query memory some time after the
    query ends, so back-to-back FORECASTs meet ``719: There is not enough memory``: that one is retried."""
    for attempt in range(60):
        try:
            with open_session() as session:
                data = session.execute_query_statement(sql)
                return list(data.get_column_names()), rows_of(data)
        except Exception as exc:
            if not str(exc).startswith("719:") or attempt == 59:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def tree(cluster: IoTDBCluster, sql: str) -> tuple[list[str], list[list]]:
    """(column names, rows) of a tree-model statement."""
    return _query(cluster.tree_session, sql)


def table(cluster: IoTDBCluster, sql: str) -> tuple[list[str], list[list]]:
    return _query(lambda: cluster.table_session("db"), sql)


def tree_error(cluster: IoTDBCluster, sql: str) -> str:
    if not sql.lower().startswith(("call", "select", "show")):
        with cluster.tree_session() as session, pytest.raises(Exception) as caught:
            session.execute_non_query_statement(sql)
        return str(caught.value)
    with pytest.raises(Exception) as caught:
        tree(cluster, sql)
    return str(caught.value)


def table_error(cluster: IoTDBCluster, sql: str) -> str:
    with pytest.raises(Exception) as caught:
        table(cluster, sql)
    return str(caught.value)


# --- the node in the cluster ---------------------------------------------------------------------------


def test_show_cluster_and_show_ainodes_list_the_node_running(cluster, ainode):
    (row,) = _ainode_rows(cluster)
    assert row[2] == "Running"
    names, rows = tree(cluster, "show ainodes")
    assert names[:4] == ["NodeID", "Status", "InternalAddress", "InternalPort"]
    assert [(r[1], r[3]) for r in rows] == [("Running", ainode.port)]


def test_show_models_is_the_builtin_catalogue(cluster, ainode):
    names, rows = tree(cluster, "show models")
    assert names[:4] == ["ModelId", "ModelType", "Category", "State"]
    shown = {r[0]: (r[1], r[2], r[3]) for r in rows}
    assert shown == {model_id: (model_type, "builtin", "active") for model_id, model_type in BUILTINS.items()}
    _, one = table(cluster, "show models sundial")
    assert [r[:4] for r in one] == [["sundial", "sundial", "builtin", "active"]]


def test_show_ai_devices(cluster, ainode):
    names, rows = tree(cluster, "show ai_devices")
    assert names == ["DeviceId", "DeviceType"] and rows == [["cpu", "cpu"]]


# --- CALL INFERENCE (tree) -----------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", list(BUILTINS))
def test_call_inference_answers_output_length_rows_for_every_builtin_and_column_type(cluster, ainode, model_id):
    for column in COLUMNS:
        names, rows = tree(cluster, f'CALL INFERENCE({model_id}, "SELECT {column} FROM root.AI LIMIT 256", '
                                    "generateTime=true, outputLength=48)")
        assert names == ["Time", "output"] and len(rows) == 48
        assert all(isinstance(r[1], float) and np.isfinite(r[1]) for r in rows)
        names, rows = tree(cluster, f'CALL INFERENCE({model_id}, "SELECT {column} FROM root.AI LIMIT 256")')
        assert names == ["output"] and len(rows) == 96


def test_call_inference_values_are_the_models_forecast(cluster, ainode):
    """Values cross the DataNode intact: naive_forecaster repeats the last value (255 for time 0..255)."""
    _, rows = tree(cluster, 'CALL INFERENCE(naive_forecaster, "SELECT s1 FROM root.AI LIMIT 256", '
                            "generateTime=true, outputLength=5)")
    assert [r[1] for r in rows] == [255.0] * 5
    _, rows = tree(cluster, 'CALL INFERENCE(naive_forecaster, "SELECT s1 FROM root.AI LIMIT 256", '
                            "outputLength=3, strategy='mean')")
    assert [r[0] for r in rows] == [127.5] * 3  # a model option passed as a CALL INFERENCE attribute


def test_call_inference_with_two_columns_is_refused_by_the_datanode(cluster, ainode):
    message = tree_error(cluster, 'CALL INFERENCE(arima, "SELECT s0,s1 FROM root.AI LIMIT 128", '
                                  "generateTime=true, outputLength=10)")
    assert "701" in message and "more than one input column" in message


# --- FORECAST (table) ----------------------------------------------------------------------------------


def _forecast_sql(model_id: str, column: str, output_length: int = 96, **extra: str) -> str:
    options = "".join(f", {key}=>{value}" for key, value in extra.items())
    return (f"SELECT * FROM FORECAST(model_id=>'{model_id}', targets=>(SELECT time, {column} FROM db.AI "
            f"WHERE time<5760 ORDER BY time DESC LIMIT 2880) ORDER BY time, output_start_time=>5760, "
            f"output_length=>{output_length}, output_interval=>1, timecol=>'time'{options})")


@pytest.mark.parametrize("model_id", list(BUILTINS))
def test_forecast_table_function_for_every_builtin(cluster, ainode, model_id):
    for column in COLUMNS:
        names, rows = table(cluster, _forecast_sql(model_id, column, 48))
        assert len(rows) == 48 and names[0] == "time"
        assert [r[0].value // 1_000_000 for r in rows][:2] == [5760, 5761]  # the DataNode times the output


def test_forecast_model_options_reach_the_model(cluster, ainode):
    _, rows = table(cluster, _forecast_sql("naive_forecaster", "s1", 4))
    assert [r[1] for r in rows] == [5759.0] * 4
    _, rows = table(cluster, _forecast_sql("naive_forecaster", "s1", 4, model_options="'strategy=mean'"))
    assert [r[1] for r in rows] == [np.mean(np.arange(2880, 5760))] * 4


def test_forecast_errors_read_as_iotdbs(cluster, ainode):
    message = table_error(cluster, _forecast_sql("sundial", "s0", 2881))
    assert ("1599: Error occurred while executing forecast:[Attribute output_length expect value between 1 "
            "and 2880, got 2881 instead.]") in message
    assert ("1504: Error occurred while executing forecast:[Model [nope] is not registered yet. You can use "
            "'SHOW MODELS' to retrieve the available models.]") in table_error(cluster, _forecast_sql("nope", "s0", 10))


# --- model management ----------------------------------------------------------------------------------


def test_drop_builtin_is_refused(cluster, ainode):
    assert "1506: Cannot delete built-in model: sundial" in tree_error(cluster, "drop model sundial")


def test_create_model_from_a_folder_in_apaches_format_then_use_and_drop_it(cluster, ainode, tmp_path):
    folder = model_folder(tmp_path, "shift", "shift_sql", offset=1.0)
    with cluster.tree_session() as session:
        session.execute_non_query_statement(f"create model shift_sql using uri \"file://{folder}\"")
    _, rows = tree(cluster, "SHOW MODELS shift_sql")  # right away, as IoTDB's test reads it
    assert [r[:4] for r in rows] == [["shift_sql", "shift_sql", "user_defined", "active"]]
    _, rows = tree(cluster, 'CALL INFERENCE(shift_sql, "SELECT s1 FROM root.AI LIMIT 10", outputLength=2)')
    assert [r[0] for r in rows] == [11.0, 11.0]  # last value 9 + offset 1 (weights) + 1 (module)
    assert "1503: Model [shift_sql] already exists" in tree_error(
        cluster, "create model shift_sql using uri \"file:///no/such/folder\"")  # the id is checked first
    assert "1505: Invalid URI 'file:///no/such/folder'" in tree_error(
        cluster, "create model other_sql using uri \"file:///no/such/folder\"")
    with cluster.tree_session() as session:
        session.execute_non_query_statement("drop model shift_sql")
    assert tree(cluster, "SHOW MODELS shift_sql")[1] == []


def test_load_show_loaded_and_unload(cluster, ainode):
    with cluster.tree_session() as session:
        session.execute_non_query_statement("LOAD MODEL timer_xl TO DEVICES 'cpu'")
    _wait(lambda: any(r[0] == "cpu" and r[1] == "timer_xl" for r in tree(cluster, "SHOW LOADED MODELS")[1]),
          "timer_xl loaded on cpu")
    names, rows = tree(cluster, "SHOW LOADED MODELS 'cpu'")
    assert names[:3] == ["DeviceId", "ModelId", "Count(instances)"]
    _, rows = tree(cluster, 'CALL INFERENCE(timer_xl, "SELECT s0 FROM root.AI LIMIT 256", outputLength=48)')
    assert len(rows) == 48
    with cluster.tree_session() as session:
        session.execute_non_query_statement("UNLOAD MODEL timer_xl FROM DEVICES 'cpu'")
    _wait(lambda: not any(r[1] == "timer_xl" for r in tree(cluster, "SHOW LOADED MODELS 'cpu'")[1]),
          "timer_xl unloaded", timeout=30)


@pytest.mark.parametrize("sql, text", [
    ("LOAD MODEL unknown TO DEVICES 'cpu'",
     "1504: Model [unknown] is not registered yet. You can use 'SHOW MODELS' to retrieve the available models."),
    ("LOAD MODEL sundial TO DEVICES '999'",
     "1508: AIDevice ID [999] is not available. You can use 'SHOW AI_DEVICES' to retrieve the available devices."),
    ("UNLOAD MODEL sundial FROM DEVICES '999'",
     "1508: AIDevice ID [999] is not available. You can use 'SHOW AI_DEVICES' to retrieve the available devices."),
    ("LOAD MODEL sundial TO DEVICES 'cpu,cpu'", "1509: Device ID list contains duplicate entries."),
    ("UNLOAD MODEL sundial FROM DEVICES 'cpu,cpu'", "1510: Device ID list contains duplicate entries."),
])
def test_instance_errors_read_as_iotdbs(cluster, ainode, sql, text):
    assert text in tree_error(cluster, sql)


# --- fine-tuning ---------------------------------------------------------------------------------------


def test_create_model_on_dataset_typed_into_iotdb_never_reaches_the_ainode(cluster, ainode):
    """Recorded live: IoTDB's DataNode builds createTuningTask without the IDL's required ``dbType`` (and
    without the dataset), so its own Thrift client refuses to send it ("Required field 'dbType' was not
    present"), retries 5 times and fails the statement with 1011. No AINode can serve it; ainode's own front
    doors (next test) fine-tune on the same IoTDB data."""
    message = tree_error(cluster, "CREATE MODEL hw_from_iotdb WITH HYPERPARAMETERS (train_epochs=1) "
                                  "FROM MODEL holtwinters ON DATASET (PATH root.AI.s1)")
    assert message.startswith("1011: Failed to connect to AINode"), message
    assert tree(cluster, "SHOW MODELS hw_from_iotdb")[1] == []
    assert "dbType" in cluster.log_tail("datanode", lines=400)


def test_fine_tuning_on_iotdb_data_through_ainode_sql_and_the_client(cluster, ainode):
    from ainode_core.client import AINodeClient
    from tests.conftest import run_cli

    statement = "CREATE MODEL hw_sql FROM MODEL holtwinters ON DATASET (PATH root.AI.s1([0, 2880)))"
    done = run_cli("sql", "--port", str(ainode.port), "--iotdb", f"127.0.0.1:{cluster.rpc_port}", "-e", statement)
    assert done.returncode == 0, done.stderr
    with AINodeClient("127.0.0.1", ainode.port) as client:
        assert client.finetune("arima_tuned", "arima", [("root.AI.s3", (0, 512))]) == "active"
        _wait(lambda: client.models("hw_sql")["State"].tolist() != ["training"], "hw_sql trained", timeout=120)
    _, rows = tree(cluster, "SHOW MODELS hw_sql")
    assert [r[1:4] for r in rows] == [["sktime", "fine_tuned", "active"]]
    _, rows = tree(cluster, 'CALL INFERENCE(arima_tuned, "SELECT s1 FROM root.AI LIMIT 256", outputLength=8)')
    assert len(rows) == 8 and all(np.isfinite(r[0]) for r in rows)


# --- lifecycle (last: these stop and remove the node) --------------------------------------------------


def test_zz_restart_keeps_the_node_id_and_unknown_while_stopped(cluster, ainode):
    (before,) = _ainode_rows(cluster)
    ainode.stop()
    _wait(lambda: _ainode_rows(cluster)[0][2] == "Unknown", "AINode Unknown after stop", timeout=120)
    restarted = RunningNode(ainode.home, standalone=False)
    try:
        _wait(lambda: _ainode_rows(cluster)[0][2] == "Running", "AINode Running again")
        assert _ainode_rows(cluster)[0][0] == before[0]  # the same node id
        _, rows = tree(cluster, 'CALL INFERENCE(arima, "SELECT s1 FROM root.AI LIMIT 64", outputLength=4)')
        assert len(rows) == 4
    finally:
        restarted.stop()
    ainode.process = restarted.process  # the fixture's stop() then has nothing left to do


def test_zzz_remove_ainode_then_a_fresh_start_registers_again(cluster, ainode):
    node = RunningNode(ainode.home, standalone=False)
    _wait(lambda: _ainode_rows(cluster) and _ainode_rows(cluster)[0][2] == "Running", "AINode Running")
    with cluster.tree_session() as session:
        session.execute_non_query_statement("REMOVE AINODE")
    _wait(lambda: not tree(cluster, "show ainodes")[1], "AINode removed")
    assert node.process.wait(timeout=60) == 0  # the ConfigNode's stopAINode ended it
    again = RunningNode(ainode.home, standalone=False)
    try:
        _wait(lambda: [r[1] for r in tree(cluster, "show ainodes")[1]] == ["Running"], "AINode registered afresh")
        _, rows = tree(cluster, 'CALL INFERENCE(naive_forecaster, "SELECT s1 FROM root.AI LIMIT 16", outputLength=2)')
        assert [r[0] for r in rows] == [15.0, 15.0]
    finally:
        again.stop()


def test_a_cluster_with_thrift_compression(tmp_path):
    """dn_rpc_thrift_compression_enable: the DataNode and ConfigNode speak the compact protocol to the node."""
    compressed = start_cluster(tmp_path / "iotdb", {"dn_rpc_thrift_compression_enable": "true",
                                                    "cn_rpc_thrift_compression_enable": "true"})
    try:
        home = make_home(tmp_path, f"ain_seed_config_node={compressed.config_node}\n"
                                   "ain_thrift_compression_enabled=true\n", name="ainode")
        node = RunningNode(home, standalone=False)
        try:
            _wait(lambda: [r[2] for r in _ainode_rows(compressed)] == ["Running"], "AINode Running (heartbeats)")
            with compressed.tree_session() as session:
                session.execute_non_query_statement("insert into root.c.d(time, v) values(1, 1.0)")
                session.execute_non_query_statement("insert into root.c.d(time, v) values(2, 3.0)")
            _, rows = tree(compressed, 'CALL INFERENCE(naive_forecaster, "select v from root.c.d", outputLength=2)')
            assert rows == [[3.0], [3.0]]
        finally:
            node.stop()
    finally:
        compressed.stop()
