"""The Thrift server: framed transport, binary (or compact) protocol, optional TLS, a thread per connection.

A thread per connection (not a fixed pool shared by all connections) means the ConfigNode's heartbeat
connection is never queued behind DataNode connections that are waiting for a slow forecast. Model work
itself runs on the engine's worker threads, so a handler thread only waits on a future with a deadline.

What a network can throw at it is bounded (see :mod:`ainode_core.rpc.frames` for frames and timeouts):

- at most ``ain_rpc_max_connections`` connections are served; one more gets its first call answered with
  an overload status that names the limit (a ConfigNode heartbeat is still answered), then is closed;
- a frame over ``ain_thrift_max_frame_size`` is answered with a status naming the limit, not a reset;
- when the process runs out of file descriptors, the accept loop backs off and logs one line a minute,
  instead of spinning; clients are served again as soon as descriptors free up.
"""
from __future__ import annotations

import errno
import logging
import socket
import ssl
import threading
import time
from typing import Any

from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.Thrift import TApplicationException, TMessageType, TType
from thrift.transport import TSocket, TTransport

from ainode_core.config import Settings
from ainode_core.errors import StatusCode
from ainode_core.rpc.frames import BoundedFramedTransport, OversizeFrame
from ainode_core.rpc.gen.ainode import IAINodeRPCService
from ainode_core.rpc.gen.common.ttypes import TSStatus

log = logging.getLogger(__name__)

# Calls served even on a connection over the cap: losing them would make the cluster think the node died.
_ALWAYS_SERVED = frozenset({"getAIHeartbeat"})
_OVER_CAP_WAIT_SECONDS = 5.0  # how long a connection over the cap may take to send the call we refuse
_MAX_REFUSING = 16  # connections over the cap being answered at once; more are closed straight away
_OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def protocol_factory(compact: bool) -> Any:
    # Never the accelerated protocol: it drops IoTDB's implicit-id (-1) method arguments.
    return TCompactProtocol.TCompactProtocolFactory() if compact else TBinaryProtocol.TBinaryProtocolFactory()


class RateLimitedLog:
    """One log line per ``interval`` for a recurring condition, with how often it happened in between."""

    def __init__(self, interval: float = 60.0) -> None:
        self.interval = interval
        self._last = -interval
        self._suppressed = 0
        self._lock = threading.Lock()

    def warning(self, message: str, *args: Any) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.interval:
                self._suppressed += 1
                return
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        more = f" ({suppressed} more since the last such line)" if suppressed else ""
        log.warning(message + more, *args)


def _tls_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.ain_thrift_ssl_cert_file, settings.ain_thrift_ssl_key_file or None)
    return context


