"""Text → statements: splitting a script into statements, parsing each, and syntax errors that point at
the offending token (line, column, and a caret under it, like a compiler)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from ainode_core.cli.sql.grammar import KEYWORDS, parser
from ainode_core.cli.sql.statements import ToStatement

SQL_PARSE_ERROR = 700  # IoTDB's status code for a statement it cannot parse

_READABLE = {
    "IDENTIFIER": "an identifier", "QUOTED_ID": "a `quoted` identifier", "STRING": "a quoted string",
    "PATH_PATTERN": "a path such as root.db.**", "DATETIME": "a date", "SIGNED_NUMBER": "a number",
    "SIGNED_INT": "an integer", "INT": "an integer", "COMPARE": "a comparison (>=, <, ...)",
    "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "EQUAL": "'='", "LSQB": "'['", "RSQB": "']'", "STAR": "'*'",
    "$END": "the end of the statement",
}


class SqlSyntaxError(Exception):
    """A statement the grammar rejects; ``str()`` is the full report with the caret line."""

    code = SQL_PARSE_ERROR

    def __init__(self, message: str, source: str, line: int, column: int, width: int = 1) -> None:
        self.message, self.source, self.line, self.column, self.width = message, source, line, column, width
        super().__init__(self.report())

    def report(self) -> str:
        lines = self.source.splitlines() or [""]
        text = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        caret = " " * (self.column - 1) + "^" * max(1, self.width)
        return f"line {self.line}, column {self.column}: {self.message}\n{text}\n{caret}"


@dataclass(frozen=True)
class Chunk:
    """One statement's text and where it starts in the script (1-based line and column)."""
    text: str
    line: int
    column: int


def split_statements(script: str) -> tuple[list[Chunk], Chunk | None]:
    """Cut a script at ``;`` and at line ends, but not inside quotes, backticks or parentheses (so a
    CALL INFERENCE can span lines). Returns the complete statements and the unfinished rest, if any (the
    shell keeps reading lines while there is one)."""
    chunks: list[Chunk] = []
    start, depth, quote = 0, 0, ""
    line, column = 1, 1
    start_pos = (1, 1)
    i = 0
    while i < len(script):
        char = script[i]
        if quote:
            if char == quote:
                if script[i + 1:i + 2] == quote and quote != "`":  # a doubled quote is an escaped quote
                    i, column = i + 2, column + 2
                    continue
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "-" and script[i + 1:i + 2] == "-":  # comment to the end of the line
            end = script.find("\n", i)
            end = len(script) if end == -1 else end
            column += end - i
            i = end
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == ";" or (char == "\n" and depth == 0):
            _add(chunks, script[start:i], start_pos)
            start, start_pos = i + 1, ((line + 1, 1) if char == "\n" else (line, column + 1))
        if char == "\n":
            line, column = line + 1, 1
        else:
            column += 1
        i += 1
    rest = script[start:]
    if quote or depth > 0:
        return chunks, Chunk(rest, *start_pos)
    _add(chunks, rest, start_pos)
    return chunks, None


def _add(chunks: list[Chunk], text: str, position: tuple[int, int]) -> None:
    if text.strip() and not all(l.strip().startswith("--") or not l.strip() for l in text.splitlines()):
        chunks.append(Chunk(text, *position))


def parse_statement(text: str, start: str = "statement") -> Any:
    """One statement (or, with ``start="local_select"``, a local SELECT) → its dataclass."""
    try:
        tree = parser(start).parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, start) from None
    try:
        return ToStatement().transform(tree)
    except VisitError as exc:  # a value the grammar accepts but that means nothing, e.g. a bad date
        token = _first_token(exc.obj)
        raise SqlSyntaxError(str(exc.orig_exc), text, getattr(token, "line", 1) or 1,
                             getattr(token, "column", 1) or 1, len(str(token or " "))) from None


def _first_token(tree: Any) -> Token | None:
    if isinstance(tree, Token):
        return tree
    for child in getattr(tree, "children", []):
        found = _first_token(child)
        if found is not None:
            return found
    return None


def _syntax_error(exc: UnexpectedInput, text: str, start: str) -> SqlSyntaxError:
    what = "statement" if start == "statement" else "SELECT"
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        token = exc.token
        return SqlSyntaxError(f"unexpected {_shown(token)}; expected {_expected(_accepted(exc), token)}",
                              text, token.line, token.column, len(str(token)))
    if isinstance(exc, (UnexpectedEOF, UnexpectedToken)):
        line, column = _end_position(text)
        return SqlSyntaxError(f"the {what} ends too early; expected {_expected(_accepted(exc))}", text, line, column)
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        allowed = _expected(exc.allowed or set())
        return SqlSyntaxError(f"unexpected character {char!r}; expected {allowed}", text, exc.line, exc.column)
    return SqlSyntaxError(str(exc), text, getattr(exc, "line", 1), getattr(exc, "column", 1))


def _accepted(exc: UnexpectedInput) -> set[str]:
    """What the parser would take here. LALR's own ``expected`` also lists tokens that could only follow
    in other contexts (merged states); replaying the parser gives the exact set."""
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        try:
            return set(interactive.accepts())
        except Exception:  # replay is a nicety; fall back to lark's set
            pass
    return set(getattr(exc, "expected", None) or ())


def _shown(token: Token) -> str:
    return f"'{token}'" if token.type not in ("STRING",) else f"string {token}"


def _end_position(text: str) -> tuple[int, int]:
    stripped = text.rstrip()
    lines = stripped.splitlines() or [""]
    return len(lines), len(lines[-1]) + 1


def _expected(names: set[str] | frozenset[str], token: Token | None = None) -> str:
    if "IDENTIFIER" in names:
        names = set(names) - {"QUOTED_ID"}  # "an identifier" covers the backticked form too
    words = sorted({name if name in KEYWORDS else _READABLE.get(name, name) for name in names})
    if not words:
        return "something else"
    hint = ""
    if token is not None and token.type in KEYWORDS and "an identifier" in words:
        hint = f" ({token} is a keyword: quote it with backticks, `{token}`, to use it as a name)"
    return (words[0] if len(words) == 1 else "one of " + ", ".join(words)) + hint


def in_statement(error: SqlSyntaxError, query_position: tuple[int, int], statement: str) -> SqlSyntaxError:
    """An error inside CALL INFERENCE's query, placed in the statement (the query starts after its quote)."""
    line, quote_column = query_position
    if error.line == 1:
        return SqlSyntaxError(error.message, statement, line, quote_column + error.column, error.width)
    return SqlSyntaxError(error.message, statement, line + error.line - 1, error.column, error.width)


def in_script(error: SqlSyntaxError, chunk: Chunk, script: str) -> SqlSyntaxError:
    """The same error with its position in the whole script (a statement may start mid-line)."""
    column = error.column + chunk.column - 1 if error.line == 1 else error.column
    return SqlSyntaxError(error.message, script, error.line + chunk.line - 1, column, error.width)
