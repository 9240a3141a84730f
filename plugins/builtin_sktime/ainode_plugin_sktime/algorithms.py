"""The eight sktime models: the options each accepts, how they map onto the sktime estimator, what input each
needs, and the per-series work (:func:`forecast_series`, :func:`detect_series`) that runs in-process or in a
worker process.

sktime is imported inside the functions that build estimators, never at module import: the node loads every
plugin at start, and importing sktime costs seconds.

Option names follow IoTDB's config.json files where IoTDB has one (``include_mean``, ``season_length``,
``method`` for ARIMA) and sktime's names otherwise; a few aliases accept the other spelling (``sp`` for
ARIMA's ``season_length``, ``with_intercept`` for ``include_mean``, ``seasonal_periods`` for ``sp``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from ainode_core.errors import InferenceInternalError, InvalidInferenceConfigError
from ainode_plugin_sktime.options import (
    Option,
    OptionSet,
    boolean,
    choice,
    int_tuple,
    integer,
    real,
)
from ainode_plugin_sktime.quiet import quiet_estimators

Params = dict[str, Any]


@dataclass(frozen=True)
class Algorithm:
    """One built-in model: its options, its estimator and the input it needs."""

    model_id: str
    task: str
    options: OptionSet
    build: Callable[[Params], Any]  # params → an unfitted sktime estimator
    min_length: Callable[[Params], tuple[int, str]]  # params → (observed values needed, why, for the error)
    cost_ms_per_1k_points: float  # measured fit (+predict) time, for the in-process/parallel choice
    check: Callable[[Params], None] = lambda params: None  # rules across options; raises ValueError
    needs_positive: Callable[[Params], bool] = lambda params: False  # multiplicative models / Box-Cox
    merge: Callable[[Params, Params], Params] = lambda defaults, request: {**defaults, **request}
    # (params, values, steps_skipped, horizon) → the estimator's forecast computed a faster way, or None where
    # there is none for these params; equal to the sktime estimator's, as its tests check
    shortcut: Callable[[Params, np.ndarray, int, int], np.ndarray | None] | None = None

    def resolve(self, defaults: Params, request: Mapping[str, Any]) -> Params:
        """Defaults overridden by the request's options (already-checked defaults, raw request values)."""
        params = self.merge(defaults, self.options.validate(request, source="request", strict=True))
        try:
            self.check(params)
        except ValueError as exc:
            raise InvalidInferenceConfigError(f"Invalid options for model {self.model_id}: {exc}.") from None
        return params


def _present(params: Params, *names: str) -> Params:
    """Only the options that were set: anything unset keeps sktime's own default."""
    return {name: params[name] for name in names if name in params}


# --- arima -------------------------------------------------------------------------------------------------

# pmdarima always estimates by exact maximum likelihood (statsmodels' state-space SARIMAX, started from
# conditional-sum-of-squares-type start values), so IoTDB's "CSS-ML" and "ML" both mean pmdarima's default
# optimiser; scipy optimiser names can be given directly. Pure "CSS" has no pmdarima equivalent.
_ARIMA_OPTIMISERS = ("newton", "nm", "bfgs", "lbfgs", "powell", "cg", "ncg", "basinhopping")
_ARIMA_METHODS = {"CSS-ML": "lbfgs", "ML": "lbfgs", **{name: name for name in _ARIMA_OPTIMISERS}}

ARIMA_OPTIONS = OptionSet("arima", [
    Option("order", int_tuple(3), "(p, d, q)"),
    Option("seasonal_order", int_tuple(3, 4), "(P, D, Q) or (P, D, Q, s)"),
    Option("season_length", integer(1), "the season length s, an integer >= 1"),
    Option("include_mean", boolean, "true or false"),
    Option("method", choice(*_ARIMA_METHODS), "CSS-ML, ML or a scipy optimiser name"),
    Option("maxiter", integer(1), "an integer >= 1"),
    Option("trend", choice(None, "n", "c", "t", "ct"), "none, n, c, t or ct"),
    Option("enforce_stationarity", boolean, "true or false"),
    Option("enforce_invertibility", boolean, "true or false"),
], aliases={"sp": "season_length", "with_intercept": "include_mean"})


