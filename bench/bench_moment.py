"""MOMENT: throughput vs momentfm's direct call (same weights), and zero-shot forecast accuracy vs naive.

Two modes:

* ``throughput`` (default): ainode's pipeline (anomaly scores) vs momentfm's direct call, random weights;
* ``accuracy WEIGHTS_DIR``: the FORECAST answer (masked trailing patches reconstructed) against naive (last
  value) and seasonal naive forecasts on seasonal data — MAE and MASE per data set and horizon. It needs
  the REAL weights (AutonLab/MOMENT-1-large's ``config.json`` + ``model.safetensors`` in ``WEIGHTS_DIR``):
  random weights forecast noise, so accuracy cannot be measured without them. Runs in the project venv
  (no momentfm)::

      .venv/bin/python bench/bench_moment.py accuracy /path/to/MOMENT-1-large [--seeds 5] [--horizons 24,96,300]

  Data: a sine of period 24 with trend and noise (``--seeds`` series, context 512 rows) and the bundled
  airline passengers (``ainode_core/data/airline.csv``, monthly, period 12; the last 12 / 24 months held out).
  MASE divides by the in-sample MAE of the seasonal naive forecast on the context (period m).

Throughput mode:

A random-weight MOMENT in the official format (momentfm's ``MOMENTPipeline``, config.json layout of
AutonLab/MOMENT-1-*, ``model.safetensors``) is saved to a temp dir; momentfm loads it with ``from_pretrained``,
ours through the node's plugin manager. Each case scores N univariate series of 512 rows:

* direct: ``model(x_enc=[N, 1, 512], input_mask=ones)`` (the tutorials' call), then ``(x - reconstruction)²``;
* ours: ``pipeline.run([{"targets": series}] * N, output="score")`` (windows, masks, float64 answers).

Both sides alternate call by call (median of ``--repeats``), so load from other processes hits both alike;
series/second and ours/direct (1.00 = no overhead) are printed, with the largest difference of the answers.

momentfm pins old transformers/numpy, so it is not in the project venv. Run this in a throw-away venv that sees
the project venv's packages (editable installs included) and has momentfm added without its pins (momentfm
0.1.4 runs on transformers 4.56 unchanged)::

    python3.11 -m venv /tmp/momentbench
    echo "import site; site.addsitedir('/work/main/.venv/lib/python3.11/site-packages')" \
        > /tmp/momentbench/lib/python3.11/site-packages/zz_ainode_venv.pth
    /tmp/momentbench/bin/pip install --no-deps momentfm==0.1.4
    /tmp/momentbench/bin/python bench/bench_moment.py [throughput] [--size tiny|small|base|large]
                                                      [--series 1,32,256] [--repeats 3] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ainode_core.pipelines.base import ModelInfo, Pipeline  # noqa: E402
from ainode_core.plugins import PluginManager  # noqa: E402

AIRLINE = Path(__file__).resolve().parents[1] / "ainode_core" / "data" / "airline.csv"

SEQ_LEN = 512
# t5_config sizes of the backbones of AutonLab/MOMENT-1-small / -base / -large (google/flan-t5-*), and the
# tests' tiny one (where the network costs little, so the pipeline's own work shows).
SIZES = {
    "tiny": dict(d_model=32, d_kv=16, d_ff=64, num_layers=2, num_heads=2),
    "small": dict(d_model=512, d_kv=64, d_ff=1024, num_layers=8, num_heads=6),
    "base": dict(d_model=768, d_kv=64, d_ff=2048, num_layers=12, num_heads=12),
    "large": dict(d_model=1024, d_kv=64, d_ff=2816, num_layers=24, num_heads=16),
}
T5_COMMON = dict(architectures=["T5ForConditionalGeneration"], decoder_start_token_id=0, dense_act_fn="gelu_new",
                 dropout_rate=0.1, eos_token_id=1, feed_forward_proj="gated-gelu", initializer_factor=1.0,
                 is_encoder_decoder=True, is_gated_act=True, layer_norm_epsilon=1e-06, model_type="t5",
                 n_positions=512, output_past=True, pad_token_id=0, relative_attention_max_distance=128,
                 relative_attention_num_buckets=32, tie_word_embeddings=False, use_cache=True, vocab_size=32128)


def momentfm_pipeline() -> type:
    try:
        from momentfm import MOMENTPipeline
    except ImportError:  # the project venv: only the accuracy mode runs there
        sys.exit("momentfm is not importable here: run the throughput mode with the throw-away venv described in "
                 "the docstring (the accuracy mode runs in the project venv)")
    return MOMENTPipeline


def our_pipeline(folder: Path) -> Pipeline:
    """MOMENT of ``folder`` as the node builds it (model type moment → its registered pipeline class)."""
    os.environ["AINODE_LOAD_PLUGINS"] = "moment"
    spec = PluginManager(strict=True).model_type("moment").record
    return spec.pipeline_cls(ModelInfo("moment", "moment", task="anomaly_detection", path=folder), device="cpu")


def save_random_moment(folder: Path, size: str) -> int:
    import safetensors.torch

    MOMENTPipeline = momentfm_pipeline()
    sizes = SIZES[size]
    config = {"task_name": "reconstruction", "model_name": "MOMENT", "transformer_type": "encoder_only",
              "d_model": None, "seq_len": SEQ_LEN, "patch_len": 8, "patch_stride_len": 8, "device": "cpu",
              # the tiny size keeps -large's name, as the tests' fixture does (momentfm checks the name)
              "transformer_backbone": f"google/flan-t5-{'large' if size == 'tiny' else size}", "model_kwargs": {},
              "t5_config": {**T5_COMMON, **sizes, "num_decoder_layers": sizes["num_layers"]}}
    torch.manual_seed(0)
    model = MOMENTPipeline(dict(config), model_kwargs={"task_name": "reconstruction"})
    model.init()
    folder.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_model(model, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(config))
    return sum(t.numel() for t in model.state_dict().values())


def seconds_per_call(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    for call in calls.values():
        call()  # warm-up: first-call allocations are not what a resident model pays
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            timings[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in timings.items()}


def throughput(args: argparse.Namespace) -> None:
    MOMENTPipeline = momentfm_pipeline()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "moment"
        count = save_random_moment(folder, args.size)
        direct_model = MOMENTPipeline.from_pretrained(str(folder), model_kwargs={"task_name": "reconstruction"})
        direct_model.init()
        direct_model.eval()
        ours = our_pipeline(folder)
        print(f"MOMENT-{args.size} config, random weights: {count / 1e6:.1f}M values; torch {torch.__version__}, "
              f"{args.threads} threads, context {SEQ_LEN}, output: anomaly scores")
        print(f"{'series':>7} {'direct s/call':>14} {'ours s/call':>12} {'direct series/s':>16} "
              f"{'ours series/s':>14} {'ours/direct':>12} {'max |diff|':>11}")
        rng = np.random.default_rng(0)
        for n in (int(v) for v in args.series.split(",")):
            steps = np.arange(SEQ_LEN)
            series = [10 + np.sin(2 * np.pi * steps / 24 + k) + 0.1 * rng.standard_normal(SEQ_LEN) for k in range(n)]
            x = torch.tensor(np.stack(series)[:, None, :], dtype=torch.float32)
            inputs = [{"targets": values} for values in series]

            def direct() -> np.ndarray:
                with torch.no_grad():
                    reconstruction = direct_model(x_enc=x, input_mask=torch.ones(n, SEQ_LEN)).reconstruction
                return ((x - reconstruction) ** 2)[:, 0].numpy()

            def served() -> list[np.ndarray]:
                return ours.run(inputs, output="score")

            seconds = seconds_per_call({"direct": direct, "ours": served}, args.repeats)
            diff = max(float(np.max(np.abs(a[0] - b))) for a, b in zip(served(), direct()))
            print(f"{n:>7} {seconds['direct']:>14.4f} {seconds['ours']:>12.4f} {n / seconds['direct']:>16.1f} "
                  f"{n / seconds['ours']:>14.1f} {seconds['direct'] / seconds['ours']:>12.2f} {diff:>11.2e}")



def seasonal_series(seed: int, length: int) -> np.ndarray:
    """Period 24 with a trend and noise, a level and amplitude per seed."""
    rng = np.random.default_rng(seed)
    steps = np.arange(length)
    return (rng.uniform(5, 50) + rng.uniform(0.005, 0.05) * steps
            + rng.uniform(1, 5) * np.sin(2 * np.pi * steps / 24 + rng.uniform(0, 2 * np.pi))
            + rng.uniform(0.1, 0.5) * rng.standard_normal(length))


def airline() -> np.ndarray:
    return np.loadtxt(AIRLINE, delimiter=",", skiprows=1, usecols=1)


def baselines(context: np.ndarray, horizon: int, period: int) -> dict[str, np.ndarray]:
    """naive: the last value repeated; seasonal naive: the last period repeated."""
    return {"naive": np.full(horizon, context[-1]),
            "seasonal naive": np.resize(context[-period:], horizon)}


def mase_scale(context: np.ndarray, period: int) -> float:
    """In-sample MAE of the seasonal naive forecast on the context (Hyndman & Koehler's MASE denominator)."""
    return float(np.mean(np.abs(context[period:] - context[:-period])))


def accuracy(args: argparse.Namespace) -> None:
    folder = Path(args.weights)
    ours = our_pipeline(folder)
    settings = ours.model.settings
    print(f"weights: {folder} (d_model {settings.d_model}, {settings.t5_config.get('num_layers')} layers); "
          f"torch {torch.__version__}, {args.threads} threads")
    if settings.d_model < 512:
        print("NOTE: not a published MOMENT size (small/base/large have d_model 512/768/1024): these figures "
              "only show that the script runs; MOMENT's accuracy needs the real weights")
    horizons = [int(h) for h in args.horizons.split(",")]
    longest = max(horizons)
    synthetic = [seasonal_series(seed, SEQ_LEN + longest) for seed in range(args.seeds)]
    passengers = airline()
    cases = [(f"sine p24 x{args.seeds}", [(s[:SEQ_LEN], s[SEQ_LEN:SEQ_LEN + h]) for s in synthetic], h, 24)
             for h in horizons]
    cases += [(f"airline p12 (ctx {len(passengers) - h})", [(passengers[:-h], passengers[-h:])], h, 12)
              for h in (12, 24)]
    methods = ("moment", "naive", "seasonal naive")
    print(f"{'data':<22} {'H':>4} " + " ".join(f"{'MAE ' + m:>20}" for m in methods)
          + " " + " ".join(f"{'MASE ' + m:>20}" for m in methods) + f" {'moment/snaive MAE':>18}")
    for name, pairs, horizon, period in cases:
        forecasts = ours.run([{"targets": context, "past_covariates": {}, "future_covariates": {}}
                              for context, _ in pairs], output_length=horizon)
        errors: dict[str, list[float]] = {m: [] for m in methods}
        scaled: dict[str, list[float]] = {m: [] for m in methods}
        for (context, actual), forecast in zip(pairs, forecasts):
            answers = {"moment": forecast[0], **baselines(context, horizon, period)}
            scale = mase_scale(context, period)
            for method, answer in answers.items():
                mae = float(np.mean(np.abs(answer - actual)))
                errors[method].append(mae)
                scaled[method].append(mae / scale)
        mae = {m: float(np.mean(v)) for m, v in errors.items()}
        mase = {m: float(np.mean(v)) for m, v in scaled.items()}
        print(f"{name:<22} {horizon:>4} " + " ".join(f"{mae[m]:>20.4f}" for m in methods) + " "
              + " ".join(f"{mase[m]:>20.4f}" for m in methods) + f" {mae['moment'] / mae['seasonal naive']:>18.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="mode")
    speed = modes.add_parser("throughput", help="ours vs momentfm's direct call, random weights (momentfm venv)")
    speed.add_argument("--size", choices=sorted(SIZES), default="small")
    speed.add_argument("--series", default="1,32,256")
    speed.add_argument("--repeats", type=int, default=3)
    quality = modes.add_parser("accuracy", help="FORECAST vs naive and seasonal naive (needs the real weights)")
    quality.add_argument("weights", help="folder with MOMENT's config.json and model.safetensors")
    quality.add_argument("--seeds", type=int, default=5)
    quality.add_argument("--horizons", default="24,96,300")
    for sub in (speed, quality):
        sub.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    argv = sys.argv[1:]
    if not argv or argv[0] not in ("throughput", "accuracy", "-h", "--help"):
        argv = ["throughput", *argv]  # the mode of old command lines
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    (accuracy if args.mode == "accuracy" else throughput)(args)


if __name__ == "__main__":
    main()
