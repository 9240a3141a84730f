"""Serving throughput and latency: the node over Thrift vs the bare model in-process.

    .venv/bin/python bench/serve.py [--requests 128]

Models: `naive_forecaster` (sktime) and a small random-weight Timer-XL (4 layers, hidden 256) placed in the
node's builtin/timer_xl/ folder. For 1, 8, 32 and 128 concurrent clients sending `--requests` forecasts in
total (context 512, horizon 96), it prints: served throughput; the bare pipeline called in-process with all the
work in ONE batch (the ideal; ratio = how close serving gets to it); the bare pipeline called once per
request, sequentially (ratio = what batching buys); and p50/p99 latency at 1 client vs one bare call.

``--isolation thread,process`` repeats the served columns for a node whose instances run in the node's
threads (the default) and one whose instances each run in their own process (``ain_inference_isolation``):
the price of crash isolation, measured.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ainode_core.client import AINodeClient  # noqa: E402
from ainode_core.models.catalog import ModelCatalog  # noqa: E402
from ainode_core.plugins import PluginManager  # noqa: E402
from ainode_core.testing.node import RunningNode, make_home  # noqa: E402

CONTEXT, HORIZON = 512, 96


def make_timer_checkpoint(folder: Path) -> None:
    import torch
    from ainode_plugin_timer.timer.configuration import TimerConfig
    from ainode_plugin_timer.timer.modeling import TimerForPrediction

    torch.manual_seed(0)
    config = TimerConfig(hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4)
    TimerForPrediction(config).save_pretrained(folder, safe_serialization=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def served(port: int, model: str, series: list[np.ndarray], clients: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    def worker(chunk: list[np.ndarray]) -> None:
        with AINodeClient("127.0.0.1", port) as client:
            for values in chunk:
                started = time.perf_counter()
                client.forecast(model, values, output_length=HORIZON)
                latencies.append(time.perf_counter() - started)

    chunks = [series[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, chunks))
    return len(series) / (time.perf_counter() - started), latencies


def bare_figures(home: Path, model: str, series: list[np.ndarray]) -> tuple[float, float, list[float]]:
    """(ideal one-batch throughput, sequential throughput, single-call latencies) of the bare pipeline."""
    catalog = ModelCatalog(home / "data/ainode/models", PluginManager())
    record = catalog.get(model)
    pipeline = catalog.spec_for(record).pipeline_cls(catalog.model_info(record), device="cpu")
    inputs = [{"targets": s} for s in series]
    pipeline.run(inputs[:2], output_length=HORIZON)  # warm up
    started = time.perf_counter()
    pipeline.run(inputs, output_length=HORIZON)
    ideal = len(inputs) / (time.perf_counter() - started)
    single: list[float] = []
    for item in inputs:
        started = time.perf_counter()
        pipeline.run([item], output_length=HORIZON)
        single.append(time.perf_counter() - started)
    return ideal, len(inputs) / sum(single), single


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=128)
    parser.add_argument("--isolation", default="thread", help="comma-separated: thread, process")
    parser.add_argument("--models", default="naive_forecaster,timer_xl")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    series = [np.sin(np.arange(CONTEXT) / 8 + i) + rng.normal(0, 0.1, CONTEXT) for i in range(args.requests)]
    with tempfile.TemporaryDirectory() as root:
        homes = {}
        for isolation in args.isolation.split(","):
            home = make_home(Path(root), f"ain_inference_isolation={isolation}\n", name=isolation)
            make_timer_checkpoint(home / "data/ainode/models/builtin/timer_xl")
            homes[isolation] = home
        for model in args.models.split(","):
            ideal, sequential, single = bare_figures(next(iter(homes.values())), model, series)
            print(f"\n{model}: {args.requests} forecasts, context {CONTEXT}, horizon {HORIZON}")
            print(f"  bare, one batch (ideal): {ideal:8.1f} series/s;  bare, one call each: {sequential:8.1f} series/s;"
                  f"  bare call p50 {statistics.median(single) * 1000:.1f} ms, p99 {percentile(single, 0.99) * 1000:.1f} ms")
            print(f"  {'isolation':>9} {'clients':>7} {'served/s':>9} {'vs ideal':>9} {'vs sequential':>14}")
            for isolation, home in homes.items():
                node = RunningNode(home)
                try:
                    served(node.port, model, series[:4], 1)  # warm up the node's instance
                    for clients in (1, 8, 32, 128):
                        throughput, latencies = served(node.port, model, series, clients)
                        print(f"  {isolation:>9} {clients:7d} {throughput:9.1f} {throughput / ideal:9.2f} "
                              f"{throughput / sequential:14.2f}")
                        if clients == 1:
                            one_client = latencies
                    print(f"  {isolation:>9} latency at 1 client: p50 {statistics.median(one_client) * 1000:.1f} ms, "
                          f"p99 {percentile(one_client, 0.99) * 1000:.1f} ms")
                finally:
                    node.stop()


if __name__ == "__main__":
    main()
