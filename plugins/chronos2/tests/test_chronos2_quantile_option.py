"""Option ``quantiles``: which levels come back, in which row order, and the 1512 messages."""
from __future__ import annotations

import numpy as np
import pytest

from ainode_core.errors import InvalidInferenceConfigError, StatusCode

H = 12


@pytest.fixture(scope="module")
def targets() -> np.ndarray:
    rng = np.random.default_rng(3)
    return 5.0 + rng.normal(size=(2, 64))


def _reference(reference, targets: np.ndarray, levels: list[float]) -> np.ndarray:
    quantiles, _ = reference.predict_quantiles([targets], prediction_length=H, quantile_levels=levels)
    return quantiles[0].numpy()  # [C, H, K]


def test_rows_are_level_major_in_the_requested_order(ours, reference, targets) -> None:
    got = ours.run([{"targets": targets}], output_length=H, quantiles="0.9, 0.1,0.5")[0]
    expected = _reference(reference, targets, [0.9, 0.1, 0.5])
    assert got.shape == (3 * 2, H)
    for k in range(3):
        for c in range(2):
            np.testing.assert_allclose(got[k * 2 + c], expected[c, :, k], rtol=1e-6, atol=1e-6)


def test_default_is_the_median(ours, targets) -> None:
    default = ours.run([{"targets": targets}], output_length=H)[0]
    median = ours.run([{"targets": targets}], output_length=H, quantiles="0.5")[0]
    empty = ours.run([{"targets": targets}], output_length=H, quantiles="")[0]
    assert default.shape == (2, H)
    np.testing.assert_array_equal(default, median)
    np.testing.assert_array_equal(default, empty)


def test_all_gives_every_model_level(ours, reference, targets) -> None:
    got = ours.run([{"targets": targets}], output_length=H, quantiles="all")[0]
    levels = list(reference.quantiles)
    assert got.shape == (len(levels) * 2, H)
    np.testing.assert_allclose(got[-2:], _reference(reference, targets, [levels[-1]])[..., 0], rtol=1e-6)


def test_levels_between_model_levels_are_interpolated(ours, reference, targets) -> None:
    levels = [0.12, 0.5, 0.975]
    got = ours.run([{"targets": targets}], output_length=H, quantiles=levels)[0]
    expected = _reference(reference, targets, levels)
    for k in range(len(levels)):
        np.testing.assert_allclose(got[2 * k:2 * k + 2], expected[..., k], rtol=1e-6, atol=1e-6)
    # interpolated 0.12 lies between the model's 0.1 and 0.15
    bounds = ours.run([{"targets": targets}], output_length=H, quantiles="0.1,0.15")[0]
    low, high = np.minimum(bounds[:2], bounds[2:]), np.maximum(bounds[:2], bounds[2:])
    assert np.all((got[:2] >= low - 1e-6) & (got[:2] <= high + 1e-6))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.995", r"level 0\.995 is outside the range this model predicts \[0\.01, 0\.99\]"),
        ("0", r"level 0 is outside the range"),
        ("0.1,abc", r"'abc' is not a number"),
        ("0.1,0.1", r"level 0\.1 is listed twice"),
        ("0.1,,0.9", r"has an empty entry"),
        (",", r"has an empty entry"),
        ("[0.1; 0.9]", r"'0\.1; 0\.9' is not a number"),
    ],
)
def test_bad_levels_get_a_1512_message(ours, targets, value, message) -> None:
    with pytest.raises(InvalidInferenceConfigError, match=message) as caught:
        ours.run([{"targets": targets}], output_length=H, quantiles=value)
    assert caught.value.code == StatusCode.INVALID_INFERENCE_CONFIG
    assert "quantiles" in caught.value.message
