"""Warming a model instance before it takes requests.

A foundation model's first call on a fresh instance pays one-time costs (lazy imports, kernel selection, the
allocator growing its pools) that would otherwise land on the first callers after a start or a LOAD. A
pipeline declares ``warm_up_shape = (context, horizon)`` to have one forecast of that shape run when its
instance is built; a failure there is logged and the instance serves anyway.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def warm_up(pipeline: Any) -> float | None:
    """Run the pipeline's warm-up call, if it declares one; returns the seconds it took."""
    shape = getattr(pipeline, "warm_up_shape", None)
    if shape is None:
        return None
    context, horizon = shape
    steps = np.arange(context, dtype=np.float64)
    series = np.sin(2 * np.pi * steps / 24)[None, :]  # a plain seasonal series: nothing model-specific
    started = time.perf_counter()
    try:
        pipeline.run([{"targets": series}], output_length=horizon)
    except Exception:
        log.warning("warming up %s failed; it serves anyway", pipeline.model_info.model_id, exc_info=True)
        return None
    seconds = time.perf_counter() - started
    log.info("model %s warmed up in %.2f s", pipeline.model_info.model_id, seconds)
    return seconds
