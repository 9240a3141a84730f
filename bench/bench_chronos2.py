"""Chronos-2 throughput on CPU: ainode's pipeline, and a running node over Thrift, vs chronos-forecasting's
Chronos2Pipeline.predict.

A real-size (amazon/chronos-2 config, ~120M parameters) random-weight model is saved in the official format
(config.json + model.safetensors) to a temp dir; both in-process sides load it from there. Each case forecasts
N univariate series of context 512, horizon 64 (medians), and reports series/second and the ratio
ours/direct (1.00 = no overhead).

Served table: the same files are placed in a temp node home's ``builtin/chronos2/`` and a node is started
with ``RunningNode`` (default settings). The N series go over Thrift (a) as ONE forecast request with N
columns — note that Chronos-2 forecasts the columns of one request JOINTLY as one group (group attention
across them), so this is not the same computation as N univariate forecasts — and (b) as N univariate
requests from ``--clients`` concurrent threads (one ``AINodeClient`` each), which the node batches into
model calls of up to ``ain_inference_max_batch_size`` (128) requests. The direct side is measured again,
alternating with the served calls, so both see the same machine load.

    .venv/bin/python bench/bench_chronos2.py [--series 1,32,256] [--repeats 3] [--threads N] [--clients 32]
                                             [--no-served]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
from chronos.chronos2 import Chronos2CoreConfig, Chronos2Model, Chronos2Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ainode_core.client import AINodeClient  # noqa: E402
from ainode_core.pipelines.base import ModelInfo  # noqa: E402
from ainode_core.plugins import PluginManager  # noqa: E402
from ainode_core.testing.node import RunningNode, make_home  # noqa: E402

CONTEXT = 512
HORIZON = 64

# amazon/chronos-2's config.json values (huggingface.co/amazon/chronos-2).
OFFICIAL_CORE = dict(d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12, dropout_rate=0.1,
                     layer_norm_epsilon=1e-6, feed_forward_proj="relu", rope_theta=10000.0, vocab_size=2,
                     reg_token_id=1)
OFFICIAL_FORECASTING = dict(
    context_length=8192, input_patch_size=16, input_patch_stride=16, output_patch_size=16, max_output_patches=64,
    quantiles=[0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
               0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99],
    use_reg_token=True, use_arcsinh=True, time_encoding_scale=8192,
)


def save_real_size_model(folder: Path) -> int:
    config = Chronos2CoreConfig(**OFFICIAL_CORE, chronos_config=dict(OFFICIAL_FORECASTING))
    config.architectures = ["Chronos2Model"]
    torch.manual_seed(0)
    model = Chronos2Model(config)
    model.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def seconds_per_call(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds per call of each side. Sides alternate call by call so that load from other
    processes on a shared machine hits both alike."""
    for call in calls.values():
        call()  # warm-up: first-call allocations are not what a resident model pays
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            timings[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in timings.items()}


class Served:
    """Calls to a running node: N series as one N-column request, or as N requests from concurrent clients."""

    def __init__(self, port: int, clients: int) -> None:
        self.connections = [AINodeClient("127.0.0.1", port) for _ in range(clients)]
        self.pool = ThreadPoolExecutor(clients)

    def one_request(self, series: list[np.ndarray]) -> None:
        frame = pd.DataFrame(np.stack(series, axis=1), columns=[f"s{i}" for i in range(len(series))])
        result = self.connections[0].forecast("chronos2", frame, output_length=HORIZON)
        assert result.shape == (HORIZON, len(series))

    def concurrent(self, series: list[np.ndarray]) -> None:
        clients = min(len(self.connections), len(series))

        def send(index: int) -> None:
            for values in series[index::clients]:
                self.connections[index].forecast("chronos2", values, output_length=HORIZON)

        list(self.pool.map(send, range(clients)))

    def close(self) -> None:
        self.pool.shutdown()
        for client in self.connections:
            client.close()


