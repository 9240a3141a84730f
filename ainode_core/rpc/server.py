"""The Thrift server: framed transport, binary (or compact) protocol, optional TLS, a thread per connection.

A thread per connection (not a fixed pool shared by all connections) means the ConfigNode's heartbeat
connection is never queued behind DataNode connections that are waiting for a slow forecast. Model work
itself runs on the engine's worker threads, so a handler thread only waits on a future with a deadline.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.transport import TSocket, TSSLSocket, TTransport

from ainode_core.config import Settings

log = logging.getLogger(__name__)


def protocol_factory(compact: bool) -> Any:
    # Never the accelerated protocol: it drops IoTDB's implicit-id (-1) method arguments.
    return TCompactProtocol.TCompactProtocolFactory() if compact else TBinaryProtocol.TBinaryProtocolFactory()


class ThriftServer:
    def __init__(self, processor: Any, settings: Settings) -> None:
        self.processor = processor
        host, port = settings.rpc_endpoint
        if settings.ain_internal_ssl_enabled:
            self.socket = TSSLSocket.TSSLServerSocket(
                host=host, port=port, certfile=settings.ain_thrift_ssl_cert_file,
                keyfile=settings.ain_thrift_ssl_key_file or None)
        else:
            self.socket = TSocket.TServerSocket(host=host, port=port)
        self.transport_factory = TTransport.TFramedTransportFactory()
        self.protocol_factory = protocol_factory(settings.ain_thrift_compression_enabled)
        self._stopping = threading.Event()
        self._connections: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self.socket.listen()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when the config asked for port 0)."""
        return self.socket.handle.getsockname()[1]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept_loop, name="thrift-accept", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client = self.socket.accept()
            except Exception:
                if self._stopping.is_set():
                    return
                log.exception("accept failed")
                continue
            if client is None:
                continue
            thread = threading.Thread(target=self._serve_client, args=(client,), name="thrift-conn", daemon=True)
            with self._lock:
                self._connections.add(thread)
            thread.start()

    def _serve_client(self, client: Any) -> None:
        transport = self.transport_factory.getTransport(client)
        protocol = self.protocol_factory.getProtocol(transport)
        try:
            while not self._stopping.is_set():
                self.processor.process(protocol, protocol)
        except TTransport.TTransportException:
            pass  # the peer closed the connection
        except Exception:
            log.exception("connection failed")
        finally:
            transport.close()
            with self._lock:
                self._connections.discard(threading.current_thread())

    def stop_accepting(self) -> None:
        self._stopping.set()
        try:
            self.socket.close()
        except Exception:
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting; let in-flight calls finish (bounded), then close."""
        self.stop_accepting()
        with self._lock:
            connections = list(self._connections)
        for thread in connections:
            thread.join(timeout=timeout / max(len(connections), 1))
