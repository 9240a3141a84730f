"""Warming a model instance before it takes requests.

A model's first call on a fresh instance pays one-time costs (lazy imports, kernel selection, the allocator
growing its pools, a worker pool starting) that would otherwise land on the first callers after a start or a
LOAD. The engine calls the pipeline's ``warm_up()`` (see :meth:`Pipeline.warm_up`) when it builds an
instance; a failure there is logged and the instance serves anyway.
"""
from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)


def warm_up(pipeline: Any) -> float | None:
    """Run the pipeline's warm-up, if it has one; returns the seconds it took (None: nothing to warm)."""
    method = getattr(pipeline, "warm_up", None)
    if not callable(method):  # a pipeline that does not derive from Pipeline
        return None
    started = time.perf_counter()
    try:
        if not method():
            return None
    except Exception:
        log.warning("warming up %s failed; it serves anyway", pipeline.model_info.model_id, exc_info=True)
        return None
    seconds = time.perf_counter() - started
    log.info("model %s warmed up in %.2f s", pipeline.model_info.model_id, seconds)
    return seconds
