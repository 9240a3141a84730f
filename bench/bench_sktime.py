"""Throughput of the sktime plugin, in-process and served by a running node over Thrift, against a plain
sequential sktime loop in one process.

    .venv/bin/python bench/bench_sktime.py [--models naive_forecaster,exponential_smoothing,arima]
                                           [--series 1,16,256] [--length 512] [--horizon 96] [--clients 32]

Prints, per model and number of series: series/s of the plain loop (as a user would write it, and with BLAS
limited to one thread), series/s of the pipeline (default ``AINODE_SKTIME_PARALLEL=auto``), the ratios, and
which path the pipeline chose. Then the served table: a node started with ``RunningNode`` in a temp home
(default settings, default parallel mode) answering the same series over Thrift (a) as ONE forecast request
whose TsBlock has one column per series, and (b) as one request per series from ``--clients`` concurrent
threads, one ``AINodeClient`` each; series/s and the ratio to the plain loop. Then the crossover table
behind ``parallel.PARALLEL_CALL_OVERHEAD_MS``: naive_forecaster forced in-process vs forced to the (warm) pool for
small batches, and the cold start of the pool.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ainode_core.client import AINodeClient  # noqa: E402
from ainode_core.pipelines import ModelInfo  # noqa: E402
from ainode_core.plugins import PluginManager  # noqa: E402
from ainode_core.testing.node import RunningNode, make_home  # noqa: E402
from ainode_plugin_sktime import parallel  # noqa: E402


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


def served_one_request(port: int, model_id: str, batch: list[np.ndarray], horizon: int) -> float:
    """All series as the columns of ONE forecast request (a table-model FORECAST over many columns)."""
    frame = pd.DataFrame(np.stack(batch, axis=1), columns=[f"s{i}" for i in range(len(batch))])
    with AINodeClient("127.0.0.1", port) as client:
        started = time.perf_counter()
        result = client.forecast(model_id, frame, output_length=horizon)
        elapsed = time.perf_counter() - started
    assert result.shape == (horizon, len(batch))
    return elapsed


def served_concurrent(port: int, model_id: str, batch: list[np.ndarray], horizon: int, clients: int) -> float:
    """One request per series from ``clients`` threads, each with its own connection (opened before timing)."""
    clients = min(clients, len(batch))
    connections = [AINodeClient("127.0.0.1", port) for _ in range(clients)]
    chunks = [batch[i::clients] for i in range(clients)]

    def send(job: tuple[AINodeClient, list[np.ndarray]]) -> None:
        client, chunk = job
        for values in chunk:
            client.forecast(model_id, values, output_length=horizon)

    try:
        with ThreadPoolExecutor(clients) as pool:
            started = time.perf_counter()
            list(pool.map(send, zip(connections, chunks)))
            return time.perf_counter() - started
    finally:
        for client in connections:
            client.close()


def served_table(args: argparse.Namespace, plain_rates: dict[tuple[str, int], float]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sktime-") as root:
        # a long deadline: 256 ARIMA fits on a busy 2-CPU machine can take longer than the default 60 s
        node = RunningNode(make_home(Path(root), "ain_inference_timeout_in_ms=900000\n"))
        try:
            port = node.port
            # Warm up: each model's instance, and the node's worker pool (started in the background by the
            # first large call while cold); a served figure should not include a one-off start.
            warm = series_batch(32, args.length, seed=1)
            for model_id in args.models.split(","):
                served_one_request(port, model_id, warm[:2], args.horizon)
            served_one_request(port, "naive_forecaster", warm, args.horizon)
            time.sleep(parallel.COLD_START_MS / 1000 * 3)
            served_one_request(port, "naive_forecaster", warm, args.horizon)

            print(f"\nserved over Thrift (node in a temp home, default settings; {args.clients} concurrent clients "
                  "at most); ratio = served / plain loop")
            print(f"{'model':<22} {'series':>6} {'plain loop/s':>13} {'1 request/s':>12} {'ratio':>6} "
                  f"{'N clients/s':>12} {'ratio':>6}")
            for model_id in args.models.split(","):
                cost = cost_ms_per_1k(model_id)
                for count in (int(n) for n in args.series.split(",")):
                    batch = series_batch(count, args.length)
                    work_ms = count * cost * args.length / 1000
                    repeats = 10 if work_ms < 100 else 3 if work_ms < 3000 else 1
                    one = best_of(repeats, lambda: served_one_request(port, model_id, batch, args.horizon))
                    many = best_of(repeats, lambda: served_concurrent(port, model_id, batch, args.horizon,
                                                                      args.clients))
                    plain = plain_rates[(model_id, count)]
                    print(f"{model_id:<22} {count:>6} {plain:>13.1f} {count / one:>12.1f} {count / one / plain:>6.2f} "
                          f"{count / many:>12.1f} {count / many / plain:>6.2f}")
        finally:
            node.stop()


def cost_ms_per_1k(model_id: str) -> float:
    from ainode_plugin_sktime.algorithms import ALGORITHMS

    return ALGORITHMS[model_id].cost_ms_per_1k_points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="naive_forecaster,exponential_smoothing,arima")
    parser.add_argument("--series", default="1,16,256")
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--horizon", type=int, default=96)
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients in the served (b) column")
    parser.add_argument("--no-served", action="store_true", help="skip the served-over-Thrift table")
    args = parser.parse_args()

    workers = parallel.n_workers()
    print(f"CPUs for workers: {workers}; series of {args.length} points, horizon {args.horizon}; "
          f"load average {os.getloadavg()[0]:.2f} (other processes skew every figure)")
    started = time.perf_counter()
    parallel.warm_up()
    print(f"pool cold start (spawn {workers} workers + import sktime): {(time.perf_counter() - started) * 1000:.0f} ms")

    print(f"\n{'model':<22} {'series':>6} {'plain loop/s':>13} {'(1 BLAS thr)':>13} {'pipeline/s':>11} "
          f"{'ratio':>6} {'(vs 1 thr)':>10}  path")
    plain_rates: dict[tuple[str, int], float] = {}
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
            plain_rates[(model_id, count)] = count / plain
            print(f"{model_id:<22} {count:>6} {count / plain:>13.1f} {count / plain_1:>13.1f} {count / ours:>11.1f} "
                  f"{plain / ours:>6.2f} {plain_1 / ours:>10.2f}  {path}")

    if not args.no_served:
        served_table(args, plain_rates)

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
