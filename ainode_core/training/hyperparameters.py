"""The hyperparameters of ``CREATE MODEL ... WITH HYPERPARAMETERS (...)``, checked before any work starts.

SQL hands them over as strings. The common ones are parsed here so that a typo is a 1512 at once rather than
a failed model minutes later; model-specific ones (``context_length``, ``prediction_length``, ...) pass
through to the model type's fine-tuning function, which checks its own.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from ainode_core.errors import InvalidInferenceConfigError

# name → (parser, what to tell the user when it does not parse)
COMMON: dict[str, tuple[Callable[[str], Any], str]] = {
    "train_epochs": (int, "a positive integer, e.g. train_epochs=3"),
    "iter_per_epoch": (int, "a positive integer, e.g. iter_per_epoch=100"),
    "batch_size": (int, "a positive integer, e.g. batch_size=16"),
    "learning_rate": (float, "a positive number, e.g. learning_rate=1e-5"),
}


def parse_hyperparameters(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Typed common hyperparameters plus the others unchanged (as the model type expects strings too)."""
    parsed: dict[str, Any] = {}
    for name, value in dict(raw or {}).items():
        key = str(name).strip().lower()
        if key not in COMMON:
            parsed[key] = value
            continue
        parse, expected = COMMON[key]
        try:
            number = parse(str(value).strip())
        except ValueError:
            number = None
        if number is None or not math.isfinite(number) or number <= 0:
            raise InvalidInferenceConfigError(f"Hyperparameter {key} expects {expected}, got {value!r} instead.")
        parsed[key] = number
    return parsed
