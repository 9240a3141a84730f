"""Throughput of the sktime plugin's pipeline (in-process or worker processes, chosen per call) against a
plain sequential sktime loop in one process.

    .venv/bin/python bench/bench_sktime.py [--models naive_forecaster,exponential_smoothing,arima]
                                           [--series 1,16,256] [--length 512] [--horizon 96]

Prints, per model and number of series: series/s of the plain loop (as a user would write it, and with BLAS
limited to one thread), series/s of the pipeline (default ``AINODE_SKTIME_PARALLEL=auto``), the ratios, and
which path the pipeline chose. Then the crossover table
behind ``parallel.PARALLEL_CALL_OVERHEAD_MS``: naive_forecaster forced in-process vs forced to the (warm) pool for
small batches, and the cold start of the pool.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import time
import warnings

import numpy as np

from ainode_core.pipelines import ModelInfo
from ainode_core.plugins import PluginManager
from ainode_plugin_sktime import parallel


def series_batch(count: int, length: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return [50 + 0.02 * t + 5 * np.sin(2 * np.pi * t / 24 + rng.uniform(0, 6)) + rng.normal(0, 1, length)
            for _ in range(count)]


def plain_estimator(model_id: str):
    """The same estimator and defaults the pipeline uses, built directly with sktime."""
    from sktime.forecasting.arima import ARIMA
    from sktime.forecasting.exp_smoothing import ExponentialSmoothing
    from sktime.forecasting.naive import NaiveForecaster

    return {
        "naive_forecaster": lambda: NaiveForecaster(strategy="last", sp=1),
        "exponential_smoothing": lambda: ExponentialSmoothing(damped_trend=False, initialization_method="estimated"),
        "arima": lambda: ARIMA(order=(1, 0, 0), seasonal_order=(0, 0, 0, 0), with_intercept=True, method="lbfgs",
                               suppress_warnings=True),
    }[model_id]


_controller = None


def plain_loop(model_id: str, batch: list[np.ndarray], horizon: int, blas_threads: int | None = None) -> float:
    """A plain sequential loop; ``blas_threads=1`` shows how much of the gain is only BLAS oversubscription."""
    global _controller
    import pandas as pd
    from threadpoolctl import ThreadpoolController

    make = plain_estimator(model_id)
    fh = np.arange(1, horizon + 1)
    if _controller is None:
        _controller = ThreadpoolController()  # scanning the loaded libraries takes ~1 ms: once, untimed
    limit = _controller.limit(limits=blas_threads, user_api="blas") if blas_threads else contextlib.nullcontext()
    started = time.perf_counter()
    with warnings.catch_warnings(), limit:
        warnings.simplefilter("ignore")
        for values in batch:
            make().fit(pd.Series(values)).predict(fh=fh)
    return time.perf_counter() - started


def pipeline_for(model_id: str):
    manager = PluginManager()
    spec = manager.model_type("sktime").record
    builtin = next(b for b in spec.builtin_models if b.model_id == model_id)
    return spec.pipeline_cls(ModelInfo(model_id, "sktime", task=builtin.task, config=dict(builtin.config)))


def pipeline_run(pipeline, batch: list[np.ndarray], horizon: int) -> float:
    started = time.perf_counter()
    pipeline.run([{"targets": values} for values in batch], output_length=horizon)
    return time.perf_counter() - started


def best_of(repeats: int, run) -> float:
    return min(run() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="naive_forecaster,exponential_smoothing,arima")
    parser.add_argument("--series", default="1,16,256")
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--horizon", type=int, default=96)
    args = parser.parse_args()

    workers = parallel.n_workers()
    print(f"CPUs for workers: {workers}; series of {args.length} points, horizon {args.horizon}; "
          f"load average {os.getloadavg()[0]:.2f} (other processes skew every figure)")
    started = time.perf_counter()
    parallel.warm_up()
    print(f"pool cold start (spawn {workers} workers + import sktime): {(time.perf_counter() - started) * 1000:.0f} ms")

    print(f"\n{'model':<22} {'series':>6} {'plain loop/s':>13} {'(1 BLAS thr)':>13} {'pipeline/s':>11} "
          f"{'ratio':>6} {'(vs 1 thr)':>10}  path")
    for model_id in args.models.split(","):
        pipeline = pipeline_for(model_id)
        for count in (int(n) for n in args.series.split(",")):
            batch = series_batch(count, args.length)
            work_ms = count * pipeline.algorithm.cost_ms_per_1k_points * args.length / 1000
            repeats = 10 if work_ms < 100 else 3 if work_ms < 3000 else 1
            plain = best_of(repeats, lambda: plain_loop(model_id, batch, args.horizon))
            plain_1 = best_of(repeats, lambda: plain_loop(model_id, batch, args.horizon, blas_threads=1))
            ours = best_of(repeats, lambda: pipeline_run(pipeline, batch, args.horizon))
            estimated = pipeline.algorithm.cost_ms_per_1k_points * count * args.length / 1000
            path = "workers" if parallel.choose_parallel(count, estimated) else "in-process"
            print(f"{model_id:<22} {count:>6} {count / plain:>13.1f} {count / plain_1:>13.1f} {count / ours:>11.1f} "
                  f"{plain / ours:>6.2f} {plain_1 / ours:>10.2f}  {path}")

    print("\ncrossover (naive_forecaster, warm pool): in-process vs workers, ms per call")
    pipeline = pipeline_for("naive_forecaster")
    for count in (2, 4, 8, 16, 32):
        batch = series_batch(count, args.length)
        timings = {}
        for mode in ("never", "always"):
            os.environ["AINODE_SKTIME_PARALLEL"] = mode
            timings[mode] = best_of(5, lambda: pipeline_run(pipeline, batch, args.horizon)) * 1000
        os.environ.pop("AINODE_SKTIME_PARALLEL")
        estimated = pipeline.algorithm.cost_ms_per_1k_points * count * args.length / 1000
        print(f"  {count:>3} series (estimated {estimated:6.1f} ms): in-process {timings['never']:7.1f} ms, "
              f"workers {timings['always']:7.1f} ms")


if __name__ == "__main__":
    main()
