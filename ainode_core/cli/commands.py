"""Sub-commands of ``ainode`` that manage the node itself: start, stop, remove, plugins."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ainode_core.cli.output import print_json, print_table


def _add_home(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", type=Path, default=None,
                        help="node home (default: $IOTDB_AINODE_HOME or the current directory)")


def _settings(args: argparse.Namespace):
    from ainode_core.config import load_settings

    return load_settings(args.home)


def register(sub: argparse._SubParsersAction) -> None:
    start = sub.add_parser("start", help="run the node in the foreground")
    _add_home(start)
    start.add_argument("--standalone", action="store_true",
                       help="do not join an IoTDB cluster (no ConfigNode): the embedded mode for trying ainode out")
    start.add_argument("--check", action="store_true",
                       help="only check that it could start (config valid, no node running in this home, port "
                            "free) and exit 0, or 1 with the reason")
    start.set_defaults(handler=cmd_start)

    stop = sub.add_parser("stop", help="ask a running node to stop (graceful)")
    _add_home(stop)
    stop.add_argument("--port", type=int, default=None, help="RPC port of the node (default: from the config)")
    stop.set_defaults(handler=cmd_stop)

    remove = sub.add_parser("remove", help="remove this node from its IoTDB cluster")
    _add_home(remove)
    remove.set_defaults(handler=cmd_remove)

    plugins = sub.add_parser("plugins", help="list plugins, what they registered and what failed")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.add_argument("--all", action="store_true", help="include the core's own plugin")
    plugins.set_defaults(handler=cmd_plugins)


def cmd_start(args: argparse.Namespace) -> int:
    from ainode_core.daemon import run_node
    from ainode_core.running import StartRefused, claim_home

    settings = _settings(args)
    try:
        if args.check:
            claim_home(settings).close()
            port = settings.ain_rpc_port or "any free port"
            config = f"{settings.source_file} is valid" if settings.source_file else "no config file (defaults)"
            print(f"ainode can start: {config}, no node runs in {settings.home}, port {port} is free")
            return 0
        return run_node(settings, standalone=args.standalone)
    except StartRefused as exc:
        print(f"ainode start: {exc}", file=sys.stderr)
        return 1


def cmd_stop(args: argparse.Namespace) -> int:
    from ainode_core.daemon import stop_node

    settings = _settings(args)
    return stop_node(settings, port=args.port)


def cmd_remove(args: argparse.Namespace) -> int:
    from ainode_core.cluster.membership import remove_from_cluster

    remove_from_cluster(_settings(args))
    print("removed from the cluster")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from ainode_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    listing = manager.listing(include_core=args.all)
    conflicts = [{"kind": c.kind, "name": c.name, "claimants": list(c.claimants), "message": c.message()}
                 for c in manager.conflicts]
    if args.json:
        print_json({"plugins": listing, "conflicts": conflicts})
        return 0
    rows = []
    for item in listing:
        registered = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in item["registered"].items())
        rows.append((item["name"], item["distribution"] or "-", item["version"] or "-", registered or "-",
                     "FAILED: " + " | ".join(item["errors"]) if item["errors"] else "ok"))
    print_table(("Plugin", "Distribution", "Version", "Registered", "Status"), rows)
    return 0
