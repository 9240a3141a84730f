"""The inference engine through the running node: resident instances, LOAD/UNLOAD placement, concurrency,
overload and deadlines."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ainode_core.client import AINodeClient, AINodeRequestError
from ainode_core.inference.devices import cpu_cores
from ainode_core.inference.placement import instances_for
from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.testing.node import RunningNode, make_home, make_site
from tests.support.models import ENGINE_PLUGIN, TEST_PLUGIN
from tests.support.user_folders import model_folder


def start_node(root, config: str = "") -> RunningNode:
    load_log = root / "loads.txt"
    load_log.touch()
    running = RunningNode(
        make_home(root, config),
        site=make_site(root, {"ainode_test_models": TEST_PLUGIN, "ainode_engine_models": ENGINE_PLUGIN}),
        env={"LOAD_LOG": str(load_log)})
    running.load_log = load_log
    return running


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    running = start_node(tmp_path_factory.mktemp("engine"))
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="module")
def small_queue_node(tmp_path_factory):
    running = start_node(tmp_path_factory.mktemp("engine-small-queue"), "ain_inference_max_queue_size=4\n")
    yield running
    assert running.stop() == 0



def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_a_used_model_stays_resident(node, client):
    for _ in range(3):
        client.forecast("sized_a", np.arange(10.0), output_length=2)
    loads = node.load_log.read_text().split("\n")
    assert loads.count("sized_a 5") == 1  # loaded once (on the fake accelerator, the default device)
    assert client.loaded(["5"])["5"]["sized_a"] == 1


def test_an_instance_is_warmed_up_before_its_first_request(client):
    # The pipeline declares a warm-up forecast: the first request is its instance's second call.
    assert client.forecast("call_counting", np.ones(8), output_length=2).to_numpy()[0, 0] == 2.0
    client.unload("call_counting", ["5"])  # leaves the fake accelerator to the placement tests
    wait_for(lambda: "call_counting" not in client.loaded(["5"])["5"])


def test_load_places_the_formula_count_and_rebalances_then_unload(client):
    expected_alone = instances_for(1000 * 2**20, 0.4, 1, 100 * 2**20, 1.2, cap=64)
    assert expected_alone == 3  # floor(1000 MB * 0.4 / 1 / (100 MB * 1.2))
    client.load("sized_a", ["5"])
    wait_for(lambda: client.loaded(["5"])["5"].get("sized_a") == 3)
    client.load("sized_b", ["5"])  # two models share the device: floor(400 / 2 / 120) = 1 each
    wait_for(lambda: client.loaded(["5"])["5"] == {"sized_a": 1, "sized_b": 1})
    client.unload("sized_b", ["5"])
    wait_for(lambda: "sized_b" not in client.loaded(["5"])["5"] and client.loaded(["5"])["5"]["sized_a"] == 3)
    assert client.loaded()["cpu"] == client.loaded(["cpu"])["cpu"]  # empty list = every device


def test_loaded_models_are_loaded_again_after_a_restart_and_a_dropped_one_is_forgotten(tmp_path):
    def loaded_after_start() -> dict[str, int]:
        node = start_node(tmp_path)  # the same home each time
        try:
            with AINodeClient("127.0.0.1", node.port) as client:
                time.sleep(2)  # a restored LOAD runs in the background, like any LOAD
                return client.loaded(["cpu"])["cpu"]  # asked before any request could load anything
        finally:
            assert node.stop() == 0

    node = start_node(tmp_path)
    try:
        with AINodeClient("127.0.0.1", node.port) as client:
            assert client.register("shift_user", f"file://{model_folder(tmp_path, 'user', 'shift', 1.0)}") == "active"
            client.load("shift_user", ["cpu"])
            client.load("last_value", ["cpu"])
            wait_for(lambda: client.loaded(["cpu"])["cpu"] == {"shift_user": 1, "last_value": 1})
            client.drop("shift_user")
            client.load("call_counting", ["cpu"])  # rebalancing the device must not trip over the dropped model
            wait_for(lambda: client.loaded(["cpu"])["cpu"] == {"last_value": 1, "call_counting": 1})
            time.sleep(1)  # the LOAD has finished
            assert client.models("call_counting")["Reason"].tolist() == [""]  # not "LOAD MODEL failed: ..."
    finally:
        assert node.stop() == 0
    assert loaded_after_start() == {"last_value": 1, "call_counting": 1}

    node = start_node(tmp_path)
    try:
        with AINodeClient("127.0.0.1", node.port) as client:
            wait_for(lambda: "last_value" in client.loaded(["cpu"])["cpu"])
            client.unload("last_value", ["cpu"])
            wait_for(lambda: client.loaded(["cpu"])["cpu"] == {"call_counting": 1})
    finally:
        assert node.stop() == 0
    assert loaded_after_start() == {"call_counting": 1}


def test_an_unload_right_after_a_load_is_not_overtaken_by_it(client):
    for _ in range(5):  # each operation runs in the background: they must still apply in the order asked
        client.load("last_value", ["cpu"])
        client.unload("last_value", ["cpu"])
    client.load("call_counting", ["cpu"])  # a later operation of another model, to wait for
    wait_for(lambda: "call_counting" in client.loaded(["cpu"])["cpu"])
    time.sleep(1)
    assert "last_value" not in client.loaded(["cpu"])["cpu"]
    client.unload("call_counting", ["cpu"])
    wait_for(lambda: "call_counting" not in client.loaded(["cpu"])["cpu"])


def test_a_placement_plugin_can_override_the_formula(client):
    client.load("sized_pinned", ["5"])  # the formula alone would give 3 (see above); the plugin says 2
    wait_for(lambda: client.loaded(["5"])["5"].get("sized_pinned") == 2)
    client.unload("sized_pinned", ["5"])
    wait_for(lambda: "sized_pinned" not in client.loaded(["5"])["5"])


def test_one_hundred_concurrent_forecasts_are_all_right(node):
    def one(index: int) -> float:
        with AINodeClient("127.0.0.1", node.port) as own:
            series = np.full(32, float(index))
            return float(own.forecast("sized_a", series, output_length=4).iloc[0, 0])

    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(one, range(100)))
    assert results == [float(i) for i in range(100)]


def test_overload_answers_1599_at_once_and_heartbeats_still_flow(small_queue_node):
    node = small_queue_node

    def slow(index):
        with AINodeClient("127.0.0.1", node.port) as own:
            try:  # distinct options: these requests cannot share a batch, so the queue fills up
                own.forecast("slow_model", np.ones(8), output_length=2, sleep=0.5 + index / 1000)
                return 200, time.monotonic()
            except AINodeRequestError as error:
                return int(error.code), time.monotonic()

    with ThreadPoolExecutor(max_workers=12) as pool:
        pending = [pool.submit(slow, i) for i in range(12)]
        time.sleep(0.3)
        with connect("127.0.0.1", node.port) as config_node:
            beat = config_node.getAIHeartbeat(t.TAIHeartbeatReq(1, True))
            answered = time.monotonic()
        results = [future.result() for future in pending]
    codes = [code for code, _ in results]
    assert beat.status == "Running"
    assert answered < max(done for code, done in results if code == 200)  # not queued behind the model
    assert 1599 in codes and 200 in codes  # queue of 4: the excess refused at once, the rest served


def test_an_expired_request_fails_and_the_worker_moves_on(client):
    with pytest.raises(AINodeRequestError) as error:
        client.forecast("slow_model", np.ones(8), output_length=2, sleep=1, timeout_ms=200)
    assert error.value.code == 1599
    served = client.forecast("slow_model", np.ones(8), output_length=2, sleep=0)
    assert served.shape == (2, 1)


def test_a_batch_failing_after_its_callers_gave_up_leaves_the_model_serving(client):
    with pytest.raises(AINodeRequestError) as error:
        client.forecast("slow_model", np.ones(8), output_length=2, sleep=0.5, fail=1, timeout_ms=100)
    assert "did not answer within 100 ms" in str(error.value)
    time.sleep(0.7)  # the call fails after its caller left
    served = client.forecast("slow_model", np.ones(8), output_length=2, sleep=0, timeout_ms=5000)
    assert served.shape == (2, 1)


def test_a_bad_request_fails_alone_among_concurrent_good_ones(node):
    """16 good and 4 bad clients at once: the model refuses any call holding a bad input, so batched
    together every request would fail; split, each good one gets its answer and each bad one its own error."""
    def call(index: int) -> tuple[int, object]:
        values = np.arange(5.0) + index if index % 5 else -np.arange(1.0, 6.0)  # every fifth is bad
        with AINodeClient("127.0.0.1", node.port) as client:
            try:
                return 200, client.forecast("picky_model", values, output_length=2).iloc[:, 0].tolist()
            except AINodeRequestError as exc:
                return exc.code, str(exc)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(call, range(20)))
    for index, (code, answer) in enumerate(results):
        if index % 5:
            assert (code, answer) == (200, [4.0 + index] * 2)
        else:
            assert code == 1599 and "input 0 starts with a negative value" in answer


def test_a_bad_request_fails_at_once_while_the_model_is_busy(node):
    """Checked alone in the caller's thread: it does not wait behind a slow call to learn it cannot run."""
    def slow_call() -> None:
        with AINodeClient("127.0.0.1", node.port) as other:
            other.forecast("slow_model", np.ones(8), output_length=2, sleep=2)

    with ThreadPoolExecutor(max_workers=1) as pool:
        busy = pool.submit(slow_call)
        time.sleep(0.3)
        with AINodeClient("127.0.0.1", node.port) as client:
            started = time.monotonic()
            with pytest.raises(AINodeRequestError) as error:
                client.forecast("slow_model", np.ones(8), output_length=2, sleep=0,
                                future_covariates={"temp": np.ones(2)})  # future names must be past names
            assert time.monotonic() - started < 1.0
        busy.result()
    assert error.value.code == 1599 and "temp" in str(error.value)


