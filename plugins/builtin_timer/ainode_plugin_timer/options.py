"""Request options arrive as strings from SQL (``revin='false'``) or as Python values from the client.

Each parser accepts both, and a bad value is an :class:`InvalidInferenceConfigError` (1512) naming the
option, what was sent and what is allowed.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from ainode_core.errors import InvalidInferenceConfigError

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _bad(name: str, value: Any, expected: str) -> InvalidInferenceConfigError:
    return InvalidInferenceConfigError(f"Option {name} expects {expected}, got {value!r} instead.")


def get_bool(options: Mapping[str, Any], name: str, default: bool) -> bool:
    value = options.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _bad(name, value, "true or false")


def get_int(options: Mapping[str, Any], name: str, default: int | None, low: int, high: int) -> int | None:
    value = options.get(name)
    if value is None:
        return default
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, float):
            if not number.is_integer():
                raise ValueError
            number = int(number)
        number = int(number)
    except (TypeError, ValueError):
        raise _bad(name, value, f"an integer between {low} and {high}") from None
    if not low <= number <= high:
        raise _bad(name, value, f"an integer between {low} and {high}")
    return number


def get_quantiles(options: Mapping[str, Any], name: str) -> tuple[float, ...] | None:
    """``"0.1,0.5,0.9"`` or a list of floats → levels strictly between 0 and 1, in the order given."""
    value = options.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    items = value.split(",") if isinstance(value, str) else value
    try:
        levels = tuple(float(item) for item in items)
    except (TypeError, ValueError):
        raise _bad(name, value, "comma-separated probabilities such as '0.1,0.5,0.9'") from None
    if not levels or any(not (0.0 < level < 1.0) or math.isnan(level) for level in levels):
        raise _bad(name, value, "probabilities strictly between 0 and 1, such as '0.1,0.5,0.9'")
    return levels


def get_output_length(options: Mapping[str, Any]) -> int:
    length = get_int(options, "output_length", None, 1, 1_000_000)
    if length is None:
        raise InvalidInferenceConfigError("Option output_length is required: the number of points to forecast.")
    return length
