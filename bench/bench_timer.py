"""Latency of Timer-XL and Sundial at their real sizes: our code against the original.

Real-size models (84M Timer-XL, 128M Sundial) are built locally from the official configs' sizes with
random weights (nothing is downloaded), saved in the official format, and timed on CPU for a 2880-point
lookback and a 96-point horizon (also 720 for Timer-XL: several output patches through the KV cache):

* ours: ``generate`` of our classes and the full pipeline (``run``), in this process;
* original: sktime 1.2.0's copy of the THUML code under transformers 4.40.1, loaded from the same folder
  in a subprocess of the reference venv (default ``/tmp/refvenv``, see
  ``plugins/builtin_timer/tests/fixtures/make_golden.py``). Its outputs are compared with ours as well.

Usage: ``.venv/bin/python bench/bench_timer.py [--threads 1] [--repeats 5] [--ref-python PATH]``.
Prints one line per measurement (median seconds) and the ratio original / ours (> 1: ours is faster).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from ainode_core.pipelines.base import ModelInfo
from ainode_plugin_timer.sundial.configuration import SundialConfig
from ainode_plugin_timer.sundial.modeling import SundialForPrediction
from ainode_plugin_timer.sundial.pipeline import SundialPipeline
from ainode_plugin_timer.timer.configuration import TimerConfig
from ainode_plugin_timer.timer.modeling import TimerForPrediction
from ainode_plugin_timer.timer.pipeline import TimerPipeline

LOOKBACK = 2880
SEED = 2024
AUTO_MAP = {
    "timer": {"AutoConfig": "configuration_timer.TimerConfig",
              "AutoModelForCausalLM": "modeling_timer.TimerForPrediction"},
    "sundial": {"AutoConfig": "configuration_sundial.SundialConfig",
                "AutoModelForCausalLM": "modeling_sundial.SundialForPrediction"},
}

# The reference half: runs in the reference venv, loads the folder with the original classes.
REFERENCE = r"""
import json, statistics, sys, time
import numpy as np, torch
kind, folder, threads, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cases = json.loads(sys.argv[5])
torch.set_num_threads(threads)
if kind == "timer":
    from sktime.libs.timer.modeling_timer import TimerForPrediction as Model
else:
    from sktime.libs.sundial import SundialForPrediction as Model
model = Model.from_pretrained(folder).eval()
series = torch.from_numpy(np.load(folder + "/series.npy"))[None]
def timed(fn):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); fn(); times.append(time.perf_counter() - start)
    return statistics.median(times)
result = {}
with torch.no_grad():
    result["forward"] = timed(lambda: model(input_ids=series, use_cache=False, return_dict=True))
    for case in cases:
        kwargs = dict(max_new_tokens=case["horizon"], revin=False)
        if kind == "sundial":
            kwargs.update(num_samples=case["num_samples"], revin=True)
        result[case["name"]] = timed(lambda: model.generate(series, **kwargs))
        if kind == "sundial":
            torch.manual_seed(case["seed"])
        result[case["name"] + "/output"] = model.generate(series, **kwargs)[0].tolist()
