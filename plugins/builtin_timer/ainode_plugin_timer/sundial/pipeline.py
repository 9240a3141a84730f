"""The Sundial forecast pipeline: sample trajectories, return their mean (or quantiles on request).

Options (strings or values; defaults from the model's config, then the request):

* ``output_length`` (required): points to forecast.
* ``num_samples`` (default 10, 1..10000): trajectories sampled per series.
* ``num_sampling_steps`` (default: the config's, 50 for the official model; 1..1000): Euler steps of
  the flow head. Fewer is faster and coarser.
* ``revin`` (default ``true``): normalise each series by its context's mean/std.
* ``seed`` (integer 0..2^32-1, default none): makes the samples reproducible. Variate ``c`` of an input uses
  ``seed + c``, so a series' forecast does not depend on which other requests share its batch.
* ``quantiles`` (e.g. ``"0.1,0.5,0.9"``, default none): return these quantiles of the samples instead of
  their mean. The output of an input with C variates is then ``[Q * C, H]``, level-major like every
  model's quantiles here: row ``j * C + c`` is quantile ``j`` of variate ``c``. Without it the output is the
  mean, ``[C, H]``.

:meth:`SundialPipeline.forecast_samples` returns the raw samples (``[C, num_samples, H]`` per input) for
callers that want their own statistics.

Each variate is one univariate series (newest 2880 points; any length >= 1 works: a partial first patch
is padded and masked as in the original). Missing values: see :mod:`ainode_plugin_timer.series`.
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

from ainode_core.pipelines.base import ForecastPipeline, ModelInfo
from ainode_plugin_timer.options import get_bool, get_int, get_output_length, get_quantiles
from ainode_plugin_timer.series import SeriesBatch, collect_series, left_pad

# torch and transformers are imported inside methods: registering the plugin must stay cheap.

MAX_LOOKBACK = 2880
MAX_SERIES_PER_CALL = 256
SAMPLE_BUDGET = 1 << 25  # floats of samples held per model call (128 MiB); bigger requests run in chunks
OPTION_NAMES = ("revin", "num_samples", "num_sampling_steps", "seed", "quantiles")


class SundialPipeline(ForecastPipeline):
    accepted_options = frozenset(OPTION_NAMES)
    warm_up_shape = (2880, 96)

    def __init__(self, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> None:
        super().__init__(model_info, device=device, **model_kwargs)
        from ainode_plugin_timer.sundial.modeling import SundialForPrediction
        from ainode_plugin_timer.weights import load_pretrained

        self.model = load_pretrained(SundialForPrediction, model_info.path, device, model_info.model_id)

    def _options(self, infer_kwargs: dict[str, Any]) -> dict[str, Any]:
        merged = {**{k: self.config[k] for k in OPTION_NAMES if k in self.config}, **infer_kwargs}
        default_steps = self.model.config.num_sampling_steps
        return {
            "horizon": get_output_length(merged),
            "revin": get_bool(merged, "revin", True),
            "num_samples": get_int(merged, "num_samples", 10, 1, 10_000),
            "num_sampling_steps": get_int(merged, "num_sampling_steps", default_steps, 1, 1000),
            "seed": get_int(merged, "seed", None, 0, 2**32 - 1),
            "quantiles": get_quantiles(merged, "quantiles"),
        }

    def _sample_chunks(self, batch: SeriesBatch, options: dict[str, Any]) -> Iterator[np.ndarray]:
        """Samples of the series, [n, num_samples, H] per chunk of series, in order. Chunks keep the
        samples of one model call within SAMPLE_BUDGET; callers reduce each chunk before the next."""
        import torch

        horizon, num_samples = options["horizon"], options["num_samples"]
        per_series = num_samples * max(horizon, self.model.output_patch_len)
        chunk_size = max(1, min(MAX_SERIES_PER_CALL, SAMPLE_BUDGET // per_series))
        seeds = None
        if options["seed"] is not None:
            seeds = [options["seed"] + variate for count in batch.counts for variate in range(count)]
        for start in range(0, len(batch.series), chunk_size):
            chunk = batch.series[start:start + chunk_size]
            values, mask = left_pad(chunk)
            padded = any(len(row) != values.shape[1] for row in chunk)
            generators = None
            if seeds is not None:
                generators = [torch.Generator(device=self.model.device).manual_seed(seed)
                              for seed in seeds[start:start + chunk_size]]
            samples = self.model.generate(
                torch.from_numpy(values), horizon, num_samples=num_samples, revin=options["revin"],
                num_sampling_steps=options["num_sampling_steps"],
                attention_mask=torch.from_numpy(mask) if padded else None, generators=generators,
            )
            yield samples.to("cpu", torch.float64).numpy()

    def _collect(self, inputs: Sequence[dict[str, Any]]) -> SeriesBatch:
        return collect_series(inputs, model_id=self.model_info.model_id, max_lookback=MAX_LOOKBACK)

    def forecast_samples(self, inputs: list[dict[str, Any]], **infer_kwargs: Any) -> list[np.ndarray]:
        """Raw samples: one ``[C, num_samples, output_length]`` array per (validated) input."""
        options = self._options(infer_kwargs)
        batch = self._collect(self.preprocess(inputs, **infer_kwargs))
        return batch.split(np.concatenate(list(self._sample_chunks(batch, options))))

    def forecast(self, inputs: list[dict[str, Any]], **infer_kwargs: Any) -> Sequence[np.ndarray]:
        options = self._options(infer_kwargs)
        batch = self._collect(inputs)
        levels = options["quantiles"]
        if levels is None:
            reduced = [samples.mean(axis=1) for samples in self._sample_chunks(batch, options)]
            return batch.split(np.concatenate(reduced))
        # numpy: torch.quantile refuses inputs above 16M elements
        reduced = [np.quantile(samples, levels, axis=1).transpose(1, 0, 2)  # [n, Q, H]
                   for samples in self._sample_chunks(batch, options)]
        # [C, Q, H] per input -> level-major rows [Q * C, H], the layout the client and the other models use
        return [block.transpose(1, 0, 2).reshape(-1, block.shape[-1])
                for block in batch.split(np.concatenate(reduced))]