def _arima_seasonal(params: Params) -> tuple[int, int, int, int]:
    seasonal = params.get("seasonal_order", (0, 0, 0))
    s = seasonal[3] if len(seasonal) == 4 else params.get("season_length", 1)
    if not any(seasonal[:3]):
        return (0, 0, 0, 0)  # no seasonal part: pmdarima's own spelling of "none"
    return (*seasonal[:3], s)


def _arima_check(params: Params) -> None:
    seasonal = params.get("seasonal_order", (0, 0, 0))
    if len(seasonal) == 4 and "season_length" in params and seasonal[3] != params["season_length"]:
        raise ValueError(f"seasonal_order {seasonal} says s={seasonal[3]} but season_length/sp is "
                         f"{params['season_length']}; give the season length once")
    if any(seasonal[:3]) and _arima_seasonal(params)[3] < 2:
        raise ValueError(f"a seasonal part {tuple(seasonal[:3])} needs a season length >= 2 "
                         "(set sp / season_length, or seasonal_order=(P,D,Q,s))")


def _arima_merge(defaults: Params, request: Params) -> Params:
    """A 4-tuple seasonal_order in the request brings its own s, replacing the default season_length."""
    merged = {**defaults, **request}
    if len(request.get("seasonal_order", ())) == 4 and "season_length" not in request:
        merged["season_length"] = request["seasonal_order"][3]
    return merged


def _arima_build(params: Params) -> Any:
    from sktime.forecasting.arima import ARIMA

    kwargs = _present(params, "order", "maxiter", "trend", "enforce_stationarity", "enforce_invertibility")
    if "include_mean" in params:
        kwargs["with_intercept"] = params["include_mean"]
    if "method" in params:
        kwargs["method"] = _ARIMA_METHODS[params["method"]]
    return ARIMA(seasonal_order=_arima_seasonal(params), suppress_warnings=True, **kwargs)


def arima_without_sktime(params: Params, values: np.ndarray, steps_skipped: int, horizon: int) -> np.ndarray:
    """The forecast of sktime's ARIMA from the pmdarima model it wraps, fitted and asked directly: the same
    model and settings (sktime builds it), without sktime's checks and pandas conversions, which cost about a
    fifth of a 512-point fit (69 -> 55 ms)."""
    model = _arima_build(params)._instantiate_model()  # pinned sktime 1.2.0: the pmdarima ARIMA its fit makes
    model.fit(values)
    return np.asarray(model.predict(n_periods=steps_skipped + horizon), dtype=np.float64)[steps_skipped:]


def _arima_min_length(params: Params) -> tuple[int, str]:
    p, d, q = params.get("order", (1, 0, 0))
    big_p, big_d, big_q, s = _arima_seasonal(params)
    needed = max(3, p + d + q + s * (big_p + big_d + big_q) + 2)
    return needed, f"arima with order {(p, d, q)} and seasonal order {(big_p, big_d, big_q, s)} needs at least " \
                   f"{needed} values"


# --- exponential smoothing / holt-winters ------------------------------------------------------------------

def _es_options(model_id: str) -> OptionSet:
    component = choice(None, "add", "mul", synonyms={"additive": "add", "multiplicative": "mul"})
    unit = real(0.0, 1.0, optional=True)
    return OptionSet(model_id, [
        Option("trend", component, "none, add or mul"),
        Option("damped_trend", boolean, "true or false"),
        Option("seasonal", component, "none, add or mul"),
        Option("sp", integer(1), "the season length, an integer >= 1"),
        Option("initialization_method", choice("estimated", "heuristic", "legacy-heuristic"),
               "estimated, heuristic or legacy-heuristic"),
        Option("use_boxcox", boolean, "true or false"),
        Option("smoothing_level", unit, "a number in [0, 1]"),
        Option("smoothing_trend", unit, "a number in [0, 1]"),
        Option("smoothing_seasonal", unit, "a number in [0, 1]"),
        Option("damping_trend", unit, "a number in [0, 1]"),
        Option("optimized", boolean, "true or false"),
        Option("remove_bias", boolean, "true or false"),
        Option("use_brute", boolean, "true or false"),
    ], aliases={"seasonal_periods": "sp", "season_length": "sp"})


