"""sbin/start-ainode.sh -d and sbin/stop-ainode.sh: background start with a pid file, graceful stop."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ainode_core.rpc.connection import connect
from ainode_core.rpc.gen.ainode import ttypes as t
from ainode_core.testing.node import make_home

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
