"""What observers of ``ainode_after_inference`` receive."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InferenceEvent:
    model_id: str
    device_id: str
    batch_size: int
    queue_wait_seconds: float
    compute_seconds: float
    ok: bool
    error: str = ""
