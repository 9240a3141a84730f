"""LOAD MODEL / UNLOAD MODEL: how many instances of which model live on which device.

The contract's formula: instances of a model on a device =
``floor(device memory × usage_ratio / models on that device / (model size × extra_ratio))``, at least one.
Loading a model onto a device rebalances the models already there.

On ``cpu`` every instance draws on the same cores, so the count is capped by what parallelism can give:
- thread isolation (the default): one instance. Instances in one process share its cores and its GIL, so a
  second one only splits the batches: Timer-XL at 32 clients served 217 req/s with one instance of 2 torch
  threads, 161 with two of one thread and about 115 with two of two (2-core machine, ``bench/serve.py``).
- process isolation: one per core, and each instance's process gets ``cores // instances`` torch threads,
  so that the instances together never ask for more threads than there are cores.
``ainode_choose_instance_count`` can still choose another count.
Both operations validate at once (unknown device 1508, duplicates 1509/1510) and then run in the background;
those of one model run one at a time, in the order they were asked for (an UNLOAD right after a LOAD must not
be overtaken by it), those of different models side by side. ``showLoadedModels`` shows the counts as
instances come up.

What was loaded where is kept in ``<ain_system_dir>/placement.json`` (written atomically on each LOAD and
UNLOAD) and placed again when the node starts, so a restart does not quietly turn loaded, warmed-up models
back into on-demand ones whose first request pays the load. A dropped model leaves the plan; a device that is
missing at start (a GPU gone) keeps its entries for when it returns.
"""
from __future__ import annotations

import json
import logging
import math
import threading
from collections import deque
from pathlib import Path
from typing import Callable

from ainode_core.config import Settings
from ainode_core.errors import AINodeError, LoadModelError, UnavailableDeviceError, UnloadModelError
from ainode_core.inference.devices import cpu_cores
from ainode_core.inference.engine import InferenceEngine
from ainode_core.models.atomic import atomic_write_bytes
from ainode_core.models.catalog import ModelCatalog
from ainode_core.models.record import State
from ainode_core.records import DeviceInfo

log = logging.getLogger(__name__)
LOAD_FAILED = "LOAD MODEL failed"
PLAN_FILE = "placement.json"


def instances_for(device_memory: int, usage_ratio: float, models_on_device: int, model_size: int,
                  extra_ratio: float, cap: int) -> int:
    if model_size <= 0:
        return cap
    share = device_memory * usage_ratio / max(models_on_device, 1)
    return max(1, min(cap, math.floor(share / (model_size * extra_ratio))))


