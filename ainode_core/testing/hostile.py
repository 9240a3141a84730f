"""Hostile inputs and process readings for the tests and the bench of the node's limits (issue 16)."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ainode_core.rpc.tsblock import ColumnEncoding, TSDataType


def amplifying_tsblock(rows: int, n_columns: int, *, boolean: bool) -> bytes:
    """A TsBlock built by hand (never held decoded): ``rows`` timestamps and ``n_columns`` columns that are
    either RLE DOUBLE (13 bytes each on the wire, ``rows`` x 8 bytes decoded) or plain BOOLEAN (one bit a
    row, 8 bytes decoded)."""
    data_type, encoding = ((TSDataType.BOOLEAN, ColumnEncoding.BYTE_ARRAY) if boolean
                           else (TSDataType.DOUBLE, ColumnEncoding.RLE))
    parts = [struct.pack(">i", n_columns), bytes([data_type]) * n_columns, struct.pack(">i", rows),
             bytes([ColumnEncoding.INT64_ARRAY] + [encoding] * n_columns), b"\x00",
             np.arange(rows, dtype=">i8").tobytes()]
    if boolean:
        body = b"\x00" + b"\xff" * ((rows + 7) // 8)
    else:  # RLE: the inner encoding, then a one-row plain body
        body = bytes([ColumnEncoding.INT64_ARRAY]) + b"\x00" + struct.pack(">d", 1.5)
    parts.extend([body] * n_columns)
    return b"".join(parts)


def process_memory(pid: int, field: str) -> int:
    """A /proc/<pid>/status figure in bytes: ``VmHWM`` (peak resident set) or ``VmRSS`` (resident now)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)
