"""Opening a Thrift connection to an AINode (used by the Python client, the CLI and tests)."""
from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Any, Iterator

from thrift.transport import TSocket, TTransport

from ainode_core.rpc.gen.ainode import IAINodeRPCService
from ainode_core.rpc.server import protocol_factory

# Answers may be large (thousands of rows of many columns): allow what thrift's framing can carry.
_MAX_ANSWER_BYTES = TTransport.HARD_MAX_FRAME_SIZE


class AINodeConnection:
    """A framed connection with the plain binary (or compact) protocol, like a DataNode opens.

    Like a DataNode, a call that fails because the connection broke (the node closed it after
    ``ain_rpc_idle_timeout_in_ms``, or restarted) reconnects and is sent once more."""

    def __init__(self, host: str, port: int, *, compact: bool = False, timeout_ms: int = 120_000) -> None:
        socket = TSocket.TSocket(host, port)
        socket.setTimeout(timeout_ms)
        self.transport = TTransport.TFramedTransport(socket, _MAX_ANSWER_BYTES)
        self._raw = IAINodeRPCService.Client(protocol_factory(compact).getProtocol(self.transport))
        self.client: IAINodeRPCService.Client = _Reconnecting(self)  # type: ignore[assignment]
        self.transport.open()

    def reopen(self) -> None:
        self.transport.close()
        self.transport.open()

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> IAINodeRPCService.Client:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Reconnecting:
    """The generated client's methods, each sent again once over a fresh connection if the old one broke."""

    def __init__(self, connection: AINodeConnection) -> None:
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._connection._raw, name)
        if not callable(method):
            return method

        @functools.wraps(method)
        def call(*args: Any) -> Any:
            try:
                return method(*args)
            except TTransport.TTransportException as exc:
                if exc.type == TTransport.TTransportException.TIMED_OUT:
                    raise  # the node is slow, not gone: sending again would only add load
                self._connection.reopen()
                return method(*args)
        setattr(self, name, call)  # built once per method: __getattr__ is not asked again
        return call


@contextmanager
def connect(host: str, port: int, *, compact: bool = False) -> Iterator[IAINodeRPCService.Client]:
    connection = AINodeConnection(host, port, compact=compact)
    try:
        yield connection.client
    finally:
        connection.close()

