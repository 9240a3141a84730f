"""Our MOMENT equals momentfm 0.1.4 on the same (tiny, random, official-format) weights.

The goldens cover full windows of 512 rows, left-padded short inputs (100 rows: not a multiple of 8), one and
several columns, missing rows (single, blocks, at the end, different per column) and inputs longer than 512
(windows counted back from the last row). See fixtures/make_golden.py for how momentfm was called.
"""
from __future__ import annotations

import numpy as np
import pytest

from ainode_plugin_moment.pipeline import MomentPipeline

# float32 network, float64 arithmetic around it: bit for bit on the machine that made the goldens, within a few
# float32 roundings on CPUs with other kernels (AVX-512 vs AVX2)
TOLERANCE = dict(rtol=1e-5, atol=1e-5)
CASES = ["uni512", "multi512", "short100", "short_multi200", "nan512", "nan_multi300", "long1100",
         "long_multi700_nan"]
OUTPUTS = {"reconstruction": "reconstruction", "score": "scores", "imputed": "imputed"}


def test_the_goldens_cover_every_case(golden) -> None:
    assert sorted(golden) == sorted(CASES)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize("case", CASES)
def test_each_case_equals_momentfm(ours: MomentPipeline, golden, case: str, output: str) -> None:
    item = golden[case]
    (got,) = ours.run([{"targets": item["x"]}], output=output)
    expected = item[OUTPUTS[output]]
    assert got.shape == item["x"].shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))  # NaN exactly where momentfm has NaN
    if output == "score":  # the squared residual: compare residuals, whose error is the reconstruction's
        residual_tolerance = TOLERANCE["atol"] + TOLERANCE["rtol"] * np.abs(item["x"])
        np.testing.assert_array_less(np.abs(np.sqrt(got) - np.sqrt(expected))[~np.isnan(got)],
                                     residual_tolerance[~np.isnan(got)])
    else:
        np.testing.assert_allclose(got, expected, equal_nan=True, **TOLERANCE)


def test_all_cases_in_one_call_equal_momentfm(ours: MomentPipeline, golden) -> None:
    """Different lengths, column counts and gaps share one model call (batching) without changing answers."""
    got = ours.run([{"targets": golden[case]["x"]} for case in CASES], output="reconstruction")
    for case, one in zip(CASES, got):
        np.testing.assert_allclose(one, golden[case]["reconstruction"], err_msg=case, **TOLERANCE)


def test_imputation_keeps_every_observed_value(ours: MomentPipeline, golden) -> None:
    for case in CASES:
        x = golden[case]["x"]
        (got,) = ours.run([{"targets": x}], output="imputed")
        observed = ~np.isnan(x)
        np.testing.assert_array_equal(got[observed], x[observed])
        assert np.isfinite(got).all(), case


def test_a_long_input_is_answered_in_windows_of_512_counted_from_its_end(ours: MomentPipeline, golden) -> None:
    """The last 512 rows are one window exactly as momentfm would see the last 512 rows alone."""
    x = golden["long1100"]["x"]
    (last,) = ours.run([{"targets": x[:, -512:]}], output="reconstruction")
    np.testing.assert_allclose(golden["long1100"]["reconstruction"][:, -512:], last, **TOLERANCE)
    (first,) = ours.run([{"targets": x[:, :512]}], output="reconstruction")
    np.testing.assert_allclose(golden["long1100"]["reconstruction"][:, :1100 - 2 * 512], first[:, :76], **TOLERANCE)
