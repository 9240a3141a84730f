"""Our Toto against the reference (toto-ts 0.2.0, the code IoTDB 2.0.10's AINode copies) on the same weights.

The golden outputs were recorded by ``fixtures/make_golden.py`` from toto-ts' ``TotoForecaster`` (mean,
KV cache), fed exactly as IoTDB's ``TotoPipeline`` feeds it; here the same folders go through OUR pipeline.
Tolerance: both sides run float32 in a different order (SDPA kernels, our incremental scaler sums, only the
newest token un-embedded), which moves a forecast by ~1e-6 of its magnitude, and an autoregressive rollout
of a random network amplifies that a little per patch (measured: at most 2.6e-6 of the series' scale at 200
steps). atol = 3e-5 × the forecast's scale is ten times that and far below any real defect (a wrong head
order, patch shift, scaler or xPos detail moves forecasts by O(scale)).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ainode_plugin_toto.decoding import first_patch
from ainode_plugin_toto.inputs import padded

FIXTURES = Path(__file__).parent / "fixtures"
CASES = json.loads((FIXTURES / "golden.json").read_text())["cases"]


def assert_close(got: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=3e-5 * float(np.abs(expected).max()))


@pytest.fixture(scope="module")
def pipelines(pipeline_for):
    return {name: pipeline_for(FIXTURES / name) for name in ("toto_tiny", "toto_tiny_sf")}


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_mean_forecast_matches_reference(case, pipelines, golden):
    """Lookbacks 96 / 100 (left padding to whole patches) / 512 / 2880, horizons inside one patch and across
    several (KV-cache rollout), one and three variates, NaN gaps, both layer orders and scaler settings."""
    series = golden[f"input/{case['input']}"].astype(np.float64)
    [forecast] = pipelines[case["checkpoint"]].run([{"targets": series}], output_length=case["horizon"])
    assert forecast.shape == (series.shape[0], case["horizon"])
    assert_close(forecast, golden[f"mean/{case['id']}"])


FIRST_PATCH = [case for case in CASES if case["first_patch"]]


@pytest.mark.parametrize("case", FIRST_PATCH, ids=[case["id"] for case in FIRST_PATCH])
def test_first_patch_mixture_matches_reference(case, pipelines, golden):
    """The whole predictive distribution of the first patch (weights, degrees of freedom, locations, scales
    and the scaler's affine map), not only its mean: the basis of sampling and quantiles."""
    model = pipelines[case["checkpoint"]].model
    values, observed = padded(golden[f"input/{case['input']}"].astype(np.float64), model.patch_size)
    mixture = first_patch(model, torch.from_numpy(values)[None], torch.from_numpy(observed)[None])
    ours = {"probs": mixture.probs, "df": mixture.df, "loc": mixture.component_loc,
            "scale": mixture.component_scale, "affine_loc": mixture.loc, "affine_scale": mixture.scale,
            "mean": mixture.mean()}
    for name, value in ours.items():
        expected = golden[f"first/{case['id']}/{name}"]
        np.testing.assert_allclose(value[0].numpy(), expected, rtol=2e-5, atol=2e-5 * float(np.abs(expected).max()),
                                   err_msg=name)


def test_inputs_of_one_shape_batched_together_match_reference(ours, golden):
    """Several series of one padded length and variate count share one model call (one [B, V, T] batch)."""
    names = ["L96_C1", "L100_C1"]  # both pad to 128
    calls = []
    handle = ours.model.patch_embed.register_forward_hook(lambda module, args, output: calls.append(1))
    try:
        forecasts = ours.run([{"targets": golden[f"input/{name}"].astype(np.float64)} for name in names],
                             output_length=96)
    finally:
        handle.remove()
    assert len(calls) == 2  # the context, then one fed-back patch: for both inputs at once
    for name, forecast in zip(names, forecasts):
        assert_close(forecast, golden[f"mean/toto_tiny-{name}-H96"])


def test_mixed_shapes_each_get_their_own_forecast(ours, golden):
    names = ["L512_C3", "L100_C1", "L2880_C1", "L96_C3", "L100_C2_nan"]
    forecasts = ours.run([{"targets": golden[f"input/{name}"].astype(np.float64)} for name in names],
                         output_length=96)
    for name, forecast in zip(names, forecasts):
        assert_close(forecast, golden[f"mean/toto_tiny-{name}-H96"])


def test_variates_are_forecast_jointly(ours, golden):
    # space-wise attention: a variate's forecast depends on its companions
    series = golden["input/L512_C3"].astype(np.float64)
    together = ours.run([{"targets": series}], output_length=16)[0]
    alone = ours.run([{"targets": series[:1]}], output_length=16)[0]
    assert not np.allclose(together[0], alone[0], rtol=1e-3)
