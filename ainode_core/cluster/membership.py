"""Joining an IoTDB cluster through its ConfigNode, with apache-iotdb's generated client.

First start (no ``<ain_system_dir>/system.properties``): ``registerAINode``; the answer's node id and
ConfigNode list are persisted atomically. Later starts: ``restartAINode`` with the persisted id. Code 400
means "not the leader": retry at ``status.redirectNode``; 1014 means "leader warming up": ask again.
Transient failures are retried a bounded number of times, then the start fails with a message that says
what to check.

``REMOVE AINODE`` in SQL makes the ConfigNode forget this node and call ``stopAINode``; the next start's
``restartAINode`` is then refused (1002, "no corresponding AINode"). The node registers afresh instead, as
a new operator would expect from a node that was removed and started again.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

import psutil
from iotdb.thrift.common.ttypes import TAINodeConfiguration, TAINodeLocation, TEndPoint, TNodeResource
from iotdb.thrift.confignode import IConfigNodeRPCService
from iotdb.thrift.confignode.ttypes import (
    TAINodeRegisterReq,
    TAINodeRemoveReq,
    TAINodeRestartReq,
    TNodeVersionInfo,
)
from thrift.transport import TSocket, TTransport

from ainode_core import __version__
from ainode_core.config import Settings, read_properties, write_properties_atomically
from ainode_core.errors import AINodeError, StatusCode
from ainode_core.rpc.server import protocol_factory

log = logging.getLogger(__name__)

SYSTEM_PROPERTIES = "system.properties"
BUILD_INFO = "ainode"


class ClusterError(AINodeError):
    code = StatusCode.AINODE_INTERNAL_ERROR


class RefusedError(ClusterError):
    """The ConfigNode answered and said no (asking again would not help)."""

    def __init__(self, refusal: int, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


def _forgot_this_node(error: RefusedError) -> bool:
    """The ConfigNode's answer to restarting a node it removed (REMOVE AINODE)."""
    return error.refusal == StatusCode.REJECT_NODE_START and "no corresponding" in error.message


def _endpoint(text: str) -> tuple[str, int]:
    host, _, port = text.strip().rpartition(":")
    return host, int(port)


class ConfigNodeClient:
    """A short-lived connection to one ConfigNode."""

    def __init__(self, host: str, port: int, *, compact: bool, timeout_ms: int = 10000) -> None:
        socket = TSocket.TSocket(host, port)
        socket.setTimeout(timeout_ms)
        self.transport = TTransport.TFramedTransport(socket)
        self.client = IConfigNodeRPCService.Client(protocol_factory(compact).getProtocol(self.transport))
        self.transport.open()

    def close(self) -> None:
        self.transport.close()


