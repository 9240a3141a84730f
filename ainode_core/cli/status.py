"""``ainode status``: is a node running, where (pid, address, home), its models by state and what is loaded.

Asks the node itself over Thrift (SHOW MODELS, SHOW LOADED MODELS), found like every other command
(``--host/--port``, ``AINODE_HOST/PORT``, the home's pid file, the home's config); the pid and the uptime
come from the home's pid file when the node answering is this home's. Exit code 0 when a node answers, 3
when none does (as ``pg_ctl status``/``systemctl status``), so scripts can tell "stopped" from an error.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import Any

from ainode_core.cli.endpoint import NodeUnreachable, add_endpoint_args, resolve_endpoint
from ainode_core.cli.output import print_json

NOT_RUNNING = 3
BUSY_STATES = ("activating", "training", "failed")  # worth a line each: something is happening or went wrong


def register(sub: argparse._SubParsersAction) -> None:
    status = sub.add_parser("status", help="is a node running: pid, address, models by state, what is loaded "
                                           "(exit code 3 when none answers)")
    add_endpoint_args(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    from ainode_core.config import load_settings
    from ainode_core.running import running_node

    settings = load_settings(args.home)
    endpoint = resolve_endpoint(args)
    local = running_node(settings)
    pid = local.pid if local is not None and local.port == endpoint.port else None
    report: dict[str, Any] = {"running": False, "address": str(endpoint), "home": str(settings.home), "pid": pid}
    try:
        with endpoint.connect() as client:
            models = client.models()
            loaded = client.loaded()
    except NodeUnreachable as exc:
        if args.json:
            print_json(report)
        else:
            alive = f" (pid {local.pid} of {settings.home} is alive but does not answer)" if local else ""
            print(f"no AINode is running{alive}: {exc}", file=sys.stderr)
        return NOT_RUNNING
    report.update(running=True, uptime_seconds=_uptime(pid),
                  models=dict(Counter(str(state) for state in models["State"])),
                  busy=[{"model_id": str(row.ModelId), "state": str(row.State), "reason": str(row.Reason)}
                        for row in models.itertuples(index=False) if str(row.State) in BUSY_STATES],
                  loaded=loaded)
    if args.json:
        print_json(report)
    else:
        _print(report, len(models))
    return 0


def _uptime(pid: int | None) -> float | None:
    import psutil

    try:
        return time.time() - psutil.Process(pid).create_time() if pid is not None else None
    except psutil.Error:
        return None


def _print(report: dict[str, Any], total: int) -> None:
    who = f"pid {report['pid']}, " if report["pid"] is not None else ""
    up = f", up {_duration(report['uptime_seconds'])}" if report["uptime_seconds"] is not None else ""
    print(f"AINode running at {report['address']} ({who}home {report['home']}{up})")
    by_state = ", ".join(f"{count} {state}" for state, count in sorted(report["models"].items()))
    print(f"models: {total} ({by_state})")
    for item in report["busy"]:
        print(f"  {item['model_id']}: {item['state']}{': ' + item['reason'] if item['reason'] else ''}")
    placed = [f"{model} on {device} ({count})" for device, models in sorted(report["loaded"].items())
              for model, count in sorted(models.items())]
    print(f"loaded: {', '.join(placed)}" if placed else
          "loaded: none (a model loads on its first request, or with `ainode load MODEL`)")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
