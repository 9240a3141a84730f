"""Printing for the CLI: IoTDB-style tables for people, JSON for scripts."""
from __future__ import annotations

import json
import sys
from typing import Any, Sequence


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], file=None) -> None:
    """A table in the style of IoTDB's CLI (+---+ borders)."""
    file = file or sys.stdout
    rows = list(rows)
    cells = [[str(c) for c in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    def line(row: Sequence[str]) -> str:
        return "|" + "|".join(f" {cell:<{w}} " for cell, w in zip(row, widths)) + "|"
    print(border, file=file)
    print(line(cells[0]), file=file)
    print(border, file=file)
    for row in cells[1:]:
        print(line(row), file=file)
    print(border, file=file)
    print(f"Total line number = {len(rows)}", file=file)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, default=str))

