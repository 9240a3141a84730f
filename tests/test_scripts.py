"""sbin/start-ainode.sh -d and sbin/stop-ainode.sh: background start with a pid file, graceful stop."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.testing.node import make_home
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[1]


def test_start_in_background_then_stop(tmp_path):
    home = make_home(tmp_path)
    env = dict(os.environ, IOTDB_AINODE_HOME=str(home), HF_HUB_OFFLINE="1")
    started = subprocess.run([str(REPO / "sbin/start-ainode.sh"), "-d", "--standalone"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    pid_file = home / "data/ainode/system/ainode.pid"
    pid_text, endpoint = pid_file.read_text().split()
    port = int(endpoint.rsplit(":", 1)[1])
    with connect("127.0.0.1", port) as client:
        assert client.showModels(t.TShowModelsReq()).status.code == 200
    assert (home / "logs/log_ainode_all.log").exists()

    stopped = subprocess.run([str(REPO / "sbin/stop-ainode.sh"), "-p", str(port)], env=env,
                             capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "stopped" in stopped.stdout
    assert not pid_file.exists()
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError("the node process is still alive")


def test_stop_without_a_running_node_says_so(tmp_path):
    home = make_home(tmp_path)
    env = dict(os.environ, IOTDB_AINODE_HOME=str(home))
    stopped = subprocess.run([str(REPO / "sbin/stop-ainode.sh")], env=env, capture_output=True, text=True)
    assert stopped.returncode == 1 and "no running node" in stopped.stdout


def _start(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, IOTDB_AINODE_HOME=str(home), HF_HUB_OFFLINE="1")
    return subprocess.run([str(REPO / "sbin/start-ainode.sh"), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_second_start_is_refused_and_leaves_the_running_node_alone(tmp_path):
    home = make_home(tmp_path)
    assert _start(home, "-d", "--standalone").returncode == 0
    pid, endpoint = (home / "data/ainode/system/ainode.pid").read_text().split()
    port = int(endpoint.rsplit(":", 1)[1])
    stdout_log = home / "logs/ainode-stdout.log"
    before = stdout_log.read_text()
    try:
        expected = f"an AINode is already running in {home} (pid {pid}, port {port}); stop it with sbin/stop-ainode.sh"
        for second in (_start(home, "-d", "--standalone"), _start(home, "--standalone"),
                       run_cli("start", "--standalone", home=home)):
            assert second.returncode == 1 and expected in second.stderr, second.stdout + second.stderr
            assert "Traceback" not in second.stderr and "Errno" not in second.stderr
        assert stdout_log.read_text() == before  # the running node's output is intact
        with connect("127.0.0.1", port) as client:
            assert client.showModels(t.TShowModelsReq()).status.code == 200

        # Another home configured with the same port: the port's holder is named.
        other = make_home(tmp_path, f"ain_rpc_port={port}\n", name="other")
        refused = _start(other, "--standalone")
        assert refused.returncode == 1 and f"an AINode is already running (pid {pid}, port {port})" in refused.stderr
        assert "choose another ain_rpc_port in" in refused.stderr and "Traceback" not in refused.stderr
        assert not (other / "logs").exists()  # refused before touching anything
    finally:
        env = dict(os.environ, IOTDB_AINODE_HOME=str(home))
        assert subprocess.run([str(REPO / "sbin/stop-ainode.sh")], env=env, capture_output=True).returncode == 0


def test_the_start_script_documents_its_options():
    shown = subprocess.run([str(REPO / "sbin/start-ainode.sh"), "--help"], capture_output=True, text=True)
    assert shown.returncode == 0
    assert "-d " in shown.stdout and "--standalone" in shown.stdout and "stop-ainode.sh" in shown.stdout
    readme = (REPO / "README.md").read_text()
    assert "sbin/start-ainode.sh -d --standalone" in readme and "sbin/start-ainode.sh --help" in readme
