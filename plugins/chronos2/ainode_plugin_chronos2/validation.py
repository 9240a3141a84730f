"""Chronos-2's own input rule on top of the core's validation: values must be finite or NaN.

NaN means "missing" and reaches the model as NaN (Chronos-2 masks it). An infinite value would turn the
series' scale into NaN and the whole forecast with it, so it is refused up front with a 1512 message.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError


def reject_infinite_values(inputs: Sequence[dict[str, Any]]) -> None:
    """Raise 1512 naming the first input / series holding +-inf (inputs are the core's validated dicts)."""
    for index, item in enumerate(inputs):
        targets = item["targets"]
        if np.isinf(targets).any():
            variate, row = (int(i) for i in np.argwhere(np.isinf(targets))[0])
            raise InvalidInferenceConfigError(
                f"input {index}: target {variate} has an infinite value at row {row}; send finite numbers "
                "(use null/NaN for a missing value)"
            )
        for kind in ("past_covariates", "future_covariates"):
            for name, values in (item.get(kind) or {}).items():
                if np.isinf(values).any():
                    row = int(np.argwhere(np.isinf(values))[0][0])
                    raise InvalidInferenceConfigError(
                        f"input {index}: {kind[:-1].replace('_', ' ')} '{name}' has an infinite value at row "
                        f"{row}; send finite numbers (use null/NaN for a missing value)"
                    )
