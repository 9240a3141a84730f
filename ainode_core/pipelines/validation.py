"""Input validation shared by every pipeline: shapes, lengths, covariate rules, NaN-only series.

Errors are :class:`InvalidInferenceConfigError` (1512) whose message names the offending input.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError


def as_targets(value: Any, where: str) -> np.ndarray:
    """Targets as float64 ``[C, L]``: a 1-D series becomes one variate."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInferenceConfigError(f"{where}: targets must be numeric, got {type(value).__name__}") from exc
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2:
        raise InvalidInferenceConfigError(
            f"{where}: targets must have shape [L] or [C, L], got {list(array.shape)}"
        )
    if array.shape[1] == 0:
        raise InvalidInferenceConfigError(f"{where}: the input series is empty; send at least one row")
    return array


def _as_vector(value: Any, where: str) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInferenceConfigError(f"{where} must hold numbers (or NaN for missing values)") from None
    if array.ndim != 1:
        raise InvalidInferenceConfigError(f"{where} must be 1-D, got shape {list(array.shape)}")
    return array


def validate_target_inputs(inputs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise InvalidInferenceConfigError("inputs must be a non-empty list of {'targets': ...} dicts")
    prepared: list[dict[str, Any]] = []
    for index, item in enumerate(inputs):
        if not isinstance(item, Mapping) or "targets" not in item:
            raise InvalidInferenceConfigError(f"input {index}: expected a dict with a 'targets' entry")
        prepared.append({**item, "targets": as_targets(item["targets"], f"input {index}")})
    return prepared


def validate_forecast_inputs(
    inputs: Sequence[Mapping[str, Any]], output_length: int | None
) -> list[dict[str, Any]]:
    """Checks the contract's rules: future covariate names ⊆ past names, past lengths = target length,
    future lengths = output length."""
    prepared = validate_target_inputs(inputs)
    for index, item in enumerate(prepared):
        length = item["targets"].shape[1]
        past = {
            name: _as_vector(values, f"input {index}: past covariate '{name}'")
            for name, values in (item.get("past_covariates") or {}).items()
        }
        future = {
            name: _as_vector(values, f"input {index}: future covariate '{name}'")
            for name, values in (item.get("future_covariates") or {}).items()
        }
        for name, values in past.items():
            if len(values) != length:
                raise InvalidInferenceConfigError(
                    f"input {index}: past covariate '{name}' has {len(values)} values but the targets have "
                    f"{length}; past covariates must cover the same rows as the targets"
                )
        for name, values in future.items():
            if name not in past:
                raise InvalidInferenceConfigError(
                    f"input {index}: future covariate '{name}' has no past values; every future covariate "
                    "must also be given as a past covariate"
                )
            if output_length is not None and len(values) != output_length:
                raise InvalidInferenceConfigError(
                    f"input {index}: future covariate '{name}' has {len(values)} values but output_length "
                    f"is {output_length}; future covariates must cover exactly the forecast horizon"
                )
        item["past_covariates"] = past
        item["future_covariates"] = future
    return prepared
