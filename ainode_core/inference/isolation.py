"""Process isolation: a pipeline hosted in a child process, driven by the instance's worker thread.

With ``ain_inference_isolation=process`` each model instance runs its pipeline in its own process (spawned,
so no CUDA or lock state is inherited). The worker thread in the node keeps batching exactly as for an
in-process pipeline and sends each batch over a pipe. If the child dies (a segfault in native code, an
``os._exit`` in a user's model, the out-of-memory killer), the batch in flight fails with 1520 and the next
batch starts a fresh child: the node and every other model keep serving. The default stays ``thread``:
see ``bench/serve.py --isolation`` for the cost of the extra hop, measured.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any, Sequence

from ainode_core.errors import AINodeError, InferenceInternalError, ModelNotReadyError, StatusCode
from ainode_core.pipelines.base import ModelInfo

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")


def _serve(connection: Connection, model_type: str, type_folder: str | None, folder_model_id: str,
           info: ModelInfo, device: str, cpu_threads: int | None) -> None:
    """The child: build the pipeline once, then answer ("run", inputs, options) and ("threads", n, None)
    messages until EOF."""
    from ainode_core.inference.engine import measured_size_bytes
    from ainode_core.inference.warmup import warm_up
    from ainode_core.models.resolve import resolve_model_type

    try:
        if cpu_threads is not None:
            _limit_threads(cpu_threads)
        spec = resolve_model_type(model_type, type_folder, folder_model_id)
        pipeline = spec.pipeline_cls(info, device=device)
        warm_up(pipeline)
    except Exception as exc:
        connection.send(("error", _code_of(exc), _message_of(exc)))
        return
    connection.send(("ready", measured_size_bytes(pipeline)))
    while True:
        try:
            kind, inputs, options = connection.recv()
        except EOFError:
            return
        if kind == "threads":
            _limit_threads(inputs)
            continue
        try:
            connection.send(("ok", pipeline.run(inputs, **options)))
        except Exception as exc:
            connection.send(("error", _code_of(exc), _message_of(exc)))


def _limit_threads(threads: int) -> None:
    """OpenMP (torch's CPU kernels) and BLAS read these when they load; torch, if already loaded, is told."""
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def _code_of(exc: BaseException) -> int:
    return int(exc.code) if isinstance(exc, AINodeError) else int(StatusCode.INFERENCE_INTERNAL_ERROR)


def _message_of(exc: BaseException) -> str:
    return exc.message if isinstance(exc, AINodeError) else f"{type(exc).__name__}: {exc}"


def _error(code: int, message: str) -> AINodeError:
    error = AINodeError(message)
    error.code = StatusCode(code)
    return error


class ProcessPipeline:
    """Looks like a pipeline to the worker (``run`` and ``model_info``); the model lives in a child."""

    def __init__(self, model_type: str, type_folder: str | None, folder_model_id: str, info: ModelInfo,
                 device: str, *, cpu_threads: int | None = None) -> None:
        self.model_info = info
        self._args = (model_type, type_folder, folder_model_id, info, device, cpu_threads)
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Connection | None = None
        self.size_bytes = 0
        self.starts = 0
        self._kill_reason = ""
        self._start()  # fail LOAD / the first request now if the model cannot be built

    def _start(self) -> None:
        parent, child = _CONTEXT.Pipe()
        process = _CONTEXT.Process(target=_serve, args=(child, *self._args), daemon=True,
                                   name=f"ainode-model-{self.model_info.model_id}")
        process.start()
        child.close()
        try:
            reply = parent.recv()
        except EOFError:
            process.join(5)
            raise ModelNotReadyError(f"Model {self.model_info.model_id}: its worker process exited with code "
                                     f"{process.exitcode} while loading") from None
        if reply[0] == "error":
            process.join(5)
            raise _error(reply[1], reply[2])
        self.size_bytes = int(reply[1])
        self._process, self._connection = process, parent
        self.starts += 1

    def share_cpu(self, threads: int) -> None:
        """Give the model ``threads`` CPU threads from its next call on (LOAD MODEL rebalanced the device)."""
        with self._lock:
            self._args = (*self._args[:-1], threads)  # a restarted child gets them too
            if self._connection is not None:
                try:
                    self._connection.send(("threads", threads, None))
                except (OSError, BrokenPipeError):
                    pass  # the child died: the next call starts a fresh one, with these threads

    def run(self, inputs: Sequence[dict[str, Any]], **options: Any) -> list[Any]:
        with self._lock:
            if self._connection is None:
                self._start()
            assert self._connection is not None
            try:
                self._connection.send(("run", list(inputs), options))
                reply = self._connection.recv()
            except (EOFError, OSError, BrokenPipeError):
                code = self._stop()
                reason, self._kill_reason = self._kill_reason, ""
                raise InferenceInternalError(
                    f"Model {self.model_info.model_id}: its worker process {reason or f'died (exit code {code})'} "
                    "while running this request; the next request starts a new one") from None
        if reply[0] == "error":
            raise _error(reply[1], reply[2])
        return reply[1]

    def _stop(self) -> int | None:
        connection, process = self._connection, self._process
        self._connection = self._process = None
        if connection is not None:
            connection.close()  # the child sees EOF and returns
        if process is not None:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)
            return process.exitcode
        return None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def kill(self, reason: str) -> None:
        """End the child now, even in the middle of a call (which then fails with ``reason``): a hung model
        gives its device and memory back, and the next request starts a fresh child."""
        process = self._process
        if process is not None and process.is_alive():
            self._kill_reason = reason
            process.kill()
