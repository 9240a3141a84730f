"""moirai2 served by the real node (``ainode start --standalone`` in a subprocess) through Thrift and the client.

The node starts with ``ain_fetch_builtin_weights=true`` and no hub: moirai2 is ``builtin``/``inactive`` with its
licence and how to opt in or where to copy the files; copying the tiny checkpoint there makes it ``active``
without a restart. Then Thrift forecasts equal the reference's goldens, concurrent requests share model calls (the test kit's
call-log plugin records each call's batch size through ``ainode_after_inference``), quantiles come back
level-major, several columns beyond 64 steps are served, identical requests give identical answers, and
LOAD/UNLOAD place and remove instances.
"""
from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from ainode_core.client import AINodeClient
from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, decode_tsblock, encode_tsblock
from ainode_core.testing.call_log import CALL_LOG_PLUGIN, wait_for_call_sizes
from ainode_core.testing.call_log import ENV_VAR as CALL_LOG_ENV
from ainode_core.testing.node import RunningNode, make_home, make_site

TOLERANCE = dict(rtol=1e-5, atol=5e-5)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = tmp_path_factory.mktemp("moirai-thrift")
    call_log = root / "calls.txt"
    running = RunningNode(make_home(root, "ain_fetch_builtin_weights=true\n"),
                          site=make_site(root, {"ainode_call_log": CALL_LOG_PLUGIN}),
                          env={CALL_LOG_ENV: str(call_log)})
    running.call_log = call_log
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="module")
def client(node):
    with AINodeClient("127.0.0.1", node.port) as ainode:
        yield ainode


@pytest.fixture(scope="module")
def placed(node, client, checkpoint: Path):
    """The tiny checkpoint copied where the reason says, and the model active."""
    shutil.copytree(checkpoint, node.home / "data/ainode/models/builtin/moirai2", dirs_exist_ok=True)
    deadline = time.monotonic() + 60
    while client.model_state("moirai2")[0] != "active":
        assert time.monotonic() < deadline, client.model_state("moirai2")
        time.sleep(0.2)


def table_block(targets: np.ndarray) -> bytes:
    """What a DataNode sends for FORECAST: real timestamps, one DOUBLE column per target."""
    times = 1_700_000_000_000 + np.arange(targets.shape[1], dtype=np.int64) * 1000
    return encode_tsblock(TsBlock(times, [Column(TSDataType.DOUBLE, row, np.isnan(row)) for row in targets]))


def forecast(port: int, targets: np.ndarray, horizon: int, options: dict[str, str] | None = None) -> np.ndarray:
    with connect("127.0.0.1", port) as thrift:
        response = thrift.forecast(t.TForecastReq(modelId="moirai2", inputData=table_block(targets),
                                                  outputLength=horizon, options=options or {}))
    assert response.status.code == 200, response.status.message
    (result,) = response.forecastResult
    return decode_tsblock(result).to_matrix()


def test_without_weights_moirai2_is_inactive_and_names_its_licence(node, client) -> None:
    models = client.models().set_index("ModelId")
    row = models.loc["moirai2"]
    assert (row["ModelType"], row["Category"], row["State"]) == ("moirai", "builtin", "inactive")
    assert "CC BY-NC 4.0: non-commercial use only" in row["Reason"]
    assert "ain_fetch_noncommercial_weights=true" in row["Reason"]  # not fetched although fetching is on
    assert str(node.home / "data/ainode/models/builtin/moirai2") in row["Reason"]


def test_placed_weights_make_moirai2_active_with_its_licence_in_the_reason(client, placed) -> None:
    row = client.models().set_index("ModelId").loc["moirai2"]
    assert row["State"] == "active"
    assert row["Reason"] == "weights licensed CC BY-NC 4.0: non-commercial use only"


@pytest.mark.parametrize("name", ["L512_H96_C1", "L100_H16_C1_nan", "L2880_H200_C1"])
def test_thrift_forecast_is_the_references_median(node, placed, inputs, goldens, name: str) -> None:
    horizon = int(name.split("_")[1][1:])
    got = forecast(node.port, inputs[name], horizon)
    np.testing.assert_allclose(got, goldens[name][:, 4], **TOLERANCE)


def test_several_columns_beyond_one_pass_with_quantiles(node, placed, inputs, goldens) -> None:
    got = forecast(node.port, inputs["L512_H200_C3"], 200, {"quantiles": "0.1,0.9"})
    assert got.shape == (2 * 3, 200)  # level-major: s0@0.1, s1@0.1, s2@0.1, s0@0.9, ...
    golden = goldens["patched_L512_H200_C3"]
    np.testing.assert_allclose(got, np.concatenate([golden[:, 0], golden[:, 8]]), **TOLERANCE)


def test_client_quantile_columns(client, placed, inputs, goldens) -> None:
    got = client.forecast("moirai2", inputs["L96_H16_C1"][0], output_length=16, quantiles=[0.1, 0.5, 0.9])
    assert got.shape == (16, 3)
    np.testing.assert_allclose(got.to_numpy().T, goldens["L96_H16_C1"][0, [0, 4, 8]], **TOLERANCE)


def test_concurrent_requests_share_model_calls_and_each_gets_its_own_answer(node, placed, inputs, goldens) -> None:
    names = [name for name in goldens if name.endswith("_H96_C1")] * 6  # 4 different series, 24 requests
    since = time.time()
    start = threading.Barrier(len(names))

    def one(name: str) -> np.ndarray:
        start.wait()
        return forecast(node.port, inputs[name], 96)

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = list(pool.map(one, names))
    for name, got in zip(names, results):
        np.testing.assert_allclose(got, goldens[name][:, 4], err_msg=name, **TOLERANCE)
    sizes = wait_for_call_sizes(node.call_log, "moirai2", since, len(names))
    assert sum(sizes) == len(names) and max(sizes) > 1, sizes  # fewer model calls than requests


def test_two_identical_requests_give_identical_answers(node, placed, inputs) -> None:
    targets = inputs["L512_H200_C3"]
    np.testing.assert_array_equal(forecast(node.port, targets, 200), forecast(node.port, targets, 200))


def test_load_and_unload(client, placed) -> None:
    client.load("moirai2", ["cpu"])
    deadline = time.monotonic() + 60
    while client.loaded(["cpu"])["cpu"].get("moirai2", 0) < 1:
        assert time.monotonic() < deadline, client.loaded(["cpu"])
        time.sleep(0.2)
    client.unload("moirai2", ["cpu"])
    while "moirai2" in client.loaded(["cpu"])["cpu"]:
        assert time.monotonic() < deadline, client.loaded(["cpu"])
        time.sleep(0.2)
    assert client.forecast("moirai2", np.sin(np.arange(64) / 4.0), output_length=8).shape == (8, 1)
