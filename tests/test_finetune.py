"""CREATE MODEL new FROM MODEL base ON DATASET through the node's Thrift service.

The dataset is a CSV on the node's machine (the embedded default: ``file://`` in IDataSchema.schemaName);
the bases are tiny random-weight Timer-XL, Sundial and Chronos-2 checkpoints placed as built-in weights.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.testing.node import RunningNode, make_home
from tests.support.models import TIMER_FIXTURES, place_builtin_weights



@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Two noisy daily-cycle sensors, hourly, epoch-millisecond timestamps like an IoTDB export."""
    rng = np.random.default_rng(0)
    hours = np.arange(800)
    frame = pd.DataFrame({
        "Time": 1_700_000_000_000 + hours * 3_600_000,
        "root.plant.d1.temperature": 20 + 5 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 0.3, hours.size),
        "root.plant.d1.pressure": 3 + np.cos(2 * np.pi * hours / 24) + rng.normal(0, 0.1, hours.size),
        "site": "north",  # not numeric: not a series
    })
    path = tmp_path_factory.mktemp("data") / "plant.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    home = make_home(tmp_path_factory.mktemp("finetune"))
    place_builtin_weights(home)
    running = RunningNode(home)
    yield running
    assert running.stop() == 0


def tune(port: int, model_id: str, base: str, datasets: list[t.IDataSchema], **params: str) -> object:
    with connect("127.0.0.1", port) as client:
        return client.createTuningTask(t.TTuningReq(
            dbType="iotdb.tree", modelId=model_id, existingModelId=base, targetDataSchema=datasets,
            parameters=params))


def model_row(port: int, model_id: str) -> dict[str, str]:
    with connect("127.0.0.1", port) as client:
        response = client.showModels(t.TShowModelsReq(modelId=model_id))
    if model_id not in (response.modelIdList or []):
        return {}
    return {"type": response.modelTypeMap[model_id], "category": response.categoryMap[model_id],
            "state": response.stateMap[model_id], "reason": (response.reasonMap or {}).get(model_id, "")}


def wait_until_trained(port: int, model_id: str, timeout: float = 300) -> dict[str, str]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = model_row(port, model_id)
        seen.append(row["state"])
        if row["state"] != "training":
            return dict(row, seen=seen)
        time.sleep(0.2)
    raise AssertionError(f"{model_id} still training after {timeout} s: {row}")


def forecast(port: int, model_id: str, values: np.ndarray, horizon: int) -> np.ndarray:
    from ainode_core.client import AINodeClient

    with AINodeClient("127.0.0.1", port) as client:
        return client.forecast(model_id, values, output_length=horizon).to_numpy()


def csv_schema(path: Path, time_range: list[int] | None = None) -> t.IDataSchema:
    return t.IDataSchema(schemaName=f"file://{path}", timeRange=time_range)


def test_timer_xl_fine_tunes_on_a_csv_and_serves_the_new_weights(node, dataset):
    status = tune(node.port, "plant_timer", "timer_xl", [csv_schema(dataset)], train_epochs="2",
                  iter_per_epoch="15", learning_rate="0.003", batch_size="8", context_length="96")
    assert status.code == 200, status.message
    final = wait_until_trained(node.port, "plant_timer")
    assert "training" in final["seen"]
    assert (final["state"], final["category"], final["type"]) == ("active", "fine_tuned", "timer")
    assert "fine-tuned from timer_xl" in final["reason"]

    summary = json.loads((node.home / "data/ainode/models/fine_tuned/plant_timer/training.json").read_text())
    assert summary["base_model"] == "timer_xl" and summary["dataset"][0][0] == f"file://{dataset}"
    losses = summary["metrics"]["losses"]
    assert len(losses) == 30
    assert np.mean(losses[-5:]) < np.mean(losses[:5])  # it learned something

    probe = 20 + 5 * np.sin(2 * np.pi * np.arange(240) / 24)
    tuned = forecast(node.port, "plant_timer", probe, 48)
    base = forecast(node.port, "timer_xl", probe, 48)
    assert tuned.shape == base.shape == (48, 1)
    assert not np.allclose(tuned, base)


