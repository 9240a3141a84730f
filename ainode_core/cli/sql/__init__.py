"""``ainode sql``: IoTDB's AINode statements against a running node (see :mod:`.grammar` for the syntax)."""
from __future__ import annotations

import argparse
import sys

from ainode_core.cli.endpoint import add_endpoint_args, resolve_endpoint


def register(sub: argparse._SubParsersAction) -> None:
    sql = sub.add_parser(
        "sql", help="IoTDB's AINode SQL (SHOW MODELS, CREATE MODEL, CALL INFERENCE, ...) against a running node",
        description="Run AINode statements: -e for a script (statements end with ';' or a line end), "
                    "otherwise an interactive prompt. CALL INFERENCE's query runs on IoTDB with --iotdb, "
                    "or on a local file: select s1, s2 from 'data.csv' [where time >= A and time < B] [limit n].")
    sql.add_argument("-e", "--execute", metavar="STATEMENT", help="run these statements and exit")
    add_endpoint_args(sql)
    sql.add_argument("--iotdb", metavar="HOST:PORT", help="an IoTDB DataNode for CALL INFERENCE's query")
    sql.add_argument("--iotdb-user", default="root", help="IoTDB user (default root)")
    sql.add_argument("--iotdb-password", default="root", help="IoTDB password (default root)")
    sql.set_defaults(handler=cmd_sql)


def cmd_sql(args: argparse.Namespace) -> int:
    from ainode_core.cli.inputs import UsageError
    from ainode_core.cli.sql.executor import Executor
    from ainode_core.cli.sql.queries import IoTDBTarget
    from ainode_core.cli.sql.shell import interactive, run_script

    try:
        iotdb = IoTDBTarget.parse(args.iotdb, args.iotdb_user, args.iotdb_password) if args.iotdb else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with resolve_endpoint(args).connect() as client:
        executor = Executor(client, iotdb, out=sys.stdout)
        if args.execute is not None:
            return run_script(executor, args.execute)
        return interactive(executor)
