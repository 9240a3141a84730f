"""The hyperparameters of ``CREATE MODEL ... WITH HYPERPARAMETERS (...)``, checked before any work starts.

SQL hands them over as strings. The common ones are parsed here so that a bad value is a 1512 at once rather
than a failed model minutes later. A name the model type does not read is refused too, with the closest
known name ("did you mean train_epochs?"): a typo silently ignored would train with the defaults. Model
types declare what they read in ``ModelTypeSpec.finetune_hyperparameters``; for one that does not, only
near-misses of the common names are refused and the rest pass through to its fine-tuning function.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Collection, Mapping

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.suggest import did_you_mean

# name → (parser, what to tell the user when it does not parse)
COMMON: dict[str, tuple[Callable[[str], Any], str]] = {
    "train_epochs": (int, "a positive integer, e.g. train_epochs=3"),
    "iter_per_epoch": (int, "a positive integer, e.g. iter_per_epoch=100"),
    "batch_size": (int, "a positive integer, e.g. batch_size=16"),
    "learning_rate": (float, "a positive number, e.g. learning_rate=1e-5"),
}
CORE = ("device",)  # read by the node itself (where to train), whatever the model type


def _check_name(key: str, accepted: Collection[str] | None, model: str) -> None:
    if key in CORE:
        return
    if accepted is None:  # undeclared: only a near-miss of a common name is surely a typo
        if key not in COMMON and (hint := did_you_mean(key, COMMON)):
            raise InvalidInferenceConfigError(f"Unknown hyperparameter '{key}'.{hint}")
        return
    if key not in accepted:
        known = ", ".join(sorted({*accepted, *CORE}))
        raise InvalidInferenceConfigError(
            f"Unknown hyperparameter '{key}' for {model or 'this model'}.{did_you_mean(key, {*accepted, *CORE})} "
            f"Its hyperparameters are: {known}.")


def parse_hyperparameters(raw: Mapping[str, Any] | None, accepted: Collection[str] | None = None,
                          model: str = "") -> dict[str, Any]:
    """Typed common hyperparameters plus the others unchanged (as the model type expects strings too).

    ``accepted``: the names the model type's fine-tuning reads (``None``: not declared); ``model`` names the
    base model in messages.
    """
    parsed: dict[str, Any] = {}
    for name, value in dict(raw or {}).items():
        key = str(name).strip().lower()
        _check_name(key, accepted, model)
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
