"""The CLI's tables: IoTDB's style, and readable on a terminal narrower than the table."""
from __future__ import annotations

import io

from ainode_core.cli.output import print_table

REASON = "weights missing: copy config.json, model.safetensors into /home/ops/ainode/data/ainode/models/builtin/toto"
ROWS = [("arima", "active", ""), ("toto", "inactive", REASON)]


def _table(width: int | None) -> list[str]:
    out = io.StringIO()
    print_table(("ModelId", "State", "Reason"), ROWS, file=out, width=width)
    return out.getvalue().splitlines()


def test_a_table_into_a_pipe_keeps_one_line_per_row():
    lines = _table(width=None)
    assert any(REASON in line for line in lines)  # grep finds the whole reason on the model's line
    assert len(lines) == 3 + len(ROWS) + 2  # three borders, the header, the rows, "Total line number"
    assert lines[-1] == "Total line number = 2"


def test_on_a_narrow_terminal_the_long_column_wraps_and_every_line_fits():
    lines = _table(width=60)
    table = lines[:-1]
    assert all(len(line) <= 60 for line in table)
    assert len({len(line) for line in table}) == 1  # the borders still line up
    reason_cells = [line.split("|")[3].strip() for line in table if line.startswith("|")][1:]
    assert "".join(reason_cells).replace(" ", "") == REASON.replace(" ", "")  # nothing lost, in order
    assert table[3].startswith("| arima ") and table[4].startswith("| toto ")  # rows keep their first line
