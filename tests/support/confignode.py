"""A ConfigNode test double built on apache-iotdb's generated IConfigNodeRPCService.

It records every AINode membership call; ``redirect_to`` makes it answer 400 with that endpoint, like a
follower ConfigNode does.
"""
from __future__ import annotations

import threading

from iotdb.thrift.common.ttypes import TConfigNodeLocation, TEndPoint, TSStatus
from iotdb.thrift.confignode import IConfigNodeRPCService
from iotdb.thrift.confignode.ttypes import TAINodeRegisterResp, TAINodeRestartResp
from thrift.protocol import TBinaryProtocol
from thrift.server import TServer
from thrift.transport import TSocket, TTransport


class FakeConfigNode(IConfigNodeRPCService.Iface):
    def __init__(self, node_id: int = 3, redirect_to: tuple[str, int] | None = None) -> None:
        self.node_id = node_id
        self.redirect_to = redirect_to
        self.calls: list[tuple[str, object]] = []
        self.socket = TSocket.TServerSocket(host="127.0.0.1", port=0)
        self.socket.listen()
        self.port = self.socket.handle.getsockname()[1]
        self.server = TServer.TThreadedServer(
            IConfigNodeRPCService.Processor(self), self.socket,
            TTransport.TFramedTransportFactory(), TBinaryProtocol.TBinaryProtocolFactory(), daemon=True)
        self.socket.listen = lambda: None  # already listening; TThreadedServer.serve calls listen() again
        threading.Thread(target=self.server.serve, daemon=True).start()

    def _status(self) -> TSStatus:
        if self.redirect_to:
            return TSStatus(code=400, message="not the leader", redirectNode=TEndPoint(*self.redirect_to))
        return TSStatus(code=200)

    def _config_nodes(self) -> list[TConfigNodeLocation]:
        return [TConfigNodeLocation(configNodeId=0, internalEndPoint=TEndPoint("127.0.0.1", self.port),
                                    consensusEndPoint=TEndPoint("127.0.0.1", 10720))]

    def registerAINode(self, req):
        self.calls.append(("registerAINode", req))
        return TAINodeRegisterResp(status=self._status(), configNodeList=self._config_nodes(), aiNodeId=self.node_id)

    def restartAINode(self, req):
        self.calls.append(("restartAINode", req))
        return TAINodeRestartResp(status=self._status(), configNodeList=self._config_nodes())

    def removeAINode(self, req):
        self.calls.append(("removeAINode", req))
        return self._status()
