"""Chronos-2 served by the real node over Thrift gives chronos-forecasting's own numbers.

A tiny random-weight Chronos-2 in the official format is placed in the node home's ``builtin/chronos2/``
before the node starts (as an offline install would). Its forecasts, asked for through Thrift ``forecast``
(quantiles as the ``quantiles`` option, covariates as ``historyCovs`` / ``futureCovs`` JSON) and through
``AINodeClient.forecast``, equal ``Chronos2Pipeline.predict_quantiles`` loaded from the same files.

Wire layout of quantiles (see plugins/chronos2/README.md): one value column per (level, target), level-major:
column ``k * C + c`` is target ``c`` at the k-th requested level; no option = the median, one column per target.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from chronos.chronos2 import Chronos2Pipeline

from ainode_core.client import AINodeRequestError
from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, decode_tsblock, encode_tsblock
from ainode_core.testing.node import RunningNode, make_home
from ainode_plugin_chronos2.testing import QUANTILES_21, save_tiny_chronos2

H = 24
TOLERANCE = dict(rtol=1e-6, atol=1e-6)  # float32 model, DOUBLE on the wire


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return save_tiny_chronos2(tmp_path_factory.mktemp("chronos2-weights") / "chronos2")


@pytest.fixture(scope="module")
def node(tmp_path_factory, checkpoint):
    home = make_home(tmp_path_factory.mktemp("chronos2-thrift"))
    shutil.copytree(checkpoint, home / "data/ainode/models/builtin/chronos2")
    running = RunningNode(home)
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="module")
def reference(checkpoint) -> Chronos2Pipeline:
    return Chronos2Pipeline.from_pretrained(checkpoint)


@pytest.fixture
def thrift(node):
    with connect("127.0.0.1", node.port) as thrift_client:
        yield thrift_client


def series(seed: int, *shape: int) -> np.ndarray:
    """A level and a trend plus noise: a forecast that ignored its input would show."""
    rng = np.random.default_rng(seed)
    return 10.0 + 0.05 * np.arange(shape[-1]) + rng.normal(size=shape)


def expected_quantiles(reference: Chronos2Pipeline, item: dict[str, Any], horizon: int,
                       levels: list[float]) -> np.ndarray:
    """chronos' own quantiles for one input, as [K * C, H], level-major (the wire's column order)."""
    quantiles, _ = reference.predict_quantiles([item], prediction_length=horizon, quantile_levels=levels)
    return quantiles[0].permute(2, 0, 1).reshape(-1, horizon).numpy()  # [C, H, K] -> [K, C, H] -> [K*C, H]


def table_block(targets: np.ndarray) -> bytes:
    """What a DataNode sends for FORECAST: real timestamps, one DOUBLE column per target."""
    matrix = np.atleast_2d(targets)
    times = 1_700_000_000_000 + np.arange(matrix.shape[1], dtype=np.int64) * 1000
    return encode_tsblock(TsBlock(times, [Column(TSDataType.DOUBLE, row, np.isnan(row)) for row in matrix]))


def covariates_json(covariates: dict[str, np.ndarray]) -> str:
    """The node's covariate encoding: {"name": [values]}, null for a missing value."""
    return json.dumps({name: [None if np.isnan(v) else float(v) for v in values]
                       for name, values in covariates.items()})


def forecast(thrift, targets: np.ndarray, horizon: int, options: dict[str, str] | None = None,
             history: str | None = None, future: str | None = None) -> t.TForecastResp:
    return thrift.forecast(t.TForecastReq(modelId="chronos2", inputData=table_block(targets), outputLength=horizon,
                                          historyCovs=history, futureCovs=future, options=options or {}))


def values_of(response: t.TForecastResp) -> np.ndarray:
    assert response.status.code == 200, response.status.message
    (result,) = response.forecastResult
    return decode_tsblock(result).to_matrix()


def test_placed_weights_make_chronos2_active(client):
    models = client.models().set_index("ModelId")
    assert models.loc["chronos2", "ModelType"] == "t5"
    assert models.loc["chronos2", "State"] == "active"


@pytest.mark.parametrize(("option", "levels"), [
    (None, [0.5]),  # the median by default
    ("0.1,0.5,0.9", [0.1, 0.5, 0.9]),
    ("0.9,0.33", [0.9, 0.33]),  # the caller's order; 0.33 is interpolated like chronos does
    ("all", QUANTILES_21),
])
def test_quantiles_over_thrift_forecast_equal_chronos(thrift, reference, option, levels):
    target = series(1, 100)
    got = values_of(forecast(thrift, target, H, None if option is None else {"quantiles": option}))
    assert got.shape == (len(levels), H)
    np.testing.assert_allclose(got, expected_quantiles(reference, {"target": target}, H, levels), **TOLERANCE)


def test_multivariate_group_over_thrift_is_level_major(thrift, reference):
    targets = series(2, 3, 80)
    got = values_of(forecast(thrift, targets, H, {"quantiles": "0.1,0.9"}))
    assert got.shape == (2 * 3, H)
    np.testing.assert_allclose(got, expected_quantiles(reference, {"target": targets}, H, [0.1, 0.9]), **TOLERANCE)
    # jointly forecast: the first target's median depends on its group mates
    alone = values_of(forecast(thrift, targets[0], H))
    grouped = values_of(forecast(thrift, targets, H))
    assert grouped.shape == (3, H) and not np.allclose(grouped[0], alone[0], atol=1e-3)


