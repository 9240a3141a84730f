"""Opening a Thrift connection to an AINode (used by the Python client, the CLI and tests)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from thrift.transport import TSocket, TTransport

from ainode_core.rpc.gen.ainode import IAINodeRPCService
from ainode_core.rpc.server import protocol_factory


class AINodeConnection:
    """A framed connection with the plain binary (or compact) protocol, like a DataNode opens."""

    def __init__(self, host: str, port: int, *, compact: bool = False, timeout_ms: int = 120_000) -> None:
        socket = TSocket.TSocket(host, port)
        socket.setTimeout(timeout_ms)
        self.transport = TTransport.TFramedTransport(socket)
        self.client = IAINodeRPCService.Client(protocol_factory(compact).getProtocol(self.transport))
        self.transport.open()

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> IAINodeRPCService.Client:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def connect(host: str, port: int, *, compact: bool = False) -> Iterator[IAINodeRPCService.Client]:
    connection = AINodeConnection(host, port, compact=compact)
    try:
        yield connection.client
    finally:
        connection.close()
