"""The eight built-in models this plugin ships: ids, tasks, what their output means, and their defaults.

Defaults live in ``configs/<model_id>.json`` (IoTDB's config.json values, in the option names of
:mod:`ainode_plugin_sktime.algorithms`). Reading them is cheap: nothing here imports sktime.
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ainode_core import BuiltinModel

DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "arima": ("forecast", "ARIMA (pmdarima via sktime), fitted on the input window; output: the next "
                          "output_length values of each variate. Defaults order (1,0,0), no seasonal part, "
                          "with mean; override order, seasonal_order, sp/season_length, include_mean, ..."),
    "holtwinters": ("forecast", "Holt-Winters exponential smoothing (statsmodels via sktime) with additive trend "
                                "and additive seasonality, sp=12 by default (needs >= 2*sp values; set sp to "
                                "your season length); output: the next output_length values of each variate."),
    "exponential_smoothing": ("forecast", "Simple exponential smoothing (statsmodels via sktime), no trend or "
                                          "season unless trend/seasonal/sp are given; output: the next "
                                          "output_length values of each variate."),
    "naive_forecaster": ("forecast", "Naive forecaster (sktime): repeats the last value by default (strategy "
                                     "last/mean/drift, seasonal with sp); output: the next output_length values "
                                     "of each variate."),
    "stl_forecaster": ("forecast", "STL decomposition + per-component naive forecasts (sktime), sp=2 by "
                                   "default; output: the next output_length values of each variate."),
    "gaussian_hmm": ("anomaly_detection", "Gaussian hidden Markov model (hmmlearn via sktime) fitted on the "
                                          "input; output: the hidden state label (0..n_components-1) of every "
                                          "input row, per variate, NaN on null rows. Set n_components >= 2 to "
                                          "find regimes."),
    "gmm_hmm": ("anomaly_detection", "Hidden Markov model with Gaussian-mixture emissions (hmmlearn via sktime) "
                                     "fitted on the input; output: the hidden state label (0..n_components-1) "
                                     "of every input row, per variate, NaN on null rows."),
    "stray": ("anomaly_detection", "STRAY outlier detection (sktime): output: a 0/1 flag for every input row, "
                                   "per variate (1 = outlier), NaN on null rows."),
}


def load_config(model_id: str) -> dict[str, Any]:
    text = resources.files("ainode_plugin_sktime").joinpath("configs", f"{model_id}.json").read_text("utf-8")
    return json.loads(text)


def builtin_models() -> tuple[BuiltinModel, ...]:
    return tuple(
        BuiltinModel(model_id=model_id, task=task, description=description, config=load_config(model_id),
                     hf_repo_id=None, weight_files=())
        for model_id, (task, description) in DESCRIPTIONS.items()
    )
