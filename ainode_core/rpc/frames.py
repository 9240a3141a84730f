"""A server-side framed transport with limits: frame size, idle time and the time one frame may take.

Thrift's own ``TFramedTransport`` resets the connection on a frame over its limit (16,384,000 bytes, silently)
and waits for ever on a peer that stops sending halfway. Here:

- the wait for the next request on an open connection is bounded by ``idle_timeout`` (a DataNode that finds
  its pooled connection closed reconnects and re-sends, so closing idle connections costs it nothing);
- once a frame has started, all of it must arrive within ``frame_timeout`` (a client that sends one byte a
  second, or a truncated frame, loses its connection instead of holding a thread);
- a frame over ``max_frame_size`` is read to its end (in small chunks, never held) and raised as
  :class:`OversizeFrame` with its first bytes, so the server can answer the call with a status that names
  the limit and the connection stays in step.
"""
from __future__ import annotations

import socket
import struct
import time
from io import BytesIO

from thrift.transport.TTransport import TTransportBase, TTransportException

_HEADER = struct.Struct("!i")
_HEAD_BYTES = 4096  # enough of an oversize frame to read the call's name and sequence id
_CHUNK = 1 << 20


class OversizeFrame(Exception):
    """A frame over the limit was read and dropped; ``head`` holds its first bytes (the message header)."""

    def __init__(self, size: int, limit: int, head: bytes) -> None:
        super().__init__(f"frame of {size} bytes over the limit of {limit}")
        self.size, self.limit, self.head = size, limit, head


class BoundedFramedTransport(TTransportBase):
    def __init__(self, sock: socket.socket, *, max_frame_size: int, idle_timeout: float | None,
                 frame_timeout: float) -> None:
        self.sock = sock
        self.max_frame_size = max_frame_size
        self.idle_timeout = idle_timeout
        self.frame_timeout = frame_timeout
        self._frame = memoryview(b"")  # the request being read, consumed from _position on
        self._position = 0
        self._write_buffer = BytesIO()

    def isOpen(self) -> bool:
        return self.sock.fileno() >= 0

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # --- reading -----------------------------------------------------------------------------------------

    def read(self, size: int) -> bytes:
        if self._position >= len(self._frame):
            self._read_frame()
        data = bytes(self._frame[self._position:self._position + size])
        self._position += len(data)
        return data

    def _read_frame(self) -> None:
        first = self._receive_some(1, timeout=self.idle_timeout, what="the next request")  # idle wait
        deadline = time.monotonic() + self.frame_timeout
        header = first + self._receive_exactly(3, deadline)
        (size,) = _HEADER.unpack(header)
        if size < 0:
            raise TTransportException(TTransportException.NEGATIVE_SIZE, f"negative frame size {size}")
        if size > self.max_frame_size:
            head = bytes(self._receive_exactly(min(size, _HEAD_BYTES), deadline))
            self._discard(size - len(head), deadline)
            raise OversizeFrame(size, self.max_frame_size, head)
        self._frame, self._position = memoryview(self._receive_exactly(size, deadline)), 0

    def _receive_some(self, size: int, *, timeout: float | None, what: str) -> bytes:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(size)
        except (socket.timeout, TimeoutError) as exc:
            raise TTransportException(TTransportException.TIMED_OUT, f"no data for {what} within "
                                      f"{timeout:.0f} s") from exc
        except OSError as exc:
            raise TTransportException(TTransportException.UNKNOWN, str(exc)) from exc
        if not data:
            raise TTransportException(TTransportException.END_OF_FILE, "the peer closed the connection")
        return data

    def _receive_exactly(self, size: int, deadline: float) -> bytearray:
        buffer = bytearray(size)
        view = memoryview(buffer)
        received = 0
        while received < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TTransportException(
                    TTransportException.TIMED_OUT,
                    f"a frame did not arrive within {self.frame_timeout:.0f} s ({received} of {size} bytes)")
            self.sock.settimeout(remaining)
            try:
                count = self.sock.recv_into(view[received:], size - received)
            except (socket.timeout, TimeoutError):
                continue  # the loop reports it with the byte count
            except OSError as exc:
                raise TTransportException(TTransportException.UNKNOWN, str(exc)) from exc
            if count == 0:
                raise TTransportException(TTransportException.END_OF_FILE,
                                          f"the peer closed the connection after {received} of {size} bytes")
            received += count
        return buffer

    def _discard(self, size: int, deadline: float) -> None:
        while size > 0:
            size -= len(self._receive_exactly(min(size, _CHUNK), deadline))

    # --- writing -----------------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self._write_buffer.write(data)

    def flush(self) -> None:
        payload = self._write_buffer.getvalue()
        self._write_buffer = BytesIO()
        # A client that does not read its answer must not hold the thread either.
        self.sock.settimeout(self.frame_timeout)
        try:
            self.sock.sendall(_HEADER.pack(len(payload)) + payload)
        except OSError as exc:
            raise TTransportException(TTransportException.UNKNOWN, f"cannot send the answer: {exc}") from exc
