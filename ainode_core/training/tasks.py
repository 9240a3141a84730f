"""CREATE MODEL new FROM MODEL base ON DATASET (...): checked at once, trained in a child process.

``start_tuning`` validates what a user can fix right away (ids, base, fine-tuning support, hyperparameters
by name and value, device, a dataset file that does not exist), then starts the job and waits (at most
``ain_model_registration_wait_in_ms``) until the job has read its dataset and the model type has accepted
it (its first progress report): a bad dataset, too little data or a time range that selects nothing is
answered to the caller and leaves no model behind. Past that point the new model shows ``training`` with
the latest progress as its reason. A :class:`TrainingTask` thread runs ``python -m
ainode_core.training.worker`` and follows its events: on success the weights move from a hidden staging
folder into ``fine_tuned/<id>/`` (with ``training.json``: base, dataset, hyperparameters, losses) and the
model becomes ``active``; on any failure the staging folder goes and the model is ``failed`` with the
reason. A ``failed`` fine-tuned model does not hold its id: the next CREATE MODEL of that id replaces it.
:func:`cancel_tuning` (DROP MODEL on a training model) stops a job at its next step. A node restart
mid-training leaves ``failed`` (see the catalog's recovery); a node that stops gracefully says so at once.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ainode_core.errors import (
    AINodeError,
    CreateModelError,
    InvalidInferenceConfigError,
    ModelExistedError,
    StatusCode,
)
from ainode_core.ingress.files import resolve_path
from ainode_core.ingress.timerange import check_time_range
from ainode_core.models.atomic import atomic_write_bytes
from ainode_core.models.record import Category, ModelRecord, State, validate_model_id
from ainode_core.models.resolve import type_folder_of
from ainode_core.training.hyperparameters import parse_hyperparameters
from ainode_core.training.job import TrainingJob

if TYPE_CHECKING:  # pragma: no cover
    from ainode_core.models.manager import ModelManager

log = logging.getLogger(__name__)

DB_TYPES = ("iotdb.tree", "iotdb.table")
PROGRESS_SAVE_INTERVAL = 1.0  # seconds between catalog writes for progress (the last one is always written)
STOP_GRACE_SECONDS = 5.0  # a job asked to stop that has not reached its next step by then is killed
NODE_STOPPED = "the node stopped while this model was training"


def _schemas(request: Any) -> list[tuple[str, list[int] | None]]:
    schemas = []
    for schema in request.targetDataSchema or []:
        name = (schema.schemaName or "").strip()
        if not name:
            raise InvalidInferenceConfigError("A dataset entry has an empty schemaName; give a path pattern, "
                                              "a SQL query or a file:// URI.")
        window = check_time_range(schema.timeRange)
        if name.lower().startswith("file:") and not resolve_path(name).exists():
            raise InvalidInferenceConfigError(f"Dataset {name!r}: no such file on the AINode's machine.")
        schemas.append((name, list(window) if window else None))
    if not schemas and request.dbType is None:
        # What Apache IoTDB's DataNode builds for CREATE MODEL ... ON DATASET: model ids and hyperparameters
        # only (2.0.10's own Thrift client then refuses to send it; a patched one might).
        raise InvalidInferenceConfigError(
            "The fine-tuning request carries no dataset: IoTDB's DataNode does not forward ON DATASET (...) to "
            "the AINode. Fine-tune through ainode itself, on the same IoTDB data: `ainode sql --iotdb "
            "host:port` with the same CREATE MODEL statement, `ainode finetune MODEL --base BASE --dataset "
            "'root.db.**'`, or AINodeClient.finetune().")
    if not schemas:
        raise InvalidInferenceConfigError(
            "The fine-tuning request names no dataset; add ON DATASET (...) with a path pattern, a query or a "
            "file:// URI of a CSV, Parquet or TsFile.")
    return schemas


def start_tuning(manager: "ModelManager", request: Any, lock: threading.Lock) -> ModelRecord:
    """Claim the new model's id and start its job under ``lock`` (the manager's), then wait for the job's
    dataset checks outside it: they may take up to ``ain_model_registration_wait_in_ms``, and other
    registrations must not wait for them."""
    with lock:
        started = _begin_tuning(manager, request)
    if isinstance(started, ModelRecord):
        return started
    refusal = started.wait_checked(manager.settings.ain_model_registration_wait_in_ms / 1000)
    model_id = started.record.model_id
    if refusal is not None:  # the dataset or the model type said no: nothing half-created stays behind
        with lock:
            manager.tasks.pop(model_id, None)
            manager.catalog.remove(model_id)
        raise refusal
    return manager.catalog.get(model_id)


def _begin_tuning(manager: "ModelManager", request: Any) -> "ModelRecord | TrainingTask":
    """The checks that need no data, then the record and the job: the job itself, or the existing record
    when this is the same call again."""
    validate_model_id(request.modelId)
    base = manager.catalog.get(request.existingModelId)
    existing = manager.catalog.find(request.modelId)
    if existing is not None and existing.category is Category.FINE_TUNED and existing.base_model == base.model_id \
            and existing.state in (State.TRAINING, State.ACTIVE) and request.modelId in manager.tasks:
        return existing  # the same call again (a DataNode re-sends a call whose answer timed out)
    replaced = existing if existing is not None and existing.category is Category.FINE_TUNED \
        and existing.state is State.FAILED else None  # a failed fine-tuning holds nothing worth its id
    if existing is not None and replaced is None:
        raise ModelExistedError(request.modelId)
    spec = manager.catalog.spec_for(base)
    if spec is None or spec.finetune is None:
        raise CreateModelError(
            f"Model {base.model_id} (model_type {base.model_type}) does not support fine-tuning; models that do: "
            f"{', '.join(_tunable(manager)) or 'none installed'}.")
    if base.state is not State.ACTIVE:
        raise CreateModelError(f"Model {base.model_id} is {base.state.value}"
                               f"{': ' + base.reason if base.reason else ''}; fine-tune an active model.")
    db_type = (request.dbType or "iotdb.tree").strip()
    if db_type not in DB_TYPES:
        raise InvalidInferenceConfigError(f"dbType must be one of {', '.join(DB_TYPES)}, got {db_type!r}.")
    schemas = _schemas(request)
    params = parse_hyperparameters(request.parameters, spec.finetune_hyperparameters, base.model_id)
    device_id = str(params.pop("device", "") or "")
    device = manager.engine.device(device_id) if device_id else manager.engine.default_device()

    if replaced is not None:
        manager.tasks.pop(replaced.model_id, None)
        manager.catalog.remove(replaced.model_id)
    final = manager.catalog.models_dir / Category.FINE_TUNED.value / request.modelId
    final.parent.mkdir(parents=True, exist_ok=True)
    record = manager.catalog.add(ModelRecord(
        model_id=request.modelId, model_type=base.model_type, category=Category.FINE_TUNED,
        state=State.TRAINING, task=base.task, base_model=base.model_id, plugin=base.plugin,
        source=f"{base.model_id} on {', '.join(name for name, _ in schemas)}", reason="starting"))
    staging = Path(tempfile.mkdtemp(prefix=f".{request.modelId}.", dir=final.parent))
    type_folder, folder_model_id = type_folder_of(manager.catalog, base.model_type)
    job = TrainingJob(
        model_id=request.modelId, base=TrainingJob.info_as_dict(manager.catalog.model_info(base)),
        home=str(manager.settings.home), db_type=db_type, schemas=schemas, params=params,
        device=device.torch_device, output_dir=str(staging / "model"),
        type_folder=type_folder, folder_model_id=folder_model_id)
    task = TrainingTask(manager, record, job, staging, final)
    manager.tasks[record.model_id] = task
    task.start()
    return task


def cancel_tuning(manager: "ModelManager", model_id: str, reason: str = "cancelled by DROP MODEL") -> bool:
    """Stop ``model_id``'s running fine-tuning and wait for it: the job stops at its next step (killed if it
    does not get there within :data:`STOP_GRACE_SECONDS`), its staging folder goes and its record is left
    ``failed`` with ``reason``. False when no job of that id runs."""
    task = manager.tasks.get(model_id)
    if task is None or not task.is_alive():
        return False
    task.stop(reason)
    task.join(STOP_GRACE_SECONDS + 10)
    manager.tasks.pop(model_id, None)
    return True


def _tunable(manager: "ModelManager") -> list[str]:
    return sorted(r.model_id for r in manager.catalog.list()
                  if (spec := manager.catalog.spec_for(r)) is not None and spec.finetune is not None
                  and r.state is State.ACTIVE)


class TrainingTask(threading.Thread):
    def __init__(self, manager: "ModelManager", record: ModelRecord, job: TrainingJob, staging: Path,
                 final: Path) -> None:
        super().__init__(name=f"finetune-{record.model_id}", daemon=True)
        self.manager, self.record, self.job = manager, record, job
        self.staging, self.final = staging, final
        self.process: subprocess.Popen | None = None
        self.stop_reason: str | None = None  # set by stop(): why the job ends early
        self.checked = threading.Event()  # the job passed its dataset checks (or ended)
        self._refusal: AINodeError | None = None
        self._caller_waiting = True  # start_tuning still waits: an early failure is its answer
        self._lock = threading.Lock()
        self._last_save = 0.0

    @property
    def model_id(self) -> str:
        return self.record.model_id

    def wait_checked(self, timeout: float) -> AINodeError | None:
        """Wait until the job has accepted its dataset (or ``timeout``); the error that ended it before that."""
        self.checked.wait(timeout)
        with self._lock:
            self._caller_waiting = False
            return self._refusal

    def _progress(self, message: str, force: bool = False) -> None:
        log.info("fine-tuning %s: %s", self.model_id, message)
        now = time.monotonic()
        if force or now - self._last_save >= PROGRESS_SAVE_INTERVAL:
            self._last_save = now
            self.manager.catalog.update(self.model_id, reason=message)

    def _spawn(self) -> tuple[subprocess.Popen, int]:
        job_file = self.staging / "job.json"
        self.job.write(job_file)
        read_fd, write_fd = os.pipe()
        logs = self.manager.settings.ain_logs_dir
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"finetune-{self.model_id}.log", "ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "ainode_core.training.worker", str(job_file), str(write_fd),
                 str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, pass_fds=(write_fd,))
        os.close(write_fd)  # the child holds the only write end: EOF means it is gone
        return process, read_fd

    def run(self) -> None:
        outcome: dict[str, Any] = {}
        try:
            with self._lock:
                self.process, read_fd = self._spawn()
            if self.stop_reason is not None:  # stopped while it was being spawned
                self.stop(self.stop_reason)
            with os.fdopen(read_fd, "r", encoding="utf-8") as events:
                for line in events:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    if event.get("event") == "progress":
                        self._progress(str(event.get("message", "")))
                    elif event.get("event") == "started":
                        self.checked.set()
                    else:
                        outcome = event
            code = self.process.wait()
            if self.stop_reason is not None:
                raise _Failed(self.stop_reason)
            if outcome.get("event") == "error":
                raise _Failed(str(outcome.get("message")), outcome.get("code"))
            if code != 0 or outcome.get("event") != "done":
                raise _Failed(f"the training process exited with code {code} without a result "
                              f"(see {self.manager.settings.ain_logs_dir / f'finetune-{self.model_id}.log'})")
            self._publish(outcome.get("metrics") or {})
        except _Failed as exc:
            self._fail(exc.message, exc.code)
        except Exception as exc:  # a bug here must still end the model's training state
            log.exception("fine-tuning %s", self.model_id)
            self._fail(f"{type(exc).__name__}: {exc}")
        finally:
            self.checked.set()

    def _publish(self, metrics: dict[str, Any]) -> None:
        model_dir = self.staging / "model"
        base_path = self.job.base.get("path")
        expected = ["config.json"] + (["model.safetensors"] if base_path and
                                      (Path(base_path) / "model.safetensors").is_file() else [])
        missing = [name for name in expected if not (model_dir / name).is_file()]
        if missing:
            raise _Failed(f"fine-tuning wrote no {', '.join(missing)}")
        summary = {"base_model": self.job.base["model_id"], "dataset": self.job.schemas,
                   "db_type": self.job.db_type, "hyperparameters": self.job.params, "device": self.job.device,
                   "metrics": metrics}
        atomic_write_bytes(model_dir / "training.json", json.dumps(summary, indent=2, default=str).encode())
        if self.final.exists():
            shutil.rmtree(self.final)
        model_dir.rename(self.final)
        shutil.rmtree(self.staging, ignore_errors=True)
        losses = [float(v) for v in metrics.get("losses", [])]
        detail = f"; loss {losses[0]:.4g} → {losses[-1]:.4g} over {len(losses)} steps" if losses else ""
        self.manager.catalog.update(self.model_id, state=State.ACTIVE,
                                    reason=f"fine-tuned from {self.job.base['model_id']}{detail}")
        log.info("fine-tuned model %s is active%s", self.model_id, detail)

    def _fail(self, message: str, code: int | None = None) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        with self._lock:
            if self._caller_waiting and not self.checked.is_set() and self.stop_reason is None:
                log.info("fine-tuning %s refused: %s", self.model_id, message)
                self._refusal = _status_error(message, code)
                return  # start_tuning answers it and removes the record
        log.warning("fine-tuning %s failed: %s", self.model_id, message)
        if self.model_id in self.manager.catalog:
            self.manager.catalog.update(self.model_id, state=State.FAILED, reason=message)

    def stop(self, reason: str = NODE_STOPPED) -> None:
        """Ask the job to stop: SIGTERM makes the worker stop at its next step; a kill follows if it does not."""
        with self._lock:
            self.stop_reason = reason
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            killer = threading.Timer(STOP_GRACE_SECONDS, _kill_if_running, (process,))
            killer.daemon = True
            killer.start()


def _kill_if_running(process: subprocess.Popen) -> None:
    if process.poll() is None:
        log.warning("training process %d did not stop within %.0f s; killing it", process.pid, STOP_GRACE_SECONDS)
        process.kill()


def _status_error(message: str, code: int | None) -> AINodeError:
    """The worker's error with its status code (1512 for a bad dataset or hyperparameter; else 1505)."""
    error = CreateModelError(message)
    if code is not None and code in StatusCode._value2member_map_:
        error.code = StatusCode(code)
    return error


class _Failed(Exception):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message, self.code = message, code
