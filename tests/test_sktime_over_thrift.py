"""The sktime built-ins served by the real node over Thrift give sktime's own numbers.

arima, exponential_smoothing and stl_forecaster (forecasts) and gaussian_hmm, gmm_hmm and stray (detection),
called through ``AINodeClient`` and through raw Thrift ``inference``, equal the sktime estimator called
directly with IoTDB's defaults (the contract's list, spelled here with sktime's own parameters) plus the
request's options. naive_forecaster and holtwinters are covered in test_builtin_models_over_thrift.py.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
from sktime.detection.hmm_learn import GMMHMM, GaussianHMM
from sktime.detection.stray import STRAY
from sktime.forecasting.arima import ARIMA
from sktime.forecasting.exp_smoothing import ExponentialSmoothing
from sktime.forecasting.trend import STLForecaster

from ainode_core.client import AINodeRequestError
from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, decode_tsblock, encode_tsblock
from ainode_core.testing.node import RunningNode, make_home

# The contract's defaults as sktime parameters. pmdarima has one exact-ML optimiser: IoTDB's "CSS-ML" is its
# default "lbfgs". The HMM configs add random_state=0 so a served fit is reproducible.
ARIMA_DEFAULTS = dict(order=(1, 0, 0), seasonal_order=(0, 0, 0, 0), with_intercept=True, method="lbfgs")
STL_DEFAULTS = dict(sp=2, seasonal=7, seasonal_deg=1, trend_deg=1, low_pass_deg=1, seasonal_jump=1, trend_jump=1,
                    low_pass_jump=1)
ES_DEFAULTS = dict(damped_trend=False, initialization_method="estimated")
HMM_DEFAULTS = dict(covariance_type="diag", n_iter=10, tol=0.01, algorithm="viterbi", random_state=0)
STRAY_DEFAULTS = dict(alpha=0.01, k=10, knn_algorithm="brute", p=0.5, size_threshold=50, outlier_tail="max")

# model id → (request options, the estimator sktime must be for them)
FORECASTERS: dict[str, tuple[dict[str, str], Callable[[], Any]]] = {
    "arima": ({}, lambda: ARIMA(**ARIMA_DEFAULTS)),
    "exponential_smoothing": ({}, lambda: ExponentialSmoothing(**ES_DEFAULTS)),
    "stl_forecaster": ({}, lambda: STLForecaster(**STL_DEFAULTS)),
}
OVERRIDES: dict[str, tuple[dict[str, str], Callable[[], Any]]] = {
    "arima": ({"order": "(2,1,1)"}, lambda: ARIMA(**{**ARIMA_DEFAULTS, "order": (2, 1, 1)})),
    "exponential_smoothing": ({"trend": "add", "seasonal": "add", "sp": "12"},
                              lambda: ExponentialSmoothing(trend="add", seasonal="add", sp=12, **ES_DEFAULTS)),
    "stl_forecaster": ({"sp": "12"}, lambda: STLForecaster(**{**STL_DEFAULTS, "sp": 12})),
}
TOLERANCE = dict(rtol=1e-7, atol=1e-9)  # DOUBLE on the wire; only optimiser round-off may differ


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    running = RunningNode(make_home(tmp_path_factory.mktemp("sktime-thrift")))
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="module")
def airline() -> pd.Series:
    from sktime.datasets import load_airline

    return load_airline()


@pytest.fixture(scope="module")
def multivariate() -> pd.DataFrame:
    """120 hourly rows, three columns: seasonal with trend, noisy level, random walk."""
    rng = np.random.default_rng(7)
    steps = np.arange(120)
    return pd.DataFrame({
        "seasonal": 100 + 0.5 * steps + 10 * np.sin(2 * np.pi * steps / 12) + rng.normal(0, 1, steps.size),
        "level": 50 + rng.normal(0, 3, steps.size),
        "walk": 200 + np.cumsum(rng.normal(0, 1, steps.size)),
    }, index=pd.date_range("2024-01-01", periods=steps.size, freq="h"))


def direct_forecast(make: Callable[[], Any], values: Any, horizon: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series = pd.Series(np.asarray(values, dtype=np.float64))
        return make().fit(series).predict(fh=np.arange(1, horizon + 1)).to_numpy(dtype=np.float64)


def direct_labels(estimator: Any, values: np.ndarray) -> np.ndarray:
    column = values.reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(estimator, STRAY):  # a transformer in sktime 1.2.0
            return np.asarray(estimator.fit_transform(column), dtype=np.float64).reshape(-1)
        return np.asarray(estimator.fit(column).transform(column), dtype=np.float64).reshape(-1)


# --- forecasting --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("horizon", [1, 12, 36])
@pytest.mark.parametrize("model_id", sorted(FORECASTERS))
def test_airline_forecast_equals_sktime(client, airline, model_id, horizon):
    options, make = FORECASTERS[model_id]
    served = client.forecast(model_id, airline, output_length=horizon, **options)
    assert served.shape == (horizon, 1)
    assert served.index[0] == airline.index[-1] + 1  # the first step is AFTER the input
    np.testing.assert_allclose(served.iloc[:, 0].to_numpy(), direct_forecast(make, airline, horizon), **TOLERANCE)


@pytest.mark.parametrize("horizon", [5, 24])
@pytest.mark.parametrize("model_id", sorted(FORECASTERS))
def test_multivariate_is_forecast_column_by_column(client, multivariate, model_id, horizon):
    _, make = FORECASTERS[model_id]
    served = client.forecast(model_id, multivariate, output_length=horizon)
    assert list(served.columns) == list(multivariate.columns) and len(served) == horizon
    for name in multivariate.columns:
        np.testing.assert_allclose(served[name].to_numpy(), direct_forecast(make, multivariate[name], horizon),
                                   **TOLERANCE)


@pytest.mark.parametrize("model_id", sorted(OVERRIDES))
def test_request_options_override_the_defaults(client, airline, multivariate, model_id):
    options, make = OVERRIDES[model_id]
    served = client.forecast(model_id, airline, output_length=12, **options).iloc[:, 0].to_numpy()
    expected = direct_forecast(make, airline, 12)
    np.testing.assert_allclose(served, expected, **TOLERANCE)
    default = client.forecast(model_id, airline, output_length=12).iloc[:, 0].to_numpy()
    assert not np.allclose(default, expected), "the option must change the forecast"
    several = client.forecast(model_id, multivariate, output_length=7, **options)
    np.testing.assert_allclose(several["walk"].to_numpy(), direct_forecast(make, multivariate["walk"], 7), **TOLERANCE)


def tree_block(values: np.ndarray) -> bytes:
    """What a DataNode sends for CALL INFERENCE: real (millisecond) timestamps, one value column."""
    times = 1_700_000_000_000 + np.arange(values.size, dtype=np.int64) * 60_000
    return encode_tsblock(TsBlock(times, [Column(TSDataType.DOUBLE, values.astype(np.float64), None)]))


def test_raw_thrift_inference_takes_output_length_and_options(node, airline):
    """Tree-model CALL INFERENCE(arima, "select ...", outputLength=24, order="(2,1,1)")."""
    values = airline.to_numpy(dtype=np.float64)
    request = t.TInferenceReq(modelId="arima", dataset=tree_block(values),
                              inferenceAttributes={"outputLength": "24", "order": "(2,1,1)"})
    with connect("127.0.0.1", node.port) as thrift:
        response = thrift.inference(request)
    assert response.status.code == 200, response.status.message
    (result,) = response.inferenceResult
    block = decode_tsblock(result)
    assert block.column_count == 1 and block.row_count == 24
    assert not block.timestamps.any()  # the DataNode makes the output timestamps itself
    _, make = OVERRIDES["arima"]
    np.testing.assert_allclose(block.to_matrix()[0], direct_forecast(make, values, 24), **TOLERANCE)


@pytest.mark.parametrize(("model_id", "attributes", "named"), [
    ("arima", {"outputLength": "12", "order": "(1,2)"}, "order"),
    ("stl_forecaster", {"outputLength": "12", "seasonal": "8"}, "seasonal"),
    ("exponential_smoothing", {"outputLength": "12", "damped": "true"}, "damped"),
    ("stray", {"alpha": "1.5"}, "alpha"),
])
def test_bad_option_over_raw_thrift_is_1599_naming_it(node, airline, model_id, attributes, named):
    request = t.TInferenceReq(modelId=model_id, dataset=tree_block(airline.to_numpy(dtype=np.float64)),
                              inferenceAttributes=attributes)
    with connect("127.0.0.1", node.port) as thrift:
        response = thrift.inference(request)
    assert response.status.code == 1599
    assert named in response.status.message


def test_bad_option_through_the_client_is_1599_naming_it(client, airline):
    with pytest.raises(AINodeRequestError) as caught:
        client.forecast("arima", airline, output_length=6, order="(1,-1,0)")
    assert caught.value.code == 1599 and "order" in str(caught.value)
    with pytest.raises(AINodeRequestError) as caught:
        client.detect("gaussian_hmm", airline, covariance_type="weird")
    assert caught.value.code == 1599 and "covariance_type" in str(caught.value)


# --- anomaly detection --------------------------------------------------------------------------------------

def regime_change(seed: int = 0) -> np.ndarray:
    """150 rows around 0, then 150 around 10: one change point, at row 150."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0, 1, 150), rng.normal(10, 1, 150)])


