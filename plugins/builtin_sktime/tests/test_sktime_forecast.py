"""Forecasts through the pipeline equal sktime's own, with the model's defaults and with request options."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sktime.forecasting.arima import ARIMA
from sktime.forecasting.exp_smoothing import ExponentialSmoothing
from sktime.forecasting.naive import NaiveForecaster
from sktime.forecasting.trend import STLForecaster

from ainode_core.errors import InvalidInferenceConfigError, StatusCode

# The estimator each built-in must be, spelled out with sktime's own parameters (IoTDB's defaults).
DEFAULT_ESTIMATORS = {
    "arima": lambda: ARIMA(order=(1, 0, 0), seasonal_order=(0, 0, 0, 0), with_intercept=True, method="lbfgs"),
    "holtwinters": lambda: ExponentialSmoothing(trend="add", seasonal="add", sp=12, damped_trend=False,
                                                initialization_method="estimated"),
    "exponential_smoothing": lambda: ExponentialSmoothing(damped_trend=False, initialization_method="estimated"),
    "naive_forecaster": lambda: NaiveForecaster(strategy="last", sp=1),
    "stl_forecaster": lambda: STLForecaster(sp=2, seasonal=7, seasonal_deg=1, trend_deg=1, low_pass_deg=1,
                                            seasonal_jump=1, trend_jump=1, low_pass_jump=1),
}


def direct_forecast(make_estimator, values: np.ndarray, horizon: int, first_step: int = 1) -> np.ndarray:
    """What sktime itself predicts for ``values``, steps first_step .. first_step + horizon - 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fh = np.arange(first_step, first_step + horizon)
        return make_estimator().fit(pd.Series(values)).predict(fh=fh).to_numpy(dtype=np.float64)


@pytest.mark.parametrize("model_id", sorted(DEFAULT_ESTIMATORS))
@pytest.mark.parametrize("horizon", [1, 12, 30])
def test_defaults_match_sktime_on_airline(sktime_pipeline, airline, model_id, horizon):
    [output] = sktime_pipeline(model_id).run([{"targets": airline}], output_length=horizon)
    assert output.shape == (1, horizon)
    np.testing.assert_array_equal(output[0], direct_forecast(DEFAULT_ESTIMATORS[model_id], airline, horizon))


@pytest.mark.parametrize("model_id", ["arima", "holtwinters", "naive_forecaster"])
def test_multivariate_is_forecast_variate_by_variate(sktime_pipeline, multivariate, model_id):
    [output] = sktime_pipeline(model_id).run([{"targets": multivariate}], output_length=7)
    assert output.shape == (3, 7)
    for variate, values in enumerate(multivariate):
        np.testing.assert_array_equal(output[variate], direct_forecast(DEFAULT_ESTIMATORS[model_id], values, 7))


def test_several_inputs_in_one_call_keep_their_order(sktime_pipeline, airline, multivariate):
    outputs = sktime_pipeline("exponential_smoothing").run(
        [{"targets": multivariate}, {"targets": airline}, {"targets": multivariate[1]}], output_length=5)
    assert [o.shape for o in outputs] == [(3, 5), (1, 5), (1, 5)]
    expected = lambda values: direct_forecast(DEFAULT_ESTIMATORS["exponential_smoothing"], values, 5)  # noqa: E731
    np.testing.assert_array_equal(outputs[1][0], expected(airline))
    np.testing.assert_array_equal(outputs[2][0], expected(multivariate[1]))
    np.testing.assert_array_equal(outputs[0][2], expected(multivariate[2]))


def test_first_forecast_point_is_the_step_after_the_input(sktime_pipeline):
    ramp = np.arange(1.0, 41.0)  # drift continues the line exactly
    [output] = sktime_pipeline("naive_forecaster").run([{"targets": ramp}], output_length=3, strategy="drift")
    np.testing.assert_allclose(output[0], [41.0, 42.0, 43.0])


