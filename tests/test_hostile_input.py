"""Hostile and oversized input over the wire: the node's memory, threads and descriptors stay bounded, and
every refusal is a status that names the limit and its key (issue 16)."""
from __future__ import annotations

import os
import resource
import socket
import ssl
import struct
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from thrift.transport import TSSLSocket, TTransport

from ainode_core.rpc.connection import AINodeConnection
from ainode_core.rpc.gen.ainode import IAINodeRPCService
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.rpc.server import protocol_factory
from ainode_core.rpc.tsblock import Column, TsBlock, TSDataType, decode_tsblock, encode_tsblock
from ainode_core.testing.hostile import amplifying_tsblock, process_memory
from ainode_core.testing.node import RunningNode, make_home

MiB = 2**20


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _block(matrix: np.ndarray) -> bytes:
    columns = [Column(TSDataType.DOUBLE, row) for row in matrix]
    return encode_tsblock(TsBlock(np.arange(matrix.shape[1], dtype=np.int64), columns))


def _forecast(client, data: bytes, length: int = 4) -> t.TForecastResp:
    return client.forecast(t.TForecastReq("naive_forecaster", data, length))


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    home = make_home(tmp_path_factory.mktemp("hostile"), """
        ain_inference_max_input_size_in_mb=64
        ain_thrift_max_frame_size=10000000
        ain_rpc_frame_timeout_in_ms=1500
        ain_rpc_max_connections=40
    """)
    running = RunningNode(home)
    yield running
    assert running.stop() == 0


@pytest.fixture
def connection(node):
    connection = AINodeConnection("127.0.0.1", node.port)
    yield connection
    connection.close()


@pytest.mark.parametrize("boolean, rows, n_columns", [(False, 1_000_000, 250), (True, 200_000, 250)],
                         ids=["rle-double", "plain-boolean"])
def test_an_amplifying_request_is_refused_before_it_is_decoded(node, connection, boolean, rows, n_columns):
    data = amplifying_tsblock(rows, n_columns, boolean=boolean)
    assert len(data) < 10_000_000  # within the frame limit ...
    peak_before = process_memory(node.process.pid, "VmHWM")
    response = _forecast(connection.client, data)
    assert response.status.code == 1599
    assert "ain_inference_max_input_size_in_mb" in response.status.message
    assert "64.0 MiB" in response.status.message and f"{rows} rows" in response.status.message
    # ... and the node's peak memory barely moved (decoded, it would have been 400 MiB to 2 GiB).
    assert process_memory(node.process.pid, "VmHWM") - peak_before < 48 * MiB
    assert _forecast(connection.client, _block(np.ones((1, 20)))).status.code == 200


def test_an_rle_request_within_the_budget_is_answered_without_amplification(node, connection):
    rows, n_columns = 100_000, 60  # 46 MiB decoded, 0.8 MB on the wire
    assert _forecast(connection.client, _block(np.ones((1, 20)))).status.code == 200  # the model is warm
    peak_before, resident_before = (process_memory(node.process.pid, field) for field in ("VmHWM", "VmRSS"))
    response = _forecast(connection.client, amplifying_tsblock(rows, n_columns, boolean=False))
    assert response.status.code == 200, response.status.message
    assert decode_tsblock(response.forecastResult[0]).to_matrix().tolist() == [[1.5] * 4] * n_columns
    # One float64 matrix (46 MiB) and the model's work on it, not a copy per step of the way ...
    assert process_memory(node.process.pid, "VmHWM") - peak_before < 160 * MiB
    # ... and none of it kept once answered.
    time.sleep(0.3)
    assert process_memory(node.process.pid, "VmRSS") - resident_before < 16 * MiB


