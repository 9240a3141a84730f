"""``CREATE MODEL x FROM MODEL <sktime model> ON DATASET (...)``: learning settings, not weights.

The sktime models are fitted on each request's own window, so fitted coefficients would not carry over to
the next request. What a dataset can teach them is the settings a user otherwise has to guess, and those
are what a fine-tuned sktime model stores (its ``config.json`` = the base's defaults + the learned values):

* season length — the lag of the strongest autocorrelation peak, by majority over the series:
  ``sp`` of holtwinters, exponential_smoothing (which also turns additive seasonality on),
  naive_forecaster (seasonal naive) and stl_forecaster; arima keeps ``season_length`` 1 (seasonal ARIMA
  fits are too slow to serve per request);
* arima's ``order`` (p, d, q) — pmdarima's ``auto_arima`` (stepwise AIC) on the longest series;
* gaussian_hmm / gmm_hmm's ``n_components`` — the number of hidden states with the lowest BIC (1..4);
* stray has nothing to learn from other data (its thresholds are relative to each window): refused.

Hyperparameters: ``max_season_length`` (400), ``min_autocorrelation`` (0.3), ``max_states`` (4).
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ainode_core.errors import CreateModelError, InvalidInferenceConfigError
from ainode_core.pipelines.base import ModelInfo
from ainode_core.training.datasets import named_series
from ainode_plugin_sktime.pipelines import algorithm_for

MIN_POINTS = 16
HYPERPARAMETERS = ("max_season_length", "min_autocorrelation", "max_states")  # all finetune reads


def _int(params: Mapping[str, Any], name: str, default: int, low: int) -> int:
    value = params.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if number < low:
        raise InvalidInferenceConfigError(f"Hyperparameter {name} expects an integer >= {low}, got {value!r}.")
    return number


def _series(dataset: Iterable[Any]) -> list[np.ndarray]:
    finite = (values[np.isfinite(values)] for _, values in named_series(dataset))
    series = [values for values in finite if values.size >= MIN_POINTS]
    if not series:
        raise InvalidInferenceConfigError(
            f"The dataset has no series with at least {MIN_POINTS} numeric values; select more data.")
    return series


def season_length(series: list[np.ndarray], max_lag: int, min_autocorrelation: float) -> int:
    """The most common strongest-autocorrelation lag over the series (1 when none stands out)."""
    from statsmodels.tsa.stattools import acf

    votes: Counter[int] = Counter()
    for values in series:
        lags = min(max_lag, values.size // 2)
        if lags < 3 or np.std(values) == 0:
            continue
        correlation = acf(values - np.mean(values), nlags=lags, fft=True)
        peaks = [lag for lag in range(2, lags) if correlation[lag] >= min_autocorrelation
                 and correlation[lag] > correlation[lag - 1] and correlation[lag] >= correlation[lag + 1]]
        if peaks:
            votes[max(peaks, key=lambda lag: correlation[lag])] += 1
    if not votes:
        return 1
    best = max(votes.values())
    return min(lag for lag, count in votes.items() if count == best)


def _arima_order(series: list[np.ndarray]) -> list[int]:
    import pmdarima

    longest = max(series, key=len)[-1000:]
    model = pmdarima.auto_arima(longest, seasonal=False, stepwise=True, max_p=3, max_q=3, max_d=2,
                                suppress_warnings=True, error_action="ignore")
    return [int(v) for v in model.order]


def _hmm_states(name: str, series: list[np.ndarray], config: Mapping[str, Any], max_states: int) -> int:
    from hmmlearn import hmm

    data = np.concatenate(series)[:, None]
    lengths = [len(values) for values in series]
    scores = {}
    for states in range(1, max_states + 1):
        kwargs = dict(n_components=states, covariance_type=config.get("covariance_type", "diag"),
                      n_iter=int(config.get("n_iter", 10)), tol=float(config.get("tol", 0.01)), random_state=0)
        model = hmm.GMMHMM(n_mix=int(config.get("n_mix", 1)), **kwargs) if name == "gmm_hmm" \
            else hmm.GaussianHMM(**kwargs)
        model.fit(data, lengths)
        scores[states] = float(model.bic(data, lengths))
    return min(scores, key=scores.get)


def finetune(model_info: ModelInfo, dataset: Iterable[Any], params: Mapping[str, Any] | None,
             output_dir: Path | str, progress: Callable[[str], None] = lambda message: None,
             device: str | None = None) -> dict[str, Any]:
    params = dict(params or {})
    algorithm = algorithm_for(model_info)
    name = algorithm.model_id
    if name == "stray":
        raise CreateModelError("stray has nothing to learn from a dataset (its thresholds are relative to each "
                               "window); set alpha / k per request instead.")
    series = _series(dataset)
    learned: dict[str, Any] = {}
    if name in ("holtwinters", "exponential_smoothing", "naive_forecaster", "stl_forecaster"):
        progress(f"estimating the season length of {len(series)} series")
        period = season_length(series, _int(params, "max_season_length", 400, 2),
                               float(params.get("min_autocorrelation", 0.3)))
        if period >= 2:
            learned["sp"] = period
            if name == "exponential_smoothing":
                learned["seasonal"] = "add"
        progress(f"season length {period}" + ("" if period >= 2 else " (no seasonality found; kept the default)"))
    elif name == "arima":
        progress("choosing the ARIMA order with auto_arima")
        learned["order"] = _arima_order(series)
    elif name in ("gaussian_hmm", "gmm_hmm"):
        progress("choosing the number of hidden states by BIC")
        learned["n_components"] = _hmm_states(name, series, model_info.config,
                                              _int(params, "max_states", 4, 1))
    config = {**dict(model_info.config), **learned, "sktime_model": name}
    # The learned values must be valid defaults for the model (checked as a config.json would be at load).
    algorithm.options.validate(config, source="learned settings", strict=False)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.json").write_text(json.dumps(config, indent=2), "utf-8")
    progress(f"learned {learned or 'nothing new'}")
    return {"learned": learned, "series": len(series)}
