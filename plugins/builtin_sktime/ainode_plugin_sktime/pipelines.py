"""The pipelines serving the eight sktime models.

:class:`SktimePipeline` is what the model type registers: built as ``SktimePipeline(model_info, device=...)``
it returns a :class:`SktimeForecastPipeline` or a :class:`SktimeAnomalyPipeline`, chosen by
``model_info.task``, so one ``ModelTypeSpec`` serves both tasks while each pipeline is an ordinary subclass
of the core's base pipeline for its task.

Which estimator a pipeline runs comes from ``config["sktime_model"]`` (our config.json files carry it), else
from the model id. Each variate of each input is one series: forecasts are per variate (``[C, L]`` →
``[C, H]``), labels are per variate and row (``[C, L]`` → ``[C, L]``). Covariates are not used by these models
and are ignored.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError, ModelNotReadyError
from ainode_core.pipelines.base import AnomalyDetectionPipeline, ForecastPipeline, ModelInfo, Pipeline, SeriesInput
from ainode_plugin_sktime import parallel
from ainode_plugin_sktime.algorithms import ALGORITHMS, Algorithm, Params, detect_series, forecast_series
from ainode_plugin_sktime.series import prepare_detection_series, prepare_forecast_series, scatter_labels


def _horizon(value: Any) -> int:
    """The request's output length (an int, or its string from a wire map)."""
    try:
        horizon = int(value) if not isinstance(value, (bool, float)) else -1
    except (TypeError, ValueError):
        horizon = -1
    if horizon < 1:
        raise InvalidInferenceConfigError(f"output_length must be a positive integer, got {value!r}")
    return horizon


def algorithm_for(model_info: ModelInfo) -> Algorithm:
    name = str(model_info.config.get("sktime_model") or model_info.model_id)
    algorithm = ALGORITHMS.get(name)
    if algorithm is None:
        raise ModelNotReadyError(
            f"Model {model_info.model_id} has model_type sktime but names no sktime model; set \"sktime_model\" "
            f"in its config.json to one of {', '.join(ALGORITHMS)}")
    if algorithm.task != model_info.task:
        raise ModelNotReadyError(
            f"Model {model_info.model_id} is registered for {model_info.task}, but sktime model {name} does "
            f"{algorithm.task}")
    return algorithm


