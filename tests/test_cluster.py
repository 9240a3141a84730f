"""ConfigNode membership against a ConfigNode double built on apache-iotdb's generated service."""
from __future__ import annotations

import os

import pytest

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


def _cluster_home(tmp_path, config_node: FakeConfigNode, name: str = "home"):
    return make_home(tmp_path, f"ain_seed_config_node=127.0.0.1:{config_node.port}\ncluster_name=plant\n", name)


def test_remove_ainode_by_sql_stops_the_node_and_the_next_start_registers_afresh(tmp_path):
    config_node = FakeConfigNode(node_id=1)
    home = _cluster_home(tmp_path, config_node)
    node = RunningNode(home, standalone=False)
    assert read_properties(home / "data/ainode/system/system.properties")["ainode_id"] == "1"

    config_node.remove_ainode_by_sql()  # REMOVE AINODE: the ConfigNode forgets us, then calls stopAINode
    assert node.process.wait(timeout=30) == 0

    restarted = RunningNode(home, standalone=False)  # restartAINode is refused with 1002 ...
    try:
        assert [name for name, _ in config_node.calls][-2:] == ["restartAINode", "registerAINode"]
        assert read_properties(home / "data/ainode/system/system.properties")["ainode_id"] == "2"  # ... so anew
        assert list(config_node.registered) == [2]
    finally:
        assert restarted.stop() == 0


def test_a_leader_warming_up_is_asked_again(tmp_path):
    config_node = FakeConfigNode(node_id=4, warming_up=2)
    node = RunningNode(_cluster_home(tmp_path, config_node), standalone=False)
    assert node.stop() == 0
    assert [name for name, _ in config_node.calls] == ["registerAINode"] * 3
    assert list(config_node.registered) == [4]


def test_refusals_that_asking_again_cannot_fix_end_the_start_with_the_cluster_reason(tmp_path):
    from ainode_core.cluster.membership import ClusterError, ClusterMembership
    from ainode_core.config import load_settings

    config_node = FakeConfigNode(node_id=5)
    first = RunningNode(_cluster_home(tmp_path, config_node, "first"), standalone=False)
    try:
        second = ClusterMembership(load_settings(_cluster_home(tmp_path, config_node, "second")),
                                   tries=5, retry_interval=0.01)
        with pytest.raises(ClusterError, match="There is already one AINode in the cluster."):
            second.join()
        assert [name for name, _ in config_node.calls].count("registerAINode") == 2  # not retried 5 times
    finally:
        assert first.stop() == 0
    other_cluster = make_home(tmp_path, f"ain_seed_config_node=127.0.0.1:{config_node.port}\ncluster_name=other\n",
                              "first")  # same home, other cluster name: restart refused, no re-registration
    membership = ClusterMembership(load_settings(other_cluster), tries=2, retry_interval=0.01)
    with pytest.raises(ClusterError, match="ClusterName"):
        membership.join()
    assert config_node.calls[-1][0] == "restartAINode"