def _es_check(params: Params) -> None:
    if params.get("damped_trend") and params.get("trend") is None:
        raise ValueError("damped_trend=true needs a trend (trend=add or trend=mul)")
    if params.get("seasonal") is not None and params.get("sp", 1) < 2:
        raise ValueError(f"seasonal={params['seasonal']} needs a season length sp >= 2")


def _es_build(params: Params) -> Any:
    from sktime.forecasting.exp_smoothing import ExponentialSmoothing

    return ExponentialSmoothing(**params)  # option names are sktime's parameter names


def _es_min_length(params: Params) -> tuple[int, str]:
    if params.get("seasonal") is not None:
        sp = params.get("sp", 1)
        return 2 * sp, f"{params['seasonal']} seasonality with sp={sp} needs at least two full seasons " \
                       f"({2 * sp} values)"
    return 2, "exponential smoothing needs at least 2 values"


def _es_needs_positive(params: Params) -> bool:
    return "mul" in (params.get("trend"), params.get("seasonal")) or bool(params.get("use_boxcox"))


# --- naive --------------------------------------------------------------------------------------------------

NAIVE_OPTIONS = OptionSet("naive_forecaster", [
    Option("strategy", choice("last", "mean", "drift"), "last, mean or drift"),
    Option("sp", integer(1), "the season length, an integer >= 1"),
    Option("window_length", integer(1, optional=True), "an integer >= 1 or none"),
], aliases={"season_length": "sp"})


def _naive_check(params: Params) -> None:
    if params.get("strategy") == "drift" and params.get("sp", 1) != 1:
        raise ValueError("strategy=drift works without seasonality; use sp=1 or strategy last/mean")


def _naive_build(params: Params) -> Any:
    from sktime.forecasting.naive import NaiveForecaster

    return NaiveForecaster(**params)


def naive_closed_form(params: Params, values: np.ndarray, steps_skipped: int, horizon: int) -> np.ndarray | None:
    """What sktime's NaiveForecaster predicts, computed directly (microseconds instead of ~10 ms of pandas):
    ``last`` (any ``sp``) repeats the last value or the last season; ``mean`` and ``drift`` (``sp`` 1) use the
    last ``window_length`` values. None for the rest (``mean`` with seasons), which sktime computes.
    Equality with sktime is tested over random series, options and horizons."""
    strategy, sp, window = params.get("strategy", "last"), int(params.get("sp", 1)), params.get("window_length")
    steps = np.arange(steps_skipped + 1, steps_skipped + horizon + 1)
    if strategy == "last":
        if sp == 1:
            return np.full(horizon, values[-1], dtype=np.float64)
        if len(values) < sp:
            return None
        return np.asarray(values[len(values) - sp + (steps - 1) % sp], dtype=np.float64)
    if sp != 1:
        return None
    recent = values if window is None else values[-int(window):]
    if strategy == "mean":
        return np.full(horizon, recent.mean(), dtype=np.float64)
    if strategy == "drift" and len(recent) >= 2:
        return recent[-1] + (recent[-1] - recent[0]) / (len(recent) - 1) * steps.astype(np.float64)
    return None


def _naive_min_length(params: Params) -> tuple[int, str]:
    window = params.get("window_length") or 1
    if params.get("strategy") == "drift":
        needed = max(2, window)
        return needed, f"strategy=drift needs at least {needed} values"
    sp = params.get("sp", 1)
    needed = max(sp, window)
    return needed, f"strategy={params.get('strategy', 'last')} with sp={sp} and window_length=" \
                   f"{params.get('window_length')} needs at least {needed} values"


# --- stl ------------------------------------------------------------------------------------------------------

