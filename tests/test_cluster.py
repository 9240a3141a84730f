"""ConfigNode membership against a ConfigNode double built on apache-iotdb's generated service."""
from __future__ import annotations

import os

from ainode_core.config import read_properties
from tests.conftest import run_cli
from tests.support.confignode import FakeConfigNode
from ainode_core.testing.node import RunningNode, make_home


def test_register_then_restart_then_remove_following_a_redirect(tmp_path):
    leader = FakeConfigNode(node_id=7)
    follower = FakeConfigNode(redirect_to=("127.0.0.1", leader.port))
    home = make_home(tmp_path, f"ain_seed_config_node=127.0.0.1:{follower.port}\ncluster_name=plant\n")

    first = RunningNode(home, standalone=False)
    assert first.stop() == 0
    assert [name for name, _ in follower.calls] == ["registerAINode"]  # redirected ...
    (name, request), = leader.calls                                     # ... and followed
    assert name == "registerAINode"
    assert request.clusterName == "plant"
    location = request.aiNodeConfiguration.location
    assert location.aiNodeId == 0  # the ConfigNode assigns it
    assert (location.internalEndPoint.ip, location.internalEndPoint.port) == ("127.0.0.1", first.port)
    assert request.aiNodeConfiguration.resource.cpuCoreNum == os.cpu_count()
    assert request.aiNodeConfiguration.resource.maxMemory > 0
    assert request.versionInfo.version

    system = read_properties(home / "data/ainode/system/system.properties")
    assert system["ainode_id"] == "7" and system["cluster_name"] == "plant"
    assert system["config_node_list"] == f"127.0.0.1:{leader.port}"

    second = RunningNode(home, standalone=False)
    assert second.stop() == 0
    name, request = leader.calls[-1]
    assert name == "restartAINode"
    assert request.aiNodeConfiguration.location.aiNodeId == 7

    removed = run_cli("remove", home=home)
    assert removed.returncode == 0, removed.stderr
    name, request = leader.calls[-1]
    assert name == "removeAINode" and request.aiNodeLocation.aiNodeId == 7
    assert not (home / "data/ainode/system/system.properties").exists()


def test_unreachable_confignode_fails_with_a_clear_message(tmp_path):
    home = make_home(tmp_path, "ain_seed_config_node=127.0.0.1:1\n")
    from ainode_core.cluster.membership import ClusterError, ClusterMembership
    from ainode_core.config import load_settings

    membership = ClusterMembership(load_settings(home), tries=2, retry_interval=0.01)
    try:
        membership.join()
    except ClusterError as exc:
        assert "127.0.0.1:1" in exc.message and "--standalone" in exc.message
    else:
        raise AssertionError("join should fail")