class ThriftServer:
    def __init__(self, processor: Any, settings: Settings) -> None:
        self.processor = processor
        self.settings = settings
        host, port = settings.rpc_endpoint
        # TLS is wrapped in each connection's thread, so a slow handshake never blocks accepting others.
        self._tls = _tls_context(settings) if settings.ain_internal_ssl_enabled else None
        self.socket = TSocket.TServerSocket(host=host, port=port)
        self.socket.setBacklog(1024)
        self.protocol_factory = protocol_factory(settings.ain_thrift_compression_enabled)
        self.max_connections = settings.ain_rpc_max_connections
        self.max_frame_size = settings.ain_thrift_max_frame_size
        idle_ms = settings.ain_rpc_idle_timeout_in_ms
        self.idle_timeout = idle_ms / 1000 if idle_ms > 0 else None
        self.frame_timeout = settings.ain_rpc_frame_timeout_in_ms / 1000
        self._stopping = threading.Event()
        self._connections: set[threading.Thread] = set()
        self._refusing = threading.BoundedSemaphore(_MAX_REFUSING)
        self._lock = threading.Lock()
        self._accept_trouble = RateLimitedLog()
        self._over_cap_log = RateLimitedLog()
        self.socket.listen()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when the config asked for port 0)."""
        return self.socket.handle.getsockname()[1]

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._connections)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept_loop, name="thrift-accept", daemon=True)
        self._thread.start()

    # --- accepting ---------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        backoff = 0.0
        while not self._stopping.is_set():
            try:
                sock, _address = self.socket.handle.accept()
            except OSError as exc:
                if self._stopping.is_set():
                    return
                if exc.errno in _OUT_OF_DESCRIPTORS:
                    # The pending connection stays in the backlog; retrying at once would only spin.
                    backoff = min(max(backoff * 2, 0.05), 1.0)
                    self._accept_trouble.warning(
                        "cannot accept connections: %s (%d open); waiting for descriptors to free up - "
                        "raise the open-files limit (ulimit -n) or lower ain_rpc_max_connections",
                        exc.strerror, self.connection_count)
                    self._stopping.wait(backoff)
                else:
                    log.warning("accept failed: %s", exc)
                continue
            backoff = 0.0
            self._dispatch(sock)

    def _dispatch(self, sock: socket.socket) -> None:
        with self._lock:
            over_cap = len(self._connections) >= self.max_connections
        if over_cap:
            if not self._refusing.acquire(blocking=False):
                sock.close()
                return
            target, name = self._refuse, "thrift-refuse"
        else:
            target, name = self._serve, "thrift-conn"
        thread = threading.Thread(target=target, args=(sock,), name=name, daemon=True)
        if not over_cap:
            with self._lock:
                self._connections.add(thread)
        try:
            thread.start()
        except RuntimeError:  # cannot start a thread: out of memory or threads
            self._forget(thread)
            sock.close()
            if over_cap:
                self._refusing.release()

    def _forget(self, thread: threading.Thread) -> None:
        with self._lock:
            self._connections.discard(thread)

    def _open(self, sock: socket.socket, *, idle_timeout: float | None,
              frame_timeout: float) -> tuple[BoundedFramedTransport, Any] | None:
        if self._tls is not None:
            sock.settimeout(frame_timeout)
            try:
                sock = self._tls.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError) as exc:
                log.info("TLS handshake failed: %s", exc)
                sock.close()
                return None
        transport = BoundedFramedTransport(sock, max_frame_size=self.max_frame_size, idle_timeout=idle_timeout,
                                           frame_timeout=frame_timeout)
        return transport, self.protocol_factory.getProtocol(transport)

    # --- serving -----------------------------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        opened = None
        try:
            opened = self._open(sock, idle_timeout=self.idle_timeout, frame_timeout=self.frame_timeout)
            if opened is None:
                return
            transport, protocol = opened
            while not self._stopping.is_set():
                try:
                    self.processor.process(protocol, protocol)
                except OversizeFrame as frame:
                    self._answer_oversize(protocol, frame)
        except TTransport.TTransportException as exc:
            if exc.type == TTransport.TTransportException.TIMED_OUT:
                log.info("closing a connection: %s", exc.message)
            # otherwise the peer closed the connection
        except Exception:
            log.exception("connection failed")
        finally:
            if opened is not None:
                opened[0].close()
            else:
                sock.close()
            self._forget(threading.current_thread())

    def _refuse(self, sock: socket.socket) -> None:
        """A connection over the cap: answer its first call with a status (a heartbeat normally), then close."""
        try:
            opened = self._open(sock, idle_timeout=_OVER_CAP_WAIT_SECONDS, frame_timeout=_OVER_CAP_WAIT_SECONDS)
            if opened is None:
                return
            transport, protocol = opened
            try:
                name, _kind, seqid = protocol.readMessageBegin()
                if name in _ALWAYS_SERVED:
                    self.processor._processMap[name](self.processor, seqid, protocol, protocol)
                    return
                protocol.skip(TType.STRUCT)
                protocol.readMessageEnd()
                self._over_cap_log.warning(
                    "refused a call to %s: %d connections are open, the limit (ain_rpc_max_connections)",
                    name, self.max_connections)
                self._reply_status(protocol, name, seqid, StatusCode.INFERENCE_OVERLOAD_ERROR,
                                   f"This AINode already serves {self.max_connections} connections, its limit "
                                   "(ain_rpc_max_connections); close idle connections, retry later, or raise "
                                   "the limit.")
            except OversizeFrame as frame:
                self._answer_oversize(protocol, frame)
            except (TTransport.TTransportException, EOFError):
                pass
            finally:
                transport.close()
        except Exception:
            log.exception("refusing a connection failed")
        finally:
            self._refusing.release()

    def _answer_oversize(self, protocol: Any, frame: OversizeFrame) -> None:
        head = TTransport.TMemoryBuffer(frame.head)
        try:
            name, _kind, seqid = self.protocol_factory.getProtocol(head).readMessageBegin()
        except Exception:
            raise TTransport.TTransportException(
                TTransport.TTransportException.SIZE_LIMIT,
                f"an unreadable frame of {frame.size} bytes over the limit of {frame.limit}") from None
        log.warning("refused a %d-byte call to %s: over ain_thrift_max_frame_size (%d)", frame.size, name,
                    frame.limit)
        self._reply_status(protocol, name, seqid, StatusCode.INVALID_INFERENCE_CONFIG,
                           f"The request is {frame.size} bytes, over this AINode's frame limit of {frame.limit} "
                           "bytes (ain_thrift_max_frame_size); send less data per call (fewer rows or columns) "
                           "or raise the limit.")

    def _reply_status(self, protocol: Any, name: str, seqid: int, code: int, message: str) -> None:
        """Answer call ``name`` with a failure status, shaped as that method's response."""
        status = TSStatus(code=int(code), message=message)
        handler = getattr(self.processor, "_handler", None)
        response = getattr(getattr(handler, name, None), "failure_response", None)
        result_type = getattr(IAINodeRPCService, f"{name}_result", None)
        if result_type is not None and response is not None:
            reply: Any = result_type(success=response(status))
            kind = TMessageType.REPLY
        elif result_type is not None and result_type.thrift_spec[0][3][0] is TSStatus:
            reply, kind = result_type(success=status), TMessageType.REPLY
        else:
            reply = TApplicationException(TApplicationException.UNKNOWN, f"{code}: {message}")
            kind = TMessageType.EXCEPTION
        protocol.writeMessageBegin(name, kind, seqid)
        reply.write(protocol)
        protocol.writeMessageEnd()
        protocol.trans.flush()

    # --- stopping ----------------------------------------------------------------------------------------

    def stop_accepting(self) -> None:
        self._stopping.set()
        handle = self.socket.handle
        if handle is None:  # already closed
            return
        try:
            handle.shutdown(socket.SHUT_RDWR)  # wakes the accept loop at once
        except OSError:
            pass
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
