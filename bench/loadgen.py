"""A load generator that behaves like a DataNode's connection pool: each client is its own process holding
one persistent Thrift connection, sending the same ``forecast`` request back to back for a fixed time.

    result = run_load(port, "naive_forecaster", payload, output_length=96, clients=32, seconds=8)
    result.per_second, result.p50_ms, result.p99_ms, result.errors

All clients start and connect first, and only when every one of them is ready does the window begin (on 2 CPUs,
starting 128 processes takes seconds that would otherwise be measured as the node's), so it measures a steady
load and not set-up. Only requests that finish inside the window count, and their number is divided by the
window's length: the requests still in flight when it closes (up to one per client, each up to a batch's
latency long) would otherwise stretch the time measured without adding requests. ``payload`` is the TsBlock
bytes of the request (encode once in the parent).
"""
from __future__ import annotations

import multiprocessing
import statistics
import time
from dataclasses import dataclass
from typing import Any

# forkserver: clients are forked from a fresh, small server process, not from the caller (which may hold
# models of hundreds of MB that 128 forked copies would slowly duplicate), and still start in well under a second.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["ainode_core.rpc.connection", "ainode_core.rpc.gen.ainode.ttypes"])


@dataclass(frozen=True)
class LoadResult:
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: tuple[float, ...]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


def _client(port: int, model_id: str, payload: bytes, output_length: int, options: dict[str, str],
            ready: Any, go: Any, window: Any, results: Any) -> None:
    from ainode_core.rpc.connection import connect
    from ainode_core.rpc.gen.ainode import ttypes as t

    finished: list[tuple[float, float]] = []  # (wall-clock end, latency ms) of every request
    errors = 0
    request = t.TForecastReq(modelId=model_id, inputData=payload, outputLength=output_length, options=options)
    try:
        with connect("127.0.0.1", port) as client:
            ready.put(True)
            go.wait()
            start_at, stop_at = window[0], window[1]
            time.sleep(max(0.0, start_at - time.time()))
            while time.time() < stop_at:
                started = time.perf_counter()
                status = client.forecast(request).status
                finished.append((time.time(), (time.perf_counter() - started) * 1000))
                errors += status.code != 200
    except Exception:  # a refused or dropped connection counts as one error
        errors += 1
        ready.put(False)
    results.put((finished, errors))


def run_load(port: int, model_id: str, payload: bytes, *, output_length: int, clients: int, seconds: float,
             options: dict[str, str] | None = None) -> LoadResult:
    results, ready, go = _CONTEXT.Queue(), _CONTEXT.Queue(), _CONTEXT.Event()
    window = _CONTEXT.Array("d", 2)
    processes = [_CONTEXT.Process(target=_client, args=(port, model_id, payload, output_length, options or {},
                                                        ready, go, window, results), daemon=True)
                 for _ in range(clients)]
    for process in processes:
        process.start()
    for _ in processes:  # every client connected (or failed to)
        ready.get(timeout=300)
    start_at = time.time() + 0.2
    window[0], window[1] = start_at, start_at + seconds
    go.set()
    collected = [results.get(timeout=seconds + 300) for _ in processes]
    for process in processes:
        process.join(timeout=10)
    latencies = tuple(ms for samples, _ in collected for ended, ms in samples if ended <= window[1])
    return LoadResult(clients=clients, requests=len(latencies), errors=sum(e for _, e in collected),
                      seconds=seconds, latencies_ms=latencies)