def test_a_series_too_short_for_sktime_fails_alone_and_at_once(node):
    with AINodeClient("127.0.0.1", node.port) as client, pytest.raises(AINodeRequestError) as error:
        client.forecast("holtwinters", np.arange(3.0), output_length=2)
    assert error.value.code == 1599 and "input 0" in str(error.value)


def test_bad_timeout_option_is_a_1599(client):
    with pytest.raises(AINodeRequestError) as error:
        client.forecast("sized_a", np.ones(8), output_length=2, timeout_ms="soon")
    assert error.value.code == 1599 and "timeout_ms" in str(error.value)


@pytest.fixture(scope="module")
def isolated_node(tmp_path_factory):
    running = start_node(tmp_path_factory.mktemp("engine-isolated"), "ain_inference_isolation=process\n")
    yield running
    assert running.stop() == 0


def _threads_of_loaded_instances(port: int, instances: int) -> set[float]:
    """LOAD torch_threads to cpu, wait for ``instances`` of it there: the torch thread counts they answer."""
    with AINodeClient("127.0.0.1", port) as client:
        client.load("torch_threads", ["cpu"])
        wait_for(lambda: client.loaded(["cpu"])["cpu"].get("torch_threads") == instances)
        time.sleep(1)  # LOAD has finished placing: no more instances come
        assert client.loaded(["cpu"])["cpu"]["torch_threads"] == instances
        answers = {client.forecast("torch_threads", np.ones(4), output_length=1).to_numpy()[0, 0] for _ in range(8)}
        client.unload("torch_threads", ["cpu"])
    return answers


