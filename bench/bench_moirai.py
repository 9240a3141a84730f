"""Throughput of Moirai-2 at its real size: our pipeline against uni2ts 2.0.0's own call, same weights, same input.

A real-size Moirai-2 (Salesforce/moirai-2.0-R-small's config.json: d_model 384, 6 layers, 11.4M parameters) is
built by uni2ts' ``Moirai2Module`` with random weights (nothing is downloaded) and saved in the published format;
both sides load that folder:

* ours: ``Moirai2ForecastPipeline.run`` on N univariate inputs (the node's path, batching included), medians;
* uni2ts: ``Moirai2Forecast.predict`` on all N series as one batch (``context_length`` = the lookback, as
  IoTDB 2.0.10's pipeline sets it), which is the call IoTDB's node makes for a batch.

The two outputs are compared (max |difference| over all 9 quantiles, relative to the series' scale).

Needs uni2ts, so run it with the throw-away reference venv of plugins/moirai/tests/fixtures/make_golden.py, from
the repository root (the repository's packages are put on the path here)::

    /tmp/moirairef/bin/python bench/bench_moirai.py [--threads 2] [--lookback 512] [--horizon 96] [--series 1,32,256]

Prints series/s per batch size and the ratio ours / uni2ts (> 1: ours is faster).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "plugins" / "moirai"):  # the reference venv may not see .venv's editable installs
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from uni2ts.model.moirai2 import Moirai2Forecast, Moirai2Module  # noqa: E402

from ainode_core.pipelines.base import ModelInfo  # noqa: E402
from ainode_plugin_moirai.pipeline import Moirai2ForecastPipeline  # noqa: E402

# Salesforce/moirai-2.0-R-small's config.json
REAL_SIZE = dict(d_model=384, d_ff=1024, num_layers=6, patch_size=16, max_seq_len=512, attn_dropout_p=0.0,
                 dropout_p=0.0, scaling=True, num_predict_token=4)


def make_series(count: int, length: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    steps = np.arange(length)
    return [50 + 10 * np.sin(2 * np.pi * steps / 24 + i) + np.cumsum(rng.normal(size=length)) for i in range(count)]


def median_seconds(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds per call of each side, the sides alternating call by call (a shared machine's load then
    hits both alike), after one warm-up call each (first-call allocations are not what a resident model pays)."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(repeats + 1):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            if round_:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="1,32,256", help="comma-separated batch sizes (series per call)")
    parser.add_argument("--lookback", type=int, default=512)
    parser.add_argument("--horizon", type=int, default=96, help="96: one pass (64 steps) and one rollout pass")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(prefix="bench-moirai-") as tmp:
        folder = Path(tmp) / "moirai2"
        torch.manual_seed(0)
        Moirai2Module(**REAL_SIZE).save_pretrained(folder)
        module = Moirai2Module.from_pretrained(folder).eval()
        ours = Moirai2ForecastPipeline(ModelInfo(model_id="moirai2", model_type="moirai", path=folder))
        n_params = sum(p.numel() for p in module.parameters())
        print(f"model: random weights, Salesforce/moirai-2.0-R-small config, {n_params / 1e6:.1f}M parameters; "
              f"lookback {args.lookback}, horizon {args.horizon}; torch {torch.__version__}, "
              f"threads {torch.get_num_threads()}")
        print(f"{'series':>7} {'ours s/call':>12} {'uni2ts s/call':>14} {'ours series/s':>14} "
              f"{'uni2ts series/s':>16} {'ours/uni2ts':>12} {'max |diff| / scale':>19}")
        for count in (int(n) for n in args.series.split(",")):
            series = make_series(count, args.lookback)
            inputs = [{"targets": values} for values in series]
            reference = Moirai2Forecast(prediction_length=args.horizon, target_dim=1, feat_dynamic_real_dim=0,
                                        past_feat_dynamic_real_dim=0, context_length=args.lookback, module=module)
            repeats = args.repeats * max(1, min(5, 32 // count))  # small batches are quick and noisier
            timing = median_seconds({"ours": lambda: ours.run(inputs, output_length=args.horizon),
                                     "uni2ts": lambda: reference.predict(past_target=[s.copy() for s in series])},
                                    repeats)
            ours_s, theirs_s = timing["ours"], timing["uni2ts"]
            got = np.stack(ours.run(inputs, output_length=args.horizon, quantiles="all"))  # [N, 9, H]
            expected = reference.predict(past_target=[s.copy() for s in series])  # [N, 9, H]
            scale = np.std(np.stack(series), axis=1)[:, None, None]
            difference = float(np.max(np.abs(got - expected) / scale))
            print(f"{count:>7} {ours_s:>12.4f} {theirs_s:>14.4f} {count / ours_s:>14.1f} {count / theirs_s:>16.1f} "
                  f"{theirs_s / ours_s:>12.2f} {difference:>19.2e}", flush=True)


if __name__ == "__main__":
    main()
