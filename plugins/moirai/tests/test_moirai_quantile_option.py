"""Option ``quantiles`` (the same option, format and row order as Chronos-2): which of Moirai-2's nine levels
come back, in which order, and the 1512 messages, which a request gets before the model runs."""
from __future__ import annotations

import numpy as np
import pytest

from ainode_core.errors import InvalidInferenceConfigError, StatusCode

NAME, H = "L100_H96_C3", 96  # three columns, past one pass


@pytest.fixture(scope="module")
def item(inputs) -> dict:
    return {"targets": inputs[NAME]}


@pytest.fixture(scope="module")
def golden(goldens) -> np.ndarray:
    return goldens[f"patched_{NAME}"]  # [C, 9, H]


def test_rows_are_level_major_in_the_requested_order(ours, item, golden) -> None:
    got = ours.run([item], output_length=H, quantiles="0.9, 0.1,0.5")[0]
    assert got.shape == (3 * 3, H)
    for k, level in enumerate((8, 0, 4)):
        np.testing.assert_allclose(got[3 * k:3 * k + 3], golden[:, level], rtol=1e-5, atol=5e-5)


def test_default_is_the_median(ours, item) -> None:
    default = ours.run([item], output_length=H)[0]
    assert default.shape == (3, H)
    for same in ("0.5", "", [0.5], 0.5):
        np.testing.assert_array_equal(default, ours.run([item], output_length=H, quantiles=same)[0])


def test_all_gives_the_nine_levels(ours, item, golden) -> None:
    got = ours.run([item], output_length=H, quantiles="all")[0]
    assert got.shape == (9 * 3, H)
    np.testing.assert_allclose(got.reshape(9, 3, H).transpose(1, 0, 2), golden, rtol=1e-5, atol=5e-5)


def test_a_level_between_two_is_interpolated_linearly(ours, item) -> None:
    got = ours.run([item], output_length=H, quantiles=[0.25, 0.2, 0.3])[0].reshape(3, 3, H)
    np.testing.assert_allclose(got[0], (got[1] + got[2]) / 2, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("value", ["0.95", "0.01,0.5"])
def test_levels_outside_the_nine_get_a_1512_message_before_the_model_runs(ours, item, value) -> None:
    # The parser is the core's (ainode_core.pipelines.quantiles, tested with Chronos-2); the range is Moirai-2's.
    with pytest.raises(InvalidInferenceConfigError, match=r"outside the range this model predicts \[0\.1, 0\.9\]; "
                                                          r"pick levels between 0\.1 and 0\.9") as caught:
        ours.check([item], output_length=H, quantiles=value)  # the caller's thread, before any batching
    assert caught.value.code == StatusCode.INVALID_INFERENCE_CONFIG


def test_other_options_are_refused_with_what_it_accepts(ours, item) -> None:
    with pytest.raises(InvalidInferenceConfigError,
                       match=r"Did you mean 'quantiles'\? Options moirai2 accepts: quantiles"):
        ours.run([item], output_length=H, quantile="0.1")