@pytest.mark.skipif(cpu_cores() < 2, reason="one core: there is nothing to share")
def test_on_cpu_instances_share_the_cores_instead_of_competing_for_them(node, isolated_node):
    # In-process instances share one process's cores and GIL: one instance, with every core.
    assert _threads_of_loaded_instances(node.port, instances=1) == {float(cpu_cores())}
    # Isolated ones run in parallel processes: one per core, one torch thread each.
    assert _threads_of_loaded_instances(isolated_node.port, instances=cpu_cores()) == {1.0}


def test_with_process_isolation_a_model_that_kills_its_process_fails_only_its_request(isolated_node):
    with AINodeClient("127.0.0.1", isolated_node.port) as client:
        values = np.array([1.0, 2.0, 7.5])
        np.testing.assert_array_equal(client.forecast("last_value", values, output_length=3).to_numpy(),
                                      np.full((3, 1), 7.5))  # served from its own process, same numbers
        first_pid = client.forecast("process_killer", values, output_length=2).to_numpy()[0, 0]
        assert first_pid != isolated_node.process.pid

        with pytest.raises(AINodeRequestError) as error:
            client.forecast("process_killer", values, output_length=2, die=1)
        assert error.value.code == 1599 and "worker process died (exit code 17)" in str(error.value)

        # The node, its heartbeat and the other models carry on; the next request gets a fresh process.
        with connect("127.0.0.1", isolated_node.port) as raw:
            assert raw.getAIHeartbeat(t.TAIHeartbeatReq(heartbeatTimestamp=5, needSamplingLoad=False)).status \
                == "Running"
        assert client.forecast("last_value", values, output_length=1).to_numpy()[0, 0] == 7.5
        second_pid = client.forecast("process_killer", values, output_length=2).to_numpy()[0, 0]
        assert second_pid not in (first_pid, isolated_node.process.pid)
    assert isolated_node.process.poll() is None


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_a_hung_model_is_abandoned_and_serves_again_and_the_node_still_stops_at_once(tmp_path, isolation):
    node = start_node(tmp_path, f"ain_inference_isolation={isolation}\nain_inference_hung_call_grace_in_ms=300\n")
    try:
        with AINodeClient("127.0.0.1", node.port) as client:
            with pytest.raises(AINodeRequestError) as error:
                client.forecast("hang_model", np.ones(4), output_length=2, hang=1, timeout_ms=300)
            assert error.value.code == 1599 and "did not answer within 300 ms" in str(error.value)
            started = time.monotonic()
            served = client.forecast("hang_model", np.ones(4), output_length=2, timeout_ms=10000)
            assert served.iloc[:, 0].tolist() == [7.0, 7.0]
            assert time.monotonic() - started < 5  # deadline 0.3 s + grace 0.3 s + a check, plus a restart
            reason = client.models("hang_model")["Reason"].iloc[0]
            assert ("replaced" if isolation == "thread" else "restarted") in reason and "past its callers'" in reason

        def hang_until_stopped() -> None:  # a call in progress when the node is told to stop
            with AINodeClient("127.0.0.1", node.port) as other, pytest.raises(Exception):
                other.forecast("hang_model", np.ones(4), output_length=2, hang=1, timeout_ms=60000)

        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(hang_until_stopped)
            time.sleep(0.5)
            stopping = time.monotonic()
            assert node.stop() == 0
            assert time.monotonic() - stopping < 5  # SIGTERM does not wait for the hung call
            pending.result(timeout=10)
    finally:
        if node.process.poll() is None:
            node.stop()


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_unload_reclaims_a_hung_model_within_seconds_and_its_caller_is_told(tmp_path, isolation):
    node = start_node(tmp_path, f"ain_inference_isolation={isolation}\n")
    try:
        with AINodeClient("127.0.0.1", node.port) as client:
            client.load("hang_model", "cpu")
            deadline = time.monotonic() + 30
            while "hang_model" not in client.loaded(["cpu"])["cpu"]:  # LOAD answers at once, loads after
                assert time.monotonic() < deadline, "LOAD MODEL never completed"
                time.sleep(0.1)

            def hung_call() -> tuple[float, str]:
                with AINodeClient("127.0.0.1", node.port) as other:
                    try:
                        other.forecast("hang_model", np.ones(4), output_length=2, hang=1, timeout_ms=60000)
                    except AINodeRequestError as exc:
                        return time.monotonic(), str(exc)
                return time.monotonic(), "answered"

            with ThreadPoolExecutor(max_workers=1) as pool:
                pending = pool.submit(hung_call)
                time.sleep(0.5)
                unloading = time.monotonic()
                client.unload("hang_model", "cpu")
                answered_at, message = pending.result(timeout=10)
            assert answered_at - unloading < 5  # not the 60 s deadline
            assert "was stopped (unloaded" in message
            assert "hang_model" not in client.loaded(["cpu"])["cpu"]
            served = client.forecast("hang_model", np.ones(4), output_length=2, timeout_ms=10000)
            assert served.iloc[:, 0].tolist() == [7.0, 7.0]  # a fresh instance on the next request
    finally:
        assert node.stop() == 0
