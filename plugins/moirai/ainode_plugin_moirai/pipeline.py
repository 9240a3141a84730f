"""The Moirai-2 forecast pipeline: the core's contract on our Moirai-2 network.

Per input: ``targets`` ``[C, L]``; the C columns are forecast together (Moirai-2 attends across variates), the
whole input is the context. Output per input: ``[C, H]`` medians (the 0.5 quantile, what IoTDB's node
returns), or ``[K * C, H]`` with option ``quantiles`` (:mod:`ainode_core.pipelines.quantiles`). All inputs of
one ``run`` share the model calls. Covariates are refused with a 1512 message (IoTDB's node silently drops
them): a forecast that quietly ignored what the caller sent would look like one that used it.

torch and transformers are imported when a model is loaded, not when the plugin is registered.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import ForecastPipeline, ModelInfo, SeriesInput
from ainode_core.pipelines.quantiles import MEDIAN, QUANTILES_OPTION, parse_quantile_levels


class Moirai2ForecastPipeline(ForecastPipeline):
    """One Moirai-2 instance on one device (``cpu``, ``cuda:0``, ...)."""

    accepted_options = frozenset({QUANTILES_OPTION})
    warm_up_shape = (512, 96)  # a typical context and a horizon past one pass: the rollout path warms up too

    def __init__(self, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> None:
        super().__init__(model_info, device=device, **model_kwargs)
        from ainode_plugin_moirai.loading import load_moirai2

        self.model = load_moirai2(model_info.model_id, model_info.path, device)

    @property
    def quantile_levels(self) -> tuple[float, ...]:
        """The levels the model predicts (0.1 … 0.9 for moirai-2.0-R-small)."""
        return tuple(self.model.config.quantile_levels)

    @property
    def single_pass_length(self) -> int:
        """Longest horizon of one forward pass (64); longer ones are rolled out."""
        return self.model.config.one_pass_length

    def check(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        prepared = super().check(inputs, **infer_kwargs)
        _horizon(infer_kwargs.get("output_length"))
        parse_quantile_levels(infer_kwargs.get(QUANTILES_OPTION), self.quantile_levels)  # a bad one fails alone
        for index, item in enumerate(prepared):
            if item["past_covariates"] or item["future_covariates"]:
                names = sorted({*item["past_covariates"], *item["future_covariates"]})
                raise InvalidInferenceConfigError(
                    f"input {index}: {self.model_info.model_id} forecasts from its targets only and cannot use "
                    f"covariates ({', '.join(names)}); send them as targets (columns) or drop them, or use "
                    "chronos2 for covariate-informed forecasts")
            if np.isinf(item["targets"]).any():
                variate, row = (int(i) for i in np.argwhere(np.isinf(item["targets"]))[0])
                raise InvalidInferenceConfigError(
                    f"input {index}: target {variate} has an infinite value at row {row}; send finite numbers "
                    "(use null/NaN for a missing value)")
        return prepared

    def forecast(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        from ainode_plugin_moirai.forecasting import forecast_quantiles
        from ainode_plugin_moirai.quantiles import select_levels

        horizon = _horizon(infer_kwargs.get("output_length"))
        levels = parse_quantile_levels(infer_kwargs.get(QUANTILES_OPTION), self.quantile_levels) or (MEDIAN,)
        predictions = forecast_quantiles(self.model, [item["targets"] for item in inputs], horizon)
        return [select_levels(one.numpy(), self.quantile_levels, levels) for one in predictions]


def _horizon(value: Any) -> int:
    try:
        horizon = int(value)
    except (TypeError, ValueError):
        raise InvalidInferenceConfigError(f"output_length must be a positive integer, got {value!r}") from None
    if horizon < 1:
        raise InvalidInferenceConfigError(f"output_length must be a positive integer, got {horizon}")
    return horizon
