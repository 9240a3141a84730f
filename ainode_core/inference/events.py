"""What observers of ``ainode_after_inference`` receive."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InferenceEvent:
    """One model call, reported after its callers were answered (observers never delay an answer)."""

    model_id: str
    device_id: str
    batch_size: int  # series in the call, summed over the requests batched into it
    queue_wait_seconds: float  # from the oldest request's arrival to the call's start
    compute_seconds: float
    ok: bool
    error: str = ""
    started_at: float = 0.0  # wall-clock time (time.time()) the call began: orders calls against a client's clock