def served_table(folder: Path, direct: Chronos2Pipeline, all_series: dict[int, list[np.ndarray]], repeats: int,
                 clients: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-chronos2-node-") as root:
        home = make_home(Path(root), "ain_inference_timeout_in_ms=900000\n")  # 256 series on a busy 2-CPU box
        shutil.copytree(folder, home / "data/ainode/models/builtin/chronos2")
        node = RunningNode(home)
        served = Served(node.port, clients)
        try:
            served.one_request(all_series[min(all_series)])  # the first request loads the model: not timed
            print(f"\nserved over Thrift (node in a temp home, default settings, {clients} concurrent clients at "
                  "most); ratio = served / direct")
            print(f"{'series':>7} {'direct series/s':>16} {'1 request/s':>12} {'ratio':>6} {'N clients/s':>12} "
                  f"{'ratio':>6}")
            for n_series, series in all_series.items():
                timing = seconds_per_call(
                    {
                        "direct": lambda: direct.predict(series, prediction_length=HORIZON,
                                                         batch_size=max(256, n_series)),
                        "one": lambda: served.one_request(series),
                        "many": lambda: served.concurrent(series),
                    },
                    repeats * max(1, min(10, 32 // n_series)),
                )
                direct_rate, one_rate, many_rate = (n_series / timing[k] for k in ("direct", "one", "many"))
                print(f"{n_series:>7} {direct_rate:>16.1f} {one_rate:>12.1f} {one_rate / direct_rate:>6.2f} "
                      f"{many_rate:>12.1f} {many_rate / direct_rate:>6.2f}")
        finally:
            served.close()
            node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="1,32,256", help="comma-separated batch sizes (series per call)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients in the served (b) column")
    parser.add_argument("--no-served", action="store_true", help="skip the served-over-Thrift table")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(prefix="bench-chronos2-") as tmp:
        folder = Path(tmp) / "chronos2"
        n_params = save_real_size_model(folder)
        print(f"model: random weights, amazon/chronos-2 config, {n_params / 1e6:.1f}M parameters "
              f"({n_params * 4 / 1e6:.0f} MB float32); torch threads {torch.get_num_threads()}")

        spec = PluginManager(strict=True).model_type("t5").record
        ours = spec.pipeline_cls(ModelInfo(model_id="chronos2", model_type="t5", path=folder), device="cpu")
        direct = Chronos2Pipeline.from_pretrained(folder)

        rng = np.random.default_rng(0)
        print(f"context {CONTEXT}, horizon {HORIZON}; median of >= {args.repeats} alternating runs after a warm-up; "
              "last column: throughput ours / direct (1.00 = no overhead)")
        print(f"{'series':>7} {'ours s/call':>12} {'direct s/call':>14} {'ours series/s':>14} "
              f"{'direct series/s':>16} {'ours/direct':>12}")
        all_series: dict[int, list[np.ndarray]] = {}
        for n_series in (int(n) for n in args.series.split(",")):
            series = [10.0 + np.cumsum(rng.normal(size=CONTEXT)) for _ in range(n_series)]
            all_series[n_series] = series
            inputs = [{"targets": s} for s in series]
            # small batches are quick and noisier: repeat them more often
            repeats = args.repeats * max(1, min(10, 32 // n_series))
            timing = seconds_per_call(
                {
                    "ours": lambda: ours.run(inputs, output_length=HORIZON),
                    "direct": lambda: direct.predict(series, prediction_length=HORIZON,
                                                     batch_size=max(256, n_series)),
                },
                repeats,
            )
            ours_s, direct_s = timing["ours"], timing["direct"]
            print(f"{n_series:>7} {ours_s:>12.4f} {direct_s:>14.4f} {n_series / ours_s:>14.1f} "
                  f"{n_series / direct_s:>16.1f} {direct_s / ours_s:>12.3f}")

        if not args.no_served:
            del ours  # one resident copy in this process is enough while the node holds its own
            served_table(folder, direct, all_series, args.repeats, args.clients)


if __name__ == "__main__":
    main()