class Placement:
    def __init__(self, settings: Settings, catalog: ModelCatalog, engine: InferenceEngine) -> None:
        self.settings = settings
        self.catalog = catalog
        self.engine = engine
        self._plan: dict[str, set[str]] = {}  # device id → models LOADed there
        self._lock = threading.Lock()
        self.last_error: dict[str, str] = {}
        self.plan_path = Path(settings.ain_system_dir) / PLAN_FILE
        self._pending: dict[str, deque[tuple[Callable[..., None], tuple]]] = {}  # model id → its operations

    def _enqueue(self, model_id: str, operation: Callable[..., None], *args: object) -> None:
        """Run ``operation`` after the model's earlier ones (a thread drains each model's queue)."""
        with self._lock:
            pending = self._pending.setdefault(model_id, deque())
            pending.append((operation, args))
            if len(pending) > 1:
                return  # the model's runner gets to it
        threading.Thread(target=self._drain, args=(model_id,), name=f"placement-{model_id}", daemon=True).start()

    def _drain(self, model_id: str) -> None:
        while True:
            with self._lock:
                operation, args = self._pending[model_id][0]
            try:
                operation(model_id, *args)
            except Exception:  # one failed operation must not stop the ones after it
                log.exception("placement: %s of %s failed", operation.__name__, model_id)
            with self._lock:
                pending = self._pending[model_id]
                pending.popleft()
                if not pending:
                    del self._pending[model_id]
                    return

    # --- the plan on disk --------------------------------------------------------------------------------

    def _save(self) -> None:
        """Write the plan (call with ``_lock`` held)."""
        plan = {device: sorted(models) for device, models in sorted(self._plan.items()) if models}
        atomic_write_bytes(self.plan_path, json.dumps(plan, indent=1).encode())

    def restore(self) -> None:
        """At start: LOAD again what was loaded before the last stop (in the background, like a LOAD)."""
        try:
            saved = json.loads(self.plan_path.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("%s cannot be read (%s); no model is loaded again at start", self.plan_path, exc)
            return
        available = self.engine.devices()
        with self._lock:
            self._plan = {str(device): {str(m) for m in models} for device, models in saved.items()}
        for device_id, models in sorted(self._plan.items()):
            if device_id not in available:
                log.warning("device %s is not available now; %s stay in the plan for when it is", device_id,
                            ", ".join(sorted(models)))
                continue
            for model_id in sorted(models):
                try:
                    self.load(model_id, [device_id])
                    log.info("loading %s on %s again, as before the last stop", model_id, device_id)
                except AINodeError as exc:
                    log.warning("%s is not loaded on %s again: %s", model_id, device_id, exc.message)

    def _rebalance(self, model_id: str, device: DeviceInfo) -> None:
        """Give a model LOADed on the device its share, unless it has been unloaded meanwhile: the check runs
        under the model's placement lock, which its UNLOAD takes too, so a rebalance started for another
        model cannot bring it back."""
        def still_planned() -> bool:
            with self._lock:
                return model_id in self._plan.get(device.device_id, ())
        self.engine.place(model_id, device, self._count(model_id, device), only_if=still_planned)

    def _residents(self, device_id: str) -> list[str]:
        """The models LOADed on the device that still exist (a dropped one leaves the plan here)."""
        with self._lock:
            models = self._plan.get(device_id, set())
            dropped = {model_id for model_id in models if model_id not in self.catalog}
            if dropped:
                models -= dropped
                self._save()
            return sorted(models)

    def _devices(self, device_ids: list[str], error: type[AINodeError]) -> list[DeviceInfo]:
        if not device_ids:
            raise error("Device ID list is empty; name at least one device, e.g. 'cpu' or '0'.")
        if len(set(device_ids)) != len(device_ids):
            raise error("Device ID list contains duplicate entries.")
        available = self.engine.devices()
        for device_id in device_ids:
            if device_id not in available:
                raise UnavailableDeviceError(device_id)
        return [available[d] for d in device_ids]

    def model_size(self, model_id: str) -> int:
        configured = self.settings.ain_inference_model_mem_usage_map.get(model_id)
        if configured:
            return configured
        record = self.catalog.get(model_id)
        spec = self.catalog.spec_for(record)
        measured = self.engine.instance_size(model_id)
        return measured or (spec.estimated_size_bytes if spec and spec.estimated_size_bytes else 0)

    def _cap(self, device: DeviceInfo) -> int:
        if device.device_type != "cpu":
            return 64
        return 1 if self.settings.ain_inference_isolation == "thread" else cpu_cores()

    def _count(self, model_id: str, device: DeviceInfo) -> int:
        cap = self._cap(device)
        models_on_device = len(self._residents(device.device_id))
        size = self.model_size(model_id)
        formula = instances_for(device.total_memory_bytes, self.settings.ain_inference_memory_usage_ratio,
                                models_on_device, size, self.settings.ain_inference_extra_memory_ratio, cap)
        chosen = self.engine.plugins.decide(
            "ainode_choose_instance_count", formula, model_id=model_id, device_id=device.device_id,
            device_type=device.device_type, device_memory_bytes=device.total_memory_bytes,
            model_size_bytes=size, models_on_device=models_on_device, formula_count=formula)
        try:
            return max(1, int(chosen))
        except (TypeError, ValueError):
            log.warning("ainode_choose_instance_count answered %r for %s; using the formula's %d",
                        chosen, model_id, formula)
            return formula

    def load(self, model_id: str, device_ids: list[str]) -> None:
        record = self.catalog.get(model_id)
        if record.state is not State.ACTIVE:  # refused now, with the reason, not failed later in the background
            detail = f" ({record.reason})" if record.reason else ""
            raise LoadModelError(f"Model {model_id} is {record.state.value}{detail}; it can be loaded once "
                                 "SHOW MODELS says it is active")
        devices = self._devices(device_ids, LoadModelError)
        self._enqueue(model_id, self._load, devices)

    def _load(self, model_id: str, devices: list[DeviceInfo]) -> None:
        try:
            for device in devices:
                with self._lock:
                    self._plan.setdefault(device.device_id, set()).add(model_id)
                    self._save()
                if not self.engine.instance_size(model_id) and not self.model_size(model_id):
                    self.engine.place(model_id, device, 1)  # measure the model with its first instance
                for resident in self._residents(device.device_id):  # rebalance all there, the new one included
                    self._rebalance(resident, device)
            self.last_error.pop(model_id, None)
            if self.catalog.get(model_id).reason.startswith(LOAD_FAILED):
                self.catalog.update(model_id, reason="")
        except Exception as exc:
            message = exc.message if isinstance(exc, AINodeError) else f"{type(exc).__name__}: {exc}"
            log.warning("LOAD MODEL %s failed: %s", model_id, message)
            self.last_error[model_id] = message
            with self._lock:  # not loaded: not in the plan either, nor loaded again at the next start
                for device in devices:
                    self._plan.get(device.device_id, set()).discard(model_id)
                self._save()
            try:  # SHOW MODELS shows why, not only the log
                self.catalog.update(model_id, reason=f"{LOAD_FAILED}: {message}")
            except AINodeError:
                pass  # dropped meanwhile

    def unload(self, model_id: str, device_ids: list[str]) -> None:
        self.catalog.get(model_id)
        devices = self._devices(device_ids, UnloadModelError)
        self._enqueue(model_id, self._unload, devices)

    def _unload(self, model_id: str, devices: list[DeviceInfo]) -> None:
        for device in devices:
            with self._lock:
                self._plan.get(device.device_id, set()).discard(model_id)
                self._save()
            self.engine.remove_from_device(model_id, device.device_id)
            for resident in self._residents(device.device_id):
                self._rebalance(resident, device)

    def loaded(self, device_ids: list[str]) -> dict[str, dict[str, int]]:
        available = self.engine.devices()
        for device_id in device_ids:
            if device_id not in available:
                raise UnavailableDeviceError(device_id)
        wanted = device_ids or list(available)
        current = self.engine.loaded()
        return {device_id: current.get(device_id, {}) for device_id in wanted}
