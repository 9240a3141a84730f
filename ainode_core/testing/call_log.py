"""An observer plugin that records every model call, for tests that check how requests were batched.

Events reach observers just after the callers are answered, so a call from an earlier test may be recorded after
the next test has begun; each line therefore carries the call's wall-clock start, and a test counts only the
calls that began after it did.
"""
from __future__ import annotations

import time
from pathlib import Path

ENV_VAR = "AINODE_TEST_CALL_LOG"

# Source of a site plugin (see ``make_site``): one line per successful call, "<model_id> <batch_size> <started_at>".
CALL_LOG_PLUGIN = f'''
import os
from ainode_core import hookimpl

@hookimpl
def ainode_after_inference(event):
    if event.ok:
        with open(os.environ["{ENV_VAR}"], "a") as log:
            log.write(f"{{event.model_id}} {{event.batch_size}} {{event.started_at!r}}\\n")
'''


def call_sizes(log: Path, model_id: str, since: float) -> list[int]:
    """Batch sizes of the calls to ``model_id`` that began at or after ``since`` (a ``time.time()``)."""
    sizes = []
    for line in log.read_text().splitlines() if log.exists() else []:
        model, size, started_at = line.split()
        if model == model_id and float(started_at) >= since:
            sizes.append(int(size))
    return sizes


def wait_for_call_sizes(log: Path, model_id: str, since: float, series: int, timeout: float = 10.0) -> list[int]:
    """The calls' batch sizes once they add up to ``series`` (or the last seen, after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while sum(sizes := call_sizes(log, model_id, since)) < series and time.monotonic() < deadline:
        time.sleep(0.05)
    return sizes
