"""The Chronos-2 forecast pipeline: the core's contract on top of chronos-forecasting's Chronos2Pipeline.

Per input: ``targets`` ``[C, L]`` (the C targets are forecast jointly, as one group), ``past_covariates``
``{name: [L]}``, ``future_covariates`` ``{name: [H]}``. All inputs of one ``run`` go to the model in one
call. Output per input: ``[C, H]`` medians, or ``[K * C, H]`` with option ``quantiles`` (see
:mod:`ainode_plugin_chronos2.options` and the README).

torch and chronos are imported when a model is loaded, not when the plugin is registered, so listing
plugins or models stays fast.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import ForecastPipeline, ModelInfo, SeriesInput
from ainode_plugin_chronos2.options import MEDIAN, QUANTILES_OPTION, parse_quantile_levels
from ainode_plugin_chronos2.validation import reject_infinite_values


class Chronos2ForecastPipeline(ForecastPipeline):
    """One Chronos-2 instance on one device (``cpu``, ``cuda:0``, ...)."""

    accepted_options = frozenset({QUANTILES_OPTION})
    warm_up_shape = (512, 96)

    def __init__(self, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> None:
        super().__init__(model_info, device=device, **model_kwargs)
        from ainode_plugin_chronos2.loading import load_chronos2

        self.chronos = load_chronos2(model_info.model_id, model_info.path, device)

    @property
    def quantile_levels(self) -> tuple[float, ...]:
        """The levels the model predicts (21 for amazon/chronos-2)."""
        return tuple(self.chronos.quantiles)

    @property
    def single_pass_length(self) -> int:
        """Longest horizon of one forward pass; longer ones are unrolled by chronos (slower, less accurate)."""
        return self.chronos.model_prediction_length

    def check(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        prepared = super().check(inputs, **infer_kwargs)
        reject_infinite_values(prepared)
        return prepared

    def forecast(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        from ainode_plugin_chronos2.inputs import to_prepared_inputs
        from ainode_plugin_chronos2.quantiles import select_levels

        horizon = _horizon(infer_kwargs.get("output_length"))
        # Parsed before the model runs: a bad option costs nothing.
        levels = parse_quantile_levels(infer_kwargs.get(QUANTILES_OPTION), self.quantile_levels) or (MEDIAN,)
        prepared = to_prepared_inputs(inputs, horizon)
        # chronos' batch_size counts rows (targets + covariates): all of them in one model call.
        rows = sum(int(one["context"].shape[0]) for one in prepared)
        predictions = self.chronos.predict(prepared, prediction_length=horizon, batch_size=rows)
        return [select_levels(prediction, self.quantile_levels, levels).numpy() for prediction in predictions]


def _horizon(value: Any) -> int:
    try:
        horizon = int(value)
    except (TypeError, ValueError):
        raise InvalidInferenceConfigError(
            f"output_length must be a positive integer, got {value!r}"
        ) from None
    if horizon < 1:
        raise InvalidInferenceConfigError(f"output_length must be a positive integer, got {horizon}")
    return horizon
