"""Chronos-2 throughput on CPU: ainode's pipeline vs chronos-forecasting's Chronos2Pipeline.predict.

A real-size (amazon/chronos-2 config, ~120M parameters) random-weight model is saved in the official format
(config.json + model.safetensors) to a temp dir; both sides load it from there. Each case forecasts N
univariate series of context 512, horizon 64 (medians), and reports series/second and the ratio
ours/direct (1.00 = no overhead; the lead adds a through-Thrift column later).

    .venv/bin/python bench/bench_chronos2.py [--series 1,32,256] [--repeats 3] [--threads N]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from chronos.chronos2 import Chronos2CoreConfig, Chronos2Model, Chronos2Pipeline

from ainode_core.pipelines.base import ModelInfo
from ainode_core.plugins import PluginManager

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="1,32,256", help="comma-separated batch sizes (series per call)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
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
        for n_series in (int(n) for n in args.series.split(",")):
            series = [10.0 + np.cumsum(rng.normal(size=CONTEXT)) for _ in range(n_series)]
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


if __name__ == "__main__":
    main()
