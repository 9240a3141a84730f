"""The real node over Thrift: every method answered, every status code reachable, nulls kept aligned."""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from iotdb.tsfile.utils.tsblock_serde import deserialize

from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, decode_tsblock, encode_tsblock
from tests.support.models import TEST_PLUGIN
from ainode_core.testing.node import RunningNode, make_home, make_site


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = tmp_path_factory.mktemp("node")
    running = RunningNode(make_home(root), site=make_site(root, {"ainode_test_models": TEST_PLUGIN}))
    yield running
    assert running.stop() == 0


@pytest.fixture
def client(node):
    with connect("127.0.0.1", node.port) as thrift_client:
        yield thrift_client


def series_block(matrix: np.ndarray, nulls: np.ndarray | None = None) -> bytes:
    rows = matrix.shape[1]
    columns = [Column(TSDataType.DOUBLE, matrix[i], None if nulls is None else nulls[i])
               for i in range(matrix.shape[0])]
    return encode_tsblock(TsBlock(np.arange(rows, dtype=np.int64) * 1000, columns))


def values_of(result: bytes) -> np.ndarray:
    return decode_tsblock(result).to_matrix()


def test_show_models_devices_and_heartbeat(client):
    models = client.showModels(t.TShowModelsReq())
    assert models.status.code == 200
    assert models.modelTypeMap["last_value"] == "lastvalue"
    assert models.categoryMap["last_value"] == "builtin" and models.stateMap["last_value"] == "active"
    one = client.showModels(t.TShowModelsReq(modelId="last_value"))
    assert one.modelIdList == ["last_value"]
    assert client.showAIDevices().deviceIdMap["cpu"] == "cpu"
    beat = client.getAIHeartbeat(t.TAIHeartbeatReq(heartbeatTimestamp=424242, needSamplingLoad=True))
    assert beat.heartbeatTimestamp == 424242 and beat.status == "Running"
    assert 0 <= beat.loadSample.memoryUsageRate <= 100 and beat.loadSample.freeDiskSpace > 0
    assert client.getAIHeartbeat(t.TAIHeartbeatReq(1, False)).loadSample is None


def test_forecast_2880_rows_with_nulls_stays_aligned(client):
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(3, 2880))
    nulls = np.zeros_like(matrix, dtype=bool)
    nulls[0, ::7] = True            # scattered nulls
    nulls[1, -5:] = True            # nulls at the end: the last real value is at row -6
    response = client.forecast(t.TForecastReq(modelId="last_value", inputData=series_block(matrix, nulls),
                                              outputLength=48))
    assert response.status.code == 200, response.status.message
    (result,) = response.forecastResult
    time_column, *_ = deserialize(result)  # IoTDB's own reader accepts our bytes
    assert list(time_column) == [0] * 48
    out = values_of(result)
    assert out.shape == (3, 48)
    assert out[0, 0] == matrix[0, -1]  # row 2879 is not null (2879 % 7 != 0)
    assert out[1, 0] == matrix[1, -6]
    assert out[2, 0] == matrix[2, -1]


def test_forecast_without_nulls_and_inference(client):
    matrix = np.arange(2880, dtype=float)[None, :]
    response = client.forecast(t.TForecastReq("last_value", series_block(matrix), 96))
    assert values_of(response.forecastResult[0]).tolist() == [[2879.0] * 96]
    tree = client.inference(t.TInferenceReq("last_value", series_block(matrix), {"outputLength": "10"}))
    assert tree.status.code == 200
    assert values_of(tree.inferenceResult[0]).shape == (1, 10)
    default = client.inference(t.TInferenceReq("last_value", series_block(matrix), {}))
    assert values_of(default.inferenceResult[0]).shape == (1, 96)  # outputLength defaults to 96


