"""Running many per-series fits: in the calling thread, or spread over worker processes (joblib's loky).

sktime/statsmodels/pmdarima fits are Python-heavy and hold the GIL, so threads would not help; processes do.
A process pool has costs, measured with ``bench/bench_sktime.py`` (2-CPU machine, 512-point series):

* a warm pool costs ~7 ms per call over ideal splitting when CPUs are free (naive_forecaster: 2 series 7.6 ms
  in-process vs 10.8 ms in workers, 4 series 14.7 vs 10.9, 16 series 57 vs 35), and up to ~40 ms when other
  processes keep the CPUs busy (16 series 63 vs 66 ms);
* a cold pool (first call, or ``IDLE_WORKER_TIMEOUT_S`` without work) first starts the workers and imports
  sktime in each: 2.7 s on an idle machine, 4-7 s on a busy one.

Rule (``AINODE_SKTIME_PARALLEL=auto``, the default): with ``W = min(workers, series)`` the pool saves about
``estimated * (1 - 1/W)``; it is used when that exceeds its cost, ``PARALLEL_CALL_OVERHEAD_MS`` (20 ms, between
the idle and the busy figure) when warm and ``COLD_START_MS`` when cold. On 2 CPUs that means >= 40 ms of
estimated work when warm (~10 naive series of 512 points, or 2 ARIMA series) and >= 6 s when cold; a single
series, or a single CPU, always stays in-process. When a call stays in-process only because the pool is cold,
the pool is started in the background so the next large call finds it warm. In the pool, series go in
``CHUNKS_PER_WORKER`` chunks per worker so uneven fits balance out. In-process fits run with one BLAS thread
(see :func:`_run_in_process`).

``AINODE_SKTIME_PARALLEL=always|never`` forces one path (tests, benchmarks, operators);
``AINODE_SKTIME_N_JOBS`` sets the number of worker processes (default: the CPUs this process may use).
"""
from __future__ import annotations

import functools
import logging
import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from ainode_core.errors import InferenceInternalError
from ainode_plugin_sktime.quiet import ESTIMATOR_LOCK

log = logging.getLogger("ainode_plugin_sktime")

PARALLEL_CALL_OVERHEAD_MS = 20.0
COLD_START_MS = 3000.0
CHUNKS_PER_WORKER = 4
IDLE_WORKER_TIMEOUT_S = 300

_state_lock = threading.Lock()
_forced = threading.local()  # see spread_over_workers
_warm_up_lock = threading.Lock()  # two instances built at once start the pool once
_last_used: float | None = None  # monotonic time the pool last finished work
_warming = False


def n_workers() -> int:
    configured = os.environ.get("AINODE_SKTIME_N_JOBS", "").strip()
    if configured:
        return max(1, int(configured))
    return _cpus()


@functools.lru_cache(maxsize=1)
def _cpus() -> int:
    """joblib's count (affinity and cgroup quota aware): it reads files, 33 µs a call, and every batch asks."""
    from joblib import cpu_count

    return max(1, cpu_count())


def parallel_mode() -> str:
    mode = os.environ.get("AINODE_SKTIME_PARALLEL", "auto").strip().lower() or "auto"
    if mode not in {"auto", "always", "never"}:
        raise ValueError(f"AINODE_SKTIME_PARALLEL must be auto, always or never, got {mode!r}")
    return mode


def pool_usable() -> bool:
    """Whether any call may go to worker processes (not ``never``, and at least two workers)."""
    return parallel_mode() != "never" and n_workers() >= 2


@contextmanager
def spread_over_workers() -> Iterator[None]:
    """Calls from this thread inside the block go to the workers whenever the pool is usable (a warm-up
    sends each worker a first fit, which it would otherwise pay inside the first large batch)."""
    _forced.on = True
    try:
        yield
    finally:
        _forced.on = False


def choose_parallel(n_jobs: int, estimated_ms: float) -> bool:
    """Whether ``n_jobs`` per-series fits estimated at ``estimated_ms`` in total go to worker processes."""
    mode = parallel_mode()
    if n_jobs < 2 or not pool_usable():
        return False
    if mode == "always" or getattr(_forced, "on", False):
        return True
    saved_ms = estimated_ms * (1 - 1 / min(n_workers(), n_jobs))
    if saved_ms <= PARALLEL_CALL_OVERHEAD_MS:
        return False
    if not _pool_warm() and saved_ms <= COLD_START_MS:
        _warm_up_in_background()
        return False
    return True


def run_all(func: Callable[..., Any], jobs: Sequence[tuple], estimated_ms: float) -> list[Any]:
    """``[func(*job) for job in jobs]``, in-process or in worker processes (see the module doc).

    ``func`` must be a module-level function (workers import it by name). An exception in a job is raised
    here with its own type, as if the job had run in this process.
    """
    if not choose_parallel(len(jobs), estimated_ms):
        return _run_in_process(func, jobs)
    return _run_in_workers(func, jobs)


