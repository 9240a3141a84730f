"""Round-trip latency over Thrift vs the same work in-process.

    .venv/bin/python bench/bench_rpc.py

Starts a real standalone node (subprocess) and measures: showModels over Thrift vs listing the catalog
in-process; a naive_forecaster forecast (512 points, horizon 96) over Thrift vs the plugin's pipeline called
in-process. Prints median and p99 in milliseconds and the ratio (Thrift / in-process).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ainode_core.client import AINodeClient  # noqa: E402
from ainode_core.models.catalog import ModelCatalog  # noqa: E402
from ainode_core.plugins import PluginManager  # noqa: E402
from ainode_core.testing.node import RunningNode, make_home  # noqa: E402


def timed(call, repeats: int) -> list[float]:
    call()  # warm up (first use loads the model)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def main() -> None:
    series = np.sin(np.arange(512) / 10.0) + np.random.default_rng(0).normal(0, 0.1, 512)
    with tempfile.TemporaryDirectory() as root:
        plugins = PluginManager()
        catalog = ModelCatalog(Path(root) / "models", plugins)
        record = catalog.get("naive_forecaster")
        pipeline = catalog.spec_for(record).pipeline_cls(catalog.model_info(record))
        in_process = {
            "showModels": timed(lambda: catalog.list(), 300),
            "forecast naive_forecaster": timed(
                lambda: pipeline.run([{"targets": series}], output_length=96), 100),
        }
        node = RunningNode(make_home(Path(root)))
        try:
            with AINodeClient("127.0.0.1", node.port) as client:
                over_thrift = {
                    "showModels": timed(lambda: client.models(), 300),
                    "forecast naive_forecaster": timed(
                        lambda: client.forecast("naive_forecaster", series, output_length=96), 100),
                }
        finally:
            node.stop()
    print(f"{'call':28} {'in-process p50/p99 ms':>22} {'Thrift p50/p99 ms':>20} {'ratio p50':>10}")
    for name in in_process:
        local, remote = summary(in_process[name]), summary(over_thrift[name])
        print(f"{name:28} {local[0]:10.3f} / {local[1]:8.3f} {remote[0]:9.3f} / {remote[1]:8.3f} "
              f"{remote[0] / local[0]:10.1f}x")


if __name__ == "__main__":
    main()
