"""Printing for the CLI: IoTDB-style tables for people, JSON for scripts."""
from __future__ import annotations

import json
import shutil
import sys
import textwrap
from typing import Any, Sequence

NARROWEST_WRAPPED_COLUMN = 16  # a column is not wrapped below this many characters, however narrow the terminal


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], file=None, width: int | None = None) -> None:
    """A table in the style of IoTDB's CLI (+---+ borders). On a terminal (or within ``width``), the widest
    columns are wrapped so that a row fits on one screen line per wrapped line, instead of the terminal folding
    every line of the table; into a pipe or file the rows stay on one line each, for grep."""
    file = file or sys.stdout
    rows = list(rows)
    cells = [[str(c) for c in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if width is None and getattr(file, "isatty", lambda: False)():
        width = shutil.get_terminal_size().columns
    if width is not None:
        widths = _fit(widths, width)
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def lines(row: Sequence[str]) -> list[str]:
        wrapped = [textwrap.wrap(cell, w, break_on_hyphens=False) or [""] for cell, w in zip(row, widths)]
        return ["|" + "|".join(f" {(parts[i] if i < len(parts) else ''):<{w}} " for parts, w in zip(wrapped, widths))
                + "|" for i in range(max(len(parts) for parts in wrapped))]

    print(border, file=file)
    print("\n".join(lines(cells[0])), file=file)
    print(border, file=file)
    for row in cells[1:]:
        print("\n".join(lines(row)), file=file)
    print(border, file=file)
    print(f"Total line number = {len(rows)}", file=file)


def _fit(widths: list[int], width: int) -> list[int]:
    """Narrow the widest columns, one character at a time, until the table fits ``width`` (or cannot shrink)."""
    widths = list(widths)
    frame = 3 * len(widths) + 1  # "| " + " | " ... + " |"
    while sum(widths) + frame > width:
        widest = max(range(len(widths)), key=widths.__getitem__)
        if widths[widest] <= NARROWEST_WRAPPED_COLUMN:
            break
        widths[widest] -= 1
    return widths


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, default=str))
