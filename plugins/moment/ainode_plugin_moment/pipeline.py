"""The MOMENT pipeline: zero-shot anomaly detection, imputation and forecasts from the pre-trained
reconstruction head.

Per input: ``targets`` ``[C, L]``; each column is its own series (MOMENT is channel-independent), NaN = missing.
Output per input: ``[C, L]`` — labels, scores, the imputed series or the reconstruction (option ``output``,
see :mod:`ainode_plugin_moment.options`); the core keeps the first ``output_length`` rows, as for every
anomaly model. All windows of all inputs of one ``run`` go through the network together, in chunks of
:data:`WINDOWS_PER_CALL`.

A forecast request (``FORECAST`` / Thrift ``forecast``: its inputs carry covariate slots) is answered zero-shot
by reconstructing masked trailing patches (:mod:`ainode_plugin_moment.forecasting`): ``[C, output_length]``,
each column on its own. The forecasting head, untrained without fine-tuning, is never used. Requests of both
kinds may share one batch (they batch by options); each input gets its own kind of answer.

torch and transformers are imported when a model is loaded, not when the plugin is registered.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import AnomalyDetectionPipeline, ModelInfo, SeriesInput
from ainode_core.pipelines.validation import normalise_option
from ainode_plugin_moment import scoring
from ainode_plugin_moment.forecasting import by_kind, forecast_rows, masked_tail, rollout_chunks
from ainode_plugin_moment.options import OUTPUT_OPTION, THRESHOLD_OPTION, parse_options
from ainode_plugin_moment.windows import plan_windows, stitch, window_arrays

log = logging.getLogger(__name__)

WINDOWS_PER_CALL = 256  # bounds activation memory of one forward pass (MOMENT-1-large: ~0.2 GB on CPU)
MIN_ROWS = 8  # one patch: with fewer rows nothing is observed as MOMENT reads it

DETECTION_ONLY = (
    "Option {option} chooses what CALL INFERENCE answers ({model}'s anomaly labels, scores, imputation); a "
    "FORECAST answers the forecast only. Leave {option} out of FORECAST, or ask CALL INFERENCE({model}, ..., "
    "{option}=...) for detection.")


class MomentPipeline(AnomalyDetectionPipeline):
    """One MOMENT instance on one device (``cpu``, ``cuda:0``, ...)."""

    accepted_options = frozenset({OUTPUT_OPTION, THRESHOLD_OPTION})

    def __init__(self, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> None:
        super().__init__(model_info, device=device, **model_kwargs)
        from ainode_plugin_moment.loading import load_moment

        self.model = load_moment(model_info.model_id, model_info.path, device)

    def check(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        if not isinstance(inputs, (list, tuple)) or not inputs:
            return super().check(inputs, **infer_kwargs)  # refused there, with the base's message
        prepared = by_kind(inputs, lambda detections: super(MomentPipeline, self).check(detections, **infer_kwargs),
                           lambda forecasts: self.check_forecast(forecasts, **infer_kwargs))
        parse_options(infer_kwargs)  # a bad option fails this request alone, before it joins a batch
        for index, item in enumerate(prepared):
            targets = item["targets"]
            if targets.shape[1] < MIN_ROWS:
                raise InvalidInferenceConfigError(
                    f"input {index} has {targets.shape[1]} rows; MOMENT reads patches of {MIN_ROWS} rows, send "
                    f"at least {MIN_ROWS}")
            if np.isinf(targets).any():
                variate, row = (int(i) for i in np.argwhere(np.isinf(targets))[0])
                raise InvalidInferenceConfigError(
                    f"input {index}: column {variate} has an infinite value at row {row}; send finite numbers "
                    "(null/NaN for a missing value)")
        return prepared

    def check_forecast(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        """A forecast request: targets checked as for detection (but a forecast's ``output_length`` counts future
        rows, not input rows, so the base's rows rule is left out), an ``output_length``, no detection option."""
        horizon = infer_kwargs.get("output_length")
        if not isinstance(horizon, (int, np.integer)) or isinstance(horizon, bool) or horizon < 1:
            raise InvalidInferenceConfigError(
                f"A forecast from {self.model_info.model_id} needs output_length >= 1 (the number of future rows), "
                f"got {horizon!r}")
        for key in infer_kwargs:
            if normalise_option(key) in (OUTPUT_OPTION, THRESHOLD_OPTION):
                raise InvalidInferenceConfigError(DETECTION_ONLY.format(option=key, model=self.model_info.model_id))
        rows_free = {key: value for key, value in infer_kwargs.items() if key != "output_length"}
        return super().check(inputs, **rows_free)

    def _infer(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        """Forecast inputs get forecasts, the others detection answers, in the order they came."""
        return by_kind(inputs, lambda detections: self.detect(detections, **infer_kwargs),
                       lambda forecasts: self.forecast(forecasts, int(infer_kwargs["output_length"])))

    def detect(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        options = parse_options(infer_kwargs)
        series = [row for item in inputs for row in item["targets"]]
        reconstructions = self.reconstruct(series)
        answers = []
        for values, reconstruction in zip(series, reconstructions):
            if options.output == "label":
                answers.append(scoring.labels(values, reconstruction, options.threshold))
            elif options.output == "score":
                answers.append(scoring.scores(values, reconstruction))
            elif options.output == "imputed":
                answers.append(scoring.imputed(values, reconstruction))
            else:
                answers.append(reconstruction)
        return regroup(inputs, answers)

    def forecast(self, inputs: list[SeriesInput], horizon: int) -> list[np.ndarray]:
        """``[C, horizon]`` per input: each column's future as MOMENT reconstructs masked trailing patches.
        Every column of every input goes through the network together, one pass per rollout chunk."""
        settings = self.model.settings
        for index, item in enumerate(inputs):
            if item.get("past_covariates") or item.get("future_covariates"):
                log.warning("model %s forecasts each column from its own past; the covariates of input %d are "
                            "ignored", self.model_info.model_id, index)
        histories = [row for item in inputs for row in item["targets"]]
        answers = [np.empty(horizon, dtype=np.float64) for _ in histories]
        done = 0
        for steps in rollout_chunks(horizon, settings.seq_len, settings.patch_len):
            tails = [masked_tail(history, steps, settings.seq_len, settings.patch_len) for history in histories]
            reconstructions = self.reconstruct(tails)
            for index, (tail, reconstruction) in enumerate(zip(tails, reconstructions)):
                answers[index][done:done + steps] = reconstruction[forecast_rows(tail, steps, settings.patch_len)]
                # the next chunk reads this one as context (only the last window's rows are ever read again)
                histories[index] = np.concatenate([histories[index][-settings.seq_len:],
                                                   answers[index][done:done + steps]])
            done += steps
        return regroup(inputs, answers)

    def reconstruct(self, series: Sequence[np.ndarray]) -> list[np.ndarray]:
        """MOMENT's reconstruction of each 1-D series (float64, same length; NaN = missing in the input)."""
        import torch

        settings = self.model.settings
        lengths = [len(values) for values in series]
        windows = plan_windows(lengths, settings.seq_len)
        x, input_mask, mask = window_arrays(series, windows, settings.seq_len, settings.patch_len)
        outputs = np.empty((len(windows), settings.seq_len), dtype=np.float64)
        with torch.inference_mode():
            for start in range(0, len(windows), WINDOWS_PER_CALL):
                chunk = slice(start, start + WINDOWS_PER_CALL)
                out = self.model(torch.from_numpy(x[chunk]).to(self.device),
                                 torch.from_numpy(input_mask[chunk]).to(self.device),
                                 torch.from_numpy(mask[chunk]).to(self.device))
                outputs[chunk] = out[:, 0].double().cpu().numpy()
        return stitch(outputs, windows, lengths, settings.seq_len)


def regroup(inputs: Sequence[SeriesInput], rows: Sequence[np.ndarray]) -> list[np.ndarray]:
    """One answer per column, in input order → one ``[C, ...]`` array per input."""
    outputs, first = [], 0
    for item in inputs:
        channels = item["targets"].shape[0]
        outputs.append(np.stack(rows[first:first + channels]))
        first += channels
    return outputs
