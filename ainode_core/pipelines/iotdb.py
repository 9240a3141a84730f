"""Base pipelines for model folders written for Apache IoTDB's AINode, which run here unchanged.

Such a folder imports ``iotdb.ainode.core.inference.pipeline.basic_pipeline`` (and sometimes
``iotdb.ainode.core.exception``, ``.log`` or ``.model.model_info``); while folder code is imported, those
names resolve to this module (see :mod:`ainode_core.compat`). Its pipeline expects what IoTDB's node gives:

* the constructor ``__init__(model_info, **model_kwargs)`` loads ``self.model`` from the folder's ``auto_map``
  (``AutoConfig`` and ``AutoModelForCausalLM`` or another ``AutoModel*`` key) on the requested device;
* ``preprocess`` → ``_preprocess``, ``forecast`` / ``classify``, ``postprocess`` → ``_postprocess`` see torch
  tensors: a forecast input is ``{"targets": float32 tensor [C, L], "past_covariates": {name: [L]},
  "future_covariates": {name: [H]}}`` on the CPU, a forecast output one ``[C, H]`` tensor per input.

The node's own checks still run first (shapes, NaNs, covariates), and the output length is checked after,
so a folder's bug answers a clear status instead of a wrong row count.
"""
from __future__ import annotations

import importlib
import logging
from abc import abstractmethod
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ainode_core.errors import InferenceInternalError, ModelNotReadyError
from ainode_core.pipelines.base import ModelInfo, Pipeline, SeriesInput, check_forecast_outputs
from ainode_core.pipelines.validation import validate_forecast_inputs

__all__ = ["BasicPipeline", "ForecastPipeline", "ClassificationPipeline", "InferenceModelInternalException",
           "Logger", "ModelInfo"]

# The auto_map keys IoTDB's loader tries, most specific first; AutoModelForCausalLM is its fallback.
MODEL_AUTO_CLASSES = ("AutoModelForCausalLM", "AutoModelForTimeSeriesPrediction", "AutoModelForSeq2SeqLM",
                      "AutoModelForSequenceClassification", "AutoModelForTokenClassification", "AutoModel")


class InferenceModelInternalException(InferenceInternalError):
    """IoTDB's name for a model failing at inference; raised by folder code, answered with its message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def Logger(*_args: Any, **_kwargs: Any) -> logging.Logger:
    """IoTDB's ``Logger()``: here the standard logger of folder code."""
    return logging.getLogger("ainode_user_models")


def load_auto_map_model(model_info: ModelInfo, package: str, device: torch.device) -> torch.nn.Module:
    """The folder's model class (resolved in the folder's own package) with its weights, on ``device``."""
    auto_map = dict(model_info.config.get("auto_map") or {})
    key = next((k for k in MODEL_AUTO_CLASSES if k in auto_map), None)
    if key is None or model_info.path is None:
        raise ModelNotReadyError(
            f"Model {model_info.model_id}: config.json needs an auto_map naming the model class "
            f"(\"AutoModelForCausalLM\": \"module.ClassName\") and the folder needs model.safetensors")

    def resolve(dotted: str) -> Any:
        module, _, name = dotted.rpartition(".")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    model_class = resolve(auto_map[key])
    config = resolve(auto_map["AutoConfig"]).from_pretrained(model_info.path) if "AutoConfig" in auto_map else None
    model = model_class.from_pretrained(Path(model_info.path), config=config)
    return model.to(device).eval()


def _as_tensors(item: SeriesInput) -> dict[str, Any]:
    tensors: dict[str, Any] = {"targets": torch.as_tensor(item["targets"], dtype=torch.float32)}
    for key in ("past_covariates", "future_covariates"):
        if item.get(key):
            tensors[key] = {name: torch.as_tensor(values, dtype=torch.float32) for name, values in item[key].items()}
    return tensors