STL_OPTIONS = OptionSet("stl_forecaster", [
    Option("sp", integer(2), "the season length, an integer >= 2"),
    Option("seasonal", integer(3, odd=True), "the seasonal smoother length, an odd integer >= 3"),
    Option("trend", integer(3, odd=True, optional=True), "an odd integer >= 3 or none"),
    Option("low_pass", integer(3, odd=True, optional=True), "an odd integer >= 3 or none"),
    Option("seasonal_deg", integer(0, 1), "0 or 1"),
    Option("trend_deg", integer(0, 1), "0 or 1"),
    Option("low_pass_deg", integer(0, 1), "0 or 1"),
    Option("robust", boolean, "true or false"),
    Option("seasonal_jump", integer(1), "an integer >= 1"),
    Option("trend_jump", integer(1), "an integer >= 1"),
    Option("low_pass_jump", integer(1), "an integer >= 1"),
    Option("inner_iter", integer(1, optional=True), "an integer >= 1 or none"),
    Option("outer_iter", integer(0, optional=True), "an integer >= 0 or none"),
], aliases={"season_length": "sp"})


def _stl_check(params: Params) -> None:
    sp = params.get("sp", 2)
    for name in ("trend", "low_pass"):
        if params.get(name) is not None and params[name] <= sp:
            raise ValueError(f"{name}={params[name]} must be larger than sp={sp}")


def _stl_build(params: Params) -> Any:
    from sktime.forecasting.trend import STLForecaster

    return STLForecaster(**params)


def _stl_min_length(params: Params) -> tuple[int, str]:
    sp = params.get("sp", 2)
    return 2 * sp, f"stl_forecaster with sp={sp} needs at least two full seasons ({2 * sp} values)"


# --- hidden Markov models -----------------------------------------------------------------------------------

def _hmm_options(model_id: str, mixture: bool) -> OptionSet:
    options = [
        Option("n_components", integer(1), "the number of hidden states, an integer >= 1"),
        Option("covariance_type", choice("spherical", "diag", "full", "tied"), "spherical, diag, full or tied"),
        Option("min_covar", real(0.0, open_min=True), "a number > 0"),
        Option("n_iter", integer(1), "an integer >= 1"),
        Option("tol", real(0.0, open_min=True), "a number > 0"),
        Option("algorithm", choice("viterbi", "map"), "viterbi or map"),
        Option("random_state", integer(0, optional=True), "an integer >= 0 or none"),
        Option("implementation", choice("log", "scaling"), "log or scaling"),
    ]
    if mixture:
        options.append(Option("n_mix", integer(1), "mixture components per state, an integer >= 1"))
    return OptionSet(model_id, options)


def _hmm_build(mixture: bool) -> Callable[[Params], Any]:
    def build(params: Params) -> Any:
        from sktime.detection.hmm_learn import GMMHMM, GaussianHMM

        cls = GMMHMM if mixture else GaussianHMM
        return cls(**params)

    return build


def _hmm_min_length(params: Params) -> tuple[int, str]:
    states = params.get("n_components", 1) * params.get("n_mix", 1)
    needed = max(2, states)
    return needed, f"an HMM with {states} hidden state(s)/mixture component(s) needs at least {needed} values"


# --- stray ----------------------------------------------------------------------------------------------------

STRAY_OPTIONS = OptionSet("stray", [
    Option("alpha", real(0.0, 1.0, open_min=True, open_max=True), "a number 0 < alpha < 1"),
    Option("k", integer(1), "the number of neighbours, an integer >= 1"),
    Option("knn_algorithm", choice("auto", "ball_tree", "kd_tree", "brute"), "auto, ball_tree, kd_tree or brute"),
    Option("p", real(0.0, 1.0, open_min=True), "a number 0 < p <= 1"),
    Option("size_threshold", integer(2), "an integer >= 2"),
    Option("outlier_tail", choice("min", "max"), "min or max"),
])


def _stray_build(params: Params) -> Any:
    from sktime.detection.stray import STRAY

    return STRAY(**params)


def _stray_min_length(params: Params) -> tuple[int, str]:
    k = params.get("k", 10)
    return k + 1, f"stray with k={k} compares each value with its {k} nearest neighbours and needs at least " \
                  f"{k + 1} values"


# --- the catalogue ------------------------------------------------------------------------------------------

