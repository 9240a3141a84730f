"""Turning wire requests into pipeline inputs: output length, options, covariates.

Covariates (``TForecastReq.historyCovs`` / ``futureCovs``) are JSON objects mapping a covariate name to its
values: ``historyCovs='{"temp": [..L values..]}'``, ``futureCovs='{"temp": [..H values..]}'`` (null for a
missing value). IoTDB's own DataNode sends SQL text there (a query whose columns are the covariates); that
text is recognised and needs a data source to run it, see :func:`parse_covariates`.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError

DEFAULT_OUTPUT_LENGTH = 96


def parse_output_length(value: Any, max_length: int, *, name: str = "output_length") -> int:
    try:
        length = int(value)
    except (TypeError, ValueError):
        raise InvalidInferenceConfigError(f"Attribute {name} must be an integer, got {value!r} instead.") from None
    if not 1 <= length <= max_length:
        raise InvalidInferenceConfigError(
            f"Attribute {name} expect value between 1 and {max_length}, got {length} instead.")
    return length


def parse_covariates(text: str | None, what: str) -> dict[str, np.ndarray]:
    if not text or not text.strip():
        return {}
    stripped = text.strip()
    if stripped[:6].lower() in {"select", "with ("} or stripped[:4].lower() == "with":
        raise InvalidInferenceConfigError(
            f"{what} is a SQL query ({stripped[:40]!r}...); this node takes covariates as JSON "
            '{"name": [values]} — send the values themselves, or use ainode\'s client, which does.')
    try:
        data = json.loads(stripped)
    except ValueError as exc:
        raise InvalidInferenceConfigError(
            f"{what} must be a JSON object {{\"name\": [values, ...]}}: {exc}") from None
    if not isinstance(data, Mapping):
        raise InvalidInferenceConfigError(f"{what} must be a JSON object {{\"name\": [values, ...]}}")
    result = {}
    for name, values in data.items():
        if not isinstance(values, list):
            raise InvalidInferenceConfigError(f"{what}: covariate '{name}' must be a list of numbers")
        try:
            result[str(name)] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInferenceConfigError(f"{what}: covariate '{name}' must hold only numbers or null") from None
    return result
