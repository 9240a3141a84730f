"""Reading what the user typed on the command line: input files, columns, k=v options, time ranges."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd


class UsageError(Exception):
    """A bad command-line value; the message says what to type instead (exit code 2, like argparse)."""


def parse_key_values(items: Iterable[str] | None, what: str = "--option") -> dict[str, str]:
    """``["sp=12", "trend=add"]`` → ``{"sp": "12", "trend": "add"}`` (values stay strings, as on the wire)."""
    result: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{what} {item!r}: write KEY=VALUE, e.g. {what} sp=12")
        result[key.strip()] = value.strip()
    return result


def parse_quantiles(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        levels = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--quantiles {text!r}: give levels between 0 and 1, e.g. --quantiles 0.1,0.5,0.9") from None
    if not levels or not all(0 < level < 1 for level in levels):
        raise UsageError(f"--quantiles {text!r}: every level must lie strictly between 0 and 1")
    return levels


def parse_devices(text: str) -> list[str]:
    devices = [part.strip() for part in text.split(",") if part.strip()]
    if not devices:
        raise UsageError("--devices: name at least one device, e.g. --devices cpu or --devices cpu,0")
    return devices


def parse_time(text: str) -> int:
    """Epoch milliseconds, or an ISO date/datetime (naive = UTC) → epoch milliseconds."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise UsageError(f"time {text!r}: give epoch milliseconds or an ISO date such as 2024-01-31T12:00") from None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value // 1_000_000)


def parse_time_range(text: str | None) -> tuple[int, int] | None:
    """``"START,END"`` → ``(start_ms, end_ms)``, IoTDB's ``[start, end)``."""
    if not text:
        return None
    start, sep, end = text.partition(",")
    if not sep:
        raise UsageError(f"--time-range {text!r}: write START,END (epoch ms or ISO dates), END excluded")
    bounds = parse_time(start), parse_time(end)
    if bounds[0] >= bounds[1]:
        raise UsageError(f"--time-range {text!r}: START must be before END")
    return bounds


def read_input(path: Path | str, columns: Sequence[str] | None = None,
               time_range: Sequence[int] | None = None) -> pd.DataFrame:
    """A CSV/Parquet/TsFile as a frame indexed by time, keeping ``columns`` (all numeric ones by default), read
    by the same reader as the client's; what it assumed (time column, units, day-first dates, columns left
    out, rows as steps) is printed as notes on stderr."""
    from ainode_core.ingress.files import read_series
    from ainode_core.ingress.shaping import ColumnChoiceError

    try:
        series = read_series(path, time_range, columns)
    except ColumnChoiceError as exc:  # a --column mistake: exit 2, like argparse
        raise UsageError(exc.message) from None
    for note in (*series.notes, series.steps_note()):
        if note:
            print(f"note: {note}", file=sys.stderr)
    return series.frame