def test_anomaly_model_labels_the_first_output_length_rows(client):
    """A DataNode needs exactly outputLength rows back (default 96), as IoTDB's AINode answers them."""
    matrix = np.ones((1, 200))
    nulls = np.zeros_like(matrix, dtype=bool)
    nulls[0, 10] = True
    response = client.inference(t.TInferenceReq("nan_flag", series_block(matrix, nulls), {}))
    flags = values_of(response.inferenceResult[0])
    assert flags.shape == (1, 96) and flags[0, 10] == 1 and flags.sum() == 1
    every_row = client.inference(t.TInferenceReq("nan_flag", series_block(matrix, nulls), {"outputLength": "200"}))
    assert values_of(every_row.inferenceResult[0]).shape == (1, 200)
    forecast = client.forecast(t.TForecastReq("nan_flag", series_block(matrix, nulls), 48))
    assert values_of(forecast.forecastResult[0]).shape == (1, 48)
    too_many = client.inference(t.TInferenceReq("nan_flag", series_block(matrix, nulls), {"outputLength": "201"}))
    assert too_many.status.code == 1599 and "set output_length to at most 200" in too_many.status.message


def test_covariates_reach_the_model(client):
    matrix = np.zeros((1, 20))
    history = json.dumps({"temp": list(range(20))})
    future = json.dumps({"temp": [10.0, 20.0, 30.0]})
    response = client.forecast(t.TForecastReq("last_value", series_block(matrix), 3, historyCovs=history,
                                              futureCovs=future))
    assert values_of(response.forecastResult[0]).tolist() == [[10.0, 20.0, 30.0]]
    bad = client.forecast(t.TForecastReq("last_value", series_block(matrix), 3, historyCovs=history,
                                         futureCovs=json.dumps({"temp": [1.0]})))
    assert bad.status.code == 1599 and "temp" in bad.status.message


@pytest.mark.parametrize("call, code, text", [
    (lambda c: c.forecast(t.TForecastReq("no_such_model", b"", 10)), 1504, "is not registered yet"),
    (lambda c: c.deleteModel(t.TDeleteModelReq("no_such_model")), 1504, "Model no_such_model does not exist"),
    (lambda c: c.deleteModel(t.TDeleteModelReq("last_value")), 1506, "Cannot delete built-in model: last_value"),
    (lambda c: c.loadModel(t.TLoadModelReq("last_value", ["7"])), 1508, "AIDevice ID [7] is not available"),
    (lambda c: c.loadModel(t.TLoadModelReq("last_value", ["cpu", "cpu"])), 1509, "duplicate entries"),
    (lambda c: c.loadModel(t.TLoadModelReq("timer_xl", ["cpu"])), 1509, "timer_xl is inactive (weights"),
    (lambda c: c.unloadModel(t.TUnloadModelReq("last_value", ["cpu", "cpu"])), 1510, "duplicate entries"),
    (lambda c: c.showLoadedModels(t.TShowLoadedModelsReq(["9"])), 1508, "AIDevice ID [9]"),
    (lambda c: c.registerModel(t.TRegisterModelReq("new_model", "ftp://x/y")), 1505, "unknown scheme"),
    (lambda c: c.registerModel(t.TRegisterModelReq("new_model", "file:///no/such/dir")), 1505, "not a folder"),
    (lambda c: c.registerModel(t.TRegisterModelReq("new_model", "file:///tmp")), 1505, "lacks"),
    (lambda c: c.registerModel(t.TRegisterModelReq("last_value", "file:///tmp")), 1503, "already exists"),
    (lambda c: c.forecast(t.TForecastReq("last_value", series_block(np.ones((1, 10))), 5000)), 1599,
     "Attribute output_length expect value between 1 and 2880, got 5000 instead."),
    (lambda c: c.forecast(t.TForecastReq("last_value", b"\x00\x00\x00\x01\x04", 5)), 1599, ""),
    (lambda c: c.forecast(t.TForecastReq("crash_model", series_block(np.ones((1, 10))), 5)), 1599,
     "this model always crashes"),
    (lambda c: c.forecast(t.TForecastReq("slow_model", series_block(np.ones((1, 10))), 5,
                                         options={"sleep": "1", "timeout_ms": "100"})), 1599, "did not answer"),
    (lambda c: c.classify(t.TClassifyReq("last_value", series_block(np.ones((1, 10))))), 1599, "classification"),
    (lambda c: c.createTuningTask(t.TTuningReq("iotdb.tree", "tuned", "no_such_model")), 1504, ""),
    (lambda c: c.createTuningTask(t.TTuningReq("iotdb.tree", "tuned", "last_value")), 1505, "fine-tuning"),
])
def test_status_codes(client, call, code, text):
    response = call(client)
    status = getattr(response, "status", response)
    assert status.code == code, status.message
    assert text in status.message


