"""The ``quantiles`` request option, shared by every model that offers the ``quantiles`` capability, so that one
option reads the same way for each of them (no torch here).

``quantiles`` picks which quantile levels come back:

* absent or empty: the median only, one row per target (``[C, H]``);
* ``"0.1,0.5,0.9"`` (a string, as options arrive over Thrift) or ``[0.1, 0.5, 0.9]``: those levels, in
  that order;
* ``"all"``: every level the model was trained on.

The rows of an output are level-major: row ``k * C + c`` is target ``c`` at the k-th requested level. A level
between two of the model's levels is the model's business (interpolated linearly by Chronos-2 and Moirai-2);
levels outside the model's range are rejected instead of being silently clamped.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from ainode_core.errors import InvalidInferenceConfigError

QUANTILES_OPTION = "quantiles"
ALL_LEVELS = "all"
MEDIAN = 0.5

_EXAMPLE = 'e.g. quantiles="0.1,0.5,0.9" or quantiles="all"'


def parse_quantile_levels(value: Any, model_levels: Sequence[float]) -> tuple[float, ...] | None:
    """The requested levels in the caller's order, or ``None`` when the option is absent (median only).

    Raises :class:`InvalidInferenceConfigError` (1512) naming the option and what to send instead.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().lower() == ALL_LEVELS:
        return tuple(float(level) for level in model_levels)
    levels = _as_floats(value)
    if not levels:
        raise InvalidInferenceConfigError(f"Option {QUANTILES_OPTION} lists no levels; {_EXAMPLE}")
    low, high = min(model_levels), max(model_levels)
    seen: set[float] = set()
    for level in levels:
        if not math.isfinite(level) or not low - 1e-9 <= level <= high + 1e-9:
            raise InvalidInferenceConfigError(
                f"Option {QUANTILES_OPTION}: level {level:g} is outside the range this model predicts "
                f"[{low:g}, {high:g}]; pick levels between {low:g} and {high:g}"
            )
        if level in seen:
            raise InvalidInferenceConfigError(
                f"Option {QUANTILES_OPTION}: level {level:g} is listed twice; list each level once"
            )
        seen.add(level)
    return tuple(levels)


def _as_floats(value: Any) -> list[float]:
    if isinstance(value, str):
        # Tolerate "[0.1, 0.9]" as well as "0.1,0.9": both are natural to type in SQL options.
        items = [item.strip() for item in value.strip().strip("[]()").split(",")]
        if any(not item for item in items) and len(items) > 1:
            raise InvalidInferenceConfigError(
                f"Option {QUANTILES_OPTION}={value!r} has an empty entry; {_EXAMPLE}"
            )
        items = [item for item in items if item]
    elif isinstance(value, (int, float)):
        items = [value]
    else:
        try:
            items = list(value)
        except TypeError:
            raise InvalidInferenceConfigError(
                f"Option {QUANTILES_OPTION} must be a list of levels, got {type(value).__name__}; {_EXAMPLE}"
            ) from None
    levels = []
    for item in items:
        try:
            levels.append(float(item))
        except (TypeError, ValueError):
            raise InvalidInferenceConfigError(
                f"Option {QUANTILES_OPTION}: {item!r} is not a number; {_EXAMPLE}"
            ) from None
    return levels
