"""What a user of the Sundial pipeline relies on: the point forecast, quantiles, seeds, batching, options."""
from __future__ import annotations

import numpy as np
import pytest

from ainode_core.errors import InvalidInferenceConfigError, StatusCode
from ainode_plugin_timer.sundial import pipeline as sundial_pipeline
from ainode_plugin_timer.sundial.pipeline import SundialPipeline

RTOL, ATOL = 1e-5, 1e-4


def _series(length: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return 30 + 4 * np.sin(t / 5) + rng.normal(0, 1, length)


@pytest.fixture(scope="module")
def pipe(fixture_info):
    return SundialPipeline(fixture_info("sundial_o48", "sundial"))


def test_the_forecast_is_the_mean_of_the_samples(pipe):
    inputs = [{"targets": np.stack([_series(200, 1), _series(200, 2)])}]
    [samples] = pipe.forecast_samples(inputs, output_length=60, num_samples=12, seed=5)
    [forecast] = pipe.run(inputs, output_length=60, num_samples="12", seed="5")
    assert samples.shape == (2, 12, 60) and forecast.shape == (2, 60)
    np.testing.assert_allclose(forecast, samples.mean(axis=1), rtol=RTOL, atol=ATOL)


def test_ten_samples_by_default(pipe):
    [samples] = pipe.forecast_samples([{"targets": _series(64, 3)}], output_length=5)
    assert samples.shape == (1, 10, 5)


def test_quantiles_come_level_major(pipe):
    inputs = [{"targets": np.stack([_series(150, 4), _series(150, 5) + 100])}]
    [samples] = pipe.forecast_samples(inputs, output_length=30, num_samples=50, seed=9)
    [quantiles] = pipe.run(inputs, output_length=30, num_samples=50, seed=9, quantiles="0.1,0.5,0.9")
    assert quantiles.shape == (2 * 3, 30)
    for variate in range(2):
        block = quantiles[variate::2]  # row j * C + c: level j of variate c
        np.testing.assert_allclose(block, np.quantile(samples[variate], [0.1, 0.5, 0.9], axis=0),
                                   rtol=RTOL, atol=ATOL)
        assert np.all(np.diff(block, axis=0) >= 0)
    assert quantiles[1::2].mean() > quantiles[0::2].mean() + 50  # the second variate's rows are its own


def test_a_seed_reproduces_and_does_not_depend_on_the_batch(pipe):
    target = _series(300, 6)
    alone = pipe.run([{"targets": target}], output_length=100, seed=11)[0]
    again = pipe.run([{"targets": target}], output_length=100, seed="11")[0]
    # the longer company left-pads this series (masked patches) within one model call
    in_company = pipe.run([{"targets": _series(777, 7)}, {"targets": target}], output_length=100, seed=11)[1]
    other_seed = pipe.run([{"targets": target}], output_length=100, seed=12)[0]
    np.testing.assert_array_equal(alone, again)
    np.testing.assert_allclose(in_company, alone, rtol=RTOL, atol=ATOL)
    assert not np.allclose(other_seed, alone)


def test_variates_of_one_input_get_their_own_noise(pipe):
    same = _series(200, 8)
    [forecast] = pipe.run([{"targets": np.stack([same, same])}], output_length=20, seed=3)
    assert not np.allclose(forecast[0], forecast[1])


def test_series_shorter_than_a_patch_are_forecast(pipe):
    [forecast] = pipe.run([{"targets": np.array([1.0, 2.0, 3.0, 2.0, 1.0])}], output_length=10, seed=0)
    assert forecast.shape == (1, 10) and np.isfinite(forecast).all()


def test_missing_values_are_filled_before_sampling(pipe):
    series = _series(120, 9)
    gappy = series.copy()
    gappy[40:45] = np.nan
    filled = series.copy()
    filled[40:45] = np.linspace(series[39], series[45], 7)[1:-1]
    np.testing.assert_allclose(pipe.run([{"targets": gappy}], output_length=10, seed=1)[0],
                               pipe.run([{"targets": filled}], output_length=10, seed=1)[0], rtol=RTOL, atol=ATOL)


def test_fewer_sampling_steps_change_the_samples(pipe, fixture_info):
    target = {"targets": _series(100, 10)}
    default = pipe.run([target], output_length=20, seed=2)[0]
    explicit = pipe.run([target], output_length=20, seed=2, num_sampling_steps=10)[0]  # the config's value
    coarse = pipe.run([target], output_length=20, seed=2, num_sampling_steps="2")[0]
    np.testing.assert_array_equal(default, explicit)
    assert not np.allclose(coarse, default)


@pytest.mark.parametrize(
    "options",
    [{"num_samples": 0}, {"num_samples": "many"}, {"num_sampling_steps": -1}, {"seed": "abc"},
     {"seed": 1.5}, {"quantiles": "0.1,1.5"}, {"quantiles": "low,high"}, {"revin": "2"}],
)
def test_bad_options_are_1512_naming_the_option(pipe, options):
    with pytest.raises(InvalidInferenceConfigError) as error:
        pipe.run([{"targets": _series(50, 11)}], output_length=10, **options)
    assert error.value.code == StatusCode.INVALID_INFERENCE_CONFIG
    assert next(iter(options)) in error.value.message


def test_large_requests_run_in_chunks_with_the_same_result(pipe, monkeypatch):
    inputs = [{"targets": np.stack([_series(90, 12), _series(90, 13)])}, {"targets": _series(60, 14)}]
    whole = pipe.run(inputs, output_length=50, num_samples=20, seed=4, quantiles="0.5,0.9")
    monkeypatch.setattr(sundial_pipeline, "SAMPLE_BUDGET", 20 * 50)  # one series per model call
    chunked = pipe.run(inputs, output_length=50, num_samples=20, seed=4, quantiles="0.5,0.9")
    assert [block.shape for block in chunked] == [(4, 50), (2, 50)]
    for got, expected in zip(chunked, whole):
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
