"""A ConfigNode test double built on apache-iotdb's generated IConfigNodeRPCService.

It answers the AINode membership calls the way IoTDB 2.0.10's ConfigNode does (read from its Java sources:
``ClusterNodeStartUtils.confirmNodeRestart``, ``NodeManager``): one AINode per cluster (a second
``registerAINode`` gets 1501), ``restartAINode`` for an id it does not know or another cluster name gets 1002
with IoTDB's text, ``removeAINode`` forgets the node whatever its argument. :meth:`remove_ainode_by_sql` is
what ``REMOVE AINODE`` does: forget the node, then call ``stopAINode`` on it. ``redirect_to`` makes it answer
400 like a follower; ``warming_up`` makes its first answers 1014 (leader warming up, IoTDB 2.0.11).
It records every call.
"""
from __future__ import annotations

import threading

from iotdb.thrift.common.ttypes import TAINodeLocation, TConfigNodeLocation, TEndPoint, TSStatus
from iotdb.thrift.confignode import IConfigNodeRPCService
from iotdb.thrift.confignode.ttypes import TAINodeRegisterResp, TAINodeRestartResp
from thrift.protocol import TBinaryProtocol
from thrift.server import TServer
from thrift.transport import TSocket, TTransport


class FakeConfigNode(IConfigNodeRPCService.Iface):
    def __init__(self, node_id: int = 3, redirect_to: tuple[str, int] | None = None,
                 cluster_name: str = "plant", warming_up: int = 0) -> None:
        self.next_node_id = node_id
        self.redirect_to = redirect_to
        self.cluster_name = cluster_name
        self.warming_up = warming_up
        self.registered: dict[int, TAINodeLocation] = {}
        self.calls: list[tuple[str, object]] = []
        self.socket = TSocket.TServerSocket(host="127.0.0.1", port=0)
        self.socket.listen()
        self.port = self.socket.handle.getsockname()[1]
        self.server = TServer.TThreadedServer(
            IConfigNodeRPCService.Processor(self), self.socket,
            TTransport.TFramedTransportFactory(), TBinaryProtocol.TBinaryProtocolFactory(), daemon=True)
        self.socket.listen = lambda: None  # already listening; TThreadedServer.serve calls listen() again
        threading.Thread(target=self.server.serve, daemon=True).start()

    def _refusal(self) -> TSStatus | None:
        if self.redirect_to:
            return TSStatus(code=400, message="not the leader", redirectNode=TEndPoint(*self.redirect_to))
        if self.warming_up > 0:
            self.warming_up -= 1
            return TSStatus(code=1014, message="ConfigNode leader is warming up")
        return None

    def _config_nodes(self) -> list[TConfigNodeLocation]:
        return [TConfigNodeLocation(configNodeId=0, internalEndPoint=TEndPoint("127.0.0.1", self.port),
                                    consensusEndPoint=TEndPoint("127.0.0.1", 10720))]

    def registerAINode(self, req):
        self.calls.append(("registerAINode", req))
        status = self._refusal()
        if status is None and self.registered:
            status = TSStatus(code=1501, message="There is already one AINode in the cluster.")
        if status is not None:
            return TAINodeRegisterResp(status=status, configNodeList=self._config_nodes())
        node_id = self.next_node_id
        self.next_node_id += 1
        location = req.aiNodeConfiguration.location
        self.registered[node_id] = TAINodeLocation(aiNodeId=node_id, internalEndPoint=location.internalEndPoint)
        return TAINodeRegisterResp(status=TSStatus(code=200), configNodeList=self._config_nodes(), aiNodeId=node_id)

    def restartAINode(self, req):
        self.calls.append(("restartAINode", req))
        node_id = req.aiNodeConfiguration.location.aiNodeId
        status = self._refusal()
        if status is None and req.clusterName != self.cluster_name:
            status = TSStatus(code=1002, message=(
                "Reject AINode restart. Because the ClusterName of the current AINode and the target cluster "
                f"are inconsistent. ClusterName of the current Node: {req.clusterName}, ClusterName of the "
                f"target cluster: {self.cluster_name}."))
        if status is None and node_id not in self.registered:
            status = TSStatus(code=1002, message=(
                f"Reject AINode restart. Because there are no corresponding AINode(whose nodeId={node_id}) in "
                "the cluster.Possible solutions are as follows:\r\n\t1. Maybe you've already removed the "
                f"current AINode(whose nodeId={node_id}). Please delete the useless 'data' dir and retry start."))
        return TAINodeRestartResp(status=status or TSStatus(code=200), configNodeList=self._config_nodes())

    def removeAINode(self, req):
        self.calls.append(("removeAINode", req))
        status = self._refusal()
        if status is None:
            self.registered.clear()  # IoTDB removes "the only AINode", whatever the request names
        return status or TSStatus(code=200)

    def remove_ainode_by_sql(self) -> None:
        """``REMOVE AINODE``: forget the AINode, then tell it to stop (as RemoveAINodeProcedure does)."""
        from ainode_core.rpc.connection import connect

        locations = list(self.registered.values())
        self.registered.clear()
        for location in locations:
            with connect(location.internalEndPoint.ip, location.internalEndPoint.port) as ainode:
                ainode.stopAINode()
