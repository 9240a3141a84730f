"""The Timer-XL forecast pipeline.

Options (strings or values; defaults from the model's config, then the request):

* ``output_length`` (required): points to forecast.
* ``revin`` (default ``true``): normalise each series by its context's mean/std before the model and
  undo it after.
* ``revin_statistics`` (default ``patch``, the original's and IoTDB's): beyond one output patch, each
  fed-back patch is re-normalised by its own mean/std; ``context`` keeps the context's statistics for the
  whole forecast instead. Identical within one output patch (96 points for timer-base-84m).

Each variate of each input is one univariate series (the newest 2880 points are used; the model then
keeps the newest multiple of its patch length, 96); all series of one call run as one batch. A series
needs at least one patch of observed points. Missing values: see :mod:`ainode_plugin_timer.series`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ainode_core.errors import InvalidInferenceConfigError
from ainode_core.pipelines.base import ForecastPipeline, ModelInfo
from ainode_plugin_timer.options import get_bool, get_output_length
from ainode_plugin_timer.series import collect_series, left_pad

# torch and transformers are imported inside methods: registering the plugin must stay cheap.

MAX_LOOKBACK = 2880
MAX_SERIES_PER_CALL = 256  # bounds activation memory; larger batches run in chunks
OPTION_NAMES = ("revin", "revin_statistics")
REVIN_STATISTICS = ("patch", "context")


class TimerPipeline(ForecastPipeline):
    accepted_options = frozenset(OPTION_NAMES)  # anything else (e.g. quantiles) is refused with advice
    warm_up_shape = (2880, 96)  # the longest context it reads: the first busy minute is not a slow one

    def __init__(self, model_info: ModelInfo, device: str = "cpu", **model_kwargs: Any) -> None:
        super().__init__(model_info, device=device, **model_kwargs)
        from ainode_plugin_timer.timer.modeling import TimerForPrediction
        from ainode_plugin_timer.weights import load_pretrained

        self.model = load_pretrained(TimerForPrediction, model_info.path, device, model_info.model_id)

    def forecast(self, inputs: list[dict[str, Any]], **infer_kwargs: Any) -> Sequence[np.ndarray]:
        import torch

        options = {**{k: self.config[k] for k in OPTION_NAMES if k in self.config}, **infer_kwargs}
        horizon = get_output_length(options)
        revin = get_bool(options, "revin", True)
        statistics = str(options.get("revin_statistics", "patch")).strip().lower()
        if statistics not in REVIN_STATISTICS:
            raise InvalidInferenceConfigError(
                f"Option revin_statistics must be one of {', '.join(REVIN_STATISTICS)}, got {statistics!r}")
        batch = collect_series(inputs, model_id=self.model_info.model_id, max_lookback=MAX_LOOKBACK,
                               min_length=self.model.config.input_token_len)
        results = []
        for start in range(0, len(batch.series), MAX_SERIES_PER_CALL):
            chunk = batch.series[start:start + MAX_SERIES_PER_CALL]
            values, mask = left_pad(chunk)
            padded = any(len(row) != values.shape[1] for row in chunk)
            forecast = self.model.generate(torch.from_numpy(values), horizon, revin=revin,
                                           attention_mask=torch.from_numpy(mask) if padded else None,
                                           revin_statistics=statistics)
            results.append(forecast.to("cpu", torch.float64).numpy())
        return batch.split(np.concatenate(results))
