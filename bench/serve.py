"""Serving throughput and latency: the node over Thrift, loaded like a DataNode would load it, vs the bare model.

    .venv/bin/python bench/serve.py [--models naive_forecaster,arima,timer_xl,chronos2] [--seconds 8]
                                    [--clients 1,8,32,128] [--isolation thread[,process]]

Requests: one series of 512 points, horizon 96 (FORECAST as a DataNode sends it). Models: `naive_forecaster`
and `arima` (sktime), Timer-XL and Chronos-2 at their published sizes (84M, 120M parameters; random weights,
built here: the hub is out of reach). For each model it prints the bare pipeline called in-process (all
requests in ONE call: the ideal; one call per request: what batching buys; the p50 of one call with the
served request's series), then, for 1/8/32/128 clients, each a separate process with a persistent connection
(`bench/loadgen.py`), the served requests/s (each client's steady rate, summed), p50 and p99 latency, errors,
and the ratios: served / ideal (the ideal measured by one call just before and one just after that window),
served / one-call-each, and the cost of the node at one client: served minus bare, measured in pairs (one
request over a persistent connection, then the same series through the bare pipeline, alternating which goes
first; the median difference), because this machine's speed drifts by up to 2x within a minute and two medians
taken minutes apart would measure the drift.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ainode_core.models.catalog import ModelCatalog  # noqa: E402
from ainode_core.plugins import PluginManager  # noqa: E402
from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, encode_tsblock  # noqa: E402
from ainode_core.testing.node import RunningNode, make_home  # noqa: E402
from bench.loadgen import run_load  # noqa: E402

CONTEXT, HORIZON = 512, 96
BARE_REQUESTS = 128
WINDOW_ROUNDS = 8


def _bench_module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def place_real_size_weights(home: Path, models: list[str]) -> None:
    builtin = home / "data/ainode/models/builtin"
    if "timer_xl" in models:
        import torch
        from ainode_plugin_timer.timer.configuration import TimerConfig
        from ainode_plugin_timer.timer.modeling import TimerForPrediction

        torch.manual_seed(0)
        TimerForPrediction(TimerConfig()).save_pretrained(builtin / "timer_xl", safe_serialization=True)
    if "chronos2" in models:
        _bench_module("bench_chronos2").save_real_size_model(builtin / "chronos2")


def make_series(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(CONTEXT)
    return [50 + 8 * np.sin(2 * np.pi * t / 96 + i) + rng.normal(0, 1, CONTEXT) for i in range(count)]


def payload_of(series: np.ndarray) -> bytes:
    return encode_tsblock(TsBlock(np.arange(len(series), dtype=np.int64) * 1000, [Column(TSDataType.DOUBLE, series)]))


class BareModel:
    """The model's pipeline called in-process, in the bench's own process (the node is another one)."""

    def __init__(self, home: Path, model: str, series: list[np.ndarray]) -> None:
        catalog = ModelCatalog(home / "data/ainode/models", PluginManager())
        record = catalog.get(model)
        self.pipeline = catalog.spec_for(record).pipeline_cls(catalog.model_info(record), device="cpu")
        self.inputs = [{"targets": s} for s in series]
        self.pipeline.run(self.inputs[:2], output_length=HORIZON)  # warm up

    def _run(self, inputs: list[dict]) -> float:
        started = time.perf_counter()
        self.pipeline.run(inputs, output_length=HORIZON)
        return time.perf_counter() - started

    def ideal(self, calls: int = 3) -> float:
        """Series/s of one call with every series: the median of ``calls`` calls (one varies by a tenth)."""
        return len(self.inputs) / statistics.median(self._run(self.inputs) for _ in range(calls))

    def one_call_each(self) -> float:
        return 1 / statistics.mean(self._run([item]) for item in self.inputs[:32])

    def p50_ms(self) -> float:
        """One call with ``series[0]``, the series the served requests carry (an ARIMA fit's time depends on
        the data)."""
        return statistics.median(self._run(self.inputs[:1]) for _ in range(32)) * 1000


def paired_node_cost_ms(port: int, model: str, payload: bytes, bare: BareModel, rounds: int = 40) -> float:
    """Median of (served request - bare call) over ``rounds`` back-to-back pairs, in milliseconds."""
    from ainode_core.rpc.connection import connect
    from ainode_core.rpc.gen.ainode import ttypes as t

    request = t.TForecastReq(modelId=model, inputData=payload, outputLength=HORIZON, options={})
    differences = []
    with connect("127.0.0.1", port) as client:
        for round_ in range(rounds):
            timings = {}
            for kind in (("served", "bare") if round_ % 2 == 0 else ("bare", "served")):
                started = time.perf_counter()
                if kind == "served":
                    assert client.forecast(request).status.code == 200
                else:
                    bare.pipeline.run(bare.inputs[:1], output_length=HORIZON)
                timings[kind] = time.perf_counter() - started
            differences.append(timings["served"] - timings["bare"])
    return statistics.median(differences) * 1000


def window_seconds(at_least: float, clients: int, per_second: float) -> float:
    """A window that holds at least ``WINDOW_ROUNDS`` answers per client: with 128 clients of a model serving 40
    requests/s each client waits about 3 s per answer, and a 6 s window would count two batches, give or take
    one."""
    return max(at_least, WINDOW_ROUNDS * clients / max(per_second, 1e-3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="naive_forecaster,arima,timer_xl,chronos2")
    parser.add_argument("--clients", default="1,8,32,128")
    parser.add_argument("--seconds", type=float, default=8.0,
                        help="measuring window per client count (longer where clients would get fewer than "
                             f"{WINDOW_ROUNDS} answers each)")
    parser.add_argument("--isolation", default="thread", help="comma-separated: thread, process")
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up load before the first window: with --clients 32,32 the first row is the "
                             "first busy window after a start, the second a warm one")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                        help="a node setting for the run (repeatable), e.g. ain_inference_max_batch_size=128")
    args = parser.parse_args()
    models = args.models.split(",")
    series = make_series(BARE_REQUESTS)
    payload = payload_of(series[0])
    with tempfile.TemporaryDirectory() as root:
        homes = {}
        for isolation in args.isolation.split(","):
            settings = "".join(f"{line}\n" for line in [f"ain_inference_isolation={isolation}", *args.config])
            home = make_home(Path(root), settings, name=isolation)
            place_real_size_weights(home, models)
            homes[isolation] = home
        for model in models:
            bare = BareModel(next(iter(homes.values())), model, series)
            ideal_before, one_each, bare_p50 = bare.ideal(), bare.one_call_each(), bare.p50_ms()
            rows, costs = [], {}
            for isolation, home in homes.items():
                node = RunningNode(home)
                try:
                    if not args.cold:
                        run_load(node.port, model, payload, output_length=HORIZON, clients=2, seconds=2)  # warm up
                    costs[isolation] = paired_node_cost_ms(node.port, model, payload, bare)
                    served = one_each  # requests/s expected at the next client count, to size its window
                    ideal_next = bare.ideal(calls=1)
                    for clients in map(int, args.clients.split(",")):
                        seconds = window_seconds(args.seconds, clients, served)
                        print(f"  {model}, {isolation}: {clients} clients for {seconds:.0f} s ...", file=sys.stderr,
                              flush=True)
                        result = run_load(node.port, model, payload, output_length=HORIZON, clients=clients,
                                          seconds=seconds)
                        served = result.per_second or served
                        # the ideal right before and right after this window: the machine's speed drifts
                        ideal_prior, ideal_next = ideal_next, bare.ideal(calls=1)
                        rows.append((isolation, result, (ideal_prior + ideal_next) / 2))
                finally:
                    node.stop()
            # Measured again after the windows: on a shared machine the bare figure drifts by a tenth or more
            # within minutes (the ratios use the ideal measured around each window).
            ideal_after = bare.ideal()
            ideal = (ideal_before + ideal_after) / 2
            print(f"\n{model}: context {CONTEXT}, horizon {HORIZON}; bare in-process: one call for "
                  f"{BARE_REQUESTS} series {ideal:.1f} series/s (ideal; {ideal_before:.1f} before the served "
                  f"windows, {ideal_after:.1f} after), one call each {one_each:.1f}/s, one call p50 "
                  f"{bare_p50:.1f} ms", flush=True)
            print(f"  {'isolation':>9} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
                  f"{'vs ideal':>8} {'vs each':>8}  (vs ideal: the ideal measured just before and after the window)")
            for isolation, result, ideal_around in rows:
                extra = f"  (node cost at 1 client, paired: {costs[isolation]:+.1f} ms)" if result.clients == 1 else ""
                print(f"  {isolation:>9} {result.clients:7d} {result.per_second:8.1f} {result.p50_ms:8.1f} "
                      f"{result.p99_ms:8.1f} {result.errors:6d} {result.per_second / ideal_around:8.2f} "
                      f"{result.per_second / one_each:8.2f}{extra}", flush=True)


if __name__ == "__main__":
    main()
