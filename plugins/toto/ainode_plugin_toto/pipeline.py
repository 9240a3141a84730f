"""The Toto forecast pipeline: the core's contract on top of our Toto model (modeling.py, decoding.py).

Per input: ``targets`` ``[C, L]``, the C variates forecast jointly (space-wise attention across them), any
length, NaN = missing. Output per input: ``[C, H]`` (the mean, or the mean of ``num_samples`` paths), or
``[K * C, H]`` with option ``quantiles`` (level-major; see options.py and the README). Covariates are refused:
Toto forecasts from the targets alone (IoTDB's AINode drops them silently).

All inputs of one ``run`` that share a padded length and a variate count go to the model together (see
inputs.py for why others cannot); a batch is split only to bound memory. torch is imported when a model is
loaded, not when the plugin is registered.
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import ForecastPipeline, ModelInfo, SeriesInput
from ainode_plugin_toto.inputs import Group, group_inputs
from ainode_plugin_toto.options import OPTION_NAMES, QUANTILE_SAMPLES, TotoOptions, parse_options
from ainode_plugin_toto.quantiles import level_major

CACHE_BUDGET = 1 << 30  # bytes of KV cache one model call may hold
SAMPLE_BUDGET = 1 << 25  # sampled values (float32) held per model call; bigger requests run in parts


class TotoForecastPipeline(ForecastPipeline):
    """One Toto instance on one device (``cpu``, ``cuda:0``, ...)."""

    accepted_options = frozenset(OPTION_NAMES)
    warm_up_shape = (512, 96)

    def __init__(self, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> None:
        super().__init__(model_info, device=device, **model_kwargs)
        from ainode_plugin_toto.loading import load_toto

        self.model = load_toto(model_info.model_id, model_info.path, device).model

    @property
    def patch_size(self) -> int:
        return self.model.patch_size

    def _options(self, infer_kwargs: dict[str, Any]) -> TotoOptions:
        return parse_options(infer_kwargs, self.config)

    def check(self, inputs: Sequence[SeriesInput], **infer_kwargs: Any) -> list[SeriesInput]:
        prepared = super().check(inputs, **infer_kwargs)
        self._options(infer_kwargs)  # a bad option fails the request alone, before it joins a batch
        for index, item in enumerate(prepared):
            names = sorted({*item["past_covariates"], *item["future_covariates"]})
            if names:
                raise InvalidInferenceConfigError(
                    f"input {index}: {self.model_info.model_id} forecasts from the targets alone and cannot use "
                    f"covariates ({', '.join(names)}); send them as targets to forecast them jointly, or use a "
                    "model with covariates such as chronos2")
            infinite = np.argwhere(np.isinf(item["targets"]))
            if len(infinite):
                variate, row = (int(i) for i in infinite[0])
                raise InvalidInferenceConfigError(
                    f"input {index}: target {variate} has an infinite value at row {row}; send finite numbers "
                    "(null/NaN for a missing value)")
        return prepared

    def forecast(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        options = self._options(infer_kwargs)
        outputs: list[np.ndarray | None] = [None] * len(inputs)
        for group in group_inputs(inputs, self.patch_size):
            for indices, series, observed in self._parts(group, options):
                for index, result in zip(indices, self._run(series, observed, options)):
                    outputs[index] = result
        return [output for output in outputs if output is not None]

    def forecast_samples(self, inputs: list[SeriesInput], **infer_kwargs: Any) -> list[np.ndarray]:
        """Raw sample paths ``[C, num_samples, output_length]`` per input (validated here), for callers that
        want their own statistics. ``num_samples`` defaults to 256."""
        prepared = self.check(inputs, **infer_kwargs)
        options = self._options({"num_samples": QUANTILE_SAMPLES, **infer_kwargs})
        outputs: list[np.ndarray | None] = [None] * len(prepared)
        for group in group_inputs(prepared, self.patch_size):
            for indices, series, observed in self._parts(group, options):
                samples = self._samples(series, observed, options)
                for index, paths in zip(indices, samples):
                    outputs[index] = paths.transpose(0, 2, 1)
        return [output for output in outputs if output is not None]

    def _run(self, series: np.ndarray, observed: np.ndarray, options: TotoOptions) -> list[np.ndarray]:
        if options.num_samples is None:
            import torch

            from ainode_plugin_toto.decoding import decode_mean

            mean = decode_mean(self.model, *self._tensors(series, observed), options.horizon)
            return list(mean.to("cpu", torch.float64).numpy())
        samples = self._samples(series, observed, options)  # [B, V, H, N]
        if options.quantiles is None:
            return list(samples.mean(axis=-1))
        return [level_major(paths, options.quantiles) for paths in samples]

    def _samples(self, series: np.ndarray, observed: np.ndarray, options: TotoOptions) -> np.ndarray:
        import torch

        from ainode_plugin_toto.decoding import decode_samples

        batch, variates, _ = series.shape
        # paths decoded at once: each copies the context's KV cache of every series
        fitting = CACHE_BUDGET // (batch * variates * self._cache_bytes(series, options.horizon))
        chunk = max(1, min(options.num_samples, options.samples_per_batch or options.num_samples, fitting))
        samples = decode_samples(self.model, *self._tensors(series, observed), options.horizon,
                                 options.num_samples, options.seed, chunk)
        return samples.to("cpu", torch.float64).numpy()

    def _tensors(self, series: np.ndarray, observed: np.ndarray):
        import torch

        device = self.model.unembed.weight.device
        return torch.from_numpy(series).to(device), torch.from_numpy(observed).to(device)

    def _cache_bytes(self, series: np.ndarray, horizon: int) -> int:
        """KV cache bytes of one series row (one variate) for this context and horizon."""
        config = self.model.config
        tokens = series.shape[-1] // self.patch_size + -(-horizon // self.patch_size)
        return 2 * self.model.transformer.time_wise_count() * tokens * config.embed_dim * 4

    def _parts(self, group: Group, options: TotoOptions) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
        """The group split so that one model call keeps within the memory budgets."""
        variates = group.series.shape[1]
        size = max(1, CACHE_BUDGET // (variates * self._cache_bytes(group.series, options.horizon)))
        if options.num_samples is not None:
            size = min(size, max(1, SAMPLE_BUDGET // (variates * options.horizon * options.num_samples)))
        for start in range(0, len(group.indices), size):
            part = slice(start, start + size)
            yield group.indices[part], group.series[part], group.observed[part]
