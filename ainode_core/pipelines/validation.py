"""Input validation shared by every pipeline: shapes, lengths, covariate rules, NaN-only series, and the
names of a request's options.

Errors are :class:`InvalidInferenceConfigError` (1512) whose message names the offending input.

Option names: a name the model does not accept is either an option other models offer (``quantiles`` on a
point-forecast model: the message says this model does not do that and which models do), a near miss of one
it accepts ("did you mean 'trend'?", :mod:`ainode_core.suggest`), or unknown; every message lists what the
model accepts.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.suggest import did_you_mean

# Keys the node (not the model) uses: the request's output length, deadlines, routing, covariate payloads.
# They may arrive inside the options map of a request, so a model skips them instead of rejecting them.
NODE_OPTIONS: frozenset[str] = frozenset({
    "output_length", "predict_length", "input_length", "output_start_time", "output_interval",
    "timeout_ms", "timeout", "deadline_ms",
    "model_id", "device", "device_id", "device_ids", "devices",
    "auto_adapt", "history_covs", "future_covs", "past_covariates", "future_covariates",
    "batch_size", "priority", "request_id", "generate_time", "keep_input",
})

# Options some models offer and others do not, by the ModelTypeSpec capability that offers them, with what
# a model lacking it does instead.
CAPABILITY_OPTIONS: dict[str, tuple[str, str]] = {
    "quantiles": ("quantiles", "gives point forecasts only, no quantiles"),
    "num_samples": ("sampling", "does not sample its forecasts"),
    "num_sampling_steps": ("sampling", "does not sample its forecasts"),
}

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def normalise_option(name: str) -> str:
    """``outputLength`` / ``Output-Length`` / ``output_length`` are one key."""
    return _CAMEL.sub(r"_\1", str(name).strip()).lower().replace("-", "_")


def models_offering(capability: str) -> list[str]:
    """The built-in models whose model type has ``capability`` (from the node's plugins), sorted."""
    from ainode_core.plugins import get_plugin_manager

    registry = get_plugin_manager().registry("builtin_models")
    return sorted(model_id for model_id, registered in registry.items()
                  if capability in registered.record[1].capabilities)


def check_option_names(model_id: str, options: Iterable[str], accepted: Iterable[str], *,
                       listing: str | None = None,
                       offered_by: Callable[[str], list[str]] = models_offering) -> None:
    """Raise :class:`InvalidInferenceConfigError` for the first of ``options`` that is neither a node option
    nor one of ``accepted`` (names compared normalised). ``listing`` describes the accepted options in the
    message (default: their names)."""
    known = {normalise_option(name) for name in accepted}
    for key in options:
        name = normalise_option(key)
        if name not in NODE_OPTIONS and name not in known:
            raise InvalidInferenceConfigError(
                unsupported_option_message(model_id, key, accepted, listing=listing, offered_by=offered_by))


def unsupported_option_message(model_id: str, key: str, accepted: Iterable[str], *, listing: str | None = None,
                               offered_by: Callable[[str], list[str]] = models_offering) -> str:
    """What to tell a caller who sent option ``key`` to a model that does not accept it."""
    accepted = sorted(accepted)
    accepts = f"Options {model_id} accepts: {listing or ', '.join(accepted) or 'none'}."
    name = normalise_option(key)
    if name in CAPABILITY_OPTIONS:
        capability, instead = CAPABILITY_OPTIONS[name]
        others = [other for other in offered_by(capability) if other != model_id]
        where = f"; the option '{name}' is offered by {', '.join(others)}" if others else ""
        return f"{model_id} {instead}{where}. {accepts}"
    candidates = {option: option for option in NODE_OPTIONS}
    candidates.update({normalise_option(option): option for option in accepted})
    return f"Unknown option '{key}' for model {model_id}.{did_you_mean(name, candidates)} {accepts}"


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