# cost_ms_per_1k_points: fit + predict(96) of one series on one core (bench/bench_sktime.py machine,
# 512-point series scaled to 1000); only the order of magnitude matters for the in-process/parallel choice.
ALGORITHMS: dict[str, Algorithm] = {
    algorithm.model_id: algorithm
    for algorithm in (
        Algorithm("arima", "forecast", ARIMA_OPTIONS, _arima_build, _arima_min_length, 300.0, check=_arima_check,
                  merge=_arima_merge, shortcut=arima_without_sktime),
        Algorithm("holtwinters", "forecast", _es_options("holtwinters"), _es_build, _es_min_length, 600.0,
                  check=_es_check, needs_positive=_es_needs_positive),
        Algorithm("exponential_smoothing", "forecast", _es_options("exponential_smoothing"), _es_build,
                  _es_min_length, 16.0, check=_es_check, needs_positive=_es_needs_positive),
        Algorithm("naive_forecaster", "forecast", NAIVE_OPTIONS, _naive_build, _naive_min_length, 0.05,
                  check=_naive_check, shortcut=naive_closed_form),
        Algorithm("stl_forecaster", "forecast", STL_OPTIONS, _stl_build, _stl_min_length, 26.0, check=_stl_check),
        Algorithm("gaussian_hmm", "anomaly_detection", _hmm_options("gaussian_hmm", False), _hmm_build(False),
                  _hmm_min_length, 100.0),
        Algorithm("gmm_hmm", "anomaly_detection", _hmm_options("gmm_hmm", True), _hmm_build(True),
                  _hmm_min_length, 100.0),
        Algorithm("stray", "anomaly_detection", STRAY_OPTIONS, _stray_build, _stray_min_length, 200.0),
    )
}


# --- per-series work (runs in the calling process or in a worker process) -----------------------------------

# Errors an estimator raises when the data does not suit it (too short, degenerate, singular matrices).
_DATA_ERRORS = (ValueError, ArithmeticError, IndexError, NotImplementedError, np.linalg.LinAlgError)


def _fit_error(model_id: str, where: str, values: np.ndarray, exc: BaseException) -> Exception:
    if isinstance(exc, _DATA_ERRORS):
        hint = " The series is constant, which this model cannot fit." if np.ptp(values) == 0 else ""
        return InvalidInferenceConfigError(
            f"Model {model_id} cannot fit {where} ({len(values)} values): {type(exc).__name__}: {exc}.{hint} "
            "Check the model's options against the data (length, season length, positivity).")
    return InferenceInternalError(f"Model {model_id} failed on {where}: {type(exc).__name__}: {exc}")


def forecast_series(model_id: str, params: Params, values: np.ndarray, steps_skipped: int, horizon: int,
                    where: str) -> np.ndarray:
    """Fit on ``values`` and forecast steps ``steps_skipped + 1 .. steps_skipped + horizon`` after its end."""
    import pandas as pd

    algorithm = ALGORITHMS[model_id]
    fh = np.arange(steps_skipped + 1, steps_skipped + horizon + 1)
    with quiet_estimators():
        try:
            prediction = algorithm.shortcut(params, values, steps_skipped, horizon) if algorithm.shortcut else None
            if prediction is None:
                prediction = algorithm.build(params).fit(pd.Series(values)).predict(fh=fh)
        except Exception as exc:
            raise _fit_error(model_id, where, values, exc) from exc
    result = np.asarray(prediction, dtype=np.float64).reshape(-1)
    if not np.isfinite(result).all():
        raise InvalidInferenceConfigError(
            f"Model {model_id} produced non-finite forecasts for {where} ({len(values)} values); "
            "the options do not suit this series (e.g. sp or window_length longer than the data).")
    return result


def detect_series(model_id: str, params: Params, values: np.ndarray, where: str) -> np.ndarray:
    """One label per value: the hidden state (HMMs) or a 0/1 outlier flag (stray)."""
    algorithm = ALGORITHMS[model_id]
    column = values.reshape(-1, 1)
    with quiet_estimators():
        try:
            estimator = algorithm.build(params)
            if model_id == "stray":  # a transformer in sktime 1.2.0: fit_transform gives the flags
                labels = estimator.fit_transform(column)
            else:  # a detector: transform gives the dense per-row state labels
                labels = estimator.fit(column).transform(column)
        except Exception as exc:
            raise _fit_error(model_id, where, values, exc) from exc
    return np.asarray(labels, dtype=np.float64).reshape(-1)
