"""The core's validated inputs → Chronos-2 ``PreparedInput`` s, built with chronos' own preprocessing.

``chronos.chronos2.preprocess.from_list_of_dicts`` fixes the row order the model relies on (targets,
past-only covariates, then known-future covariates) and the NaN padding of future rows. It wants one schema
per call, so inputs are grouped by schema (number of targets, covariate names) and put back in request
order afterwards; ``PreparedInput`` s of different schemas can then share one model call.
"""
from __future__ import annotations

from typing import Any, Sequence

from chronos.chronos2.preprocess import PreparedInput, from_list_of_dicts

SchemaKey = tuple[int, tuple[str, ...], tuple[str, ...]]


def _schema(item: dict[str, Any]) -> SchemaKey:
    past, future = item["past_covariates"], item["future_covariates"]
    return item["targets"].shape[0], tuple(sorted(past)), tuple(sorted(future))


def to_prepared_inputs(inputs: Sequence[dict[str, Any]], horizon: int) -> list[PreparedInput]:
    """One ``PreparedInput`` per input, in input order (targets ``[C, L]`` form one jointly forecast group)."""
    groups: dict[SchemaKey, list[int]] = {}
    for index, item in enumerate(inputs):
        groups.setdefault(_schema(item), []).append(index)
    prepared: list[PreparedInput | None] = [None] * len(inputs)
    for indices in groups.values():
        dicts = [
            {
                "target": inputs[i]["targets"],
                "past_covariates": inputs[i]["past_covariates"],
                "future_covariates": inputs[i]["future_covariates"],
            }
            for i in indices
        ]
        # The core already checked lengths and future ⊆ past, and a group shares one schema by construction.
        for i, one in zip(indices, from_list_of_dicts(dicts, prediction_length=horizon, validate_inputs=False)):
            prepared[i] = one
    return [one for one in prepared if one is not None]
