"""``ainode sql``: run statements from ``-e`` or an interactive prompt, one at a time.

A statement ends with ``;`` or at the end of a line (unless a quote or a parenthesis is still open, so a
CALL INFERENCE may span lines). A syntax error prints where it is; a node error prints ``Msg: code: text``.
With ``-e`` the first failure stops the run with exit code 1; the prompt reports it and goes on.
"""
from __future__ import annotations

import sys
from typing import Callable, TextIO

from ainode_core.cli.sql import statements as st
from ainode_core.cli.sql.executor import Executor, StatementError
from ainode_core.cli.sql.parse import Chunk, SqlSyntaxError, in_script, in_statement, parse_statement, split_statements

PROMPT = "ainode> "
CONTINUATION = "     -> "
EXIT_WORDS = {"quit", "exit"}


def run_script(executor: Executor, script: str, err: TextIO | None = None) -> int:
    """Every statement of ``script`` in order; stops at the first failure. Returns the exit code."""
    chunks, rest = split_statements(script)
    if rest is not None:  # an unclosed quote or parenthesis: parse it anyway, to point at the problem
        chunks.append(rest)
    for chunk in chunks:
        if not run_one(executor, chunk, script, err or sys.stderr):
            return 1
    return 0


def run_one(executor: Executor, chunk: Chunk, script: str, err: TextIO) -> bool:
    """Parse and run one statement; report a failure on ``err`` and return False."""
    statement = None
    try:
        statement = parse_statement(chunk.text)
        executor.execute(statement)
    except SqlSyntaxError as exc:
        if isinstance(statement, st.CallInference):  # the error is in the query inside the statement
            exc = in_statement(exc, statement.query_position, chunk.text)
        located = in_script(exc, chunk, script)
        print(f"Msg: {located.code}: {located.report()}", file=err)
        return False
    except StatementError as exc:
        print(f"Msg: {exc.code}: {exc.message}", file=err)
        return False
    return True


def interactive(executor: Executor, read: Callable[[str], str] = input, err: TextIO | None = None) -> int:
    """The prompt: read lines until a statement is complete, run it, go on after errors; quit/exit/EOF end."""
    try:
        import readline  # noqa: F401  (line editing and history when the platform has it)
    except ImportError:
        pass
    buffer = ""
    while True:
        try:
            line = read(CONTINUATION if buffer else PROMPT)
        except EOFError:
            print(file=sys.stdout)
            return 0
        except KeyboardInterrupt:  # Ctrl-C drops the statement being typed, not the shell
            print(file=sys.stdout)
            buffer = ""
            continue
        if not buffer and line.strip().rstrip(";").strip().lower() in EXIT_WORDS:
            return 0
        buffer += line + "\n"
        chunks, rest = split_statements(buffer)
        for chunk in chunks:
            run_one(executor, chunk, buffer, err or sys.stderr)
        buffer = rest.text if rest is not None else ""
