"""One inference request waiting in a model's queue."""
from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any


@dataclass
class InferenceRequest:
    inputs: list[dict[str, Any]]
    options: dict[str, Any]
    deadline: float  # time.monotonic() after which the caller no longer waits
    enqueued_at: float = field(default_factory=time.monotonic)
    future: Future = field(default_factory=Future)

    def batch_key(self) -> tuple:
        """Requests can share a model call only when every option (output length included) is equal."""
        return tuple(sorted((key, repr(value)) for key, value in self.options.items()))

    @property
    def expired(self) -> bool:
        return time.monotonic() > self.deadline
