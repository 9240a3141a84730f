"""Which node runs in a home, and claiming a home (and its port) before a new node touches anything.

One node per home: ``<ain_system_dir>/ainode.lock`` is held (``flock``) for the node process's whole life,
from before it loads anything, so a second start is refused even while the first is still starting, and a
node killed with -9 leaves no claim behind (the kernel drops the lock). ``ainode.pid`` says where a started
node listens. A start whose configured port is taken (by a node of another home, or any program) is refused
with who holds it, rather than with the bind's traceback after seconds of loading.
"""
from __future__ import annotations

import errno
import fcntl
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ainode_core.config import CONFIG_RELATIVE_PATH, Settings

PID_FILE = "ainode.pid"
LOCK_FILE = "ainode.lock"
NODE_COMMAND = re.compile(r"\bainode(?:_core\.cli\.main)?\s+start\b")  # `ainode start`, `python -m ...main start`


class StartRefused(Exception):
    """This node cannot start; the message says what runs already and what to change."""


@dataclass(frozen=True)
class RunningNode:
    pid: int
    host: str
    port: int


def pid_file(settings: Settings) -> Path:
    return settings.ain_system_dir / PID_FILE


def running_node(settings: Settings) -> RunningNode | None:
    """The node of this home's pid file, when that process is alive (a stale pid file is no node)."""
    try:
        pid_text, endpoint = pid_file(settings).read_text().split()[:2]
        pid = int(pid_text)
        os.kill(pid, 0)
        host, _, port = endpoint.rpartition(":")
        return RunningNode(pid, host, int(port))
    except (OSError, ValueError):
        return None


def _conf(settings: Settings) -> str:
    return str(settings.source_file or settings.home / CONFIG_RELATIVE_PATH)


def claim_home(settings: Settings) -> TextIO:
    """Hold this home's lock (keep the returned file open while the node runs) after checking that the
    configured port is free; :class:`StartRefused` otherwise. Touches nothing but the lock file."""
    settings.ain_system_dir.mkdir(parents=True, exist_ok=True)
    handle = open(settings.ain_system_dir / LOCK_FILE, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        node = running_node(settings)
        where = f"port {node.port}" if node is not None else "still starting"
        raise StartRefused(
            f"an AINode is already running in {settings.home} (pid {holder}, {where}); stop it with "
            f"sbin/stop-ainode.sh (or `ainode stop`), or run another one from another home (IOTDB_AINODE_HOME) "
            f"with another ain_rpc_port") from None
    try:
        _check_port(settings)
    except StartRefused:
        handle.close()
        raise
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _check_port(settings: Settings) -> None:
    host, port = settings.rpc_endpoint
    if port == 0:  # any free port
        return
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        socket.create_server((host, port), family=family).close()  # SO_REUSEADDR, as the Thrift server binds
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise StartRefused(f"cannot listen on {host}:{port} ({exc.strerror or exc}); check ain_rpc_address "
                               f"and ain_rpc_port in {_conf(settings)}") from None
        raise StartRefused(port_in_use(settings)) from None


def port_in_use(settings: Settings) -> str:
    """Who holds the configured port, and what to do about it."""
    host, port = settings.rpc_endpoint
    pid, name = _listener(port)
    if pid is not None and NODE_COMMAND.search(name):
        return (f"an AINode is already running (pid {pid}, port {port}); stop it with `kill {pid}` (a graceful "
                f"stop) or choose another ain_rpc_port in {_conf(settings)}")
    holder = f" by {name.split()[0] if name else 'a process'} (pid {pid})" if pid is not None else ""
    return (f"port {port} on {host} is already in use{holder}; choose another ain_rpc_port in {_conf(settings)} "
            f"or stop what listens there")


def _listener(port: int) -> tuple[int | None, str]:
    """(pid, command line) of the process listening on ``port``, as far as this user may see."""
    import psutil

    try:
        for connection in psutil.net_connections(kind="tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port \
                    and connection.pid is not None:
                return connection.pid, " ".join(psutil.Process(connection.pid).cmdline())
    except (psutil.Error, OSError):
        pass
    return None, ""
