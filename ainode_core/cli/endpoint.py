"""Where the CLI finds the running node: ``--host/--port``, else ``AINODE_HOST``/``AINODE_PORT``, else the
node running in this home (its pid file records the address it really listens on, which matters when the
config says ``ain_rpc_port=0``), else the home's ``ain_rpc_address``/``ain_rpc_port``."""
from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass
from pathlib import Path

HOST_ENV = "AINODE_HOST"
PORT_ENV = "AINODE_PORT"


class NodeUnreachable(Exception):
    """No node answers at the endpoint: the message says where we looked and how to point elsewhere."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    source: str  # how it was chosen, for messages ("--port", "AINODE_PORT", "the config of /home", ...)
    compact: bool = False  # the home's ain_thrift_compression_enabled

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    def connect(self):
        """An :class:`~ainode_core.client.AINodeClient`, or :class:`NodeUnreachable` with a helpful message."""
        from thrift.transport.TTransport import TTransportException

        from ainode_core.client import AINodeClient

        # Thrift logs a refused connection with a traceback; our message below says it better.
        logging.getLogger("thrift.transport.TSocket").setLevel(logging.CRITICAL)
        try:
            return AINodeClient(self.host, self.port, compact=self.compact)
        except (TTransportException, OSError) as exc:
            raise NodeUnreachable(
                f"no ainode answers at {self} (from {self.source}): {exc}. Start one with `ainode start "
                f"--standalone`, or point at it with --host/--port or {HOST_ENV}/{PORT_ENV}.") from None


def add_endpoint_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help=f"node address (default: ${HOST_ENV}, else the home's "
                                                     "ain_rpc_address)")
    parser.add_argument("--port", type=int, default=None, help=f"node RPC port (default: ${PORT_ENV}, else the "
                                                               "running node's port, else ain_rpc_port)")
    parser.add_argument("--home", type=Path, default=None,
                        help="node home whose config names the node (default: $IOTDB_AINODE_HOME or .)")


def resolve_endpoint(args: argparse.Namespace) -> Endpoint:
    from ainode_core.cli.inputs import UsageError
    from ainode_core.config import load_settings

    host, port = getattr(args, "host", None), getattr(args, "port", None)
    sources = [name for name, given in (("--host", host), ("--port", port is not None)) if given]
    if not host and os.environ.get(HOST_ENV):
        host = os.environ[HOST_ENV]
        sources.append(HOST_ENV)
    if port is None and os.environ.get(PORT_ENV):
        try:
            port = int(os.environ[PORT_ENV])
        except ValueError:
            raise UsageError(f"{PORT_ENV}={os.environ[PORT_ENV]!r} is not a port number") from None
        sources.append(PORT_ENV)
    settings = load_settings(getattr(args, "home", None))
    compact = bool(settings.ain_thrift_compression_enabled)
    if not host or port is None:
        running = _running_node(settings)
        fallback = running or (settings.ain_rpc_address, settings.ain_rpc_port)
        sources.append("the running node's pid file" if running else f"the config of {settings.home}")
        host, port = host or fallback[0], port if port is not None else fallback[1]
    return Endpoint(host, int(port), ", ".join(sources), compact)


def _running_node(settings) -> tuple[str, int] | None:
    """The address in ``<ain_system_dir>/ainode.pid`` when that process is alive."""
    from ainode_core.running import running_node

    node = running_node(settings)
    return (node.host, node.port) if node is not None else None