def _run_in_process(func: Callable[..., Any], jobs: Sequence[tuple]) -> list[Any]:
    # These fits are many tiny matrix problems: multi-threaded BLAS only adds contention (measured 5-8x slower
    # exponential smoothing with 2 OpenBLAS threads on a busy 2-core machine). Worker processes get one BLAS
    # thread from loky; here the limit is process-wide for the duration of the call, which at worst makes a
    # concurrent numpy call elsewhere in the node single-threaded for that long. The lock keeps two threads
    # from interleaving set/restore of that limit (and the work is GIL-bound, so nothing is lost).
    with ESTIMATOR_LOCK, _blas_controller().limit(limits=1, user_api="blas"):
        return [func(*job) for job in jobs]


_controller: Any = None


def _blas_controller() -> Any:
    """One threadpoolctl controller, created after scipy's and numpy's BLAS are loaded (creating one scans the
    loaded libraries, ~1 ms; using it costs microseconds)."""
    global _controller
    if _controller is None:
        import scipy.linalg  # noqa: F401  (loads scipy's BLAS, which statsmodels/sklearn use)
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def _run_in_workers(func: Callable[..., Any], jobs: Sequence[tuple]) -> list[Any]:
    from joblib import Parallel, delayed
    from joblib.externals.loky.process_executor import BrokenProcessPool

    workers = n_workers()
    chunks = _split(list(jobs), min(len(jobs), workers * CHUNKS_PER_WORKER))
    started = time.perf_counter()
    try:
        # Always the same n_jobs: loky reuses one executor per size, and resizing it would restart workers.
        results = Parallel(n_jobs=workers, backend="loky", max_nbytes=None,
                           idle_worker_timeout=IDLE_WORKER_TIMEOUT_S)(
            delayed(_run_chunk)(func, chunk) for chunk in chunks)
    except BrokenProcessPool as exc:  # a worker died (killed, out of memory); loky starts fresh ones next time
        _mark_cold()
        raise InferenceInternalError(
            f"an sktime worker process died while fitting {len(jobs)} series ({exc}); the next request starts new "
            "workers. If this repeats, check the node's memory or set AINODE_SKTIME_PARALLEL=never.") from exc
    _mark_used()
    log.debug("%d series in %d chunks on %d workers: %.1f ms", len(jobs), len(chunks), workers,
              (time.perf_counter() - started) * 1000)
    return [result for chunk in results for result in chunk]


def _run_chunk(func: Callable[..., Any], chunk: list[tuple]) -> list[Any]:
    return [func(*job) for job in chunk]


def _split(items: list[Any], parts: int) -> list[list[Any]]:
    """``parts`` contiguous slices of near-equal length (order kept)."""
    size, extra = divmod(len(items), parts)
    slices, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        slices.append(items[start:end])
        start = end
    return slices


# --- pool warmth ----------------------------------------------------------------------------------------------

def _pool_warm() -> bool:
    with _state_lock:
        return _last_used is not None and time.monotonic() - _last_used < IDLE_WORKER_TIMEOUT_S - 10


def _mark_used() -> None:
    global _last_used
    with _state_lock:
        _last_used = time.monotonic()


def _mark_cold() -> None:
    global _last_used
    with _state_lock:
        _last_used = None


def _import_estimators(_: int) -> None:
    """Run in each worker once: the imports are most of a cold start."""
    import sktime.detection.hmm_learn  # noqa: F401
    import sktime.detection.stray  # noqa: F401
    import sktime.forecasting.arima  # noqa: F401
    import sktime.forecasting.exp_smoothing  # noqa: F401
    import sktime.forecasting.naive  # noqa: F401
    import sktime.forecasting.trend  # noqa: F401

    import ainode_plugin_sktime.algorithms  # noqa: F401  (installs the log filters in the worker)


def warm_up_if_useful() -> bool:
    """Warm the pool now (blocking) unless calls can never use it or it is warm already. Called when a model
    instance is built (LOAD MODEL, or the first request), so that the first batches worth spreading find it
    ready, instead of running in-process while it starts beside them and competes for the CPUs."""
    with _warm_up_lock:
        if not pool_usable() or _pool_warm():
            return False
        warm_up()
        return True


def warm_up() -> None:
    """Start the worker processes and import sktime in them (blocking)."""
    from joblib import Parallel, delayed

    workers = n_workers()
    Parallel(n_jobs=workers, backend="loky", max_nbytes=None, idle_worker_timeout=IDLE_WORKER_TIMEOUT_S)(
        delayed(_import_estimators)(index) for index in range(workers))
    _mark_used()


def _warm_up_in_background() -> None:
    global _warming
    with _state_lock:
        if _warming:
            return
        _warming = True

    def target() -> None:
        global _warming
        try:
            warm_up()
        except Exception:  # the pool is an optimisation; in-process still works
            log.debug("warming the sktime worker pool failed", exc_info=True)
        finally:
            with _state_lock:
                _warming = False

    threading.Thread(target=target, name="ainode-sktime-warm-up", daemon=True).start()