def test_an_oversize_frame_gets_a_status_and_the_connection_stays_usable(node, connection):
    response = _forecast(connection.client, _block(np.ones((2, 800_000))))  # 19 MB > 10,000,000
    assert response.status.code == 1599
    assert "ain_thrift_max_frame_size" in response.status.message and "10000000" in response.status.message
    assert _forecast(connection.client, _block(np.ones((1, 20)))).status.code == 200
    assert "over ain_thrift_max_frame_size" in node.output()


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> float:
    """Seconds until the node closes ``sock`` (sending ``trickle`` every 0.2 s meanwhile)."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < seconds:
        try:
            if trickle:
                sock.send(trickle)
            if sock.recv(1) == b"":
                return time.monotonic() - started
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
    raise AssertionError(f"connection still open after {seconds} s")


def test_a_slow_or_truncated_frame_loses_its_connection_while_others_are_served(node, connection):
    slow = socket.create_connection(("127.0.0.1", node.port))
    slow.sendall(struct.pack(">i", 1000) + b"\x80")  # a frame starts, then one byte every 0.2 s
    truncated = socket.create_connection(("127.0.0.1", node.port))
    truncated.sendall(struct.pack(">i", 1000) + b"\x80\x01\x00\x01")  # and stops
    assert _forecast(connection.client, _block(np.ones((1, 20)))).status.code == 200
    assert _closed_within(slow, 5, trickle=b"x") < 3.5  # ain_rpc_frame_timeout_in_ms=1500
    assert _closed_within(truncated, 5) < 3.5
    assert "a frame did not arrive within" in node.output()


def test_connections_over_the_cap_get_a_status_and_heartbeats_still_get_through(tmp_path):
    running = RunningNode(make_home(tmp_path, "ain_rpc_max_connections=2\n"))
    held = []
    try:
        for _ in range(2):
            held.append(AINodeConnection("127.0.0.1", running.port))
            assert held[-1].client.showModels(t.TShowModelsReq()).status.code == 200
        with AINodeConnection("127.0.0.1", running.port) as extra:
            status = extra.showModels(t.TShowModelsReq()).status
        assert status.code == 1521 and "ain_rpc_max_connections" in status.message
        with AINodeConnection("127.0.0.1", running.port) as extra:
            heartbeat = extra.getAIHeartbeat(t.TAIHeartbeatReq(heartbeatTimestamp=7, needSamplingLoad=False))
        assert heartbeat.heartbeatTimestamp == 7 and heartbeat.status == "Running"
        held.pop().close()
        deadline = time.monotonic() + 5
        while True:  # the freed slot is noticed once the node reads the closed connection's end
            with AINodeConnection("127.0.0.1", running.port) as again:
                if again.showModels(t.TShowModelsReq()).status.code == 200:
                    break
            assert time.monotonic() < deadline, "a freed connection slot was never reused"
            time.sleep(0.1)
    finally:
        for connection in held:
            connection.close()
        assert running.stop() == 0


def test_an_idle_connection_is_closed_and_the_client_reconnects(tmp_path):
    running = RunningNode(make_home(tmp_path, "ain_rpc_idle_timeout_in_ms=300\n"))
    try:
        raw = socket.create_connection(("127.0.0.1", running.port))
        assert _closed_within(raw, 3) < 2
        with AINodeConnection("127.0.0.1", running.port) as client:
            assert client.showModels(t.TShowModelsReq()).status.code == 200
            time.sleep(0.8)  # the node closes it meanwhile; the next call reconnects, as a DataNode does
            assert client.showModels(t.TShowModelsReq()).status.code == 200
    finally:
        assert running.stop() == 0


def test_the_node_raises_its_soft_open_file_limit_to_the_hard_one(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = len(os.listdir("/proc/self/fd")) + 64  # as a low `ulimit -Sn` would leave it, with room for us
    if hard != resource.RLIM_INFINITY and hard <= lowered:
        pytest.skip(f"the hard limit ({hard}) leaves nothing to raise")
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
    try:
        running = RunningNode(make_home(tmp_path))  # inherits the low soft limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        node_soft, node_hard = resource.prlimit(running.process.pid, resource.RLIMIT_NOFILE)
        assert node_hard == hard
        assert node_soft == hard if hard != resource.RLIM_INFINITY else node_soft >= 512 + 256
        assert "ulimit -Hn" not in running.output()  # enough for its connections: no warning
    finally:
        assert running.stop() == 0


def test_running_out_of_descriptors_backs_off_quietly_and_recovers(tmp_path):
    running = RunningNode(make_home(tmp_path, "ain_rpc_max_connections=1000\n"))
    pid = running.process.pid
    clients: list[socket.socket] = []
    try:
        with AINodeConnection("127.0.0.1", running.port) as client:
            assert client.showModels(t.TShowModelsReq()).status.code == 200
        open_now = len(os.listdir(f"/proc/{pid}/fd"))
        _soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (open_now + 8, hard))
        clients = [socket.create_connection(("127.0.0.1", running.port)) for _ in range(40)]
        time.sleep(1.0)  # the node has run out of descriptors by now
        cpu_before, log_before = _cpu_seconds(pid), running.output().count("\n")
        time.sleep(3.0)
        assert _cpu_seconds(pid) - cpu_before < 0.5  # not spinning on accept()
        assert running.output().count("\n") - log_before <= 2
        assert running.output().count("cannot accept connections: Too many open files") == 1
        for sock in clients:
            sock.close()
        clients = []
        deadline = time.monotonic() + 15
        while True:
            try:
                with AINodeConnection("127.0.0.1", running.port, timeout_ms=3000) as client:
                    assert client.showModels(t.TShowModelsReq()).status.code == 200
                    break
            except TTransport.TTransportException:
                assert time.monotonic() < deadline, "no client was served after descriptors freed up"
                time.sleep(0.2)
    finally:
        for sock in clients:
            sock.close()
        assert running.stop() == 0


def test_tls_connections_are_served_and_a_stalled_handshake_blocks_no_one(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    running = RunningNode(make_home(tmp_path, f"""
        ain_internal_ssl_enabled=true
        ain_thrift_ssl_cert_file={cert}
        ain_thrift_ssl_key_file={key}
    """))
    try:
        stalled = socket.create_connection(("127.0.0.1", running.port))  # connects, never says hello
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        sock = TSSLSocket.TSSLSocket("127.0.0.1", running.port, ssl_context=context)
        transport = TTransport.TFramedTransport(sock)
        client = IAINodeRPCService.Client(protocol_factory(False).getProtocol(transport))
        transport.open()
        result = threading.Event()
        threading.Thread(target=lambda: client.showModels(t.TShowModelsReq()).status.code == 200
                         and result.set(), daemon=True).start()
        assert result.wait(10), "a TLS client was not served while another connection stalled its handshake"
        transport.close()
        stalled.close()
    finally:
        assert running.stop() == 0