@pytest.mark.parametrize(("model_id", "options", "estimator"), [
    ("arima", {"order": "(2,1,1)"},
     lambda: ARIMA(order=(2, 1, 1), seasonal_order=(0, 0, 0, 0), with_intercept=True, method="lbfgs")),
    ("arima", {"seasonal_order": "(1,0,0)", "sp": "12"},
     lambda: ARIMA(order=(1, 0, 0), seasonal_order=(1, 0, 0, 12), with_intercept=True, method="lbfgs")),
    ("arima", {"seasonal_order": (0, 1, 1, 12), "include_mean": "false"},
     lambda: ARIMA(order=(1, 0, 0), seasonal_order=(0, 1, 1, 12), with_intercept=False, method="lbfgs")),
    ("naive_forecaster", {"sp": "12"}, lambda: NaiveForecaster(strategy="last", sp=12)),
    ("naive_forecaster", {"strategy": "mean", "window_length": 24},
     lambda: NaiveForecaster(strategy="mean", sp=1, window_length=24)),
    ("holtwinters", {"sp": 4, "trend": "mul"},
     lambda: ExponentialSmoothing(trend="mul", seasonal="add", sp=4, initialization_method="estimated")),
    ("exponential_smoothing", {"trend": "add", "damped_trend": "true"},
     lambda: ExponentialSmoothing(trend="add", damped_trend=True, initialization_method="estimated")),
    ("stl_forecaster", {"sp": "12", "seasonal": "13"},
     lambda: STLForecaster(sp=12, seasonal=13, seasonal_deg=1, trend_deg=1, low_pass_deg=1, seasonal_jump=1,
                           trend_jump=1, low_pass_jump=1)),
])
def test_request_options_override_the_defaults(sktime_pipeline, airline, model_id, options, estimator):
    [output] = sktime_pipeline(model_id).run([{"targets": airline}], output_length=12, **options)
    expected = direct_forecast(estimator, airline, 12)
    np.testing.assert_array_equal(output[0], expected)
    [default] = sktime_pipeline(model_id).run([{"targets": airline}], output_length=12)
    assert not np.array_equal(default[0], expected), "the option must change the forecast"


def test_node_level_options_are_ignored(sktime_pipeline, airline):
    pipeline = sktime_pipeline("arima")
    [plain] = pipeline.run([{"targets": airline}], output_length=4)
    [with_node_keys] = pipeline.run([{"targets": airline}], output_length=4, timeout_ms="500", model_id="arima",
                                    outputLength="4", auto_adapt="true")
    np.testing.assert_array_equal(plain, with_node_keys)


@pytest.mark.parametrize(("model_id", "options", "named"), [
    ("arima", {"order": "(1,2)"}, "order"),
    ("arima", {"order": "(1,-1,0)"}, "order"),
    ("arima", {"method": "CSS"}, "method"),
    ("arima", {"sp": "0"}, "sp"),
    ("arima", {"seasonal_order": "(1,0,0)"}, "season length"),
    ("arima", {"seasonal_order": "(1,0,0,12)", "sp": "7"}, "season_length"),
    ("naive_forecaster", {"strategy": "median"}, "strategy"),
    ("naive_forecaster", {"sp": "twelve"}, "sp"),
    ("naive_forecaster", {"sp": "2.5"}, "sp"),
    ("holtwinters", {"trend": "quadratic"}, "trend"),
    ("exponential_smoothing", {"damped_trend": "true"}, "damped_trend"),
    ("stl_forecaster", {"seasonal": "8"}, "seasonal"),
    ("stl_forecaster", {"frobnicate": "1"}, "frobnicate"),
])
def test_bad_options_are_1512_naming_the_option(sktime_pipeline, airline, model_id, options, named):
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline(model_id).run([{"targets": airline}], output_length=3, **options)
    assert caught.value.code == StatusCode.INVALID_INFERENCE_CONFIG
    assert named in caught.value.message


def test_unknown_option_lists_what_the_model_accepts(sktime_pipeline, airline):
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline("naive_forecaster").run([{"targets": airline}], output_length=3, windowlength="3")
    assert "windowlength" in caught.value.message
    assert "window_length" in caught.value.message and "strategy" in caught.value.message


@pytest.mark.parametrize(("model_id", "length", "options", "needs"), [
    ("holtwinters", 20, {}, "24 values"),
    ("holtwinters", 20, {"sp": "4"}, None),
    ("stl_forecaster", 20, {"sp": "12"}, "24 values"),
    ("naive_forecaster", 5, {"sp": "12"}, "12 values"),
    ("arima", 1, {}, "values"),
])
def test_too_short_input_is_1512_saying_what_the_model_needs(sktime_pipeline, airline, model_id, length,
                                                             options, needs):
    run = lambda: sktime_pipeline(model_id).run([{"targets": airline[:length]}], output_length=3, **options)  # noqa: E731
    if needs is None:
        assert run()[0].shape == (1, 3)
        return
    with pytest.raises(InvalidInferenceConfigError) as caught:
        run()
    assert "input 0 variate 0" in caught.value.message and needs in caught.value.message


@pytest.mark.parametrize("model_id", sorted(DEFAULT_ESTIMATORS))
def test_nan_only_input_is_1512(sktime_pipeline, model_id):
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline(model_id).run([{"targets": np.full(48, np.nan)}], output_length=3)
    assert "no values" in caught.value.message


