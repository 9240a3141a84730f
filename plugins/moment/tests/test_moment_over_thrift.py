"""MOMENT served by the real node over Thrift: SHOW MODELS inactive → active when its weights are placed, CALL
INFERENCE answers (labels, scores, imputation) equal to momentfm's goldens, concurrent requests batched,
LOAD/UNLOAD, and FORECAST (Thrift ``forecast``) answered by masked reconstruction for every horizon.

One node for the module: it starts without MOMENT's weights (offline), the fixture records SHOW MODELS, copies
the tiny official-format checkpoint where the reason says and waits for ``active`` — no restart.
"""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ainode_core.client import AINodeClient, AINodeRequestError
from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, decode_tsblock, encode_tsblock
from ainode_core.testing.call_log import CALL_LOG_PLUGIN, wait_for_call_sizes
from ainode_core.testing.call_log import ENV_VAR as CALL_LOG_ENV
from ainode_core.testing.node import RunningNode, make_home, make_site

TOLERANCE = dict(rtol=1e-6, atol=1e-6)  # float32 model, DOUBLE on the wire
CLIENTS = 16


@pytest.fixture(scope="module")
def served(tmp_path_factory, checkpoint: Path):
    root = tmp_path_factory.mktemp("moment-thrift")
    # a wide batching window so that concurrent requests surely share model calls
    home = make_home(root, "ain_inference_batch_interval_in_ms=200\n")
    site = make_site(root, {"ainode_call_log": CALL_LOG_PLUGIN})
    call_log = root / "calls.txt"
    node = RunningNode(home, site=site, env={CALL_LOG_ENV: str(call_log),
                                             "AINODE_LOAD_PLUGINS": "moment,ainode_call_log"})
    try:
        before = show(node.port)
        folder = home / "data/ainode/models/builtin/moment"
        shutil.copytree(checkpoint, folder, dirs_exist_ok=True)
        deadline = time.monotonic() + 60
        while show(node.port)["State"] != "active":
            assert time.monotonic() < deadline, show(node.port)
            time.sleep(0.2)
        yield {"node": node, "before": before, "folder": folder, "call_log": call_log}
    finally:
        assert node.stop() == 0


@pytest.fixture
def client(served):
    with AINodeClient("127.0.0.1", served["node"].port) as ainode:
        yield ainode


def show(port: int) -> dict[str, str]:
    with AINodeClient("127.0.0.1", port) as ainode:
        return ainode.models("moment").iloc[0].to_dict()


def tree_block(values: np.ndarray) -> bytes:
    """What a DataNode sends for CALL INFERENCE: one DOUBLE column, nulls in the bitmap."""
    times = 1_700_000_000_000 + np.arange(values.size, dtype=np.int64) * 60_000
    return encode_tsblock(TsBlock(times, [Column(TSDataType.DOUBLE, np.nan_to_num(values), np.isnan(values))]))


def call_inference(port: int, values: np.ndarray, **attributes: str) -> np.ndarray:
    request = t.TInferenceReq(modelId="moment", dataset=tree_block(values), inferenceAttributes=attributes)
    with connect("127.0.0.1", port) as thrift:
        response = thrift.inference(request)
    assert response.status.code == 200, response.status.message
    (result,) = response.inferenceResult
    return decode_tsblock(result).to_matrix()


def test_show_models_lists_moment_inactive_with_a_reason_until_its_weights_are_placed(served) -> None:
    before = served["before"]
    assert (before["ModelType"], before["Category"], before["Task"]) == ("moment", "builtin", "anomaly_detection")
    assert before["State"] == "inactive"
    assert "AutonLab/MOMENT-1-large" in before["Reason"] and str(served["folder"]) in before["Reason"]
    after = show(served["node"].port)
    assert (after["State"], after["Reason"]) == ("active", "")


@pytest.mark.parametrize(("output", "key"), [("imputed", "imputed"), ("score", "scores"),
                                             ("reconstruction", "reconstruction")])
def test_call_inference_equals_momentfm(served, golden, output: str, key: str) -> None:
    """CALL INFERENCE(moment, "select s ...", outputLength=512, output=...) on a series with nulls."""
    case = golden["nan512"]
    got = call_inference(served["node"].port, case["x"][0], outputLength="512", output=output)
    assert got.shape == (1, 512)
    np.testing.assert_allclose(got, case[key], equal_nan=True, **TOLERANCE)


def test_call_inference_defaults_to_96_labels(served, golden) -> None:
    got = call_inference(served["node"].port, golden["uni512"]["x"][0])
    assert got.shape == (1, 96) and set(np.unique(got)) <= {0.0, 1.0}