def test_sundial_and_chronos2_fine_tune_through_the_same_call(node, dataset):
    first_day = [1_700_000_000_000, 1_700_000_000_000 + 600 * 3_600_000]  # a time range keeps 600 rows
    assert tune(node.port, "plant_sundial", "sundial", [csv_schema(dataset, first_day)], train_epochs="1",
                iter_per_epoch="4", batch_size="4", learning_rate="0.001", context_length="96").code == 200
    assert tune(node.port, "plant_chronos", "chronos2", [csv_schema(dataset)], train_epochs="2",
                iter_per_epoch="2", batch_size="4", learning_rate="0.01", prediction_length="16").code == 200
    for model_id, model_type in (("plant_sundial", "sundial"), ("plant_chronos", "t5")):
        final = wait_until_trained(node.port, model_id)
        assert (final["state"], final["type"]) == ("active", model_type), final
    # Chronos-2's trainer counts steps; its progress reads in the epochs asked for, not as the trainer's dict.
    node_log = (node.home / "logs/log_ainode_all.log").read_text()
    assert "fine-tuning plant_chronos: epoch 2/2, iteration 2/2, loss" in node_log
    assert "'epoch'" not in node_log
    probe = 20 + 5 * np.sin(2 * np.pi * np.arange(240) / 24)
    assert not np.allclose(forecast(node.port, "plant_chronos", probe, 16), forecast(node.port, "chronos2", probe, 16))
    assert forecast(node.port, "plant_sundial", probe, 48).shape == (48, 1)


@pytest.mark.parametrize(("base", "params", "code", "message"), [
    ("timer_xl", {"train_epochs": "two"}, 1512, "Hyperparameter train_epochs expects a positive integer"),
    ("timer_xl", {"learning_rate": "-1"}, 1512, "Hyperparameter learning_rate expects a positive number"),
    ("no_such_model", {}, 1504, "Model [no_such_model] is not registered yet"),
    ("timer_xl", {"device": "7"}, 1508, "AIDevice ID [7] is not available"),
])
def test_bad_requests_are_refused_at_once_and_leave_no_model(node, dataset, base, params, code, message):
    status = tune(node.port, "refused_model", base, [csv_schema(dataset)], **params)
    assert (status.code, message in status.message) == (code, True), status.message
    assert model_row(node.port, "refused_model") == {}


def test_dataset_problems_are_named(node, dataset, tmp_path):
    status = tune(node.port, "no_file", "timer_xl", [t.IDataSchema(schemaName=f"file://{tmp_path}/none.csv")])
    assert status.code == 1512 and "no such file" in status.message
    status = tune(node.port, "no_dataset", "timer_xl", [])
    assert status.code == 1512 and "ON DATASET" in status.message
    status = tune(node.port, "empty_range", "timer_xl", [csv_schema(dataset, [5, 5])])
    assert status.code == 1512 and "is empty" in status.message


@pytest.mark.parametrize(("case", "expected"), [
    ("no numeric column", "numeric"),
    ("too little data", "no series of 144 points"),
    ("a time range with no rows", "no rows"),
])
def test_a_dataset_that_cannot_train_is_refused_by_the_call_and_leaves_no_model(node, dataset, tmp_path, case,
                                                                                  expected):
    """Read and checked before the call answers: the caller gets the reason, and the id stays free."""
    short = tmp_path / "short.csv"
    pd.read_csv(dataset).head(100).to_csv(short, index=False)  # < 96 + 48 rows
    words = tmp_path / "words.csv"
    words.write_text("Time,label\n1,a\n2,b\n")
    schema = {"no numeric column": csv_schema(words), "too little data": csv_schema(short),
              "a time range with no rows": csv_schema(dataset, [0, 1000])}[case]
    status = tune(node.port, "bad_data", "timer_xl", [schema], context_length="96", iter_per_epoch="2")
    assert (status.code, expected in status.message) == (1512, True), status.message
    assert model_row(node.port, "bad_data") == {}
    assert not list((node.home / "data/ainode/models/fine_tuned").glob(".bad_data*"))  # no leftovers


@pytest.mark.parametrize(("base", "params", "message"), [
    ("timer_xl", {"train_epoch": "2"},
     "Unknown hyperparameter 'train_epoch' for timer_xl. Did you mean 'train_epochs'?"),
    ("chronos2", {"learnig_rate": "0.1"}, "Did you mean 'learning_rate'?"),
    ("holtwinters", {"train_epochs": "2"}, "Its hyperparameters are: device, max_season_length, max_states, "
                                           "min_autocorrelation."),
])
def test_an_unknown_hyperparameter_is_refused_with_the_name_meant(node, dataset, base, params, message):
    status = tune(node.port, "typo_model", base, [csv_schema(dataset)], **params)
    assert (status.code, message in status.message) == (1512, True), status.message
    assert model_row(node.port, "typo_model") == {}


