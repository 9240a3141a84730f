"""Running the node as a process: start-up order, pid file, signals, graceful stop.

Start-up: settings → plugins → catalog → Thrift server listening → cluster membership (unless standalone)
→ background work (weight fetches). SIGTERM/SIGINT stop accepting, finish in-flight requests (bounded) and
exit within seconds.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time

from ainode_core.config import Settings
from ainode_core.errors import AINodeError
from ainode_core.running import StartRefused, claim_home, pid_file, port_in_use

log = logging.getLogger(__name__)

# Descriptors the node holds besides its connections: logs, model files being read, pipes to isolated models
# and sktime workers, the listening socket.
FILES_BESIDES_CONNECTIONS = 256


def _configure_file_logging(settings: Settings) -> None:
    settings.ain_logs_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.ain_logs_dir / "log_ainode_all.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)


def raise_open_file_limit(connections: int) -> int:
    """Take the soft limit on open files up to the hard one, as Go and the JVM do at start: each Thrift
    connection holds a descriptor, and a soft limit of 1024 is a common default. Warns when even the hard
    limit leaves too few for ``connections``. Returns the soft limit now in force."""
    try:
        import resource
    except ImportError:  # not a Unix system
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + FILES_BESIDES_CONNECTIONS
    target = max(soft, wanted) if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.debug("could not raise the open-file limit from %d to %d: %s", soft, target, exc)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        log.warning("this process may open %d files, fewer than ain_rpc_max_connections (%d) + %d for models and "
                    "logs: raise the hard limit (ulimit -Hn) or lower ain_rpc_max_connections", soft, connections,
                    FILES_BESIDES_CONNECTIONS)
    return soft


def run_node(settings: Settings, *, standalone: bool, ready: threading.Event | None = None) -> int:
    """Run a node until it is stopped; :class:`StartRefused` (before any log or data file is touched) when
    this home already has a running node or the port is taken."""
    claim = claim_home(settings)
    try:
        return _run(settings, standalone=standalone, ready=ready)
    finally:
        claim.close()


def _run(settings: Settings, *, standalone: bool, ready: threading.Event | None) -> int:
    from ainode_core.node import AINode
    from ainode_core.rpc.handler import AINodeHandler
    from ainode_core.rpc.server import ThriftServer

    _configure_file_logging(settings)
    raise_open_file_limit(settings.ain_rpc_max_connections)
    started = time.monotonic()
    node = AINode(settings)
    handler = AINodeHandler(node)
    try:
        server = ThriftServer(handler.processor(), settings)
    except OSError:  # taken since the claim's check (another program was quicker)
        node.shutdown()
        raise StartRefused(port_in_use(settings)) from None
    node.settings = settings = settings.replace(ain_rpc_port=server.port)
    server.start()
    membership = None
    if not standalone:
        from ainode_core.cluster.membership import ClusterMembership

        membership = ClusterMembership(settings)
        try:
            membership.join()
        except AINodeError as exc:
            log.error("%s", exc.message)
            server.stop(timeout=1)
            node.shutdown()
            return 1
    node.start_background_work()
    pid_path = pid_file(settings)
    pid_path.write_text(f"{os.getpid()}\n{settings.ain_rpc_address}:{settings.ain_rpc_port}\n")

    stop = threading.Event()
    handler.on_stop = stop.set
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    mode = "standalone" if standalone else f"in cluster {settings.cluster_name}"
    log.info("AINode is running %s on %s:%d with %d models (started in %.1f s)", mode,
             settings.ain_rpc_address, settings.ain_rpc_port, len(node.catalog.list()),
             time.monotonic() - started)
    print(f"ainode listening on {settings.ain_rpc_address}:{settings.ain_rpc_port}", flush=True)
    if ready is not None:
        ready.set()
    while not stop.wait(0.5):
        pass
    log.info("stopping: finishing in-flight requests")
    server.stop_accepting()
    node.shutdown()  # in-flight model calls finish within seconds; a hung one is abandoned and its callers told
    server.stop(timeout=5)
    if membership is not None:
        membership.close()
    try:
        pid_path.unlink()
    except FileNotFoundError:
        pass
    log.info("AINode stopped")
    return 0


def stop_node(settings: Settings, port: int | None = None, wait_seconds: float = 20.0) -> int:
    """Send SIGTERM to the node recorded in the pid file, then wait (bounded) for it to exit."""
    path = pid_file(settings)
    if not path.exists():
        print(f"no running node found ({path} does not exist)")
        return 1
    lines = path.read_text().split()
    pid = int(lines[0])
    if port is not None and len(lines) > 1 and not lines[1].endswith(f":{port}"):
        print(f"the node in {path} listens on {lines[1]}, not port {port}")
        return 1
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        print(f"node {pid} was not running; removed the stale pid file")
        return 0
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print(f"node {pid} stopped")
            return 0
        time.sleep(0.2)
    print(f"node {pid} did not stop within {wait_seconds:.0f} s; kill it with: kill -9 {pid}")
    return 1
