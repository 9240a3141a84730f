"""Timer-XL against the original code (sktime 1.2.0's copy of thuml/timer-base-84m, transformers 4.40.1).

The golden outputs were recorded by ``fixtures/make_golden.py`` from the original classes on checkpoints
they saved; here the same folders go through OUR pipeline. Tolerance: both sides run the same float32
arithmetic in a different order (fused SDPA causal path vs an explicit mask, masked vs plain sums), which
moves results by ~1e-6 relative; atol 1e-4 on values of magnitude ~50 is two orders above that and far
below any real defect (a wrong norm placement, position or patch shifts outputs by O(1)).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ainode_plugin_timer.timer.modeling import TimerForPrediction
from ainode_plugin_timer.timer.pipeline import TimerPipeline

CASES = json.loads((Path(__file__).parent / "fixtures" / "golden.json").read_text())["cases"]
TOLERANCE = dict(rtol=1e-5, atol=1e-4)


def _cases(*kinds: str) -> list:
    return [pytest.param(case, id=f"{case['model']}-{case['kind']}-L{case['lookback']}-H{case['horizon']}"
                                     f"-revin{int(case['revin'])}")
            for case in CASES if case["model"].startswith("timer") and case["kind"] in kinds]


@pytest.fixture(scope="module")
def pipelines(fixture_info):
    return {name: TimerPipeline(fixture_info(name, "timer")) for name in ("timer_p96", "timer_p24")}


@pytest.mark.parametrize("case", _cases("original"))
def test_forecast_matches_original_generate(case, pipelines, golden):
    """Lookbacks of one patch, non-multiples of the patch (oldest points dropped), above 2880 (newest
    2880 kept); horizons inside one output patch and across several (KV-cache autoregression), both heads
    of a two-head config; RevIN off for every horizon, on within one output patch."""
    series = golden[case["series"]]
    [forecast] = pipelines[case["model"]].run(
        [{"targets": series}], output_length=case["horizon"], revin=str(case["revin"]).lower())
    assert forecast.shape == (1, case["horizon"])
    np.testing.assert_allclose(forecast[0], golden[case["key"]], **TOLERANCE)


@pytest.mark.parametrize("case", _cases("upstream_revin"))
def test_multi_patch_revin_equals_the_original_by_default(case, pipelines, golden):
    """Beyond one output patch the default RevIN is the original's (each fed-back patch re-normalised by
    its own statistics): what IoTDB's AINode answers for the same weights."""
    series = golden[case["series"]]
    [forecast] = pipelines[case["model"]].run([{"targets": series}], output_length=case["horizon"])
    np.testing.assert_allclose(forecast[0], golden[case["key"]], **TOLERANCE)


@pytest.mark.parametrize("case", _cases("context_revin"))
def test_context_statistics_on_request(case, pipelines, golden):
    """``revin_statistics=context`` keeps the context's mean/std for the whole forecast: the golden is the
    original network run without RevIN on the normalised context, then de-normalised."""
    series = golden[case["series"]]
    [forecast] = pipelines[case["model"]].run([{"targets": series}], output_length=case["horizon"],
                                              revin_statistics="context")
    np.testing.assert_allclose(forecast[0], golden[case["key"]], **TOLERANCE)


@pytest.mark.parametrize("case", _cases("original_batch"))
def test_a_multicolumn_input_is_a_batch_of_series(case, pipelines, golden):
    rows = golden[case["series"]]
    [forecast] = pipelines[case["model"]].run([{"targets": rows}], output_length=case["horizon"], revin=False)
    assert forecast.shape == (3, case["horizon"])
    np.testing.assert_allclose(forecast, golden[case["key"]], **TOLERANCE)


def test_classes_are_transformers_models_reading_the_official_format(fixture_info, golden):
    """``from_pretrained`` of transformers 4.56 reads the folder the original saved, every weight used."""
    folder = fixture_info("timer_p96", "timer").path
    model, info = TimerForPrediction.from_pretrained(folder, output_loading_info=True)
    assert not any(info.values()), info
    assert model.config.input_token_len == 96 and model.config.output_token_lens == [96]
    case = next(c for c in CASES if c["model"] == "timer_p96" and c["kind"] == "original" and not c["revin"])
    series = torch.from_numpy(golden[case["series"]][None])
    forecast = model.eval().generate(series, case["horizon"], revin=False)
    np.testing.assert_allclose(forecast[0].numpy(), golden[case["key"]], **TOLERANCE)