class ClusterMembership:
    def __init__(self, settings: Settings, *, tries: int = 10, retry_interval: float = 1.0) -> None:
        self.settings = settings
        self.tries = tries
        self.retry_interval = retry_interval
        self.node_id: int | None = None

    @property
    def system_properties_path(self) -> Path:
        return self.settings.ain_system_dir / SYSTEM_PROPERTIES

    def _configuration(self, node_id: int | None) -> TAINodeConfiguration:
        host, port = self.settings.rpc_endpoint
        location = TAINodeLocation(aiNodeId=node_id if node_id is not None else 0,  # 0: the ConfigNode assigns it
                                   internalEndPoint=TEndPoint(ip=host, port=port))
        resource = TNodeResource(cpuCoreNum=os.cpu_count() or 1, maxMemory=psutil.virtual_memory().total)
        return TAINodeConfiguration(location=location, resource=resource)

    def _version(self) -> TNodeVersionInfo:
        return TNodeVersionInfo(version=__version__, buildInfo=BUILD_INFO)

    def _config_nodes(self, persisted: dict[str, str] | None) -> list[tuple[str, int]]:
        nodes = [_endpoint(self.settings.ain_seed_config_node)]
        if persisted and persisted.get("config_node_list"):
            nodes = [_endpoint(item) for item in persisted["config_node_list"].split(",") if item] + nodes
        return list(dict.fromkeys(nodes))

    def _call(self, nodes: list[tuple[str, int]], what: str, call: Callable[[Any], Any]) -> Any:
        """Call the ConfigNode, following redirects and retrying transient failures (bounded)."""
        last_error = "no ConfigNode answered"
        candidates = list(nodes)
        for attempt in range(self.tries):
            host, port = candidates[attempt % len(candidates)]
            try:
                connection = ConfigNodeClient(host, port, compact=self.settings.ain_thrift_compression_enabled)
            except TTransport.TTransportException as exc:
                last_error = f"cannot connect to ConfigNode {host}:{port} ({exc})"
            else:
                try:
                    response = call(connection.client)
                except Exception as exc:
                    last_error = f"{what} on {host}:{port} failed: {type(exc).__name__}: {exc}"
                else:
                    status = response.status if hasattr(response, "status") else response
                    if status.code == StatusCode.SUCCESS:
                        return response
                    if status.code == StatusCode.REDIRECTION_RECOMMEND and status.redirectNode is not None:
                        target = (status.redirectNode.ip, status.redirectNode.port)
                        log.info("ConfigNode %s:%d redirects %s to %s:%d", host, port, what, *target)
                        candidates.insert(attempt + 1, target)
                        continue
                    last_error = f"{what} refused by ConfigNode {host}:{port}: {status.code} {status.message}"
                    if status.code != StatusCode.CONFIG_NODE_LEADER_WARMING_UP and not status.needRetry:
                        raise RefusedError(status.code, last_error)
                finally:
                    connection.close()
            log.warning("%s (try %d of %d)", last_error, attempt + 1, self.tries)
            time.sleep(self.retry_interval)
        raise ClusterError(self._advice(last_error))

    def _advice(self, problem: str) -> str:
        return (f"Could not join the cluster: {problem}. Check that a ConfigNode runs at "
                f"ain_seed_config_node={self.settings.ain_seed_config_node}, that cluster_name="
                f"{self.settings.cluster_name} matches its cluster, or start with --standalone.")

    def join(self) -> int:
        persisted = read_properties(self.system_properties_path) if self.system_properties_path.exists() else None
        nodes = self._config_nodes(persisted)
        try:
            if persisted is None:
                config_nodes = self._register(nodes)
            else:
                try:
                    config_nodes = self._restart(nodes, int(persisted["ainode_id"]))
                except RefusedError as refused:
                    if not _forgot_this_node(refused):
                        raise
                    log.warning("the cluster no longer knows AINode %s (removed with REMOVE AINODE); "
                                "registering afresh", persisted["ainode_id"])
                    config_nodes = self._register(nodes)
        except RefusedError as refused:
            raise ClusterError(self._advice(refused.message)) from None
        self._persist(config_nodes, nodes)
        return self.node_id  # type: ignore[return-value]

    def _register(self, nodes: list[tuple[str, int]]) -> list[Any]:
        request = TAINodeRegisterReq(clusterName=self.settings.cluster_name,
                                     aiNodeConfiguration=self._configuration(None),
                                     versionInfo=self._version())
        response = self._call(nodes, "registerAINode", lambda client: client.registerAINode(request))
        self.node_id = response.aiNodeId
        log.info("registered with the cluster as AINode %s", self.node_id)
        return response.configNodeList or []

    def _restart(self, nodes: list[tuple[str, int]], node_id: int) -> list[Any]:
        request = TAINodeRestartReq(clusterName=self.settings.cluster_name,
                                    aiNodeConfiguration=self._configuration(node_id),
                                    versionInfo=self._version())
        response = self._call(nodes, "restartAINode", lambda client: client.restartAINode(request))
        self.node_id = node_id
        log.info("rejoined the cluster as AINode %s", node_id)
        return response.configNodeList or []

    def _persist(self, config_nodes: list[Any], fallback: list[tuple[str, int]]) -> None:
        endpoints = [f"{n.internalEndPoint.ip}:{n.internalEndPoint.port}" for n in config_nodes
                     if getattr(n, "internalEndPoint", None) is not None]
        host, port = self.settings.rpc_endpoint
        write_properties_atomically(self.system_properties_path, {
            "ainode_id": str(self.node_id),
            "cluster_name": self.settings.cluster_name,
            "ain_rpc_address": host,
            "ain_rpc_port": str(port),
            "config_node_list": ",".join(endpoints or [f"{h}:{p}" for h, p in fallback]),
            "iotdb_version": __version__,
            "commit_id": BUILD_INFO,
        }, comment="written by ainode: this node's identity in its IoTDB cluster")

    def leave(self) -> None:
        persisted = read_properties(self.system_properties_path)
        node_id = int(persisted["ainode_id"])
        host, port = persisted.get("ain_rpc_address", "127.0.0.1"), int(persisted.get("ain_rpc_port", "10810"))
        request = TAINodeRemoveReq(aiNodeLocation=TAINodeLocation(aiNodeId=node_id,
                                                                  internalEndPoint=TEndPoint(ip=host, port=port)))
        self._call(self._config_nodes(persisted), "removeAINode", lambda client: client.removeAINode(request))
        self.system_properties_path.unlink()

    def close(self) -> None:
        """Nothing to release: connections are per call."""


def remove_from_cluster(settings: Settings) -> None:
    membership = ClusterMembership(settings)
    if not membership.system_properties_path.exists():
        raise ClusterError(f"This node has not joined a cluster ({membership.system_properties_path} is missing)")
    membership.leave()
