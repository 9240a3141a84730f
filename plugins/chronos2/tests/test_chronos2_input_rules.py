"""Chronos-2's input rules, checked through ``pipeline.run``: each violation gets a 1512 message that names
the input and the covariate and says what to send instead."""
from __future__ import annotations

import numpy as np
import pytest

from ainode_core.errors import InvalidInferenceConfigError, StatusCode

H = 8
L = 40


def _input(**overrides):
    rng = np.random.default_rng(11)
    item = {
        "targets": rng.normal(size=(2, L)),
        "past_covariates": {"temperature": rng.normal(size=L), "humidity": rng.normal(size=L)},
        "future_covariates": {"temperature": rng.normal(size=H)},
    }
    item.update(overrides)
    return item


def _rejects(ours, inputs, pattern: str) -> str:
    with pytest.raises(InvalidInferenceConfigError, match=pattern) as caught:
        ours.run(inputs, output_length=H)
    assert caught.value.code == StatusCode.INVALID_INFERENCE_CONFIG
    return caught.value.message


def test_valid_input_is_accepted(ours) -> None:
    assert ours.run([_input()], output_length=H)[0].shape == (2, H)


def test_future_covariate_without_past_values(ours) -> None:
    bad = _input(future_covariates={"wind": np.zeros(H)})
    message = _rejects(ours, [_input(), bad], r"input 1: future covariate 'wind' has no past values")
    assert "must also be given as a past covariate" in message


def test_past_covariate_of_wrong_length(ours) -> None:
    bad = _input(past_covariates={"temperature": np.zeros(L), "humidity": np.zeros(L - 3)})
    message = _rejects(ours, [bad], r"input 0: past covariate 'humidity' has 37 values but the targets have 40")
    assert "same rows as the targets" in message


def test_future_covariate_of_wrong_length(ours) -> None:
    bad = _input(future_covariates={"temperature": np.zeros(H + 1)})
    _rejects(ours, [bad], r"input 0: future covariate 'temperature' has 9 values but output_length is 8")


def test_covariate_that_is_not_one_dimensional(ours) -> None:
    bad = _input(past_covariates={"temperature": np.zeros((2, L))})
    _rejects(ours, [bad], r"input 0: past covariate 'temperature' must be 1-D")


@pytest.mark.parametrize(
    ("where", "pattern"),
    [
        ("targets", r"input 0: target 1 has an infinite value at row 3"),
        ("past", r"input 0: past covariate 'humidity' has an infinite value at row 3"),
        ("future", r"input 0: future covariate 'temperature' has an infinite value at row 3"),
    ],
)
def test_infinite_values_are_refused(ours, where: str, pattern: str) -> None:
    item = _input()
    if where == "targets":
        item["targets"][1, 3] = np.inf
    elif where == "past":
        item["past_covariates"]["humidity"][3] = -np.inf
    else:
        item["future_covariates"]["temperature"][3] = np.inf
    message = _rejects(ours, [item], pattern)
    assert "use null/NaN for a missing value" in message


def test_all_missing_target_still_forecasts(ours) -> None:
    # A series with no observed value is not an error for Chronos-2: it is fully masked.
    item = _input(targets=np.full((1, L), np.nan), past_covariates={}, future_covariates={})
    result = ours.run([item], output_length=H)[0]
    assert result.shape == (1, H) and np.isfinite(result).all()


def test_bad_output_length(ours) -> None:
    with pytest.raises(InvalidInferenceConfigError, match="output_length must be a positive integer, got 0"):
        ours.run([{"targets": np.ones(L)}], output_length=0)
