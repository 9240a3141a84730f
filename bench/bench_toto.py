"""Throughput of Toto at its real size: our pipeline against toto-ts' own forecaster, same weights, same input.

A real-size Toto (Toto-Open-Base-1.0's config: 151M parameters) is built with random weights (nothing is
downloaded) and saved in the published format; both sides load that folder:

* ours: ``TotoForecastPipeline.run`` on B univariate inputs (the node's path, batching included);
* toto-ts: ``TotoForecaster.forecast`` (0.2.0) called directly on all B series as one batch, mean mode with the
  KV cache; and, IoTDB 2.0.10's way, one call per series (its ``TotoPipeline`` loops over the inputs).

Both outputs are compared (max |difference| relative to the series' scale). With ``--samples N`` also N
sampled paths per series (toto-ts ``num_samples=N, samples_per_batch=N``; ours ``num_samples=N``).

Needs toto-ts, so run it with the throw-away reference venv of plugins/toto/tests/fixtures/make_golden.py,
from the repository root (the repository's packages are put on the path here)::

    /tmp/totoref/bin/python bench/bench_toto.py [--threads 2] [--lookback 512] [--horizon 96] [--series 1,32,256]

Prints series/s per batch size (best of the repeats, the sides interleaved) and the ratio ours / toto-ts
(> 1: ours is faster).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "plugins" / "toto"):  # the reference venv does not see .venv's editable installs
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from toto.data.util.dataset import MaskedTimeseries  # noqa: E402
from toto.inference.forecaster import TotoForecaster  # noqa: E402
from toto.model.toto import Toto  # noqa: E402

from ainode_core.pipelines.base import ModelInfo  # noqa: E402
from ainode_plugin_toto.pipeline import TotoForecastPipeline  # noqa: E402
from ainode_plugin_toto.testing import save_tiny_toto  # noqa: E402

# Toto-Open-Base-1.0's architecture
REAL_SIZE = dict(embed_dim=768, num_heads=12, num_layers=12, mlp_hidden_dim=3072, spacewise_every_n_layers=12,
                 output_distribution_kwargs={"k_components": 24})


def make_inputs(count: int, length: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    steps = np.arange(length)
    return np.stack([50 + 10 * np.sin(2 * np.pi * steps / 96 + i) + rng.normal(0, 1, length)
                     for i in range(count)]).astype(np.float32)  # [B, L]


def reference_batch(series: np.ndarray) -> MaskedTimeseries:
    values = torch.from_numpy(series)[:, None, :]  # [B, 1, L]
    batch, _, length = values.shape
    return MaskedTimeseries(
        series=values, padding_mask=torch.ones_like(values, dtype=torch.bool),
        id_mask=torch.zeros_like(values, dtype=torch.long),
        timestamp_seconds=torch.arange(length).expand(batch, 1, length),
        time_interval_seconds=torch.ones(batch, 1, dtype=torch.long))


def timed(calls: dict[str, Callable[[], object]], repeats: int) -> tuple[dict[str, float], dict[str, object]]:
    """Best time of each call over ``repeats`` rounds, the calls interleaved within a round: on a shared
    machine the minimum is the least disturbed measurement, and interleaving gives both sides the same load."""
    outputs = {name: call() for name, call in calls.items()}  # warm-up, and the outputs to compare
    best = {name: float("inf") for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lookback", type=int, default=512)
    parser.add_argument("--horizon", type=int, default=96)
    parser.add_argument("--series", default="1,32,256")
    parser.add_argument("--loop-max", type=int, default=32, help="largest B timed one call per series (IoTDB)")
    parser.add_argument("--samples", type=int, default=0, help="also time N sampled paths per series")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    counts = [int(n) for n in args.series.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        folder = save_tiny_toto(Path(tmp) / "toto", seed=1, **REAL_SIZE)
        ours = TotoForecastPipeline(ModelInfo(model_id="toto", model_type="toto", path=folder))
        reference = TotoForecaster(Toto.load_from_checkpoint(str(folder), map_location="cpu").model)
    parameters = sum(p.numel() for p in ours.model.parameters())
    print(f"Toto {parameters / 1e6:.1f}M parameters, lookback {args.lookback}, horizon {args.horizon}, "
          f"{args.threads} thread(s), {ours.model.unembed.weight.device}, best of {args.repeats} after a warm-up")
    print(f"{'series':>7} {'ours':>12} {'toto-ts batch':>14} {'ours/toto-ts':>13} {'IoTDB loop':>11} "
          f"{'ours/loop':>10} {'max |diff|/scale':>17}")
    for count in counts:
        series = make_inputs(count, args.lookback)
        inputs = [{"targets": row[None].astype(np.float64)} for row in series]
        calls = {
            "ours": lambda: ours.run(inputs, output_length=args.horizon),
            "batch": lambda: reference.forecast(reference_batch(series), args.horizon).mean,
        }
        if count <= args.loop_max:
            calls["loop"] = lambda: [reference.forecast(reference_batch(row[None]), args.horizon) for row in series]
        best, outputs = timed(calls, args.repeats)
        diff = max(float(np.abs(g[0] - w[0].numpy()).max())
                   for g, w in zip(outputs["ours"], outputs["batch"])) / float(np.abs(series).max())
        line = f"{count:>7} {count / best['ours']:>10.2f}/s {count / best['batch']:>12.2f}/s " \
               f"{best['batch'] / best['ours']:>12.2f}x"
        if "loop" in best:
            line += f" {count / best['loop']:>9.2f}/s {best['loop'] / best['ours']:>9.2f}x"
        else:
            line += f" {'-':>11} {'-':>10}"
        print(line + f" {diff:>17.1e}", flush=True)
        if args.samples:
            n = args.samples
            best, _ = timed({
                "ours": lambda: ours.run(inputs, output_length=args.horizon, num_samples=n),
                "batch": lambda: reference.forecast(reference_batch(series), args.horizon, num_samples=n,
                                                    samples_per_batch=n),
            }, args.repeats)
            print(f"{'':>7} {n} paths: ours {count / best['ours']:.2f}/s, toto-ts {count / best['batch']:.2f}/s, "
                  f"ours/toto-ts {best['batch'] / best['ours']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