def test_the_cli_and_sql_refuse_a_misspelled_hyperparameter_too(node, dataset, capsys):
    from ainode_core.cli.main import main

    code = main(["finetune", "typo_cli", "--base", "timer_xl", "--dataset", f"file://{dataset}",
                 "--hp", "train_epoch=2", "--port", str(node.port)])
    err = capsys.readouterr().err
    assert code == 1 and "error 1512" in err and "Did you mean 'train_epochs'?" in err, err
    code = main(["sql", "--port", str(node.port), "-e", "CREATE MODEL typo_sql WITH HYPERPARAMETERS "
                 f"(train_epoch=2) FROM MODEL timer_xl ON DATASET ('file://{dataset}')"])
    err = capsys.readouterr().err
    assert code == 1 and "1512" in err and "Did you mean 'train_epochs'?" in err, err
    assert model_row(node.port, "typo_cli") == model_row(node.port, "typo_sql") == {}


def test_sktime_models_learn_their_settings_from_the_dataset(node, dataset):
    from sktime.forecasting.exp_smoothing import ExponentialSmoothing

    assert tune(node.port, "plant_hw", "holtwinters", [csv_schema(dataset)]).code == 200
    refused = tune(node.port, "plant_stray", "stray", [csv_schema(dataset)])
    assert refused.code == 1505 and "stray has nothing to learn" in refused.message
    assert wait_until_trained(node.port, "plant_hw")["state"] == "active"
    config = json.loads((node.home / "data/ainode/models/fine_tuned/plant_hw/config.json").read_text())
    assert config["sp"] == 24  # the daily cycle of hourly data, not the base's 12

    probe = pd.Series(20 + 5 * np.sin(2 * np.pi * np.arange(120) / 24) + np.arange(120) * 0.01)
    expected = ExponentialSmoothing(trend="add", seasonal="add", sp=24, damped_trend=False,
                                    initialization_method="estimated").fit(probe).predict(np.arange(1, 13))
    np.testing.assert_allclose(forecast(node.port, "plant_hw", probe.to_numpy(), 12)[:, 0], expected.to_numpy(),
                               rtol=1e-6)
    assert model_row(node.port, "plant_stray") == {}  # refused by the call (below), not a failed model


def test_existing_id_is_refused(node, dataset):
    status = tune(node.port, "timer_xl", "timer_xl", [csv_schema(dataset)])
    assert status.code == 1503


def test_what_apache_iotdbs_datanode_sends_is_answered_with_the_way_that_works(node):
    """IoTDB's DataNode turns CREATE MODEL m FROM MODEL b ON DATASET (...) into createTuningTask with the two
    model ids and the hyperparameters only: no dbType, no dataset (read from its Java sources)."""
    with connect("127.0.0.1", node.port) as client:
        status = client.createTuningTask(t.TTuningReq(modelId="from_datanode", existingModelId="timer_xl",
                                                      parameters={"train_epochs": "1"}))
    assert status.code == 1512
    assert "does not forward ON DATASET" in status.message and "ainode finetune" in status.message
    assert model_row(node.port, "from_datanode") == {}


def test_the_same_call_twice_is_one_fine_tuning(node, dataset):
    """A DataNode re-sends a call whose answer timed out: the second one must not fail or start another job."""
    first = tune(node.port, "tuned_twice", "holtwinters", [csv_schema(dataset)])
    again = tune(node.port, "tuned_twice", "holtwinters", [csv_schema(dataset)])
    assert (first.code, again.code) == (200, 200)
    assert wait_until_trained(node.port, "tuned_twice")["state"] == "active"
    assert tune(node.port, "tuned_twice", "arima", [csv_schema(dataset)]).code == 1503  # another base: a clash


