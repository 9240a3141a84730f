"""The fine-tuning process: ``python -m ainode_core.training.worker JOB_FILE EVENTS_FD PARENT_PID``.

Training runs in its own process so that serving keeps its cores' interpreter and memory, and so that a
crash in training (out of memory, a bug in a model's code) fails that model only. The process reports on a
dedicated pipe as JSON lines (``progress`` / ``started`` / ``done`` / ``error`` / ``cancelled``): model code
may print whatever it likes on stdout without confusing the node. ``started`` is sent at the model type's
first progress report, i.e. once the dataset is read and the model type has accepted it; the node answers
CREATE MODEL at that point, so what fails before is the caller's error, not a failed model.
SIGTERM asks the job to stop: it stops at its next progress report (between steps), cleanly. It exits by
itself when the node that started it goes away.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, TextIO

from ainode_core.errors import AINodeError
from ainode_core.training.job import TrainingJob

log = logging.getLogger("ainode.training")


class TrainingCancelled(BaseException):
    """Raised at the next step once the node asked the job to stop. A BaseException, like KeyboardInterrupt,
    so that a model's own ``except Exception`` around its training loop cannot swallow it."""


def _exit_with_parent(parent_pid: int) -> None:
    """A node killed with -9 cannot stop its children: each child notices and stops on its own."""
    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(3)
            time.sleep(0.5)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _emitter(stream: TextIO) -> Callable[..., None]:
    lock = threading.Lock()

    def emit(event: str, **values: Any) -> None:
        with lock:
            stream.write(json.dumps({"event": event, **values}, default=float) + "\n")
            stream.flush()
    return emit


def run(job: TrainingJob, emit: Callable[..., None], stop: threading.Event | None = None) -> dict[str, Any]:
    from ainode_core.config import load_settings
    from ainode_core.ingress import read_dataset
    from ainode_core.models.resolve import resolve_model_type
    from ainode_core.plugins import get_plugin_manager

    stop = stop or threading.Event()

    def check_stop() -> None:
        if stop.is_set():
            raise TrainingCancelled()

    settings = load_settings(Path(job.home))
    spec = resolve_model_type(job.base["model_type"], job.type_folder, job.folder_model_id)
    if spec.finetune is None:
        raise RuntimeError(f"model_type {job.base['model_type']} has no fine-tuning function in this process")
    emit("progress", message="reading the dataset")
    dataset = read_dataset(get_plugin_manager(), settings, job.db_type, job.schemas)
    check_stop()
    points = sum(len(values) for _, values in dataset)
    emit("progress", message=f"read {len(dataset)} series, {points} points")
    started = False

    def progress(message: Any) -> None:
        nonlocal started
        check_stop()  # between steps: where a model can stop without leaving anything half written
        if not started:
            started = True
            emit("started")
        emit("progress", message=str(message))

    metrics = spec.finetune(job.base_info(), dataset, dict(job.params), Path(job.output_dir), progress,
                            device=job.device)
    check_stop()
    return dict(metrics) if isinstance(metrics, dict) else {}


def main(argv: list[str]) -> int:
    job_file, events_fd, parent_pid = Path(argv[0]), int(argv[1]), int(argv[2])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    _exit_with_parent(parent_pid)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with os.fdopen(events_fd, "w", encoding="utf-8") as stream:
        emit = _emitter(stream)
        try:
            metrics = run(TrainingJob.read(job_file), emit, stop)
        except TrainingCancelled:
            log.info("stopped at the node's request")
            emit("cancelled")
            return 1
        except AINodeError as exc:
            emit("error", message=exc.message, code=int(exc.code))
            return 1
        except Exception as exc:  # reported to the node as the model's failure reason
            traceback.print_exc()
            emit("error", message=f"{type(exc).__name__}: {exc}")
            return 1
        emit("done", metrics=metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
