"""What a user of the Timer-XL pipeline relies on beyond parity: batching, missing values, options."""
from __future__ import annotations

import numpy as np
import pytest

from ainode_core.errors import InvalidInferenceConfigError, StatusCode
from ainode_plugin_timer.timer import pipeline as timer_pipeline
from ainode_plugin_timer.timer.pipeline import TimerPipeline

RTOL, ATOL = 1e-5, 1e-4  # same float32 arithmetic in a different batch layout


def _series(length: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return 20 + 5 * np.sin(t / 7) + rng.normal(0, 1, length)


@pytest.fixture(scope="module")
def pipe(fixture_info):
    return TimerPipeline(fixture_info("timer_p96", "timer"))


def _alone(pipe, series, horizon, **options):
    return pipe.run([{"targets": series}], output_length=horizon, **options)[0][0]


def test_inputs_of_different_lengths_batch_like_each_alone(pipe):
    """One call with inputs of 100, 300 and 2000 points (left-padded into one model call) gives each
    input what it gets alone, across several output patches."""
    inputs = [_series(100, 1), _series(300, 2), _series(2000, 3)]
    batched = pipe.run([{"targets": s} for s in inputs], output_length=150)
    for series, forecast in zip(inputs, batched):
        assert forecast.shape == (1, 150)
        np.testing.assert_allclose(forecast[0], _alone(pipe, series, 150), rtol=RTOL, atol=ATOL)


def test_large_calls_run_in_chunks_with_the_same_result(pipe, monkeypatch):
    rows = np.stack([_series(250, seed) for seed in range(5)])
    whole = pipe.run([{"targets": rows}], output_length=40)[0]
    monkeypatch.setattr(timer_pipeline, "MAX_SERIES_PER_CALL", 2)
    chunked = pipe.run([{"targets": rows}], output_length=40)[0]
    np.testing.assert_allclose(chunked, whole, rtol=RTOL, atol=ATOL)


def test_interior_gaps_are_interpolated_and_leading_nulls_dropped(pipe):
    series = _series(400, 4)
    gappy = series.copy()
    gappy[200:210] = np.nan
    filled = series.copy()
    filled[200:210] = np.linspace(series[199], series[210], 12)[1:-1]
    np.testing.assert_allclose(_alone(pipe, gappy, 96), _alone(pipe, filled, 96), rtol=RTOL, atol=ATOL)

    late_start = np.concatenate([np.full(50, np.nan), series])
    np.testing.assert_allclose(_alone(pipe, late_start, 96), _alone(pipe, series, 96), rtol=RTOL, atol=ATOL)

    trailing = np.concatenate([series, [np.nan, np.nan]])
    held = np.concatenate([series, [series[-1], series[-1]]])
    np.testing.assert_allclose(_alone(pipe, trailing, 96), _alone(pipe, held, 96), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "targets, words",
    [
        (np.full(200, np.nan), ["input 0, variate 0", "no values"]),
        (np.r_[np.ones(150), np.inf], ["input 0, variate 0", "infinite"]),
        (np.arange(95.0), ["95", "at least 96"]),
        (np.r_[np.full(120, np.nan), np.arange(80.0)], ["80", "at least 96"]),
    ],
)
def test_unusable_series_are_rejected_with_1512(pipe, targets, words):
    with pytest.raises(InvalidInferenceConfigError) as error:
        pipe.run([{"targets": np.ones(300)}, {"targets": targets}], output_length=10)
    assert error.value.code == StatusCode.INVALID_INFERENCE_CONFIG
    message = error.value.message.replace("input 1", "input 0")
    assert all(word in message for word in words), message


def test_options_arrive_as_strings(pipe):
    series = _series(300, 5)
    np.testing.assert_array_equal(_alone(pipe, series, 20, revin="False"), _alone(pipe, series, 20, revin=False))
    np.testing.assert_array_equal(_alone(pipe, series, 20, revin="true"), _alone(pipe, series, 20))
    with_revin, without = _alone(pipe, series, 20), _alone(pipe, series, 20, revin="off")
    assert not np.allclose(with_revin, without)


@pytest.mark.parametrize("options", [{"revin": "maybe"}, {"output_length": "ten"}, {"output_length": 0}])
def test_bad_options_name_the_option(pipe, options):
    request = {"output_length": 10, **options}
    with pytest.raises(InvalidInferenceConfigError) as error:
        pipe.forecast(pipe.preprocess([{"targets": np.ones(200)}]), **request)
    assert next(iter(options)) in error.value.message


def test_options_timer_does_not_take_are_refused_with_advice(pipe):
    """quantiles is a feature of other models, not a typo; a near miss gets "did you mean"."""
    with pytest.raises(InvalidInferenceConfigError) as lacking:
        pipe.run([{"targets": np.ones(200)}], output_length=10, quantiles="0.1,0.9")
    assert "gives point forecasts only, no quantiles; the option 'quantiles' is offered by" in lacking.value.message
    assert "sundial" in lacking.value.message and "Unknown option" not in lacking.value.message
    with pytest.raises(InvalidInferenceConfigError, match="Unknown option 'revn'.*Did you mean 'revin'"):
        pipe.run([{"targets": np.ones(200)}], output_length=10, revn="false")


def test_model_config_supplies_option_defaults(fixture_info):
    """A model's stored defaults (e.g. a fine-tuned copy saved with revin off) apply unless the request
    says otherwise."""
    series = _series(300, 6)
    default_off = TimerPipeline(fixture_info("timer_p96", "timer", revin=False))
    plain = TimerPipeline(fixture_info("timer_p96", "timer"))
    np.testing.assert_array_equal(_alone(default_off, series, 30), _alone(plain, series, 30, revin=False))
    np.testing.assert_array_equal(_alone(default_off, series, 30, revin=True), _alone(plain, series, 30))


def test_a_constant_series_gets_a_finite_forecast(pipe):
    """RevIN's std is 0 here (the original divides by it and returns NaN)."""
    forecast = _alone(pipe, np.full(300, 7.5), 200)
    assert np.isfinite(forecast).all()
