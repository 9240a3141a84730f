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
_PREFETCH = 1 << 16  # what one receive asks for when a request starts


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
        self._pending = bytearray()  # bytes received past the current frame (the start of the next one)
        self._timeout: float | None | bool = False  # the socket's timeout now (False: not set yet)
        self._write_buffer = BytesIO()

    def isOpen(self) -> bool:
        return self.sock.fileno() >= 0

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def _set_timeout(self, timeout: float | None) -> None:
        # settimeout costs a system call each time: set it only when it changes.
        if timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout

    # --- reading -----------------------------------------------------------------------------------------

    def read(self, size: int) -> bytes:
        if self._position >= len(self._frame):
            self._read_frame()
        data = bytes(self._frame[self._position:self._position + size])
        self._position += len(data)
        return data

    def _read_frame(self) -> None:
        # One receive usually brings the whole of a small request, header included.
        if not self._pending:
            self._set_timeout(self.idle_timeout)
            self._pending += self._receive(_PREFETCH, what="the next request")
        deadline = time.monotonic() + self.frame_timeout
        while len(self._pending) < 4:
            self._pending += self._receive_before(deadline, 4 - len(self._pending), 4)
        (size,) = _HEADER.unpack_from(self._pending)
        if size < 0:
            raise TTransportException(TTransportException.NEGATIVE_SIZE, f"negative frame size {size}")
        if size > self.max_frame_size:
            head = self._take(min(size, _HEAD_BYTES), deadline, skip=4)
            self._discard(size - len(head), deadline)
            raise OversizeFrame(size, self.max_frame_size, bytes(head))
        self._frame, self._position = memoryview(self._take(size, deadline, skip=4)), 0

    def _take(self, size: int, deadline: float, *, skip: int = 0) -> bytearray:
        """The next ``size`` bytes after ``skip`` pending ones: from what is pending, then from the socket."""
        have = self._pending[skip:skip + size]
        del self._pending[:skip + len(have)]
        if len(have) == size:
            return have
        buffer = bytearray(size)
        buffer[:len(have)] = have
        view, received = memoryview(buffer), len(have)
        while received < size:
            received += self._receive_into_before(deadline, view[received:], received, size)
        return buffer

    def _discard(self, size: int, deadline: float) -> None:
        dropped = min(size, len(self._pending))
        del self._pending[:dropped]
        size -= dropped
        while size > 0:
            size -= len(self._take(min(size, _CHUNK), deadline))

    def _receive(self, size: int, *, what: str) -> bytes:
        try:
            data = self.sock.recv(size)
        except (socket.timeout, TimeoutError) as exc:
            raise TTransportException(TTransportException.TIMED_OUT, f"no data for {what} within "
                                      f"{self._timeout:.0f} s") from exc
        except OSError as exc:
            raise TTransportException(TTransportException.UNKNOWN, str(exc)) from exc
        if not data:
            raise TTransportException(TTransportException.END_OF_FILE, "the peer closed the connection")
        return data

    def _receive_before(self, deadline: float, wanted: int, total: int) -> bytes:
        self._check_deadline(deadline, total - wanted, total)
        self._set_timeout(self.frame_timeout)  # the deadline is checked before each receive
        return self._receive(wanted, what="the rest of a frame header")

    def _receive_into_before(self, deadline: float, view: memoryview, received: int, total: int) -> int:
        self._check_deadline(deadline, received, total)
        self._set_timeout(self.frame_timeout)
        try:
            count = self.sock.recv_into(view, len(view))
        except (socket.timeout, TimeoutError):
            return 0  # a whole frame timeout without a byte: the next check finds the deadline past
        except OSError as exc:
            raise TTransportException(TTransportException.UNKNOWN, str(exc)) from exc
        if count == 0:
            raise TTransportException(TTransportException.END_OF_FILE,
                                      f"the peer closed the connection after {received} of {total} bytes")
        return count

    def _check_deadline(self, deadline: float, received: int, total: int) -> None:
        if time.monotonic() > deadline:
            raise TTransportException(
                TTransportException.TIMED_OUT,
                f"a frame did not arrive within {self.frame_timeout:.0f} s ({received} of {total} bytes)")

    # --- writing -----------------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self._write_buffer.write(data)

    def flush(self) -> None:
        payload = self._write_buffer.getvalue()
        self._write_buffer = BytesIO()
        # A client that does not read its answer must not hold the thread for ever either; the idle timeout
        # (which the socket has most of the time: no extra system call) bounds it, else the frame timeout.
        self._set_timeout(self.idle_timeout if self.idle_timeout is not None else self.frame_timeout)
        try:
            self.sock.sendall(_HEADER.pack(len(payload)) + payload)
        except OSError as exc:
            raise TTransportException(TTransportException.UNKNOWN, f"cannot send the answer: {exc}") from exc
