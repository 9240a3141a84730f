"""The ``ainode`` command. Sub-commands live in their own modules; this file only wires them up."""
from __future__ import annotations

import argparse
import logging
import sys

from ainode_core import __version__
from ainode_core.errors import AINodeError


def build_parser() -> argparse.ArgumentParser:
    from ainode_core.cli import cluster_demo, commands, demo, remote, sql, status

    parser = argparse.ArgumentParser(prog="ainode", description="A pluggable AI node for Apache IoTDB.")
    parser.add_argument("--version", action="version", version=f"ainode {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.register(sub)
    status.register(sub)
    remote.register(sub)
    sql.register(sub)
    demo.register(sub)
    cluster_demo.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ainode_core.cli.endpoint import NodeUnreachable
    from ainode_core.cli.inputs import UsageError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except AINodeError as exc:  # the node's status (or a local check with a code): "<code>: <message>"
        print(f"error {int(exc.code)}: {exc.message}", file=sys.stderr)
        return 1
    except NodeUnreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