def with_outliers(seed: int = 1) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 1, 300)
    planted = [40, 150, 260]
    values[planted] = [12.0, -11.0, 14.0]
    return values, planted


def test_stray_flags_the_planted_outliers(client):
    values, planted = with_outliers()
    flags = client.detect("stray", values)
    assert flags.shape == (values.size, 1)  # one value per input row
    assert set(np.unique(flags.to_numpy())) <= {0.0, 1.0}
    flagged = set(np.flatnonzero(flags.iloc[:, 0].to_numpy()))
    assert set(planted) <= flagged and len(flagged) <= len(planted) + 3
    np.testing.assert_array_equal(flags.iloc[:, 0].to_numpy(), direct_labels(STRAY(**STRAY_DEFAULTS), values))


def test_stray_options_and_columns(client):
    values, _ = with_outliers()
    frame = pd.DataFrame({"outliers": values, "regimes": regime_change()})
    flags = client.detect("stray", frame, alpha="0.05", k="5")
    assert flags.shape == frame.shape and list(flags.columns) == list(frame.columns)
    for name in frame.columns:
        expected = direct_labels(STRAY(**{**STRAY_DEFAULTS, "alpha": 0.05, "k": 5}), frame[name].to_numpy())
        np.testing.assert_array_equal(flags[name].to_numpy(), expected)


@pytest.mark.parametrize(("model_id", "make"), [
    ("gaussian_hmm", lambda **kw: GaussianHMM(**HMM_DEFAULTS, **kw)),
    ("gmm_hmm", lambda **kw: GMMHMM(n_mix=1, **HMM_DEFAULTS, **kw)),
])
def test_hmm_state_changes_at_the_regime_change(client, model_id, make):
    values = regime_change()
    labels = client.detect(model_id, values, n_components=2).iloc[:, 0].to_numpy()
    assert labels.shape == (300,)
    assert list(np.flatnonzero(np.diff(labels))) == [149]  # one change, between rows 149 and 150
    np.testing.assert_array_equal(labels, direct_labels(make(n_components=2), values))
    # IoTDB's default is one hidden state: every row in state 0
    default = client.detect(model_id, values).iloc[:, 0].to_numpy()
    np.testing.assert_array_equal(default, direct_labels(make(n_components=1), values))
    assert set(default) == {0.0}