class BasicPipeline(Pipeline):
    """IoTDB's ``BasicPipeline``: ``self.model`` is loaded from the folder when the pipeline is built."""

    def __init__(self, model_info: ModelInfo, device: Any = "cpu", **model_kwargs: Any) -> None:
        super().__init__(model_info, device=str(model_kwargs.pop("device_map", device)), **model_kwargs)
        self.device = torch.device(self.device)
        package = type(self).__module__.rpartition(".")[0]  # the folder's package, also for fine-tuned copies
        self.model = load_auto_map_model(model_info, package, self.device)

    def preprocess(self, inputs: Any, **infer_kwargs: Any) -> Any:
        return self._preprocess(inputs, **infer_kwargs)

    def _preprocess(self, inputs: Any, **infer_kwargs: Any) -> Any:
        return inputs

    def postprocess(self, outputs: Any, **infer_kwargs: Any) -> Any:
        return self._postprocess(outputs, **infer_kwargs)

    def _postprocess(self, outputs: Any, **infer_kwargs: Any) -> Any:
        return outputs

    def _tensor_outputs(self, outputs: Any) -> list[np.ndarray]:
        if isinstance(outputs, torch.Tensor):
            outputs = list(outputs)
        if not isinstance(outputs, (list, tuple)):
            raise InferenceInternalError(
                f"Model {self.model_info.model_id} returned {type(outputs).__name__}; its pipeline must return "
                "a list of tensors, one per input")
        return [np.asarray(torch.as_tensor(o).detach().to("cpu", torch.float64).numpy()) for o in outputs]


class ForecastPipeline(BasicPipeline):
    """IoTDB's ``ForecastPipeline``: implement ``forecast`` (and optionally ``_preprocess``/``_postprocess``)."""

    task = "forecast"

    @abstractmethod
    def forecast(self, inputs: Any, **infer_kwargs: Any) -> Any:
        """Return one ``[C, output_length]`` tensor per input (a list), or a ``[B, output_length]`` tensor."""

    def _infer(self, inputs: Any, **infer_kwargs: Any) -> Sequence[Any]:
        return self.forecast(inputs, **infer_kwargs)

    def check(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        return validate_forecast_inputs(inputs, infer_kwargs.get("output_length"))

    def run(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        checked = self.check(inputs, **infer_kwargs)
        results: list[np.ndarray] = [np.empty(0)] * len(checked)
        # IoTDB's pipelines stack their inputs, so they are called with one shape at a time.
        for indices in _groups_of_one_shape(checked):
            with torch.inference_mode():
                prepared = self.preprocess([_as_tensors(checked[i]) for i in indices], **infer_kwargs)
                outputs = self.postprocess(self.forecast(prepared, **infer_kwargs), **infer_kwargs)
            arrays = self._tensor_outputs(outputs)
            if len(arrays) != len(indices):
                raise InferenceInternalError(
                    f"Model {self.model_info.model_id} returned {len(arrays)} outputs for {len(indices)} inputs")
            for index, array in zip(indices, arrays):
                results[index] = array[None, :] if array.ndim == 1 else array
        return check_forecast_outputs(self.model_info.model_id, results, infer_kwargs.get("output_length"))


def _groups_of_one_shape(inputs: Sequence[SeriesInput]) -> list[list[int]]:
    groups: dict[tuple, list[int]] = {}
    for index, item in enumerate(inputs):
        key = (item["targets"].shape, tuple(sorted(item.get("past_covariates") or {})),
               tuple(sorted(item.get("future_covariates") or {})))
        groups.setdefault(key, []).append(index)
    return list(groups.values())


class ClassificationPipeline(BasicPipeline):
    """IoTDB's ``ClassificationPipeline``: ``classify`` receives one float32 tensor ``[B, C, L]``."""

    task = "classification"

    @abstractmethod
    def classify(self, inputs: Any, **infer_kwargs: Any) -> Any:
        """Return one tensor of class scores per input."""

    def _infer(self, inputs: Any, **infer_kwargs: Any) -> Sequence[Any]:
        return self.classify(inputs, **infer_kwargs)

    def run(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        checked = self.check(inputs, **infer_kwargs)
        shapes = {item["targets"].shape for item in checked}
        if len(shapes) != 1:
            raise InferenceInternalError(
                f"Model {self.model_info.model_id} classifies inputs of one shape at a time, got {sorted(shapes)}")
        with torch.inference_mode():
            batch = torch.stack([_as_tensors(item)["targets"] for item in checked])
            outputs = self.postprocess(self.classify(self.preprocess(batch, **infer_kwargs), **infer_kwargs),
                                       **infer_kwargs)
        return [a[None, :] if a.ndim == 1 else a for a in self._tensor_outputs(outputs)]
