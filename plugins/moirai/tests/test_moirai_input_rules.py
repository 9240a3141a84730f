"""Moirai-2's input rules, checked through ``pipeline.run``: each violation is a 1512 message that names the
input and says what to send instead; gaps and odd lengths are served."""
from __future__ import annotations

import numpy as np
import pytest

from ainode_core.errors import InvalidInferenceConfigError, StatusCode


def _rejects(ours, inputs, pattern: str, **options) -> str:
    with pytest.raises(InvalidInferenceConfigError, match=pattern) as caught:
        ours.run(inputs, **{"output_length": 8, **options})
    assert caught.value.code == StatusCode.INVALID_INFERENCE_CONFIG
    return caught.value.message


def test_covariates_are_refused_not_ignored(ours) -> None:
    item = {"targets": np.ones(40), "past_covariates": {"temp": np.ones(40)}, "future_covariates": {"temp": np.ones(8)}}
    message = _rejects(ours, [{"targets": np.ones(40)}, item], r"input 1: moirai2 forecasts from its targets only")
    assert "(temp)" in message and "chronos2" in message


def test_an_infinite_value_is_refused(ours) -> None:
    targets = np.ones((2, 40))
    targets[1, 3] = -np.inf
    _rejects(ours, [{"targets": targets}], r"input 0: target 1 has an infinite value at row 3")


@pytest.mark.parametrize("value", [0, -3, "soon"])
def test_a_bad_output_length_is_refused(ours, value) -> None:
    _rejects(ours, [{"targets": np.ones(40)}], "output_length must be a positive integer", output_length=value)


@pytest.mark.parametrize("length", [1, 15, 17])
def test_inputs_shorter_than_or_not_a_multiple_of_a_patch_are_served(ours, length: int) -> None:
    got = ours.run([{"targets": np.arange(length, dtype=float)}], output_length=8)[0]
    assert got.shape == (1, 8) and np.isfinite(got).all()


def test_a_column_without_any_value_still_gets_a_forecast(ours) -> None:
    got = ours.run([{"targets": np.full((2, 40), np.nan)}], output_length=70)[0]
    assert got.shape == (2, 70) and np.isfinite(got).all()
