"""The pipeline contract between the core and a model plugin.

A pipeline wraps one loaded model instance on one device. The engine calls :meth:`Pipeline.run` with a
*batch* of inputs (one per request or per series) and gets one output per input back::

    inputs = [{"targets": array [C, L], "past_covariates": {name: [L]}, "future_covariates": {name: [H]}}]
    outputs = pipeline.run(inputs, output_length=H, **options)   # list of arrays [C, H]

``run`` is ``preprocess`` → ``forecast`` (or ``detect`` / ``classify``) → ``postprocess``, the same three
steps as IoTDB's AINode pipelines, so model folders written for Apache's node map onto this class.
Validation of shapes and covariates lives in :mod:`ainode_core.pipelines.validation`, done once here so
plugins receive clean inputs: float64 numpy arrays, targets always 2-D ``[C, L]``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ainode_core.errors import InferenceInternalError, InvalidInferenceConfigError
from ainode_core.pipelines.validation import check_option_names, validate_forecast_inputs, validate_target_inputs

SeriesInput = dict[str, Any]


@dataclass(frozen=True)
class ModelInfo:
    """What a pipeline knows about the model it serves."""

    model_id: str
    model_type: str
    category: str = "builtin"
    task: str = "forecast"
    path: Path | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def auto_map(self) -> Mapping[str, str] | None:
        """As IoTDB's ``ModelInfo`` has it (folder code written for IoTDB reads it)."""
        return self.config.get("auto_map")

    @property
    def pipeline_cls(self) -> str:
        return str(self.config.get("pipeline_cls") or "")