def test_a_crash_fails_only_its_own_request(client):
    assert client.forecast(t.TForecastReq("crash_model", series_block(np.ones((1, 10))), 5)).status.code == 1599
    assert client.forecast(t.TForecastReq("last_value", series_block(np.ones((1, 10))), 5)).status.code == 200


def test_heartbeats_are_answered_while_a_long_inference_runs(node):
    finished = {}

    def long_forecast():
        with connect("127.0.0.1", node.port) as slow_client:
            slow_client.forecast(t.TForecastReq("slow_model", series_block(np.ones((1, 10))), 5,
                                                options={"sleep": "3"}))
            finished["forecast"] = time.monotonic()

    worker = threading.Thread(target=long_forecast)
    worker.start()
    time.sleep(0.5)
    with connect("127.0.0.1", node.port) as config_node:
        beat = config_node.getAIHeartbeat(t.TAIHeartbeatReq(7, True))
        models = config_node.showModels(t.TShowModelsReq())
        answered = time.monotonic()
    worker.join()
    assert beat.status == "Running" and models.status.code == 200
    assert answered < finished["forecast"]  # answered while the forecast was still running


class ForecastRequestOf2_0_8:
    """TForecastReq as IoTDB 2.0.8's DataNode writes it: the options map at field 6 (2.0.10 moved it to 7)."""

    def __init__(self, model_id: str, data: bytes, output_length: int, options: dict[str, str]) -> None:
        self.model_id, self.data, self.output_length, self.options = model_id, data, output_length, options

    def write(self, oprot) -> None:
        from thrift.Thrift import TType

        oprot.writeStructBegin("TForecastReq")
        for name, kind, field_id, write, value in (
                ("modelId", TType.STRING, 1, oprot.writeString, self.model_id),
                ("inputData", TType.STRING, 2, oprot.writeBinary, self.data),
                ("outputLength", TType.I32, 3, oprot.writeI32, self.output_length)):
            oprot.writeFieldBegin(name, kind, field_id)
            write(value)
            oprot.writeFieldEnd()
        oprot.writeFieldBegin("options", TType.MAP, 6)
        oprot.writeMapBegin(TType.STRING, TType.STRING, len(self.options))
        for key, value in self.options.items():
            oprot.writeString(key)
            oprot.writeString(value)
        oprot.writeMapEnd()
        oprot.writeFieldEnd()
        oprot.writeFieldStop()
        oprot.writeStructEnd()


def _forecast_options_of_both_versions_arrive(client) -> None:
    block = series_block(np.ones((1, 10)))
    of_2_0_8 = client.forecast(ForecastRequestOf2_0_8("last_value", block, 3, {"add": "5"}))
    assert of_2_0_8.status.code == 200 and values_of(of_2_0_8.forecastResult[0]).tolist() == [[6.0] * 3]
    of_2_0_10 = client.forecast(t.TForecastReq("last_value", block, 3, autoAdapt=True, options={"add": "2"}))
    assert values_of(of_2_0_10.forecastResult[0]).tolist() == [[3.0] * 3]


def test_forecast_options_of_iotdb_2_0_8_and_2_0_10_both_arrive(client):
    _forecast_options_of_both_versions_arrive(client)


def test_compact_protocol(tmp_path):
    root = tmp_path
    running = RunningNode(make_home(root, "ain_thrift_compression_enabled=true\n"),
                          site=make_site(root, {"ainode_test_models": TEST_PLUGIN}))
    try:
        with connect("127.0.0.1", running.port, compact=True) as client:
            assert client.showModels(t.TShowModelsReq("last_value")).modelIdList == ["last_value"]
            response = client.forecast(t.TForecastReq("last_value", series_block(np.ones((2, 30))), 4))
            assert values_of(response.forecastResult[0]).shape == (2, 4)
            _forecast_options_of_both_versions_arrive(client)  # compact numbers fields by deltas
    finally:
        assert running.stop() == 0
