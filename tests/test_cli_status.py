"""`ainode status`: whether a node runs, its pid and port, its models and what is loaded, from the node."""
from __future__ import annotations

import json
import time

from ainode_core.cli.main import main
from ainode_core.client import AINodeClient
from ainode_core.testing.node import RunningNode, make_home
from tests.conftest import closed_port


def test_status_of_a_running_node_then_of_none(tmp_path, capsys):
    node = RunningNode(make_home(tmp_path))
    try:
        with AINodeClient("127.0.0.1", node.port) as client:
            client.load("naive_forecaster", "cpu")
            deadline = time.monotonic() + 60
            while "naive_forecaster" not in client.loaded().get("cpu", {}):
                assert time.monotonic() < deadline
                time.sleep(0.1)
            states = client.models()["State"].value_counts().to_dict()
        assert main(["status", "--home", str(node.home)]) == 0  # found through the home's pid file
        out = capsys.readouterr().out
        assert f"AINode running at 127.0.0.1:{node.port} (pid {node.process.pid}, home {node.home}" in out
        by_state = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
        assert f"models: {sum(states.values())} ({by_state})\nloaded: naive_forecaster on cpu (" in out, out

        assert main(["status", "--home", str(node.home), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["running"] is True and report["pid"] == node.process.pid
        assert report["loaded"]["cpu"]["naive_forecaster"] >= 1 and report["models"] == states
    finally:
        assert node.stop() == 0

    closed = closed_port()
    assert main(["status", "--home", str(node.home), "--port", str(closed)]) == 3
    assert "no AINode is running" in capsys.readouterr().err
    assert main(["status", "--home", str(node.home), "--port", str(closed), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["running"] is False
