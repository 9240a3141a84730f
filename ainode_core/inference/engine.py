"""The inference engine: resident model instances per device and the request path.

A model, once used, stays resident as an on-demand instance on the default device (evicted LRU when the
memory budget is exceeded). LOAD MODEL places explicit instances on devices (see :mod:`placement`).
Each instance has a :class:`ModelWorker` thread that batches requests; callers wait on a future with a
deadline, so nothing here can hang a Thrift worker. A supervisor thread watches the workers: a model call that
runs ``ain_inference_hung_call_grace_in_ms`` past every one of its callers' deadlines is abandoned (an isolated
model's process is killed and restarted; an in-process instance is replaced by a fresh one that takes over its
queue), and the model's reason in SHOW MODELS says so.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable

import numpy as np

from ainode_core.config import Settings
from ainode_core.errors import (
    AINodeError,
    InferenceOverloadError,
    InvalidInferenceConfigError,
    ModelNotReadyError,
    UnavailableDeviceError,
)
from ainode_core.inference.devices import cpu_cores
from ainode_core.inference.events import InferenceEvent
from ainode_core.inference.isolation import ProcessPipeline
from ainode_core.inference.requests import InferenceRequest
from ainode_core.inference.warmup import warm_up
from ainode_core.inference.worker import ModelWorker, settle
from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.record import State
from ainode_core.models.resolve import type_folder_of
from ainode_core.plugins import PluginManager
from ainode_core.records import DeviceInfo

log = logging.getLogger(__name__)

NODE_OPTIONS = frozenset({"timeout_ms", "device"})
SUPERVISE_INTERVAL_SECONDS = 0.25


def measured_size_bytes(pipeline: Any) -> int:
    """Parameter + buffer bytes of a torch model held by the pipeline (0 for models without weights); a
    pipeline whose model lives elsewhere (an isolated one) reports ``size_bytes`` itself."""
    if getattr(pipeline, "size_bytes", 0):
        return int(pipeline.size_bytes)
    model = getattr(pipeline, "model", None)
    if model is None or not hasattr(model, "parameters"):
        return 0
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    if hasattr(model, "buffers"):
        total += sum(b.numel() * b.element_size() for b in model.buffers())
    return int(total)


class Instance:
    """One pipeline on one device with its worker."""

    def __init__(self, model_id: str, device: DeviceInfo, worker: ModelWorker, size_bytes: int,
                 explicit: bool, cpu_threads: int | None = None) -> None:
        self.model_id = model_id
        self.device = device
        self.worker = worker
        self.size_bytes = size_bytes
        self.explicit = explicit  # placed by LOAD MODEL (not evicted) vs on demand
        self.cpu_threads = cpu_threads  # torch threads of an isolated instance's process (None: all cores)


class InferenceEngine:
    def __init__(self, settings: Settings, catalog: ModelCatalog, plugins: PluginManager) -> None:
        self.settings = settings
        self.catalog = catalog
        self.plugins = plugins
        self._lock = threading.RLock()
        self._load_locks: dict[str, threading.Lock] = {}
        # model id → instances; the OrderedDict keeps on-demand models in least-recently-used order.
        self._instances: OrderedDict[str, list[Instance]] = OrderedDict()
        self._round_robin: dict[str, int] = {}
        self.load_count: dict[str, int] = {}
        self._stopping = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise_loop, name="engine-supervisor", daemon=True)
        self._supervisor.start()

    # --- devices -----------------------------------------------------------------------------------------

    def devices(self) -> dict[str, DeviceInfo]:
        found: dict[str, DeviceInfo] = {}
        for registered in self.plugins.registry("device_backends").values():
            try:
                for device in registered.record.list_devices():
                    found[device.device_id] = device
            except Exception:
                log.exception("device backend %s failed to list devices", registered.record.name)
        return found

    def device(self, device_id: str) -> DeviceInfo:
        device = self.devices().get(device_id)
        if device is None:
            raise UnavailableDeviceError(device_id)
        return device

    def default_device(self) -> DeviceInfo:
        devices = self.devices()
        return next((d for d in devices.values() if d.device_type != "cpu"), devices["cpu"])

    # --- instances ---------------------------------------------------------------------------------------

    def _new_instance(self, model_id: str, device: DeviceInfo, explicit: bool,
                      cpu_threads: int | None = None) -> Instance:
        record = self.catalog.get(model_id)
        if record.state is not State.ACTIVE:
            detail = f": {record.reason}" if record.reason else ""
            raise ModelNotReadyError(f"Model {model_id} is {record.state.value}{detail}")
        spec = self.catalog.spec_for(record)
        if spec is None:
            raise ModelNotReadyError(
                f"Model {model_id} has model_type '{record.model_type}', which no installed plugin serves; "
                "install or enable the plugin (see `ainode plugins`)")
        started = time.monotonic()
        try:
            pipeline = self._build_pipeline(record, spec, device, cpu_threads)
        except AINodeError:
            raise
        except Exception as exc:
            log.exception("loading %s failed", model_id)
            raise ModelNotReadyError(f"Model {model_id} could not be loaded: {type(exc).__name__}: {exc}") from exc
        seconds = time.monotonic() - started
        self.load_count[model_id] = self.load_count.get(model_id, 0) + 1
        size = measured_size_bytes(pipeline) or spec.estimated_size_bytes or 0
        worker = ModelWorker(
            model_id, device.device_id, pipeline,
            max_batch_size=self.settings.ain_inference_max_batch_size,
            max_delay_seconds=self.settings.ain_inference_batch_interval_in_ms / 1000,
            max_queue_size=self.settings.ain_inference_max_queue_size,
            on_event=self._after_inference,
        )
        self.plugins.notify("ainode_model_loaded", model_id=model_id, device_id=device.device_id,
                            load_seconds=seconds)
        return Instance(model_id, device, worker, size, explicit, cpu_threads)

    def _build_pipeline(self, record: Any, spec: Any, device: DeviceInfo, cpu_threads: int | None) -> Any:
        info = self.catalog.model_info(record)
        if self.settings.ain_inference_isolation == "process":
            type_folder, folder_model_id = type_folder_of(self.catalog, record.model_type)
            return ProcessPipeline(record.model_type, type_folder, folder_model_id, info, device.torch_device,
                                   cpu_threads=cpu_threads)
        pipeline = spec.pipeline_cls(info, device=device.torch_device)
        warm_up(pipeline)
        return pipeline

    def _after_inference(self, event: InferenceEvent) -> None:
        self.plugins.notify("ainode_after_inference", event=event)

    def _instances_for(self, model_id: str) -> list[Instance]:
        with self._lock:
            instances = self._instances.get(model_id)
            if instances:
                self._instances.move_to_end(model_id)
                return instances
        with self._placing(model_id):  # a LOAD in progress finishes first: its instance serves this request
            with self._lock:
                instances = self._instances.get(model_id)
                if instances:
                    return instances
            instance = self._new_instance(model_id, self.default_device(), explicit=False)
            with self._lock:
                instances = self._instances.setdefault(model_id, [])
                instances.append(instance)
                self._evict_on_demand(keep=model_id)
            return instances

    def _placing(self, model_id: str) -> threading.Lock:
        """The model's placement lock: loads, on-demand loads and unloads of one model happen one at a time,
        so an UNLOAD issued while a LOAD is still building its instances removes them once they exist."""
        with self._lock:
            return self._load_locks.setdefault(model_id, threading.Lock())

    def _evict_on_demand(self, keep: str) -> None:
        """Drop least-recently-used on-demand models while the resident set exceeds the memory budget."""
        budget = sum(d.total_memory_bytes for d in self.devices().values()) * \
            self.settings.ain_inference_memory_usage_ratio
        def used() -> float:
            return sum(i.size_bytes * self.settings.ain_inference_extra_memory_ratio
                       for items in self._instances.values() for i in items)
        for model_id in list(self._instances):
            if used() <= budget:
                return
            items = self._instances[model_id]
            if model_id == keep or any(i.explicit for i in items):
                continue
            log.info("evicting on-demand model %s (memory budget)", model_id)
            for instance in self._instances.pop(model_id):
                instance.worker.stop(wait=False)

    def drop_instances(self, model_id: str) -> None:
        with self._lock:
            instances = self._instances.pop(model_id, [])
        _stop_all(instances)

    def loaded(self) -> dict[str, dict[str, int]]:
        """device id → model id → instance count (on-demand instances included)."""
        result: dict[str, dict[str, int]] = {}
        with self._lock:
            for model_id, instances in self._instances.items():
                for instance in instances:
                    counts = result.setdefault(instance.device.device_id, {})
                    counts[model_id] = counts.get(model_id, 0) + 1
        return result

    def place(self, model_id: str, device: DeviceInfo, count: int,
              only_if: Callable[[], bool] | None = None) -> None:
        """Make the model have exactly ``count`` explicit instances on ``device`` (on ``cpu``, new isolated
        instances share its cores: ``cores // count`` torch threads each); with ``only_if``, only when it
        still holds once the model's placement lock is taken."""
        cpu_threads = max(1, cpu_cores() // count) if device.device_type == "cpu" else None
        with self._placing(model_id):
            if only_if is not None and not only_if():
                return
            with self._lock:
                current = [i for i in self._instances.get(model_id, []) if i.device.device_id == device.device_id]
            for instance in current[count:]:
                with self._lock:
                    self._instances[model_id].remove(instance)
            _stop_all(current[count:])
            for instance in current[:count]:
                instance.explicit = True
                share = getattr(instance.worker.pipeline, "share_cpu", None)
                if cpu_threads is not None and instance.cpu_threads != cpu_threads and callable(share):
                    share(cpu_threads)  # a rebalance: the instances already there make room for the new ones
                    instance.cpu_threads = cpu_threads
            for _ in range(count - len(current)):
                instance = self._new_instance(model_id, device, explicit=True, cpu_threads=cpu_threads)
                with self._lock:
                    self._instances.setdefault(model_id, []).append(instance)

    def remove_from_device(self, model_id: str, device_id: str) -> None:
        with self._placing(model_id), self._lock:
            instances = self._instances.get(model_id, [])
            gone = [i for i in instances if i.device.device_id == device_id]
            self._instances[model_id] = [i for i in instances if i.device.device_id != device_id]
            if not self._instances[model_id]:
                del self._instances[model_id]
        _stop_all(gone)

    def instance_size(self, model_id: str) -> int | None:
        with self._lock:
            sizes = [i.size_bytes for i in self._instances.get(model_id, []) if i.size_bytes]
        return sizes[0] if sizes else None

    # --- requests ----------------------------------------------------------------------------------------

    def infer(self, model_id: str, inputs: list[dict[str, Any]], options: dict[str, Any]) -> list[np.ndarray]:
        """Run ``inputs`` through the model (batched with concurrent requests) and wait for the result."""
        options = dict(options)
        timeout_ms = options.pop("timeout_ms", None)
        try:
            timeout = float(timeout_ms) / 1000 if timeout_ms is not None else \
                self.settings.ain_inference_timeout_in_ms / 1000
        except ValueError:
            raise InvalidInferenceConfigError(f"Option timeout_ms must be a number of milliseconds, got {timeout_ms!r}")
        if timeout <= 0:
            raise InvalidInferenceConfigError(f"Option timeout_ms must be positive, got {timeout_ms!r}")
        options.pop("device", None)
        instances = self._instances_for(model_id)
        with self._lock:
            index = self._round_robin.get(model_id, 0)
            self._round_robin[model_id] = index + 1
        # Least-loaded instance first, round-robin among equals.
        ordered = sorted(instances[index % len(instances):] + instances[:index % len(instances)],
                         key=lambda i: i.worker.queue_depth)
        request = InferenceRequest(inputs=inputs, options=options, deadline=time.monotonic() + timeout)
        self.plugins.notify("ainode_before_inference", model_id=model_id, batch_size=len(inputs), options=options)
        worker = ordered[0].worker
        self._check_alone(worker.pipeline, inputs, options)
        worker.submit(request)
        try:
            return request.future.result(timeout=timeout)
        except FutureTimeout:
            request.future.cancel()
            busy = worker.busy_seconds()
            if busy > timeout:  # not the load: one call has been running longer than this whole request
                raise InferenceOverloadError(
                    f"Model {model_id} did not answer within {timeout * 1000:.0f} ms: it has been running one "
                    f"call for {busy:.1f} s (a slow or hung model); a call that runs "
                    f"{self.settings.ain_inference_hung_call_grace_in_ms} ms past its callers' deadlines is "
                    "abandoned and the model restarted") from None
            raise InferenceOverloadError(
                f"Model {model_id} did not answer within {timeout * 1000:.0f} ms; raise the option timeout_ms "
                "or ain_inference_timeout_in_ms, or reduce the load") from None

    def _check_alone(self, pipeline: Any, inputs: list[dict[str, Any]], options: dict[str, Any]) -> None:
        """The pipeline's own checks on this request alone, before it can share a batch with others (an
        isolated pipeline lives in another process: its checks run there, and a failing batch is split)."""
        check = getattr(pipeline, "check", None)
        if not callable(check):
            return
        try:
            check(inputs, **options)
        except AINodeError:
            raise
        except Exception:  # a bug in a plugin's check: the model call reports what is wrong
            log.debug("model %s: check failed unexpectedly", pipeline.model_info.model_id, exc_info=True)

    # --- supervision -------------------------------------------------------------------------------------

    def _supervise_loop(self) -> None:
        while not self._stopping.wait(SUPERVISE_INTERVAL_SECONDS):
            try:
                self.supervise()
            except Exception:  # the supervisor must outlive any one bad check
                log.exception("supervising model instances failed")

    def supervise(self) -> None:
        """Abandon every model call that runs past all its callers' deadlines by more than the grace."""
        grace = self.settings.ain_inference_hung_call_grace_in_ms / 1000
        with self._lock:
            instances = [instance for items in self._instances.values() for instance in items]
        for instance in instances:
            overdue = instance.worker.overdue_seconds()
            if overdue <= grace:
                continue
            what = f"a call ran {overdue:.1f} s past its callers' deadlines"
            kill = getattr(instance.worker.pipeline, "kill", None)
            if callable(kill):
                log.warning("model %s on %s: %s; killing its process", instance.model_id,
                            instance.device.device_id, what)
                kill(f"was killed: {what}")
                self._note(instance.model_id, f"worker process on {instance.device.device_id} restarted: {what}")
            else:
                self._replace(instance, what)

    def _replace(self, stuck: Instance, what: str) -> None:
        """A fresh instance takes the stuck one's place and its queue; the stuck thread is left to end."""
        model_id = stuck.model_id
        log.warning("model %s on %s: %s; replacing the instance", model_id, stuck.device.device_id, what)
        try:
            fresh: Instance | None = self._new_instance(model_id, stuck.device, stuck.explicit, stuck.cpu_threads)
        except AINodeError as exc:
            log.warning("model %s: no replacement instance: %s", model_id, exc.message)
            fresh = None
        with self._lock:
            items = self._instances.get(model_id, [])
            if stuck not in items:  # dropped or unloaded meanwhile
                if fresh is not None:
                    fresh.worker.stop(wait=False)
                return
            if fresh is not None:
                items[items.index(stuck)] = fresh
            else:
                items.remove(stuck)
                if not items:
                    del self._instances[model_id]
        for request in stuck.worker.abandon():
            if fresh is not None:
                fresh.worker.submit(request)
            else:
                settle(request.future, error=ModelNotReadyError(f"Model {model_id} could not be restarted"))
        self._note(model_id, f"instance on {stuck.device.device_id} replaced: {what}")

    def _note(self, model_id: str, text: str) -> None:
        try:
            self.catalog.update(model_id, reason=f"{time.strftime('%H:%M:%S')} {text}")
        except AINodeError:
            pass  # dropped meanwhile

    def shutdown(self) -> None:
        self._stopping.set()
        with self._lock:
            instances = [instance for items in self._instances.values() for instance in items]
            self._instances.clear()
        _stop_all(instances)


def _stop_all(instances: list[Instance], timeout: float = 3.0) -> None:
    """Stop the workers together, within ``timeout`` in all: a hung call is abandoned, not waited for."""
    for instance in instances:
        instance.worker.stop(wait=False)
    deadline = time.monotonic() + timeout
    for instance in instances:
        instance.worker.join(max(0.0, deadline - time.monotonic()))
