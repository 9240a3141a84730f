"""Many series at once: the worker-process path gives exactly the in-process results, errors included."""
from __future__ import annotations

import numpy as np
import pytest

from ainode_core.errors import InvalidInferenceConfigError
from ainode_plugin_sktime import parallel


@pytest.fixture
def series(multivariate, airline) -> list[dict]:
    return [{"targets": multivariate}, {"targets": airline}, {"targets": multivariate[::-1] * 1.5}]


def test_worker_processes_give_the_in_process_numbers(sktime_pipeline, series, monkeypatch):
    pipeline = sktime_pipeline("arima")
    in_process = pipeline.run(series, output_length=8, order="(2,0,1)")
    monkeypatch.setenv("AINODE_SKTIME_PARALLEL", "always")
    monkeypatch.setenv("AINODE_SKTIME_N_JOBS", "2")
    in_workers = pipeline.run(series, output_length=8, order="(2,0,1)")
    assert [o.shape for o in in_workers] == [(3, 8), (1, 8), (3, 8)]
    for ours, theirs in zip(in_workers, in_process):
        np.testing.assert_array_equal(ours, theirs)

    detector = sktime_pipeline("stray")
    flags = detector.run(series)
    monkeypatch.setenv("AINODE_SKTIME_PARALLEL", "never")
    for ours, theirs in zip(flags, detector.run(series)):
        np.testing.assert_array_equal(ours, theirs)


def test_an_error_in_a_worker_is_the_same_1512(sktime_pipeline, multivariate, monkeypatch):
    monkeypatch.setenv("AINODE_SKTIME_PARALLEL", "always")
    monkeypatch.setenv("AINODE_SKTIME_N_JOBS", "2")
    targets = np.vstack([multivariate, np.full((1, multivariate.shape[1]), 5.0)])
    with pytest.raises(InvalidInferenceConfigError) as caught:
        sktime_pipeline("gmm_hmm").run([{"targets": targets}], n_components=2)
    assert "input 0 variate 3" in caught.value.message


def test_small_jobs_stay_in_process(monkeypatch):
    monkeypatch.setenv("AINODE_SKTIME_PARALLEL", "auto")
    monkeypatch.setenv("AINODE_SKTIME_N_JOBS", "4")
    assert not parallel.choose_parallel(1, estimated_ms=1e6)  # one series: nothing to spread
    assert not parallel.choose_parallel(16, estimated_ms=parallel.PARALLEL_CALL_OVERHEAD_MS)  # pool costs more
    monkeypatch.setenv("AINODE_SKTIME_N_JOBS", "1")
    assert not parallel.choose_parallel(256, estimated_ms=1e6)  # one CPU: nothing to spread over


def test_a_warm_up_can_send_small_jobs_to_the_workers(monkeypatch):
    monkeypatch.setenv("AINODE_SKTIME_PARALLEL", "auto")
    monkeypatch.setenv("AINODE_SKTIME_N_JOBS", "2")
    with parallel.spread_over_workers():  # each worker's first fit, paid at warm-up
        assert parallel.choose_parallel(2, estimated_ms=1.0)
    assert not parallel.choose_parallel(2, estimated_ms=1.0)  # only inside the block
    monkeypatch.setenv("AINODE_SKTIME_PARALLEL", "never")
    with parallel.spread_over_workers():
        assert not parallel.choose_parallel(2, estimated_ms=1.0)  # never means never


def test_concurrent_calls_from_several_threads(sktime_pipeline, airline, multivariate):
    """The engine may run several requests at once in its own threads: same numbers, and the process's BLAS
    thread setting (limited to one thread during in-process fits) is restored afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    blas_before = [(i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]
    pipeline = sktime_pipeline("exponential_smoothing")
    requests = [[{"targets": airline}], [{"targets": multivariate}], [{"targets": airline[::-1]}]] * 3
    expected = [pipeline.run(request, output_length=5) for request in requests]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda request: pipeline.run(request, output_length=5), requests))
    for ours, theirs in zip(results, expected):
        np.testing.assert_array_equal(ours[0], theirs[0])
    assert [(i["filepath"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"] == blas_before


def test_building_an_instance_warms_the_pool_for_the_first_large_batch(sktime_pipeline, monkeypatch):
    monkeypatch.setenv("AINODE_SKTIME_PARALLEL", "auto")
    monkeypatch.setenv("AINODE_SKTIME_N_JOBS", "2")
    monkeypatch.setattr(parallel, "_last_used", None)  # a cold pool, as after a start
    pipeline = sktime_pipeline("arima")
    assert pipeline.warm_up() is True  # what the node calls while it builds the instance: blocks until ready
    assert parallel.choose_parallel(8, estimated_ms=1000)  # so the first batch worth spreading is spread
    assert parallel.warm_up_if_useful() is False  # a second instance finds the pool warm

    monkeypatch.setenv("AINODE_SKTIME_PARALLEL", "never")
    monkeypatch.setattr(parallel, "_last_used", None)
    assert pipeline.warm_up() is True  # the in-process fit still warms up
    assert not parallel._pool_warm()  # but a pool that is never used is never started


@pytest.mark.parametrize("model", ["arima", "holtwinters", "exponential_smoothing", "naive_forecaster",
                                   "stl_forecaster", "stray", "gaussian_hmm", "gmm_hmm"])
def test_every_builtin_warms_up_with_its_defaults(sktime_pipeline, model, monkeypatch):
    monkeypatch.setenv("AINODE_SKTIME_PARALLEL", "never")
    assert sktime_pipeline(model).warm_up() is True  # the warm-up series suits each model's minimum length
