"""Toto served by the real node over Thrift (``ainode start --standalone`` in a temp home, this plugin only).

The node starts without Toto's weights: SHOW MODELS lists ``toto`` as a builtin of type ``toto``,
``inactive`` with a reason; copying the tiny published-format checkpoint into ``builtin/toto/`` makes it
``active`` without a restart. Forecasts then equal the reference's (goldens) and our in-process pipeline's;
options travel as the strings Thrift carries; concurrent requests share model calls; LOAD/UNLOAD work.
The test kit's call-log plugin (the public ``ainode_after_inference`` hook) records the size of every model call.
"""
from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from ainode_core.client import AINodeClient, AINodeRequestError
from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, decode_tsblock, encode_tsblock
from ainode_core.testing.call_log import CALL_LOG_PLUGIN, wait_for_call_sizes
from ainode_core.testing.call_log import ENV_VAR as CALL_LOG_ENV
from ainode_core.testing.node import RunningNode, make_home, make_site

FIXTURES = Path(__file__).parent / "fixtures"


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = tmp_path_factory.mktemp("toto-thrift")
    calls = root / "calls.txt"
    running = RunningNode(make_home(root), site=make_site(root, {"ainode_call_log": CALL_LOG_PLUGIN}),
                          env={"AINODE_LOAD_PLUGINS": "toto,ainode_call_log", CALL_LOG_ENV: str(calls)})
    running.calls = calls
    yield running
    assert running.stop() == 0


@pytest.fixture
def client(node):
    with AINodeClient("127.0.0.1", node.port) as ainode:
        yield ainode


@pytest.fixture(scope="module")
def active(node):
    """The node once the tiny checkpoint is placed where an operator would put Toto's weights."""
    shutil.copytree(FIXTURES / "toto_tiny", node.home / "data/ainode/models/builtin/toto")
    with AINodeClient("127.0.0.1", node.port) as ainode:
        wait_for(lambda: ainode.models().set_index("ModelId").loc["toto", "State"] == "active")
    return node


def test_without_weights_toto_is_a_builtin_that_says_why_it_is_inactive(client):
    toto = client.models().set_index("ModelId").loc["toto"]
    assert (toto["ModelType"], toto["Category"], toto["State"]) == ("toto", "builtin", "inactive")
    assert "weights missing" in toto["Reason"] and "model.safetensors" in toto["Reason"]
    with pytest.raises(AINodeRequestError) as error:
        client.forecast("toto", np.ones(64), output_length=8)
    assert error.value.code == 1599 and "inactive" in str(error.value)


def test_placed_weights_make_toto_active(active, client):
    toto = client.models().set_index("ModelId").loc["toto"]
    assert (toto["State"], toto["Reason"]) == ("active", "")


def _block(series: np.ndarray) -> bytes:
    """What a DataNode sends for FORECAST: timestamps and one DOUBLE column per variate, NaN as null."""
    times = 1_700_000_000_000 + np.arange(series.shape[1], dtype=np.int64) * 1000
    return encode_tsblock(TsBlock(times, [Column(TSDataType.DOUBLE, row, np.isnan(row)) for row in series]))


@pytest.mark.parametrize("case", ["toto_tiny-L100_C2_nan-H96", "toto_tiny-L512_C3-H200"])
def test_thrift_forecast_equals_the_reference(active, golden, case):
    _, name, horizon = case.split("-")
    series = golden[f"input/{name}"].astype(np.float64)
    with connect("127.0.0.1", active.port) as thrift:
        response = thrift.forecast(t.TForecastReq(modelId="toto", inputData=_block(series),
                                                  outputLength=int(horizon[1:]), options={}))
    assert response.status.code == 200, response.status.message
    got = decode_tsblock(response.forecastResult[0]).to_matrix()
    expected = golden[f"mean/{case}"]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=3e-5 * float(np.abs(expected).max()))


def test_quantile_and_sampling_options_as_strings(active, client, ours, golden):
    series = golden["input/L512_C1"].astype(np.float64)
    options = {"quantiles": "0.1,0.5,0.9", "num_samples": "32", "seed": "7"}
    with connect("127.0.0.1", active.port) as thrift:
        first, second = (thrift.forecast(t.TForecastReq(modelId="toto", inputData=_block(series), outputLength=70,
                                                        options=options)) for _ in range(2))
    assert first.status.code == 200, first.status.message
    got = decode_tsblock(first.forecastResult[0]).to_matrix()
    # the same request, the same answer
    np.testing.assert_array_equal(got, decode_tsblock(second.forecastResult[0]).to_matrix())
    expected = ours.run([{"targets": series}], output_length=70, **options)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)

    frame = client.forecast("toto", series.T, output_length=70, quantiles=[0.1, 0.9], num_samples=32, seed=7)
    assert list(frame.columns) == ["value_q0.1", "value_q0.9"]
    np.testing.assert_allclose(frame.to_numpy().T, expected[[0, 2]], rtol=1e-5, atol=1e-4)
    mean_of_paths = client.forecast("toto", series.T, output_length=70, num_samples=32, seed=7)
    assert mean_of_paths.shape == (70, 1)


def test_bad_option_string_is_1599_naming_it(active, client):
    with pytest.raises(AINodeRequestError) as error:
        client.forecast("toto", np.ones(80), output_length=8, num_samples="lots")
    assert error.value.code == 1599 and "num_samples" in str(error.value)


def test_concurrent_requests_share_model_calls_and_keep_their_answers(active, ours, golden):
    base = golden["input/L2880_C1"].astype(np.float64)
    inputs = [base * (1.0 + 0.05 * i) + i for i in range(16)]
    expected = [ours.run([{"targets": series}], output_length=96)[0] for series in inputs]
    since = time.time()

    def one(series: np.ndarray) -> np.ndarray:
        with AINodeClient("127.0.0.1", active.port) as own:
            return own.forecast("toto", series.T, output_length=96).to_numpy().T

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(one, inputs))
    for got, want in zip(answers, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=3e-5 * float(np.abs(want).max()))
    sizes = wait_for_call_sizes(active.calls, "toto", since, 16)
    assert sum(sizes) == 16 and max(sizes) > 1, sizes


def test_load_and_unload(active, client):
    client.load("toto", "cpu")
    wait_for(lambda: client.loaded(["cpu"])["cpu"].get("toto", 0) >= 1)
    assert client.forecast("toto", np.sin(np.arange(200) / 7.0), output_length=20).shape == (20, 1)
    client.unload("toto", "cpu")
    wait_for(lambda: "toto" not in client.loaded(["cpu"])["cpu"])