print(json.dumps(result))
"""


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Scaled random weights: activations stay O(1) (the original init zeroes Sundial's flow output)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm) and module.weight is not None:
                module.weight.copy_(1 + 0.1 * torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))
            elif isinstance(module, torch.nn.Linear):
                fan_in = module.weight.shape[1]
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) / fan_in**0.5)
                if module.bias is not None:
                    module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))


def build(kind: str, folder: Path) -> None:
    """An official-format folder with the official sizes (TimerConfig/SundialConfig defaults)."""
    config = TimerConfig() if kind == "timer" else SundialConfig()
    model_cls = TimerForPrediction if kind == "timer" else SundialForPrediction
    model = model_cls(config).eval()
    randomise(model, SEED)
    folder.mkdir(parents=True)
    save_file({name: tensor.contiguous() for name, tensor in model.state_dict().items()},
              str(folder / "model.safetensors"), metadata={"format": "pt"})
    config_dict = {**config.to_dict(), "architectures": [type(model).__name__], "auto_map": AUTO_MAP[kind]}
    (folder / "config.json").write_text(json.dumps(config_dict, indent=1))
    t = np.arange(LOOKBACK)
    series = 50 + 8 * np.sin(2 * np.pi * t / 96) + np.random.default_rng(0).normal(0, 1, LOOKBACK)
    np.save(folder / "series.npy", series.astype(np.float32))


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_reference(args, kind: str, folder: Path, cases: list[dict]) -> dict | None:
    if not Path(args.ref_python).exists():
        print(f"  reference: skipped ({args.ref_python} not found; see make_golden.py for the venv)")
        return None
    proc = subprocess.run([args.ref_python, "-c", REFERENCE, kind, str(folder), str(args.threads),
                           str(args.repeats), json.dumps(cases)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  reference: failed ({proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode})")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(name: str, ours: float, reference: dict | None, key: str) -> None:
    line = f"  {name:<34} ours {ours * 1000:9.1f} ms"
    if reference is not None and key in reference:
        line += f" | original {reference[key] * 1000:9.1f} ms | original/ours {reference[key] / ours:5.2f}x"
    print(line)


def bench_timer(args, root: Path) -> None:
    folder = root / "timer"
    build("timer", folder)
    series = torch.from_numpy(np.load(folder / "series.npy"))[None]
    pipeline = TimerPipeline(ModelInfo("timer_xl", "timer", path=folder))
    model = pipeline.model
    cases = [{"name": f"generate H{h}", "horizon": h} for h in (96, 720)]
    print(f"Timer-XL ({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters), lookback {LOOKBACK}, "
          f"{args.threads} thread(s), median of {args.repeats}")
    reference = run_reference(args, "timer", folder, cases)
    with torch.inference_mode():
        report("forward (no cache)", timed(lambda: model.model(series), args.repeats), reference, "forward")
    for case in cases:
        horizon = case["horizon"]
        ours = timed(lambda: model.generate(series, horizon, revin=False), args.repeats)
        report(case["name"], ours, reference, case["name"])
        if reference is not None:
            diff = np.abs(model.generate(series, horizon, revin=False)[0].numpy()
                          - np.array(reference[case["name"] + "/output"])).max()
            print(f"  {'':<34} max |ours - original| = {diff:.2e}")
    target = [{"targets": series[0].numpy().astype(np.float64)}]
    report("pipeline.run H96 (revin)", timed(lambda: pipeline.run(target, output_length=96), args.repeats), None, "")


def bench_sundial(args, root: Path) -> None:
    folder = root / "sundial"
    build("sundial", folder)
    series = torch.from_numpy(np.load(folder / "series.npy"))[None]
    pipeline = SundialPipeline(ModelInfo("sundial", "sundial", path=folder))
    model = pipeline.model
    cases = [{"name": "generate H96 S10", "horizon": 96, "num_samples": 10, "seed": 7}]
    print(f"Sundial ({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters), lookback {LOOKBACK}, "
          f"{model.config.num_sampling_steps} sampling steps, {args.threads} thread(s), median of {args.repeats}")
    reference = run_reference(args, "sundial", folder, cases)
    with torch.inference_mode():
        report("forward (no cache)", timed(lambda: model.model(series), args.repeats), reference, "forward")
    for case in cases:
        ours = timed(lambda: model.generate(series, case["horizon"], num_samples=case["num_samples"]), args.repeats)
        report(case["name"], ours, reference, case["name"])
        if reference is not None:
            generator = [torch.Generator().manual_seed(case["seed"])]
            samples = model.generate(series, case["horizon"], num_samples=case["num_samples"], generators=generator)
            diff = np.abs(samples[0].numpy() - np.array(reference[case["name"] + "/output"])).max()
            print(f"  {'':<34} max |ours - original| (same seed) = {diff:.2e}")
    target = [{"targets": series[0].numpy().astype(np.float64)}]
    report("pipeline.run H96 S10", timed(lambda: pipeline.run(target, output_length=96), args.repeats), None, "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ref-python", default="/tmp/refvenv/bin/python")
    parser.add_argument("--only", choices=["timer", "sundial"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "timer"):
            bench_timer(args, Path(tmp))
        if args.only in (None, "sundial"):
            bench_sundial(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