def test_client_detect_labels_every_row_of_every_column(client, ours, golden) -> None:
    x = golden["multi512"]["x"]
    frame = pd.DataFrame(x.T, columns=["a", "b", "c"])
    got = client.detect("moment", frame, threshold="3")
    assert list(got.columns) == ["a", "b", "c"] and len(got) == 512
    np.testing.assert_array_equal(got.to_numpy().T, ours.run([{"targets": x}], threshold="3")[0])


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(served, ours) -> None:
    rng = np.random.default_rng(0)
    series = [10 + np.sin(np.arange(300) / 4 + k) + 0.1 * rng.standard_normal(300) for k in range(CLIENTS)]
    answers: list[np.ndarray | None] = [None] * CLIENTS
    start = threading.Barrier(CLIENTS)
    since = time.time()

    def one(index: int) -> None:
        with AINodeClient("127.0.0.1", served["node"].port) as ainode:
            start.wait()
            answers[index] = ainode.detect("moment", series[index], output="score").to_numpy()[:, 0]

    threads = [threading.Thread(target=one, args=(k,)) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    expected = ours.run([{"targets": values} for values in series], output="score")
    for index, answer in enumerate(answers):
        assert answer is not None, f"client {index} got no answer"
        np.testing.assert_allclose(answer, expected[index][0], err_msg=f"client {index}", **TOLERANCE)
    sizes = wait_for_call_sizes(served["call_log"], "moment", since, CLIENTS)
    assert sum(sizes) == CLIENTS and max(sizes) > 1, sizes


def test_two_identical_requests_over_thrift_give_identical_answers(served, golden) -> None:
    x = golden["long1100"]["x"][0]
    first = call_inference(served["node"].port, x, outputLength="1100", output="score")
    second = call_inference(served["node"].port, x, outputLength="1100", output="score")
    np.testing.assert_array_equal(first, second)


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_load_and_unload(client) -> None:
    """LOAD / UNLOAD answer at once and place or remove the instances in the background, as IoTDB's do."""
    series = np.sin(np.arange(64) / 3)
    client.load("moment", "cpu")
    wait_for(lambda: client.loaded(["cpu"])["cpu"].get("moment", 0) >= 1)
    assert client.detect("moment", series).shape == (64, 1)
    client.unload("moment", "cpu")
    wait_for(lambda: "moment" not in client.loaded(["cpu"])["cpu"])
    assert client.detect("moment", series).shape == (64, 1)  # on demand again


def table_block(values: np.ndarray) -> bytes:
    """What a DataNode sends for SELECT * FROM FORECAST(...): one DOUBLE column per selected column."""
    times = 1_700_000_000_000 + np.arange(values.shape[1], dtype=np.int64) * 1000
    return encode_tsblock(TsBlock(times, [Column(TSDataType.DOUBLE, np.nan_to_num(row), np.isnan(row))
                                          for row in values]))


def call_forecast(port: int, values: np.ndarray, horizon: int) -> np.ndarray:
    """SELECT * FROM FORECAST(model_id => 'moment', input => (...), output_length => horizon)."""
    request = t.TForecastReq(modelId="moment", inputData=table_block(values), outputLength=horizon)
    with connect("127.0.0.1", port) as thrift:
        response = thrift.forecast(request)
    assert response.status.code == 200, response.status.message
    return decode_tsblock(response.forecastResult[0]).to_matrix()


@pytest.mark.parametrize("horizon", [16, 96, 200, 500])
def test_forecast_answers_output_length_rows_per_column(served, ours, golden, horizon: int) -> None:
    """IoTDB's own integration test runs FORECAST on every built-in and expects rows back: moment answers by
    reconstructing masked trailing patches (500 rolls forward in two passes), each column on its own."""
    values = golden["multi512"]["x"]
    first = call_forecast(served["node"].port, values, horizon)
    second = call_forecast(served["node"].port, values, horizon)
    assert first.shape == (3, horizon) and np.isfinite(first).all()
    np.testing.assert_array_equal(first, second)
    (expected,) = ours.run([{"targets": values, "past_covariates": {}, "future_covariates": {}}],
                           output_length=horizon)
    np.testing.assert_allclose(first, expected, **TOLERANCE)


def test_call_inference_still_detects_after_forecasts(served, golden) -> None:
    """Thrift inference (CALL INFERENCE) keeps answering detection; only Thrift forecast forecasts."""
    case = golden["nan512"]
    call_forecast(served["node"].port, case["x"], 96)
    got = call_inference(served["node"].port, case["x"][0], outputLength="512", output="score")
    np.testing.assert_allclose(got, case["scores"], equal_nan=True, **TOLERANCE)
    labels = call_inference(served["node"].port, case["x"][0])
    assert labels.shape == (1, 96) and set(np.unique(labels)) <= {0.0, 1.0}


def test_a_bad_option_is_1599_naming_it(served, golden) -> None:
    request = t.TInferenceReq(modelId="moment", dataset=tree_block(golden["uni512"]["x"][0]),
                              inferenceAttributes={"output": "forecast"})
    with connect("127.0.0.1", served["node"].port) as thrift:
        response = thrift.inference(request)
    assert response.status.code == 1599 and "output" in response.status.message
    with pytest.raises(AINodeRequestError, match="threshold"):
        with AINodeClient("127.0.0.1", served["node"].port) as ainode:
            ainode.detect("moment", golden["uni512"]["x"][0], threshold="-2")
