"""A load generator that behaves like a DataNode's connection pool: each client is its own process holding
one persistent Thrift connection, sending the same ``forecast`` request back to back for a fixed time.

    result = run_load(port, "naive_forecaster", payload, output_length=96, clients=32, seconds=8)
    result.per_second, result.p50_ms, result.p99_ms, result.errors

All clients start and connect first, and only when every one of them is ready does the window begin (on 2 CPUs,
starting 128 processes takes seconds that would otherwise be measured as the node's), so it measures a steady
load and not set-up. Only requests that finish inside the window count. The rate is each client's steady rate
summed: its answers after its first, divided by the time from its first answer to its last. Counting answers
and dividing by the window would be biased low by up to a batch: when every client waits for the same batch
(128 clients, one call of 128), answers come in bursts one call apart, the first only a call after the window
opens, so an 8-call window holds 7 or 8 bursts (Timer-XL at 128 clients: a tenth less, from the window's
phase alone). A client that a node starves counts only for the answers it got (and a client served early and
then starved would count too much: compare ``requests`` with ``per_second * seconds``). ``payload`` is the
TsBlock bytes of the request (encode once in the parent).
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
    per_second: float  # the clients' steady rates summed (see the module's docstring)

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
    inside = [[(ended, ms) for ended, ms in samples if ended <= window[1]] for samples, _ in collected]
    latencies = tuple(ms for samples in inside for _, ms in samples)
    return LoadResult(clients=clients, requests=len(latencies), errors=sum(e for _, e in collected),
                      seconds=seconds, latencies_ms=latencies,
                      per_second=sum(_steady_rate(samples, seconds) for samples in inside))


def _steady_rate(samples: list[tuple[float, float]], seconds: float) -> float:
    """One client's answers per second between its first answer and its last (``samples``: (end, latency))."""
    span = samples[-1][0] - samples[0][0] if len(samples) > 1 else 0.0
    return (len(samples) - 1) / span if span > 0 else len(samples) / seconds
