"""A model instance's worker: a thread that batches compatible requests into one pipeline call.

Dynamic batching with the two knobs Triton made familiar: a request waits at most ``max_delay`` for company,
and a batch holds at most ``max_batch_size`` requests (counted in input series). Requests whose deadline has
passed are dropped before the call, so an expired request never costs model time.

A request can only hurt itself: a batch whose model call fails is split in halves and each half run again,
down to single requests, so only the requests that fail alone get an error (their own); the others get their
answers. Settling a request whose caller gave up is a no-op, and nothing that goes wrong in one batch ends
the worker's thread. The worker reports how long its current model call has run past the latest deadline of
the requests in it (:meth:`ModelWorker.overdue_seconds`), so the engine's supervisor can abandon a hung call.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future, InvalidStateError
from typing import Any, Callable

from ainode_core.errors import AINodeError, InferenceInternalError, InferenceOverloadError
from ainode_core.inference.events import InferenceEvent
from ainode_core.inference.requests import InferenceRequest
from ainode_core.pipelines.base import Pipeline

log = logging.getLogger(__name__)

_STOP = object()


def settle(future: Future, *, result: Any = None, error: BaseException | None = None) -> None:
    """Answer a waiting caller; one that timed out and cancelled, or was already answered, is left alone."""
    if future.done():
        return
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:  # cancelled between the check and the call
        pass


class ModelWorker:
    def __init__(
        self,
        model_id: str,
        device_id: str,
        pipeline: Pipeline,
        *,
        max_batch_size: int,
        max_delay_seconds: float,
        max_queue_size: int,
        on_event: Callable[[InferenceEvent], None],
    ) -> None:
        self.model_id = model_id
        self.device_id = device_id
        self.pipeline = pipeline
        self.max_batch_size = max_batch_size
        self.max_delay = max_delay_seconds
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue_size)
        self._on_event = on_event
        self._held_back: InferenceRequest | None = None
        self._last_batch_requests = 1
        self._call_seconds = max_delay_seconds  # a running average of one model call's duration
        self._call_deadline: float | None = None  # the latest caller deadline of the call in progress
        self._call_started: float | None = None
        self._in_call: list[InferenceRequest] = []
        self.abandoned = False
        self._thread = threading.Thread(target=self._loop, name=f"model-{model_id}-{device_id}", daemon=True)
        self._thread.start()

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def submit(self, request: InferenceRequest) -> None:
        try:
            self._queue.put_nowait(request)
        except queue.Full:
            raise InferenceOverloadError(
                f"Model {self.model_id} has {self._queue.maxsize} requests queued on device {self.device_id}; "
                "retry later, LOAD MODEL to more devices, or raise ain_inference_max_queue_size"
            ) from None

    def stop(self, wait: bool = True, timeout: float = 5.0) -> bool:
        """Stop after the call in progress; with ``wait``, wait at most ``timeout`` seconds (see :meth:`join`)."""
        self._queue.put(_STOP)
        return self.join(timeout) if wait else True

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end. False if it is still in a call then (a hung model): the worker is
        abandoned, an isolated model's process is killed, and the thread ends when (if) the call returns."""
        self._thread.join(timeout=timeout)
        if not self._thread.is_alive():
            return True
        stopped = InferenceInternalError(
            f"Model {self.model_id} was stopped (unloaded, dropped or node shutdown) while a call was still running")
        for request in self._in_call + self.abandon():
            settle(request.future, error=stopped)  # their callers need not wait out their deadlines
        kill = getattr(self.pipeline, "kill", None)
        if callable(kill):
            kill("was stopped while this call was still running")
        return False

    def overdue_seconds(self, now: float | None = None) -> float:
        """How long the model call in progress has run past every one of its callers' deadlines (0: none)."""
        deadline = self._call_deadline
        if deadline is None:
            return 0.0
        return max(0.0, (time.monotonic() if now is None else now) - deadline)

    def busy_seconds(self) -> float:
        started = self._call_started
        return 0.0 if started is None else time.monotonic() - started

    def abandon(self) -> list[InferenceRequest]:
        """Give up on this worker (its call hung): it takes no more requests and ends after that call. Returns
        the requests still queued, for another instance to serve."""
        self.abandoned = True
        pending = [self._held_back] if self._held_back is not None else []
        self._held_back = None
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, InferenceRequest):
                pending.append(item)
        self._queue.put(_STOP)
        return pending

    # --- the loop ----------------------------------------------------------------------------------------

    def _next(self, timeout: float | None) -> object:
        if self._held_back is not None:
            request, self._held_back = self._held_back, None
            return request
        return self._queue.get(timeout=timeout) if timeout is not None else self._queue.get()

    def _collect(self, first: InferenceRequest) -> list[InferenceRequest]:
        batch, size = [first], len(first.inputs)
        key = first.batch_key()
        # A lone client should not pay the queue delay: wait for company only when the last batch had
        # some, or others are already queued; and never longer than a model call takes, since waiting longer
        # than the call it would save cannot pay off (a model answering in microseconds batches what is there).
        waits = self._last_batch_requests > 1 or not self._queue.empty()
        delay = min(self.max_delay, self._call_seconds) if waits else 0.0
        closes_at = time.monotonic() + delay
        while size < self.max_batch_size:
            remaining = closes_at - time.monotonic()
            try:
                item = self._next(timeout=max(remaining, 0)) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                self._queue.put(_STOP)
                break
            assert isinstance(item, InferenceRequest)
            if item.batch_key() != key or size + len(item.inputs) > self.max_batch_size:
                self._held_back = item  # starts the next batch
                break
            batch.append(item)
            size += len(item.inputs)
        self._last_batch_requests = len(batch)
        return batch

    def _loop(self) -> None:
        while not self.abandoned:
            item = self._next(timeout=None)
            if item is _STOP:
                close = getattr(self.pipeline, "close", None)
                if callable(close):  # e.g. an isolated pipeline's process
                    close()
                return
            assert isinstance(item, InferenceRequest)
            try:
                self._serve(self._collect(item))
            except Exception:  # a bug here must not end the thread: every later request would wait in vain
                log.exception("model %s: serving a batch failed; the worker carries on", self.model_id)
            item = None  # not held while waiting for the next request: its input may be hundreds of MiB

    def _live(self, batch: list[InferenceRequest]) -> list[InferenceRequest]:
        """The requests still worth running: not given up, not past their deadline (those fail here)."""
        live = []
        for request in batch:
            if request.future.done():
                continue
            if request.expired:
                settle(request.future, error=InferenceOverloadError(
                    f"Request for model {self.model_id} expired in the queue before it ran; "
                    "raise timeout_ms or reduce the load"))
            else:
                live.append(request)
        return live

    def _serve(self, batch: list[InferenceRequest]) -> None:
        """Run the batch; if the model call fails, run each half again, so a bad request fails alone."""
        live = self._live(batch)
        if not live or self.abandoned:
            return
        failure = self._run(live)
        if failure is None:
            return
        if len(live) == 1:
            settle(live[0].future, error=failure)
            return
        middle = len(live) // 2
        self._serve(live[:middle])
        self._serve(live[middle:])

    def _run(self, batch: list[InferenceRequest]) -> AINodeError | None:
        """One model call for the batch: answers its callers, or returns the failure (callers unanswered)."""
        started, started_at = time.monotonic(), time.time()
        inputs = [series for request in batch for series in request.inputs]
        options = dict(batch[0].options)
        failure: AINodeError | None = None
        self._call_started, self._call_deadline = started, max(r.deadline for r in batch)
        self._in_call = batch
        try:
            outputs = self.pipeline.run(inputs, **options)
            if len(outputs) != len(inputs):
                raise InferenceInternalError(
                    f"Model {self.model_id} returned {len(outputs)} outputs for {len(inputs)} inputs")
        except AINodeError as exc:
            failure = exc
        except Exception as exc:  # a model bug fails its own requests, never the node
            log.exception("model %s failed", self.model_id)
            failure = InferenceInternalError(f"Model {self.model_id} failed: {type(exc).__name__}: {exc}")
        else:
            offset = 0
            for request in batch:
                count = len(request.inputs)
                settle(request.future, result=outputs[offset:offset + count])
                offset += count
        finally:
            self._call_started = self._call_deadline = None
            self._in_call = []
        finished = time.monotonic()
        self._call_seconds = 0.8 * self._call_seconds + 0.2 * (finished - started)
        self._on_event(InferenceEvent(
            model_id=self.model_id, device_id=self.device_id, batch_size=len(inputs),
            queue_wait_seconds=started - min(r.enqueued_at for r in batch),
            compute_seconds=finished - started, ok=failure is None, error=failure.message if failure else "",
            started_at=started_at,
        ))
        return failure