class Pipeline(ABC):
    """One model instance on one device. Subclasses load their model in ``__init__`` (or lazily)."""

    task: ClassVar[str] = ""
    # The request options the pipeline reads. When listed, any other name (node options aside) fails the
    # request at once with a message naming it ("did you mean ...", "this model gives point forecasts only;
    # quantiles are offered by ..."); ``None`` leaves options to the pipeline.
    accepted_options: ClassVar[frozenset[str] | None] = None
    # (context length, horizon) of one forecast run when an instance is built, before it takes requests, so
    # that one-time costs of a first call do not land on the first callers (see inference/warmup.py).
    warm_up_shape: ClassVar[tuple[int, int] | None] = None

    def __init__(self, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> None:
        self.model_info = model_info
        self.device = device
        self.model_kwargs = model_kwargs

    @property
    def config(self) -> Mapping[str, Any]:
        return self.model_info.config

    def warm_up(self) -> bool:
        """Pay one-time costs now, while the instance is being built, rather than on its first callers' time.
        By default one forecast of :attr:`warm_up_shape`, if the pipeline declares one; override it to warm
        something else (a worker pool, a compiled graph). Returns whether there was anything to warm."""
        if self.warm_up_shape is None:
            return False
        context, horizon = self.warm_up_shape
        steps = np.arange(context, dtype=np.float64)
        series = np.sin(2 * np.pi * steps / 24)[None, :]  # a plain seasonal series: nothing model-specific
        self.run([{"targets": series}], output_length=horizon)
        return True

    def check(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        """One request's inputs checked on their own, in the caller's thread, before they join a batch: a
        request that cannot run fails at once and alone, with a message about its own input. Returns the
        validated inputs. The base pipelines check shapes, covariates and lengths; a plugin adds its own rules
        (call ``super().check``). ``preprocess`` checks again, for callers that run the pipeline directly."""
        self.check_options(infer_kwargs)
        return validate_target_inputs(inputs)

    def check_options(self, infer_kwargs: Mapping[str, Any]) -> None:
        """Refuse option names outside :attr:`accepted_options` (when the pipeline lists them)."""
        if self.accepted_options is not None:
            check_option_names(self.model_info.model_id, infer_kwargs, self.accepted_options)

    def preprocess(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        return self.check(inputs, **infer_kwargs)

    def postprocess(self, outputs: Sequence[Any], **infer_kwargs: Any) -> list[np.ndarray]:
        return [np.asarray(_to_numpy(out), dtype=np.float64) for out in outputs]

    @abstractmethod
    def _infer(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> Sequence[Any]:
        """The task's own step (``forecast`` / ``detect`` / ``classify``)."""

    def run(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        prepared = self.preprocess(inputs, **infer_kwargs)
        outputs = self._infer(prepared, **infer_kwargs)
        return self.postprocess(outputs, **infer_kwargs)


class ForecastPipeline(Pipeline):
    """Forecasting: each input gives targets ``[C, L]``; each output is ``[C, output_length]``, the first
    column being the first step AFTER the input."""

    task = "forecast"

    def check(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        self.check_options(infer_kwargs)
        return validate_forecast_inputs(inputs, infer_kwargs.get("output_length"))

    @abstractmethod
    def forecast(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> Sequence[Any]:
        """Return one ``[C, output_length]`` array (or tensor) per input."""

    def _infer(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> Sequence[Any]:
        return self.forecast(inputs, **infer_kwargs)

    def postprocess(self, outputs: Sequence[Any], **infer_kwargs: Any) -> list[np.ndarray]:
        arrays = [a[None, :] if a.ndim == 1 else a for a in super().postprocess(outputs, **infer_kwargs)]
        return check_forecast_outputs(self.model_info.model_id, arrays, infer_kwargs.get("output_length"))


def check_forecast_outputs(model_id: str, arrays: list[np.ndarray], horizon: int | None) -> list[np.ndarray]:
    """A forecast must be ``output_length`` steps long: the DataNode refuses any other row count."""
    for array in arrays:
        if horizon is not None and array.shape[-1] != int(horizon):
            raise InferenceInternalError(
                f"Model {model_id} output length is {array.shape[-1]}, doesn't equal to specified {horizon}")
    return arrays


class AnomalyDetectionPipeline(Pipeline):
    """Anomaly detection: each input gives targets ``[C, L]``; ``detect`` labels every row (``[C, L]``).

    The answer holds the labels of the first ``output_length`` rows when the request sets one, as IoTDB's
    AINode does: a DataNode requires exactly ``outputLength`` rows back (default 96) and fails the query
    otherwise. To label every row, ask for as many rows as the input has.
    """

    task = "anomaly_detection"

    @abstractmethod
    def detect(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> Sequence[Any]:
        """Return one ``[C, L]`` array per input: a label or a 0/1 flag for every input row."""

    def check(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        prepared = super().check(inputs, **infer_kwargs)
        rows = infer_kwargs.get("output_length")
        for index, item in enumerate(prepared):
            length = item["targets"].shape[-1]
            if rows is not None and int(rows) > length:
                raise InvalidInferenceConfigError(
                    f"input {index} has {length} rows but output_length is {rows}: an anomaly model labels "
                    f"the first output_length input rows; set output_length to at most {length} (to {length} "
                    "to label every row) or send more rows")
        return prepared

    def _infer(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> Sequence[Any]:
        return self.detect(inputs, **infer_kwargs)

    def postprocess(self, outputs: Sequence[Any], **infer_kwargs: Any) -> list[np.ndarray]:
        arrays = super().postprocess(outputs, **infer_kwargs)
        rows = infer_kwargs.get("output_length")
        return arrays if rows is None else [array[..., :int(rows)] for array in arrays]


class ClassificationPipeline(Pipeline):
    """Classification: each input gives targets ``[C, L]``; each output is ``[C, K]`` class scores."""

    task = "classification"

    @abstractmethod
    def classify(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> Sequence[Any]:
        """Return one ``[C, K]`` array per input."""

    def _infer(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> Sequence[Any]:
        return self.classify(inputs, **infer_kwargs)


def _to_numpy(value: Any) -> Any:
    """Accept torch tensors without importing torch here (keeps the core import-light)."""
    if hasattr(value, "detach"):
        return value.detach().to("cpu").float().numpy()
    return value


BASE_PIPELINES: dict[str, type[Pipeline]] = {
    ForecastPipeline.task: ForecastPipeline,
    AnomalyDetectionPipeline.task: AnomalyDetectionPipeline,
    ClassificationPipeline.task: ClassificationPipeline,
}