def test_nan_only_variate_is_named(sktime_pipeline, multivariate):
    targets = multivariate.copy()
    targets[2] = np.nan
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline("naive_forecaster").run([{"targets": targets}], output_length=3)
    assert "input 0 variate 2" in caught.value.message


def test_interior_nans_are_interpolated(sktime_pipeline, airline):
    values = airline.copy()
    values[[50, 51, 90]] = np.nan
    filled = pd.Series(values).interpolate(method="linear").to_numpy()
    [output] = sktime_pipeline("arima").run([{"targets": values}], output_length=6)
    np.testing.assert_array_equal(output[0], direct_forecast(DEFAULT_ESTIMATORS["arima"], filled, 6))


def test_leading_and_trailing_nans_keep_the_forecast_after_the_input(sktime_pipeline, airline):
    """Null rows at the end still belong to the input: the forecast starts after the last ROW, not value."""
    values = np.concatenate([[np.nan, np.nan], airline, [np.nan, np.nan, np.nan]])
    [output] = sktime_pipeline("arima").run([{"targets": values}], output_length=6)
    expected = direct_forecast(DEFAULT_ESTIMATORS["arima"], airline, 6, first_step=4)
    np.testing.assert_array_equal(output[0], expected)


def test_non_positive_data_with_multiplicative_trend_is_1512(sktime_pipeline, airline):
    values = airline - airline.mean()
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline("holtwinters").run([{"targets": values}], output_length=3, trend="mul")
    assert "strictly positive" in caught.value.message


def test_output_length_is_required(sktime_pipeline, airline):
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline("naive_forecaster").run([{"targets": airline}])
    assert "output_length" in caught.value.message


def test_bad_default_in_config_fails_at_load_naming_the_key(sktime_pipeline):
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline("arima", order=[1, 0])
    assert "order" in caught.value.message and "config.json" in caught.value.message


def test_naive_forecaster_computed_directly_equals_sktime_for_every_strategy():
    """naive_forecaster skips sktime where its answer has a closed form; over random series, options, skipped
    trailing steps and horizons it must give exactly sktime's numbers."""
    from ainode_plugin_sktime.algorithms import naive_closed_form

    rng = np.random.default_rng(7)
    computed = 0
    for _ in range(200):
        values = rng.normal(0, 10, int(rng.integers(30, 150))).cumsum() + 50
        strategy = str(rng.choice(["last", "mean", "drift"]))
        sp = int(rng.choice([1, 1, 3, 12]))
        window = None if rng.random() < 0.5 else int(rng.integers(2, 25))
        if strategy == "last" and window is not None and window < sp:
            window = None  # sktime refuses a window shorter than a season
        if strategy == "drift":
            sp = 1
        skipped, horizon = int(rng.integers(0, 3)), int(rng.integers(1, 40))
        direct = naive_closed_form({"strategy": strategy, "sp": sp, "window_length": window}, values, skipped,
                                   horizon)
        if direct is None:
            continue
        computed += 1
        expected = direct_forecast(lambda: NaiveForecaster(strategy=strategy, sp=sp, window_length=window),
                                   values, horizon, first_step=skipped + 1)
        np.testing.assert_allclose(direct, expected, rtol=1e-12, atol=1e-9)
    assert computed > 150



@pytest.mark.parametrize("options, sktime_kwargs", [
    ({"order": "(2,1,1)", "include_mean": "false"},
     dict(order=(2, 1, 1), seasonal_order=(0, 0, 0, 0), with_intercept=False)),
    ({"order": "(1,0,1)", "seasonal_order": "(1,0,0)", "season_length": "12", "method": "nm", "maxiter": "30"},
     dict(order=(1, 0, 1), seasonal_order=(1, 0, 0, 12), with_intercept=True, method="nm", maxiter=30)),
])
def test_arima_options_give_sktimes_numbers(sktime_pipeline, options, sktime_kwargs):
    """arima fits the pmdarima model that sktime's ARIMA wraps without sktime around it; with request options
    and skipped trailing rows the numbers must still be sktime's."""
    rng = np.random.default_rng(3)
    values = 20 + 5 * np.sin(np.arange(300) / 3) + rng.normal(0, 1, 300).cumsum() * 0.3
    [output] = sktime_pipeline("arima").run([{"targets": np.concatenate([values, [np.nan, np.nan]])}],
                                            output_length=10, **options)
    expected = direct_forecast(lambda: ARIMA(suppress_warnings=True, **sktime_kwargs), values, 10, first_step=3)
    np.testing.assert_allclose(output[0], expected, rtol=1e-12, atol=1e-9)