def _training_processes(home: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "ainode_core.training.worker" in cmdline and str(home) in cmdline:
            found.append(process)
    return found


def test_a_node_killed_mid_training_shows_failed_after_restart(tmp_path, dataset):
    home = make_home(tmp_path)
    builtin = home / "data/ainode/models/builtin"
    shutil.copytree(TIMER_FIXTURES / "timer_p24", builtin / "timer_xl")
    running = RunningNode(home)
    try:
        assert tune(running.port, "endless", "timer_xl", [csv_schema(dataset)], train_epochs="1000",
                    iter_per_epoch="100000", context_length="96").code == 200
        deadline = time.monotonic() + 120
        while "iteration" not in model_row(running.port, "endless")["reason"]:
            assert time.monotonic() < deadline, model_row(running.port, "endless")
            time.sleep(0.2)
        assert _training_processes(home)
        running.process.kill()  # kill -9: no chance to clean up
        running.process.wait()
    finally:
        running.stop()
    deadline = time.monotonic() + 10
    while _training_processes(home):  # the orphaned trainer notices and exits
        assert time.monotonic() < deadline, "the training process outlived its node"
        time.sleep(0.2)

    restarted = RunningNode(home)
    try:
        row = model_row(restarted.port, "endless")
        assert row["state"] == "failed" and "stopped while this model was training" in row["reason"]
        assert not list((home / "data/ainode/models/fine_tuned").glob(".endless*"))
    finally:
        assert restarted.stop() == 0


def test_a_tree_model_dataset_is_read_from_the_iotdb_datanode(tmp_path):
    """dbType iotdb.tree: the node opens a Session to ain_cluster_ingress_* (here IoTDB's client protocol
    served by a double built on apache-iotdb's generated IClientRPCService) and trains on what it selects."""
    from tests.support.datanode import FakeDataNode

    hours = np.arange(400, dtype=np.int64)
    times = 1_700_000_000_000 + hours * 3_600_000
    datanode = FakeDataNode(page_rows=200, tree={
        "root.plant.d1.temperature": (times, 20 + 5 * np.sin(2 * np.pi * hours / 24), "DOUBLE"),
        "root.plant.d2.temperature": (times, 18 + 4 * np.cos(2 * np.pi * hours / 24), "FLOAT"),
    })
    home = make_home(tmp_path, f"ain_cluster_ingress_port={datanode.port}\n")
    shutil.copytree(TIMER_FIXTURES / "timer_p24", home / "data/ainode/models/builtin/timer_xl")
    running = RunningNode(home)
    try:
        status = tune(running.port, "tree_timer", "timer_xl",
                      [t.IDataSchema(schemaName="root.plant.*.temperature", timeRange=[int(times[0]), int(times[300])])],
                      train_epochs="1", iter_per_epoch="3", context_length="96")
        assert status.code == 200, status.message
        final = wait_until_trained(running.port, "tree_timer")
        assert final["state"] == "active", final
        assert any("from root.plant" in s and "time <" in s for s in datanode.statements), datanode.statements
        summary = json.loads((home / "data/ainode/models/fine_tuned/tree_timer/training.json").read_text())
        assert summary["db_type"] == "iotdb.tree" and len(summary["metrics"]["losses"]) == 3

        status = tune(running.port, "tree_missing", "timer_xl", [t.IDataSchema(schemaName="root.nowhere.**")])
        assert status.code != 200 and "root.nowhere" in status.message, status.message
        assert model_row(running.port, "tree_missing") == {}
    finally:
        assert running.stop() == 0


def _wait_for_reason(port: int, model_id: str, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in model_row(port, model_id).get("reason", ""):
        assert time.monotonic() < deadline, model_row(port, model_id)
        time.sleep(0.2)


def test_a_fine_tuning_that_failed_does_not_hold_its_id(node, dataset):
    long_job = dict(train_epochs="1000", iter_per_epoch="100000", context_length="96")
    assert tune(node.port, "retried", "timer_xl", [csv_schema(dataset)], **long_job).code == 200
    _wait_for_reason(node.port, "retried", "iteration")
    for process in _training_processes(node.home):
        process.kill()  # what the OOM killer does mid-training
    final = wait_until_trained(node.port, "retried")
    assert final["state"] == "failed" and "without a result" in final["reason"], final

    status = tune(node.port, "retried", "timer_xl", [csv_schema(dataset)], train_epochs="1", iter_per_epoch="2",
                  context_length="96")
    assert status.code == 200, status.message
    assert wait_until_trained(node.port, "retried")["state"] == "active"
    assert tune(node.port, "retried", "sundial", [csv_schema(dataset)]).code == 1503  # an active one does


def test_drop_model_cancels_a_running_fine_tuning(node, dataset, capsys):
    from ainode_core.cli.main import main

    assert tune(node.port, "cancelled", "timer_xl", [csv_schema(dataset)], train_epochs="1000",
                iter_per_epoch="100000", context_length="96").code == 200
    _wait_for_reason(node.port, "cancelled", "iteration")
    assert _training_processes(node.home)

    assert main(["drop", "cancelled", "--port", str(node.port)]) == 0, capsys.readouterr().err
    assert "successfully" in capsys.readouterr().out
    assert model_row(node.port, "cancelled") == {}
    assert not _training_processes(node.home)
    assert not list((node.home / "data/ainode/models/fine_tuned").glob("*cancelled*"))
    # It stopped between two steps at the node's request, not by a kill.
    assert "stopped at the node's request" in (node.home / "logs/finetune-cancelled.log").read_text()
