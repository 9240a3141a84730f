"""Our pipeline gives exactly what chronos-forecasting's Chronos2Pipeline gives on the same inputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from chronos.chronos2 import Chronos2Pipeline

RNG_SEED = 7
H = 24


def _series(rng: np.random.Generator, *shape: int) -> np.ndarray:
    # A level and a trend so that a forecast which ignored its input would show.
    length = shape[-1]
    return 10.0 + 0.05 * np.arange(length) + rng.normal(size=shape)


def _reference_quantiles(reference: Chronos2Pipeline, inputs: list, horizon: int,
                         levels: list[float] | None = None) -> list[np.ndarray]:
    """Reference quantiles as [K * C, H] (our documented level-major layout); all 21 levels by default."""
    levels = list(reference.quantiles) if levels is None else levels
    quantiles, _ = reference.predict_quantiles(inputs, prediction_length=horizon, quantile_levels=levels)
    return [q.permute(2, 0, 1).reshape(-1, horizon).numpy() for q in quantiles]  # [C, H, K] -> [K*C, H]


def test_univariate_batch_matches_reference(ours, reference) -> None:
    rng = np.random.default_rng(RNG_SEED)
    series = [_series(rng, length) for length in (40, 100, 64)]
    inputs = [{"targets": s} for s in series]

    medians = ours.run(inputs, output_length=H)
    everything = ours.run(inputs, output_length=H, quantiles="all")

    expected_all = _reference_quantiles(reference, series, H)
    _, expected_median = reference.predict_quantiles(series, prediction_length=H)
    for got_median, got_all, want_all, want_median in zip(medians, everything, expected_all, expected_median):
        assert got_median.shape == (1, H)
        assert got_all.shape == (21, H)
        np.testing.assert_allclose(got_all, want_all, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got_median, want_median.numpy(), rtol=1e-6, atol=1e-6)
    # the three forecasts are not one and the same (a mix-up of inputs would show)
    assert not np.allclose(medians[0], medians[1])


def test_multivariate_targets_are_forecast_jointly(ours, reference) -> None:
    rng = np.random.default_rng(RNG_SEED)
    targets = _series(rng, 3, 80)

    got = ours.run([{"targets": targets}], output_length=H, quantiles="all")[0]
    np.testing.assert_allclose(got, _reference_quantiles(reference, [targets], H)[0], rtol=1e-6, atol=1e-6)

    # Joint: target 0's forecast depends on its group mates (not three univariate forecasts).
    alone = ours.run([{"targets": targets[0]}], output_length=H)[0]
    joint_median = ours.run([{"targets": targets}], output_length=H)[0]
    assert joint_median.shape == (3, H)
    assert not np.allclose(joint_median[0], alone[0], atol=1e-3)


def test_past_and_future_covariates_match_reference(ours, reference) -> None:
    rng = np.random.default_rng(RNG_SEED)
    length = 90
    target = _series(rng, length)
    past = {"temperature": rng.normal(size=length), "load": rng.normal(size=length)}
    future = {"temperature": rng.normal(size=H)}

    got = ours.run([{"targets": target, "past_covariates": past, "future_covariates": future}],
                   output_length=H, quantiles="all")[0]
    expected = _reference_quantiles(
        reference, [{"target": target, "past_covariates": past, "future_covariates": future}], H
    )[0]
    assert got.shape == (21, H)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)

    without = ours.run([{"targets": target}], output_length=H, quantiles="all")[0]
    assert not np.allclose(got, without, atol=1e-3)  # the covariates reached the model


@pytest.mark.filterwarnings("ignore:We recommend keeping prediction length")  # chronos' expected advice
def test_horizon_beyond_one_pass_matches_reference(ours, reference) -> None:
    rng = np.random.default_rng(RNG_SEED)
    horizon = ours.single_pass_length + 76  # 1024 + 76: one chronos unrolling step
    assert ours.single_pass_length == 1024
    targets = _series(rng, 2, 64)
    future = {"holiday": rng.normal(size=horizon)}
    past = {"holiday": rng.normal(size=64)}

    got = ours.run([{"targets": targets, "past_covariates": past, "future_covariates": future}],
                   output_length=horizon, quantiles="0.1,0.5,0.9")[0]
    expected = _reference_quantiles(
        reference, [{"target": targets, "past_covariates": past, "future_covariates": future}], horizon,
        [0.1, 0.5, 0.9],
    )[0]
    assert got.shape == (3 * 2, horizon)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_nan_in_context_is_missing_data(ours, reference) -> None:
    rng = np.random.default_rng(RNG_SEED)
    target = _series(rng, 2, 70)
    target[0, 5:20] = np.nan
    target[1, -3:] = np.nan
    past = {"price": rng.normal(size=70)}
    past["price"][10:12] = np.nan
    future = {"price": rng.normal(size=H)}
    future["price"][4] = np.nan  # an unknown future value is masked too

    got = ours.run([{"targets": target, "past_covariates": past, "future_covariates": future}],
                   output_length=H, quantiles="all")[0]
    assert np.isfinite(got).all()
    expected = _reference_quantiles(
        reference, [{"target": target, "past_covariates": past, "future_covariates": future}], H
    )[0]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    # NaN is masked, not read as a number: filling the gap with zeros changes the forecast
    filled = np.nan_to_num(target)
    zero_filled = ours.run([{"targets": filled, "past_covariates": past, "future_covariates": future}],
                           output_length=H, quantiles="all")[0]
    assert not np.allclose(got, zero_filled, atol=1e-3)


def test_mixed_inputs_share_one_model_call(ours, reference) -> None:
    rng = np.random.default_rng(RNG_SEED)
    inputs = [
        {"targets": _series(rng, 50)},
        {"targets": _series(rng, 2, 80)},
        {"targets": _series(rng, 60), "past_covariates": {"x": rng.normal(size=60)},
         "future_covariates": {"x": rng.normal(size=H)}},
        {"targets": _series(rng, 30), "past_covariates": {"y": rng.normal(size=30)}},
    ]
    calls = []
    handle = ours.chronos.model.register_forward_hook(lambda module, args, output: calls.append(1))
    try:
        got = ours.run(inputs, output_length=H, quantiles="all")
    finally:
        handle.remove()
    assert len(calls) == 1

    for item, result in zip(inputs, got):
        one = {"target": item["targets"], **{k: v for k, v in item.items() if k != "targets"}}
        expected = _reference_quantiles(reference, [one], H)[0]
        # alone vs batched only differs by the NaN left-padding of shorter series
        np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


def test_torch_tensor_inputs_are_accepted(ours, reference) -> None:
    rng = np.random.default_rng(RNG_SEED)
    target = torch.tensor(_series(rng, 48), dtype=torch.float32)
    got = ours.run([{"targets": target}], output_length=H)[0]
    _, median = reference.predict_quantiles([target], prediction_length=H)
    np.testing.assert_allclose(got, median[0].numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("horizon", [1, 17])
def test_output_has_exactly_the_requested_length(ours, horizon: int) -> None:
    rng = np.random.default_rng(RNG_SEED)
    got = ours.run([{"targets": _series(rng, 2, 40)}], output_length=horizon)[0]
    assert got.shape == (2, horizon)
    assert got.dtype == np.float64