class _SktimeMixin:
    """What both pipelines share: the model's checked defaults and the per-request options."""

    algorithm: Algorithm
    defaults: Params

    def _setup(self, model_info: ModelInfo) -> None:
        self.algorithm = algorithm_for(model_info)
        # Checked once at load: a bad default fails LOAD MODEL / the first request, with the key named.
        self.defaults = self.algorithm.options.validate(model_info.config, source="config.json", strict=False)
        self.algorithm.resolve(self.defaults, {})

    def warm_up(self) -> bool:
        """While the instance is built, not on the first callers' time. A process's first fit of a model imports
        what it needs (about 3 s for arima, and another second in a worker after ``sktime`` itself is
        imported), which would stall the first request served in-process or the first large batch. So: one
        small fit here while the worker pool starts (one pool for every sktime model, see
        ``parallel.warm_up_if_useful``), then one in each worker."""
        min_length, _ = self.algorithm.min_length(self._params({}))
        steps = np.arange(max(2 * min_length, 64), dtype=np.float64)
        item = {"targets": (10 + np.sin(2 * np.pi * steps / 12))[None, :]}  # positive, seasonal: fits every model
        horizon = {"output_length": 2} if self.algorithm.task == "forecast" else {}
        with ThreadPoolExecutor(1, thread_name_prefix="ainode-sktime-pool-warm-up") as pool:
            pool_ready = pool.submit(parallel.warm_up_if_useful)
            self.run([item], **horizon)
            pool_ready.result()
        if parallel.pool_usable():
            with parallel.spread_over_workers():
                self.run([item] * parallel.n_workers(), **horizon)
        return True

    def _params(self, infer_kwargs: dict[str, Any]) -> Params:
        return self.algorithm.resolve(self.defaults, infer_kwargs)

    def _series(self, inputs: list[SeriesInput]) -> list[tuple[int, int, np.ndarray, str]]:
        """(input index, variate index, values, where) for every variate of every input."""
        return [
            (index, variate, item["targets"][variate], f"input {index} variate {variate}")
            for index, item in enumerate(inputs)
            for variate in range(item["targets"].shape[0])
        ]

    def _check_positive(self, params: Params, values: np.ndarray, where: str) -> None:
        if self.algorithm.needs_positive(params) and (values <= 0).any():
            raise InvalidInferenceConfigError(
                f"{where} has values <= 0, but model {self.algorithm.model_id} with these options (multiplicative "
                "trend/seasonality or Box-Cox) needs strictly positive data; use additive components")

    def check(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        """The core's checks, then each variate against this model's minimum length and its options."""
        prepared = super().check(inputs, **infer_kwargs)  # type: ignore[misc]
        params = self._params(infer_kwargs)
        min_length, needs = self.algorithm.min_length(params)
        prepare = prepare_forecast_series if self.algorithm.task == "forecast" else prepare_detection_series
        for _, _, values, where in self._series(prepared):
            prepare(values, where, min_length, needs)
        return prepared

    def _estimated_ms(self, lengths: Sequence[int]) -> float:
        return self.algorithm.cost_ms_per_1k_points * sum(lengths) / 1000.0


class SktimeForecastPipeline(_SktimeMixin, ForecastPipeline):
    """arima, holtwinters, exponential_smoothing, naive_forecaster, stl_forecaster."""

    def __init__(self, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> None:
        super().__init__(model_info, device=device, **model_kwargs)
        self._setup(model_info)

    def forecast(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        horizon = _horizon(infer_kwargs.get("output_length"))
        params = self._params(infer_kwargs)
        min_length, needs = self.algorithm.min_length(params)
        jobs, slots = [], []
        for index, variate, values, where in self._series(inputs):
            prepared = prepare_forecast_series(values, where, min_length, needs)
            self._check_positive(params, prepared.values, where)
            jobs.append((self.algorithm.model_id, params, prepared.values, prepared.trailing_missing, horizon,
                         where))
            slots.append((index, variate))
        results = parallel.run_all(forecast_series, jobs, self._estimated_ms([len(job[2]) for job in jobs]))
        outputs = [np.empty((item["targets"].shape[0], horizon)) for item in inputs]
        for (index, variate), forecast in zip(slots, results):
            outputs[index][variate] = forecast
        return outputs


class SktimeAnomalyPipeline(_SktimeMixin, AnomalyDetectionPipeline):
    """gaussian_hmm and gmm_hmm (hidden state label per row), stray (0/1 outlier flag per row)."""

    def __init__(self, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> None:
        super().__init__(model_info, device=device, **model_kwargs)
        self._setup(model_info)

    def detect(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        params = self._params(infer_kwargs)
        min_length, needs = self.algorithm.min_length(params)
        jobs, slots = [], []
        for index, variate, values, where in self._series(inputs):
            observed, kept = prepare_detection_series(values, where, min_length, needs)
            jobs.append((self.algorithm.model_id, params, kept, where))
            slots.append((index, variate, observed))
        results = parallel.run_all(detect_series, jobs, self._estimated_ms([len(job[2]) for job in jobs]))
        outputs = [np.empty(item["targets"].shape) for item in inputs]
        for (index, variate, observed), labels in zip(slots, results):
            outputs[index][variate] = scatter_labels(labels, observed)
        return outputs


class SktimePipeline(Pipeline):
    """The registered pipeline class: builds the forecast or the anomaly pipeline for ``model_info.task``."""

    def __new__(cls, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> Pipeline:  # type: ignore[misc]
        if model_info.task == "anomaly_detection":
            return SktimeAnomalyPipeline(model_info, device=device, **model_kwargs)
        return SktimeForecastPipeline(model_info, device=device, **model_kwargs)

    def _infer(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> Sequence[Any]:  # pragma: no cover
        raise NotImplementedError("SktimePipeline only builds the pipeline for a task")