def test_client_quantiles_equal_chronos(client, reference):
    frame = pd.DataFrame({"load": series(3, 96)}, index=pd.date_range("2024-01-01", periods=96, freq="h"))
    got = client.forecast("chronos2", frame, output_length=H, quantiles=[0.1, 0.5, 0.9])
    assert list(got.columns) == ["load_q0.1", "load_q0.5", "load_q0.9"]
    assert got.index[0] == frame.index[-1] + pd.Timedelta(hours=1)
    expected = expected_quantiles(reference, {"target": frame["load"].to_numpy()}, H, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(got.to_numpy().T, expected, **TOLERANCE)


def test_client_names_each_group_members_quantile_columns(client, reference):
    frame = pd.DataFrame({"a": series(10, 80), "b": 100 + series(11, 80)})
    got = client.forecast("chronos2", frame, output_length=H, quantiles=[0.1, 0.9])
    assert sorted(got.columns) == ["a_q0.1", "a_q0.9", "b_q0.1", "b_q0.9"]
    quantiles, _ = reference.predict_quantiles([{"target": frame.to_numpy().T}], prediction_length=H,
                                               quantile_levels=[0.1, 0.9])  # [C, H, K]
    for c, name in enumerate(frame.columns):
        for k, level in enumerate([0.1, 0.9]):
            np.testing.assert_allclose(got[f"{name}_q{level:g}"].to_numpy(), quantiles[0][c, :, k].numpy(),
                                       **TOLERANCE)


def covariate_case(seed: int, length: int, horizon: int) -> tuple[np.ndarray, dict, dict]:
    rng = np.random.default_rng(seed)
    target = series(seed, length)
    past = {"temperature": rng.normal(size=length), "load": rng.normal(size=length)}
    past["load"][10] = np.nan  # a missing value travels as JSON null and is masked, not read as a number
    future = {"temperature": rng.normal(size=horizon)}
    return target, past, future


def test_covariates_as_history_and_future_json_equal_chronos(thrift, reference):
    target, past, future = covariate_case(4, 90, H)
    got = values_of(forecast(thrift, target, H, {"quantiles": "all"}, covariates_json(past), covariates_json(future)))
    item = {"target": target, "past_covariates": past, "future_covariates": future}
    np.testing.assert_allclose(got, expected_quantiles(reference, item, H, QUANTILES_21), **TOLERANCE)
    without = values_of(forecast(thrift, target, H, {"quantiles": "all"}))
    assert not np.allclose(got, without, atol=1e-3)  # the covariates reached the model
    past_only = values_of(forecast(thrift, target, H, None, covariates_json(past)))
    expected_past_only = expected_quantiles(reference, {"target": target, "past_covariates": past}, H, [0.5])
    np.testing.assert_allclose(past_only, expected_past_only, **TOLERANCE)


def test_client_covariates_and_quantiles_equal_chronos(client, reference):
    target, past, future = covariate_case(5, 70, H)
    got = client.forecast("chronos2", target, output_length=H, quantiles=[0.25, 0.75],
                          past_covariates=past, future_covariates=future)
    item = {"target": target, "past_covariates": past, "future_covariates": future}
    np.testing.assert_allclose(got.to_numpy().T, expected_quantiles(reference, item, H, [0.25, 0.75]), **TOLERANCE)


@pytest.mark.filterwarnings("ignore:We recommend keeping prediction length")  # chronos' expected advice
def test_horizon_beyond_one_pass_over_thrift(thrift, reference):
    horizon = 1024 + 76  # one forward pass covers 64 patches x 16 steps; the rest is chronos' unrolling
    target, past, _ = covariate_case(6, 64, horizon)
    future = {"temperature": np.random.default_rng(6).normal(size=horizon)}
    got = values_of(forecast(thrift, target, horizon, {"quantiles": "0.1,0.5,0.9"}, covariates_json(past),
                             covariates_json(future)))
    item = {"target": target, "past_covariates": past, "future_covariates": future}
    assert got.shape == (3, horizon) and np.isfinite(got).all()
    np.testing.assert_allclose(got, expected_quantiles(reference, item, horizon, [0.1, 0.5, 0.9]),
                               rtol=1e-5, atol=1e-5)


L = 40


@pytest.mark.parametrize(("history", "future", "named"), [
    ({"temperature": np.ones(L)}, {"wind": np.ones(H)}, "'wind'"),  # future without past
    ({"temperature": np.ones(L), "humidity": np.ones(L - 3)}, {}, "'humidity'"),  # past length != target's
    ({"temperature": np.ones(L)}, {"temperature": np.ones(H + 1)}, "'temperature'"),  # future length != H
])
def test_covariate_rule_violation_is_1599_naming_the_covariate(thrift, history, future, named):
    response = forecast(thrift, series(7, L), H, None, covariates_json(history), covariates_json(future))
    assert response.status.code == 1599
    assert named in response.status.message


def test_covariate_that_is_not_numbers_is_1599_naming_it(thrift):
    response = forecast(thrift, series(7, L), H, None, json.dumps({"price": ["cheap"] * L}))
    assert response.status.code == 1599 and "'price'" in response.status.message


def test_client_covariate_violation_is_1599_naming_it(client):
    with pytest.raises(AINodeRequestError) as caught:
        client.forecast("chronos2", series(8, L), output_length=H, past_covariates={"price": np.ones(L)},
                        future_covariates={"price": np.ones(H - 4)})
    assert caught.value.code == 1599 and "'price'" in str(caught.value)


def test_bad_quantile_option_is_1599_naming_it(thrift):
    response = forecast(thrift, series(9, L), H, {"quantiles": "0.5,1.5"})
    assert response.status.code == 1599 and "quantiles" in response.status.message
