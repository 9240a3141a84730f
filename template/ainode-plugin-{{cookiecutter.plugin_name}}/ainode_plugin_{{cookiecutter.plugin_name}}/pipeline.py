"""The `{{ cookiecutter.model_type }}` pipeline: one model instance on one device.

The core validates inputs before :meth:`Pipeline.forecast` sees them: each input's ``targets`` is a float64
array ``[C, L]`` (NaN = null), ``infer_kwargs`` holds ``output_length`` and the request's options (values may
arrive as strings). Return one ``[C, output_length]`` array per input, in order.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import ForecastPipeline, ModelInfo, SeriesInput


def _positive_int(name: str, value: Any) -> int:
    """Options may arrive as strings from SQL; a bad one is the caller's to fix (status 1512)."""
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number < 1:
        raise InvalidInferenceConfigError(f"option {name} must be a positive integer, got {value!r}")
    return number


class Pipeline(ForecastPipeline):
    """Forecasts each variate as its last value plus the average step of its last ``drift_window`` values."""

    def __init__(self, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> None:
        super().__init__(model_info, device=device, **model_kwargs)
        # TODO: load your model here, once per instance, e.g. from model_info.path (the model's folder)
        #       and move it to `device`. Checked defaults come from model_info.config (config.json values).
        self.drift_window = _positive_int("drift_window", self.config.get("drift_window", 16))

    def forecast(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        horizon = _positive_int("output_length", infer_kwargs["output_length"])
        window = _positive_int("drift_window", infer_kwargs.get("drift_window", self.drift_window))
        # TODO: replace this loop with a batched call of your model (stack inputs of equal length).
        return [self._drift(item["targets"], horizon, window) for item in inputs]

    @staticmethod
    def _drift(targets: np.ndarray, horizon: int, window: int) -> np.ndarray:
        outputs = np.empty((targets.shape[0], horizon))
        steps = np.arange(1, horizon + 1)
        for channel, values in enumerate(targets):
            observed = values[~np.isnan(values)][-(window + 1):]  # never edit `targets` in place
            if observed.size == 0:
                outputs[channel] = np.nan  # an all-null variate has nothing to forecast from
                continue
            slope = (observed[-1] - observed[0]) / (observed.size - 1) if observed.size > 1 else 0.0
            outputs[channel] = observed[-1] + slope * steps
        return outputs

    @staticmethod
    def ainode_test_params() -> list[dict[str, Any]]:
        """Small models the test kit builds (ainode_core.testing); add one per configuration worth checking."""
        from ainode_plugin_{{ cookiecutter.plugin_name }} import MODEL_TYPE

        return [
            {"model_info": ModelInfo(model_id=MODEL_TYPE, model_type=MODEL_TYPE, config={"drift_window": 16})},
            {"model_info": ModelInfo(model_id=MODEL_TYPE, model_type=MODEL_TYPE, config={"drift_window": 4}),
             "options": {"drift_window": "8"}},
        ]
